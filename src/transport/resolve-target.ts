// Where and how to reach one host (or one ProxyJump hop): the inventory's ssh settings merged over
// ~/.ssh/config's answer for the host, over the connector's flags, over OpenSSH's defaults. Pure:
// the ssh config has been resolved for the name already.
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import type { InventoryHost } from '../inventory/types.js'
import { defaultIdentityFiles } from './auth.js'
import type { SshConfigHost } from './ssh-config.js'

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

// The connector's flags that take part (see ConnectorOptions).
export interface TargetFlags {
  knownHostsFile?: string
  globalKnownHostsFiles?: string[]
  acceptNewHostKeys?: boolean
  connectTimeoutMs?: number
}

// OpenSSH's defaults when nothing names a known_hosts file.
export const DEFAULT_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']
export const defaultUserKnownHosts = (home = homedir()) => [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')]

// An inventory host, with `cfg` the ssh config's answer for its host name.
export function resolveTarget(host: InventoryHost, cfg: SshConfigHost, flags: TargetFlags): ResolvedTarget {
  const strict = host.ssh.strictHostKeyChecking ?? cfg.strictHostKeyChecking
  const explicit = [...host.ssh.identityFiles, ...cfg.identityFiles]
  const known: Pick<ResolvedTarget, 'knownHostsFiles' | 'knownHostsSource'> = flags.knownHostsFile
    ? { knownHostsFiles: [flags.knownHostsFile], knownHostsSource: '--known-hosts' }
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
    globalKnownHostsFiles: cfg.globalKnownHostsFiles ?? flags.globalKnownHostsFiles ?? DEFAULT_GLOBAL_KNOWN_HOSTS,
    // StrictHostKeyChecking=no only relaxes unknown keys; a changed key is refused regardless.
    acceptNew: flags.acceptNewHostKeys === true || strict === 'accept-new' || strict === 'no',
    connectTimeoutMs: flags.connectTimeoutMs ?? cfg.connectTimeoutMs ?? 10_000,
  }
}

// One ProxyJump hop, "user@host:port" ([v6]:port allowed); undefined when it is not one.
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } | undefined {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim())
  if (!m) return undefined
  return { host: m[2]!.replace(/^\[|\]$/g, ''), ...(m[1] ? { user: m[1] } : {}), ...(m[3] ? { port: Number(m[3]) } : {}) }
}

// A jump host resolved like a host of its own (`cfg` is the ssh config's answer for its name),
// reached on behalf of `via`.
export function resolveJumpTarget(jump: { user?: string; host: string; port?: number }, cfg: SshConfigHost, via: ResolvedTarget, flags: TargetFlags): ResolvedTarget {
  return {
    name: `${via.name} via ${jump.host}`,
    hostname: cfg.hostName ?? jump.host,
    port: jump.port ?? cfg.port ?? 22,
    user: jump.user ?? cfg.user ?? userInfo().username,
    // A bastion usually takes the same keys: its own config's files, else the target's.
    identityFiles: cfg.identityFiles.length > 0 ? cfg.identityFiles : via.identityFiles,
    identitiesOnly: cfg.identitiesOnly === true,
    // The bastion's own config decides its known_hosts, unless --known-hosts named one for all.
    ...(cfg.userKnownHostsFiles?.length && !flags.knownHostsFile ? { knownHostsFiles: cfg.userKnownHostsFiles, knownHostsSource: `UserKnownHostsFile at ${cfg.knownHostsSource}` } : { knownHostsFiles: via.knownHostsFiles, ...(via.knownHostsSource ? { knownHostsSource: via.knownHostsSource } : {}) }),
    globalKnownHostsFiles: cfg.globalKnownHostsFiles ?? via.globalKnownHostsFiles,
    acceptNew: via.acceptNew,
    connectTimeoutMs: via.connectTimeoutMs,
  }
}
