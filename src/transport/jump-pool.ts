// Connections to ProxyJump hosts, shared by every target behind the same chain and closed when the
// last one lets go. A bastion that failed or closed is never handed out again.
import type { Client } from 'ssh2'
import { ConnectError, type ConnectFailure } from '../errors.js'
import type { ResolvedTarget } from './resolve-target.js'

export interface JumpLease {
  client: Client // the connection to the chain's last hop
  release(): void // idempotent
}

export interface JumpPool {
  // The connection to the last hop of `chain`, opened on behalf of `target` (named in errors).
  acquire(chain: string[], target: ResolvedTarget, signal?: AbortSignal): Promise<JumpLease>
}

// `open` opens the last hop of a chain (and, through the pool, the hops before it).
export function createJumpPool(open: (chain: string[], target: ResolvedTarget, signal?: AbortSignal) => Promise<Client>): JumpPool {
  const jumps = new Map<string, { client: Promise<Client>; refs: number }>()
  return {
    async acquire(chain, target, signal) {
      const key = chain.join(',')
      let shared = jumps.get(key)
      if (!shared) {
        const client = open(chain, target, signal)
        const entry = { client, refs: 0 }
        shared = entry
        jumps.set(key, entry)
        client.then(
          (c) => c.on('close', () => jumps.get(key) === entry && jumps.delete(key)),
          () => jumps.get(key) === entry && jumps.delete(key),
        )
      }
      const entry = shared
      entry.refs++
      let released = false
      try {
        return {
          client: await entry.client,
          release() {
            if (released) return
            released = true
            if (--entry.refs === 0) {
              if (jumps.get(key) === entry) jumps.delete(key)
              entry.client.then(
                (c) => c.end(),
                () => undefined,
              )
            }
          },
        }
      } catch (error) {
        entry.refs--
        const e = error instanceof ConnectError ? error : undefined
        // The bastion's own host key verdict stays visible; everything else is a proxy problem.
        const reason: ConnectFailure = e && (e.reason === 'hostkey-changed' || e.reason === 'hostkey-unknown') ? e.reason : 'proxy'
        throw new ConnectError(target.name, reason, `jump host ${chain[chain.length - 1]} failed: ${e ? e.message : (error as Error).message}`, { cause: error })
      }
    },
  }
}
