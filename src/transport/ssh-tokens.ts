// OpenSSH's %-tokens and ${VAR} references in ssh_config values (ssh_config(5) "TOKENS"), as
// OpenSSH 9.2 expands them for IdentityFile, UserKnownHostsFile, ProxyCommand and Match exec.
import { createHash } from 'node:crypto'
import { homedir, hostname, userInfo } from 'node:os'

// What the tokens stand for on this controller, for one host.
export interface TokenValues {
  host: string // %h: the target host (HostName applied)
  originalHost: string // %n: the name as given (before HostName)
  port: number // %p
  remoteUser: string // %r
  proxyJump?: string // %j
  local: LocalIdentity
}

// The local side: %u %d %i %l %L.
export interface LocalIdentity {
  user: string
  home: string
  uid: number
  hostname: string // gethostname(), %l; %L is the part before the first dot
}

export function localIdentity(): LocalIdentity {
  const info = userInfo()
  return { user: info.username, home: homedir(), uid: info.uid, hostname: hostname() }
}

// %C: the SHA-1 of %l%h%p%r in hex (OpenSSH 9.2; later versions append %j, which is empty
// without ProxyJump, so the value only differs for jump-host targets there).
export function connectionHash(v: TokenValues): string {
  return createHash('sha1').update(`${v.local.hostname}${v.host}${v.port}${v.remoteUser}`).digest('hex')
}

export class TokenError extends Error {}

// Expands `%x` tokens (and `${VAR}` when `env` is given). `quote` wraps each substituted value
// (Match exec passes shell quoting, so a hostile host name stays one word). An unknown token is an
// error, as in ssh ("unknown key %x").
export function expandTokens(value: string, v: TokenValues, options: { quote?: (s: string) => string; env?: boolean; only?: string } = {}): string {
  const q = options.quote ?? ((s: string) => s)
  const table: Record<string, () => string> = {
    '%': () => '%',
    h: () => q(v.host),
    n: () => q(v.originalHost),
    p: () => q(String(v.port)),
    r: () => q(v.remoteUser),
    u: () => q(v.local.user),
    d: () => q(v.local.home),
    i: () => q(String(v.local.uid)),
    l: () => q(v.local.hostname),
    L: () => q(v.local.hostname.split('.')[0]!),
    k: () => q(v.originalHost), // no HostKeyAlias support: the name as given
    j: () => q(v.proxyJump ?? ''),
    C: () => connectionHash(v),
  }
  let out = value.replace(/%(.?)/gs, (_, t: string) => {
    const f = table[t]
    if (!f || (options.only !== undefined && !options.only.includes(t))) throw new TokenError(`unknown token %${t} in ${JSON.stringify(value)}`)
    return f()
  })
  if (options.env) {
    out = out.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const got = process.env[name]
      if (got === undefined) throw new TokenError(`environment variable \${${name}} in ${JSON.stringify(value)} is not set`)
      return got
    })
  }
  return out
}

// `~` and `~/...` to the home directory, as ssh's tilde_expand_filename does for file names.
export function expandTilde(path: string, home: string = homedir()): string {
  if (path === '~') return home
  if (path.startsWith('~/')) return `${home}/${path.slice(2)}`
  return path
}
