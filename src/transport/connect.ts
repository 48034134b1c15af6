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
import type { Duplex } from 'node:stream'
import type { Client } from 'ssh2'
import { ConnectError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import { createLimiter } from '../fan-out.js'
import { createKeyLoader, type PassphrasePrompt } from './auth.js'
import { parseHostCertificate } from './host-cert.js'
import { probeHostCertificate } from './host-cert-probe.js'
import type { CertProbe } from './host-key-decision.js'
import { openSession, type HandshakeContext } from './handshake.js'
import { createJumpPool } from './jump-pool.js'
import { createKnownHostsCache } from './known-hosts-cache.js'
import { proxyCommandStream } from './proxy-command.js'
import { promptSecret } from './prompt.js'
import { parseJumpSpec, resolveJumpTarget, resolveTarget, type ResolvedTarget } from './resolve-target.js'
import { loadDefaultSshConfig, loadSshConfig, resolveSshConfig, type SshConfigBlock, type SshConfigHost } from './ssh-config.js'
import { runExec } from './ssh-match.js'
import { createLocalTransport } from './local.js'
import { createSshTransport } from './ssh.js'
import type { Transport } from './types.js'

export { DEFAULT_GLOBAL_KNOWN_HOSTS, defaultUserKnownHosts, type ResolvedTarget } from './resolve-target.js'

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

export interface Connector {
  connect(host: InventoryHost, signal?: AbortSignal): Promise<Transport>
}

// What the certificate probe offers, in ssh2's order of plain types (RSA certificates are
// negotiated under their signature algorithms' names).
const CERT_HOST_KEY_ALGOS = ['ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com']

// Creates a connector; connections made through it share the handshake cap, the parsed
// known_hosts/ssh config, the unlocked keys and the jump-host connections.
export function createConnector(options: ConnectorOptions = {}): Connector {
  const handshake = createLimiter(options.maxConcurrentHandshakes ?? 10)
  const configFor = createSshConfigSource(options.sshConfigFile)
  const ctx: HandshakeContext = {
    agent: options.agentSocket === null ? undefined : (options.agentSocket ?? process.env.SSH_AUTH_SOCK) || undefined,
    keys: createKeyLoader(options.promptPassphrase ?? ((file) => promptSecret(`Enter passphrase for key '${file}': `))),
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 3000,
    ...createKnownHostsCache(options.onWarning ?? ((text: string) => process.stderr.write(`warning: ${text}\n`))),
    certificateOf: createCertificateCache(),
  }

  // A session with `t` through the jump hosts `via` (their last hop forwards to it), or its
  // ProxyCommand, or direct TCP. `owner` is the target the caller asked for, named in errors.
  async function session(t: ResolvedTarget, via: string[], owner: ResolvedTarget, signal?: AbortSignal): Promise<Client> {
    let release: (() => void) | undefined
    let sock: Duplex | undefined
    let stream = () => tcpStream(t)
    if (via.length > 0) {
      const jump = await jumps.acquire(via, owner, signal)
      release = jump.release
      stream = () => forward(jump.client, t, owner)
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
    try {
      const client = await handshake(() => openSession(ctx, t, sock, stream, signal))
      // The session holds its jump host open for as long as it lives.
      if (release) client.once('close', release)
      return client
    } catch (error) {
      release?.()
      throw error
    }
  }

  // A jump host spec "user@host:port" resolved like a host of its own (ssh config applies).
  const jumps = createJumpPool(async (chain, target, signal) => {
    const spec = chain[chain.length - 1]!
    const jump = parseJumpSpec(spec)
    if (!jump) throw new ConnectError(target.name, 'proxy', `bad ProxyJump ${JSON.stringify(spec)}`)
    const hop = resolveJumpTarget(jump, await configFor(target.name, jump.host), target, options)
    return session(hop, chain.slice(0, -1), target, signal)
  })

  return {
    async connect(host, signal) {
      if (host.connection === 'local') return createLocalTransport(host.name)
      const t = resolveTarget(host, await configFor(host.name, host.ssh.hostname), options)
      const chain = (t.proxyJump ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      const client = await session(t, chain, t, signal)
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

// The ssh config's answer for a host name, like ssh: a file given (-F) is the whole config; else
// ~/.ssh/config then /etc/ssh/ssh_config. Read once; `Match exec` results are kept per expanded
// command, so hosts of one run share them (and a reconnect after a reboot does not run it again).
function createSshConfigSource(file: string | undefined): (name: string, hostName: string) => Promise<SshConfigHost> {
  let sshConfig: Promise<SshConfigBlock[]> | undefined
  const execs = new Map<string, Promise<boolean>>()
  return async (name, hostName) => {
    try {
      sshConfig ??= file ? loadSshConfig(file) : loadDefaultSshConfig()
      return await resolveSshConfig(await sshConfig, hostName, {
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
}

// The server's host certificate (any type, ed25519 first): { cert }, or { none: why }. Fetched
// once per name for the connector's life (host keys survive reboots); a failed probe is not kept.
function createCertificateCache(): HandshakeContext['certificateOf'] {
  const certificates = new Map<string, Promise<CertProbe>>()
  return (t, name, stream) => {
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
}

// A plain TCP connection to the target, for the certificate probe (errors surface from the probe).
function tcpStream(t: ResolvedTarget): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: t.hostname, port: t.port })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

// A channel from the jump host `via` to `to`; errors name `target`, the host the user asked for.
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
