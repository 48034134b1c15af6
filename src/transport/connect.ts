// Opens one persistent, host-key-verified SSH connection per host (ssh2 Client), through jump
// hosts or a ProxyCommand when asked, and hands it out as a Transport. Retries belong to the
// runner; here every failure becomes a ConnectError with an exact reason.
//
// Host key policy, stricter than OpenSSH on purpose:
// - known_hosts is read from the user files and the global ones (/etc/ssh/ssh_known_hosts[2], or
//   GlobalKnownHostsFile), host names lowercased as ssh does;
// - a CHANGED key is always refused, even with --accept-new-host-keys or StrictHostKeyChecking=no:
//   known_hosts holds another key of the same type, or only keys of other types, for the host;
// - a key listed under @revoked in any file is refused (reason 'hostkey-changed': never retried);
// - @cert-authority: ssh2 cannot negotiate certificate host keys, so when a CA line covers the
//   host and no plain key is on file, host-cert-probe.ts first fetches the server's host
//   certificate in a second, short handshake, and the session then prefers the key type it
//   certifies; a valid certificate from a listed CA for the presented key and the host name makes
//   the key trusted, an invalid one is refused (never recorded);
// - an unknown key (no entry of any type) is refused unless --accept-new-host-keys or
//   StrictHostKeyChecking=accept-new|no, which record it in the first user file (`[host]:port`
//   form off port 22), as `ssh -o StrictHostKeyChecking=accept-new`.
// Precedence: inventory vars > ConnectorOptions (CLI flags) > ~/.ssh/config > OpenSSH defaults,
// except the known_hosts file: --known-hosts beats the inventory's and the config's
// UserKnownHostsFile. A known_hosts file named explicitly that does not exist is warned about.
// IdentitiesOnly=yes in ~/.ssh/config leaves the agent out entirely.
import { connect as tcpConnect } from 'node:net'
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
// ssh2 is CommonJS: Node's ESM loader exposes only its default export.
import ssh2 from 'ssh2'
import type { Client, ConnectConfig } from 'ssh2'
import type { Duplex } from 'node:stream'
import { ConnectError, type ConnectFailure } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import { createLimiter } from '../fan-out.js'
import { createAuthHandler, createKeyLoader, defaultIdentityFiles, type KeyLoader, type PassphrasePrompt } from './auth.js'
import { checkHostCertificate, parseHostCertificate, type HostCertificate, type HostCertVerdict } from './host-cert.js'
import { probeHostCertificate } from './host-cert-probe.js'
import {
  appendKnownHost,
  blobKeyType,
  changedKeyMessage,
  checkHostKey,
  entryMatches,
  fingerprint,
  knownHostName,
  knownKeyTypes,
  readKnownHostsFile,
  type KnownHostEntry,
} from './known-hosts.js'
import { proxyCommandStream } from './proxy-command.js'
import { promptSecret } from './prompt.js'
import { loadDefaultSshConfig, loadSshConfig, resolveSshConfig, type SshConfigBlock, type SshConfigHost } from './ssh-config.js'
import { runExec } from './ssh-match.js'
import { createLocalTransport } from './local.js'
import { createSshTransport } from './ssh.js'
import type { Transport } from './types.js'

export interface ConnectorOptions {
  knownHostsFile?: string // --known-hosts: beats the inventory's and ~/.ssh/config's UserKnownHostsFile
  globalKnownHostsFiles?: string[] // default /etc/ssh/ssh_known_hosts{,2}; ~/.ssh/config's GlobalKnownHostsFile wins
  acceptNewHostKeys?: boolean // record unknown keys instead of refusing (never changed ones)
  connectTimeoutMs?: number // TCP + SSH handshake + auth, default 10 s
  keepaliveIntervalMs?: number // default 3 s; 3 missed replies end the connection
  becomePassword?: string // fed to `sudo -S` over stdin, never on a command line
  maxConcurrentHandshakes?: number // default 10 (sshd's MaxStartups 10:30:100 starts dropping beyond)
  sshConfigFile?: string // like ssh -F: the only config read; default ~/.ssh/config then /etc/ssh/ssh_config
  // Tests and embedders: the passphrase prompt (default: the TTY, no echo) and the agent socket
  // (default $SSH_AUTH_SOCK; null disables the agent).
  promptPassphrase?: PassphrasePrompt
  agentSocket?: string | null
  // Where warnings go (a known_hosts file named explicitly that does not exist); default stderr.
  onWarning?: (text: string) => void
}

// OpenSSH's defaults when nothing names a known_hosts file.
export const DEFAULT_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']
export const defaultUserKnownHosts = (home = homedir()) => [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')]

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
  proxyCommand?: string
  knownHostsFiles: string[] // user files; new keys are recorded in the first
  globalKnownHostsFiles: string[]
  knownHostsSource?: string // who named knownHostsFiles (for the missing-file warning); undefined: the default
  acceptNew: boolean
  connectTimeoutMs: number
}

// A server's host certificate, or why it has none.
type CertProbe = { cert: HostCertificate } | { none: string }

// Algorithm names ssh2 offers for each key type stored in known_hosts.
const HOST_KEY_ALGOS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}
const DEFAULT_HOST_KEY_ALGOS = Object.values(HOST_KEY_ALGOS).flat()
// What the certificate probe offers, in ssh2's order of plain types (RSA certificates are
// negotiated under their signature algorithms' names).
const CERT_HOST_KEY_ALGOS = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
]

// Creates a connector; connections made through it share the handshake cap, the parsed
// known_hosts/ssh config, the unlocked keys and the jump-host connections.
export function createConnector(options: ConnectorOptions = {}): Connector {
  const handshake = createLimiter(options.maxConcurrentHandshakes ?? 10)
  const keys = createKeyLoader(options.promptPassphrase ?? ((file) => promptSecret(`Enter passphrase for key '${file}': `)))
  const agent = options.agentSocket === null ? undefined : (options.agentSocket ?? process.env.SSH_AUTH_SOCK) || undefined
  let sshConfig: Promise<SshConfigBlock[]> | undefined
  // Parsed known_hosts per file (undefined: the file does not exist); the arrays grow as keys are recorded.
  const knownHosts = new Map<string, Promise<KnownHostEntry[] | undefined>>()
  const jumps = new Map<string, { client: Promise<Client>; refs: number }>()
  const warned = new Set<string>()
  const warn = options.onWarning ?? ((text: string) => process.stderr.write(`warning: ${text}\n`))
  // Match exec results per expanded command: hosts of one run share them (and a reconnect after a
  // reboot does not run the command again).
  const execs = new Map<string, Promise<boolean>>()
  const certificates = new Map<string, Promise<CertProbe>>()

  // Like ssh: a file given (-F) is the whole config; else ~/.ssh/config then /etc/ssh/ssh_config.
  const config = () => (sshConfig ??= options.sshConfigFile ? loadSshConfig(options.sshConfigFile) : loadDefaultSshConfig())
  const fileEntries = (file: string) => {
    let got = knownHosts.get(file)
    if (!got) {
      got = readKnownHostsFile(file)
      knownHosts.set(file, got)
    }
    return got
  }
  // Every entry a target's check sees: its user files, then the global ones.
  async function entriesOf(t: ResolvedTarget): Promise<KnownHostEntry[]> {
    const out: KnownHostEntry[] = []
    for (const file of [...t.knownHostsFiles, ...t.globalKnownHostsFiles]) {
      const got = await fileEntries(file)
      if (got === undefined && t.knownHostsSource && file === t.knownHostsFiles[0] && !warned.has(file)) {
        warned.add(file)
        warn(`known_hosts file ${file} (named by ${t.knownHostsSource}) does not exist: every host key is unknown there${t.acceptNew ? '; new keys will be recorded in it' : ''}`)
      }
      out.push(...(got ?? []))
    }
    return out
  }

  async function configFor(name: string, hostName: string): Promise<SshConfigHost> {
    try {
      return await resolveSshConfig(await config(), hostName, {
        runExec: (cmd) => {
          let got = execs.get(cmd)
          if (!got) execs.set(cmd, (got = runExec(cmd)))
          return got
        },
      })
    } catch (error) {
      // A config ssh itself would refuse (bad Match, unknown token): no connection, with file:line.
      throw new ConnectError(name, 'config', `ssh config: ${(error as Error).message}`, { cause: error })
    }
  }

  async function resolve(host: InventoryHost): Promise<ResolvedTarget> {
    const cfg = await configFor(host.name, host.ssh.hostname)
    const strict = host.ssh.strictHostKeyChecking ?? cfg.strictHostKeyChecking
    const explicit = [...host.ssh.identityFiles, ...cfg.identityFiles]
    const known: Pick<ResolvedTarget, 'knownHostsFiles' | 'knownHostsSource'> = options.knownHostsFile
      ? { knownHostsFiles: [options.knownHostsFile], knownHostsSource: '--known-hosts' }
      : host.ssh.knownHostsFile
        ? { knownHostsFiles: [host.ssh.knownHostsFile], knownHostsSource: `the inventory's UserKnownHostsFile for ${host.name}${host.source ? ` (${host.source})` : ''}` }
        : cfg.userKnownHostsFiles?.length
          ? { knownHostsFiles: cfg.userKnownHostsFiles, knownHostsSource: `UserKnownHostsFile at ${cfg.knownHostsSource}` }
          : { knownHostsFiles: defaultUserKnownHosts() }
    const viaInventory = host.ssh.proxyJump
    return {
      name: host.name,
      hostname: host.ssh.hostnameFromInventory ? host.ssh.hostname : (cfg.hostName ?? host.ssh.hostname),
      port: host.ssh.port ?? cfg.port ?? 22,
      user: host.ssh.user ?? cfg.user ?? userInfo().username,
      identityFiles: explicit.length > 0 ? [...new Set(explicit)] : defaultIdentityFiles(),
      identitiesOnly: cfg.identitiesOnly === true,
      proxyJump: viaInventory ?? cfg.proxyJump,
      // An inventory ProxyJump replaces the config's ProxyCommand, as -o ProxyJump on ssh's command line would.
      ...(!viaInventory && cfg.proxyCommand ? { proxyCommand: cfg.proxyCommand } : {}),
      ...known,
      globalKnownHostsFiles: cfg.globalKnownHostsFiles ?? options.globalKnownHostsFiles ?? DEFAULT_GLOBAL_KNOWN_HOSTS,
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
    const cfg = await configFor(via.name, name)
    return {
      name: `${via.name} via ${name}`,
      hostname: cfg.hostName ?? name,
      port: m[3] ? Number(m[3]) : (cfg.port ?? 22),
      user: m[1] ?? cfg.user ?? userInfo().username,
      // A bastion usually takes the same keys: its own config's files, else the target's.
      identityFiles: cfg.identityFiles.length > 0 ? cfg.identityFiles : via.identityFiles,
      identitiesOnly: cfg.identitiesOnly === true,
      // The bastion's own config decides its known_hosts, unless --known-hosts named one for all.
      ...(cfg.userKnownHostsFiles?.length && !options.knownHostsFile
        ? { knownHostsFiles: cfg.userKnownHostsFiles, knownHostsSource: `UserKnownHostsFile at ${cfg.knownHostsSource}` }
        : { knownHostsFiles: via.knownHostsFiles, ...(via.knownHostsSource ? { knownHostsSource: via.knownHostsSource } : {}) }),
      globalKnownHostsFiles: cfg.globalKnownHostsFiles ?? via.globalKnownHostsFiles,
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
        let stream = () => tcpStream(hop)
        if (chain.length > 1) {
          const prev = await jumpClient(chain.slice(0, -1), target, signal)
          release = prev.release
          stream = () => forward(prev.client, hop, target)
          sock = await stream()
        }
        try {
          const c = await handshake(() => open(hop, sock, stream, signal))
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

  // The server's host certificate (any type, ed25519 first): { cert }, or { none: why }. Fetched
  // once per name for the connector's life (host keys survive reboots).
  function hostCertificate(t: ResolvedTarget, name: string, stream: () => Promise<Duplex>): Promise<CertProbe> {
    let got = certificates.get(name)
    if (!got) {
      got = (async (): Promise<CertProbe> => {
        const probe = await probeHostCertificate(await stream(), CERT_HOST_KEY_ALGOS, t.connectTimeoutMs)
        return 'none' in probe ? probe : { cert: parseHostCertificate(probe.cert) }
      })()
      certificates.set(name, got)
      got.catch(() => certificates.delete(name))
    }
    return got
  }

  // One TCP (or forwarded) SSH handshake, host key check and authentication.
  // `stream` opens another byte stream to the same server (direct TCP, the jump host's forward,
  // or the ProxyCommand) for the host certificate probe.
  async function open(t: ResolvedTarget, sock: Duplex | undefined, stream: () => Promise<Duplex>, signal?: AbortSignal): Promise<Client> {
    const name = knownHostName(t.hostname, t.port)
    const entries = await entriesOf(t)
    const known = knownKeyTypes(entries, name)
    const caCovers = entries.some((e) => e.marker === 'cert-authority' && entryMatches(e, name))
    // ssh2 cannot negotiate a certificate: with a CA for this host and no plain key on file, fetch
    // the certificate first, so the session negotiates the key type it certifies.
    let certificate: CertProbe | undefined
    if (caCovers && known.length === 0) {
      try {
        certificate = await hostCertificate(t, name, stream)
      } catch (error) {
        // A probe that could not finish (timeout, dropped) proves nothing either way: retryable.
        throw new ConnectError(t.name, 'other', `host ${name} is covered by a @cert-authority but its host certificate could not be fetched: ${(error as Error).message}`, { cause: error })
      }
    }
    const certified = certificate && 'cert' in certificate ? [blobKeyType(certificate.cert.publicKey)] : []
    const preferred = [...new Set([...[...certified, ...known].flatMap((k) => HOST_KEY_ALGOS[k] ?? []), ...DEFAULT_HOST_KEY_ALGOS])]
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
            const record = () => {
              if (!t.acceptNew) {
                fail('hostkey-unknown', `host key for ${name} is not known (${fp}); refusing. Add it to ${t.knownHostsFiles[0]} (ssh-keyscan -p ${t.port} ${t.hostname}), or pass --accept-new-host-keys to record it`)
                return verify(false)
              }
              appendKnownHost(t.knownHostsFiles[0]!, name, key).then(
                (entry) => {
                  entries.push(entry)
                  // Later connections of this connector see the recorded key (the file may have been created just now).
                  const file = t.knownHostsFiles[0]!
                  void fileEntries(file).then((list) => (list ? list.push(entry) : knownHosts.set(file, Promise.resolve([entry]))))
                  verify(true)
                },
                (error: Error) => {
                  fail('other', `cannot record the host key in ${t.knownHostsFiles[0]}: ${error.message}`, error)
                  verify(false)
                },
              )
            }
            // No CA for this host, or the server has no certificate: a plain unknown key.
            if (!certificate || 'none' in certificate) return record()
            const v: HostCertVerdict = certificate.cert.publicKey.equals(key)
              ? checkHostCertificate(entries, name, t.hostname.toLowerCase(), certificate.cert, Date.now() / 1000)
              : { status: 'invalid', reason: `it certifies a ${blobKeyType(certificate.cert.publicKey)} key, not the one the server presented` }
            if (v.status === 'ok') return verify(true)
            if (v.status === 'no-ca') return record()
            if (v.status === 'revoked') fail('hostkey-changed', `host certificate for ${name} (${fp}) is REVOKED in ${v.entry.file}:${v.entry.line}; refusing to connect`)
            else fail('hostkey-unknown', `host certificate for ${name} (${fp}) refused: ${v.reason}`)
            return verify(false)
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
      let stream = () => tcpStream(t)
      if (t.proxyJump) {
        const chain = t.proxyJump.split(',').map((s) => s.trim()).filter(Boolean)
        const jump = await jumpClient(chain, t, signal)
        release = jump.release
        stream = () => forward(jump.client, t, t)
        try {
          sock = await stream()
        } catch (error) {
          release()
          throw error
        }
      } else if (t.proxyCommand) {
        const command = t.proxyCommand
        stream = async () => proxyCommandStream(command)
        sock = await stream()
      }
      let client: Client
      try {
        client = await handshake(() => open(t, sock, stream, signal))
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

// A plain TCP connection to the target, for the certificate probe (errors surface from the probe).
function tcpStream(t: ResolvedTarget): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: t.hostname, port: t.port })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
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
