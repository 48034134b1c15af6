// Opens one persistent, host-key-verified SSH connection per host (ssh2 Client), through jump
// hosts when asked, and hands it out as a Transport. Retries belong to the runner; here every
// failure becomes a ConnectError with an exact reason.
//
// Host key policy, stricter than OpenSSH on purpose:
// - a CHANGED key (known_hosts holds another key of the same type) is always refused, even with
//   --accept-new-host-keys or StrictHostKeyChecking=no (OpenSSH with `no` may still connect);
// - a key listed under @revoked is refused (reason 'hostkey-changed': permanent, never retried);
// - @cert-authority lines are ignored: host certificates are not supported, so such hosts need a
//   plain known_hosts line;
// - an unknown key is refused unless --accept-new-host-keys or StrictHostKeyChecking=accept-new|no,
//   which record it (`[host]:port` form off port 22), as `ssh -o StrictHostKeyChecking=accept-new`.
// Precedence: inventory vars > ConnectorOptions (CLI flags) > ~/.ssh/config > OpenSSH defaults.
// IdentitiesOnly=yes in ~/.ssh/config leaves the agent out entirely.
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
// ssh2 is CommonJS: Node's ESM loader exposes only its default export.
import ssh2 from 'ssh2'
import type { Client, ConnectConfig } from 'ssh2'
import type { Duplex } from 'node:stream'
import { ConnectError, type ConnectFailure } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import { createLimiter } from '../runner/fan-out.js'
import { createAuthHandler, createKeyLoader, defaultIdentityFiles, type KeyLoader, type PassphrasePrompt } from './auth.js'
import {
  appendKnownHost,
  blobKeyType,
  changedKeyMessage,
  checkHostKey,
  fingerprint,
  knownHostName,
  knownKeyTypes,
  readKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js'
import { promptSecret } from './prompt.js'
import { loadSshConfig, resolveSshConfig, type SshConfigBlock } from './ssh-config.js'
import { createLocalTransport } from './local.js'
import { createSshTransport } from './ssh.js'
import type { Transport } from './types.js'

export interface ConnectorOptions {
  knownHostsFile?: string // default ~/.ssh/known_hosts; an inventory UserKnownHostsFile wins
  acceptNewHostKeys?: boolean // record unknown keys instead of refusing (never changed ones)
  connectTimeoutMs?: number // TCP + SSH handshake + auth, default 10 s
  keepaliveIntervalMs?: number // default 3 s; 3 missed replies end the connection
  becomePassword?: string // fed to `sudo -S` over stdin, never on a command line
  maxConcurrentHandshakes?: number // default 10 (sshd's MaxStartups 10:30:100 starts dropping beyond)
  sshConfigFile?: string // default ~/.ssh/config
  // Tests and embedders: the passphrase prompt (default: the TTY, no echo) and the agent socket
  // (default $SSH_AUTH_SOCK; null disables the agent).
  promptPassphrase?: PassphrasePrompt
  agentSocket?: string | null
}

export interface Connector {
  connect(host: InventoryHost, signal?: AbortSignal): Promise<Transport>
}

// Where and how to reach one host, after merging inventory over ~/.ssh/config over defaults.
export interface ResolvedTarget {
  name: string // for messages
  hostname: string
  port: number
  user: string
  identityFiles: string[]
  identitiesOnly: boolean
  proxyJump?: string
  knownHostsFile: string
  acceptNew: boolean
  connectTimeoutMs: number
}

// Algorithm names ssh2 offers for each key type stored in known_hosts.
const HOST_KEY_ALGOS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}
const DEFAULT_HOST_KEY_ALGOS = Object.values(HOST_KEY_ALGOS).flat()

// Creates a connector; connections made through it share the handshake cap, the parsed
// known_hosts/ssh config, the unlocked keys and the jump-host connections.
export function createConnector(options: ConnectorOptions = {}): Connector {
  const handshake = createLimiter(options.maxConcurrentHandshakes ?? 10)
  const keys = createKeyLoader(options.promptPassphrase ?? ((file) => promptSecret(`Enter passphrase for key '${file}': `)))
  const agent = options.agentSocket === null ? undefined : (options.agentSocket ?? process.env.SSH_AUTH_SOCK) || undefined
  let sshConfig: Promise<SshConfigBlock[]> | undefined
  const knownHosts = new Map<string, Promise<KnownHostEntry[]>>()
  const jumps = new Map<string, { client: Promise<Client>; refs: number }>()

  const config = () => (sshConfig ??= loadSshConfig(options.sshConfigFile ?? join(homedir(), '.ssh', 'config')))
  const entriesOf = (file: string) => {
    let got = knownHosts.get(file)
    if (!got) {
      got = readKnownHosts(file)
      knownHosts.set(file, got)
    }
    return got
  }

  async function resolve(host: InventoryHost): Promise<ResolvedTarget> {
    const cfg = resolveSshConfig(await config(), host.ssh.hostname)
    const strict = host.ssh.strictHostKeyChecking ?? cfg.strictHostKeyChecking
    const explicit = [...host.ssh.identityFiles, ...cfg.identityFiles]
    return {
      name: host.name,
      hostname: host.ssh.hostnameFromInventory ? host.ssh.hostname : (cfg.hostName ?? host.ssh.hostname),
      port: host.ssh.port ?? cfg.port ?? 22,
      user: host.ssh.user ?? cfg.user ?? userInfo().username,
      identityFiles: explicit.length > 0 ? [...new Set(explicit)] : defaultIdentityFiles(),
      identitiesOnly: cfg.identitiesOnly === true,
      proxyJump: host.ssh.proxyJump ?? cfg.proxyJump,
      knownHostsFile: host.ssh.knownHostsFile ?? options.knownHostsFile ?? cfg.userKnownHostsFile ?? join(homedir(), '.ssh', 'known_hosts'),
      // StrictHostKeyChecking=no only relaxes unknown keys; a changed key is refused regardless.
      acceptNew: options.acceptNewHostKeys === true || strict === 'accept-new' || strict === 'no',
      connectTimeoutMs: options.connectTimeoutMs ?? cfg.connectTimeoutMs ?? 10_000,
    }
  }

  // A jump host spec "user@host:port" resolved like a host of its own (ssh config applies).
  async function resolveJump(spec: string, via: ResolvedTarget): Promise<ResolvedTarget> {
    const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim())
    if (!m) throw new ConnectError(via.name, 'proxy', `bad ProxyJump ${JSON.stringify(spec)}`)
    const name = m[2]!.replace(/^\[|\]$/g, '')
    const cfg = resolveSshConfig(await config(), name)
    return {
      name: `${via.name} via ${name}`,
      hostname: cfg.hostName ?? name,
      port: m[3] ? Number(m[3]) : (cfg.port ?? 22),
      user: m[1] ?? cfg.user ?? userInfo().username,
      // A bastion usually takes the same keys: its own config's files, else the target's.
      identityFiles: cfg.identityFiles.length > 0 ? cfg.identityFiles : via.identityFiles,
      identitiesOnly: cfg.identitiesOnly === true,
      knownHostsFile: cfg.userKnownHostsFile ?? via.knownHostsFile,
      acceptNew: via.acceptNew,
      connectTimeoutMs: via.connectTimeoutMs,
    }
  }

  // Opens (or shares) the connection to the last hop of a ProxyJump chain.
  async function jumpClient(chain: string[], target: ResolvedTarget, signal?: AbortSignal): Promise<{ client: Client; release(): void }> {
    const key = chain.join(',')
    let shared = jumps.get(key)
    if (!shared) {
      const client = (async () => {
        const hop = await resolveJump(chain[chain.length - 1]!, target)
        let sock: Duplex | undefined
        let release: (() => void) | undefined
        if (chain.length > 1) {
          const prev = await jumpClient(chain.slice(0, -1), target, signal)
          release = prev.release
          sock = await forward(prev.client, hop, target)
        }
        try {
          const c = await handshake(() => open(hop, sock, signal))
          // This hop holds the previous one open for as long as it lives.
          if (release) c.once('close', release)
          return c
        } catch (error) {
          release?.()
          throw error
        }
      })()
      shared = { client, refs: 0 }
      jumps.set(key, shared)
      // A failed or closed bastion connection must not be reused.
      client.then(
        (c) => c.on('close', () => jumps.get(key) === shared && jumps.delete(key)),
        () => jumps.get(key) === shared && jumps.delete(key),
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
            entry.client.then((c) => c.end(), () => undefined)
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
  }

  function forward(via: Client, to: ResolvedTarget, target: ResolvedTarget): Promise<Duplex> {
    return new Promise((resolveStream, reject) => {
      try {
        via.forwardOut('127.0.0.1', 0, to.hostname, to.port, (err, stream) => {
          // The bastion is up but the target is not (yet): as retryable as a refused connection.
          if (err) reject(new ConnectError(target.name, 'unreachable', `jump host could not reach ${to.hostname}:${to.port}: ${err.message}`, { cause: err }))
          else resolveStream(stream)
        })
      } catch (error) {
        // The bastion connection closed under us.
        reject(new ConnectError(target.name, 'proxy', `jump host connection lost: ${(error as Error).message}`, { cause: error }))
      }
    })
  }

  // One TCP (or forwarded) SSH handshake, host key check and authentication.
  async function open(t: ResolvedTarget, sock: Duplex | undefined, signal?: AbortSignal): Promise<Client> {
    const name = knownHostName(t.hostname, t.port)
    const entries = await entriesOf(t.knownHostsFile)
    const known = knownKeyTypes(entries, name)
    const preferred = [...new Set([...known.flatMap((k) => HOST_KEY_ALGOS[k] ?? []), ...DEFAULT_HOST_KEY_ALGOS])]
    const client = new ssh2.Client()
    let failure: ConnectError | undefined
    const fail = (reason: ConnectFailure, message: string, cause?: unknown) => {
      failure ??= new ConnectError(t.name, reason, message, cause ? { cause } : undefined)
    }
    const auth = {
      username: t.user,
      agent: t.identitiesOnly ? undefined : agent,
      identityFiles: t.identityFiles,
      keys: keys as KeyLoader,
      tried: [] as string[],
      problems: [] as string[],
      hooks: { pause: () => pauseTimer(), resume: () => startTimer() },
    }
    let timer: NodeJS.Timeout | undefined
    const startTimer = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        fail('timeout', `no SSH session with ${t.hostname}:${t.port} within ${t.connectTimeoutMs} ms`)
        client.destroy()
      }, t.connectTimeoutMs)
    }
    const pauseTimer = () => clearTimeout(timer)

    const connectConfig: ConnectConfig = {
      host: t.hostname,
      port: t.port,
      username: t.user,
      readyTimeout: 0, // our own timer, which pauses while a passphrase is typed
      keepaliveInterval: options.keepaliveIntervalMs ?? 3000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: preferred as never },
      authHandler: createAuthHandler(auth),
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        const verdict = checkHostKey(entries, name, key)
        const fp = `${blobKeyType(key)} ${fingerprint(key)}`
        switch (verdict.status) {
          case 'ok':
            return verify(true)
          case 'changed':
            fail('hostkey-changed', changedKeyMessage(name, key, verdict.entry))
            return verify(false)
          case 'revoked':
            fail('hostkey-changed', `host key for ${name} (${fp}) is REVOKED in ${verdict.entry.file}:${verdict.entry.line}; refusing to connect`)
            return verify(false)
          case 'unknown': {
            if (!t.acceptNew) {
              const others = verdict.otherTypes.length ? ` (keys of other types are known: ${verdict.otherTypes.join(', ')})` : ''
              fail('hostkey-unknown', `host key for ${name} is not known (${fp})${others}; refusing. Add it to ${t.knownHostsFile} (ssh-keyscan -p ${t.port} ${t.hostname}), or pass --accept-new-host-keys to record it`)
              return verify(false)
            }
            appendKnownHost(t.knownHostsFile, name, key).then(
              (entry) => {
                entries.push(entry)
                verify(true)
              },
              (error: Error) => {
                fail('other', `cannot record the host key in ${t.knownHostsFile}: ${error.message}`, error)
                verify(false)
              },
            )
            return
          }
        }
      },
      ...(sock ? { sock } : {}),
    }

    return new Promise<Client>((resolveClient, reject) => {
      let settled = false
      const onAbort = () => {
        fail('other', 'connection aborted')
        client.destroy()
      }
      const settle = (error?: ConnectError) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (error) {
          client.destroy()
          reject(error)
        } else resolveClient(client)
      }
      client.on('ready', () => settle())
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (settled) return
        if (failure) return settle(failure)
        settle(classify(t, err, auth.tried, auth.problems))
      })
      client.on('close', () => {
        if (!settled) settle(failure ?? new ConnectError(t.name, 'unreachable', `connection to ${t.hostname}:${t.port} closed during the handshake`))
      })
      if (signal?.aborted) return settle(new ConnectError(t.name, 'other', 'connection aborted'))
      signal?.addEventListener('abort', onAbort, { once: true })
      startTimer()
      try {
        client.connect(connectConfig)
        // Small request/response exchanges (one exec per host) would otherwise wait on Nagle's
        // algorithm: measured ~56 ms per exec against ~12 ms with it off.
        client.setNoDelay(true)
      } catch (error) {
        settle(new ConnectError(t.name, 'other', (error as Error).message, { cause: error }))
      }
    })
  }

  return {
    async connect(host, signal) {
      if (host.connection === 'local') return createLocalTransport(host.name)
      const t = await resolve(host)
      let release: (() => void) | undefined
      let sock: Duplex | undefined
      if (t.proxyJump) {
        const chain = t.proxyJump.split(',').map((s) => s.trim()).filter(Boolean)
        const jump = await jumpClient(chain, t, signal)
        release = jump.release
        try {
          sock = await forward(jump.client, t, t)
        } catch (error) {
          release()
          throw error
        }
      }
      let client: Client
      try {
        client = await handshake(() => open(t, sock, signal))
      } catch (error) {
        release?.()
        throw error
      }
      if (release) client.once('close', release)
      return createSshTransport(client, {
        host: host.name,
        loginUser: t.user,
        become: { enabled: host.become, user: host.becomeUser },
        // The inventory's ansible_become_password (e.g. from Vault) wins over --ask-become-pass, as in Ansible.
        ...(host.becomePassword ? { becomePassword: host.becomePassword.reveal() } : options.becomePassword !== undefined ? { becomePassword: options.becomePassword } : {}),
      })
    },
  }
}

// Maps an ssh2/socket error to a ConnectError reason.
function classify(t: ResolvedTarget, err: Error & { level?: string; code?: string }, tried: string[], problems: string[]): ConnectError {
  const where = `${t.user}@${t.hostname}:${t.port}`
  if (err.level === 'client-authentication') {
    const what = tried.length ? `tried ${tried.join(', ')}` : 'no usable key (no agent, no identity file)'
    const notes = problems.length ? `; ${problems.join('; ')}` : ''
    return new ConnectError(t.name, 'auth', `permission denied for ${where} (${what}${notes})`, { cause: err })
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return new ConnectError(t.name, 'unreachable', `connection refused by ${t.hostname}:${t.port}`, { cause: err })
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ECONNRESET':
    case 'EPIPE':
      return new ConnectError(t.name, 'unreachable', `${t.hostname}:${t.port} unreachable (${err.code})`, { cause: err })
    case 'ETIMEDOUT':
      return new ConnectError(t.name, 'timeout', `connecting to ${t.hostname}:${t.port} timed out`, { cause: err })
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectError(t.name, 'other', `cannot resolve ${t.hostname} (${err.code})`, { cause: err })
  }
  if (err.level === 'client-timeout') return new ConnectError(t.name, 'timeout', `${t.hostname}:${t.port}: ${err.message}`, { cause: err })
  return new ConnectError(t.name, 'other', `${where}: ${err.message}`, { cause: err })
}
