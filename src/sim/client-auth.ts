// Public-key authentication as a simulated host's sshd decides it: users root and admin, the
// rack's client key only.
import { timingSafeEqual } from 'node:crypto'
import type { AuthContext, ParsedKey } from 'ssh2'

// reject; accept a key query (no signature yet: would this key do?); accept the user (signature verified).
export type AuthDecision = 'reject' | 'key-ok' | 'accept'

export function authDecision(ctx: AuthContext, key: ParsedKey, refused: boolean): AuthDecision {
  const okUser = ctx.username === 'root' || ctx.username === 'admin'
  if (ctx.method !== 'publickey' || !okUser || refused) return 'reject'
  const pub = key.getPublicSSH()
  const same = ctx.key.algo === key.type && ctx.key.data.length === pub.length && timingSafeEqual(ctx.key.data, pub)
  if (!same) return 'reject'
  if (!ctx.signature) return 'key-ok'
  if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return 'reject'
  return 'accept'
}
