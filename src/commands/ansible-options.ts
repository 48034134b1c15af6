import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { AnsibleConfig } from '../config/ansible-cfg.js'
import { UsageError } from '../errors.js'
import { absoluteExtraVars } from '../inventory/extra-vars.js'
import type { ConnectionDefaults } from '../inventory/connection-defaults.js'
import { parsePositiveInt } from '../runner/options.js'

// The command-line options gpufleet shares with Ansible where they mean the same (-i -f -u -b
// --private-key -e), and how they combine with ansible.cfg and ANSIBLE_*: flags > env > config.

// The flags as commander parses them.
export interface HostFlags {
  inventory?: string
  forks?: string
  user?: string
  privateKey?: string
  become?: boolean
  extraVars?: string[]
}

// What a command that reaches hosts needs from them.
export interface HostSettings {
  inventory: string // absolute path, or a host list 'a,b,'
  forks: number
  connection: ConnectionDefaults
  extraVars: string[] // -e arguments in order, @files absolute
}

// An empty configuration: no ansible.cfg, no ANSIBLE_* (tests; commands pass readAnsibleConfig()).
export const NO_ANSIBLE_CONFIG: AnsibleConfig = { settings: {}, origins: {}, warnings: [] }

export const INVENTORY_HELP = 'Ansible inventory: a YAML or INI file (group_vars/ and host_vars/ beside it), a directory of them, or host1,host2, (default: ANSIBLE_INVENTORY, else inventory in ansible.cfg)'

// -i, optional: ANSIBLE_INVENTORY or ansible.cfg may name the inventory instead.
export function addInventoryOption(cmd: Command): Command {
  return cmd.option('-i, --inventory <source>', INVENTORY_HELP)
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

// -f -u --private-key -b -e, as in ansible-playbook.
export function addConnectionOptions(cmd: Command, forksHelp = 'hosts worked on in parallel (default: ANSIBLE_FORKS, else forks in ansible.cfg, else 50)'): Command {
  return cmd
    .option('-f, --forks <n>', forksHelp)
    .option('-u, --user <name>', 'log in as this user where the inventory sets no ansible_user (default: ANSIBLE_REMOTE_USER, remote_user in ansible.cfg, then ~/.ssh/config)')
    .option('--private-key <file>', 'SSH private key where the inventory sets no ansible_ssh_private_key_file (default: ANSIBLE_PRIVATE_KEY_FILE, private_key_file in ansible.cfg)')
    .option('-b, --become', 'run commands through sudo where the inventory sets no ansible_become (default: ANSIBLE_BECOME, become in ansible.cfg)')
    .option('-e, --extra-vars <vars>', 'vars above every inventory var, connection vars too: key=value ..., YAML/JSON, or @file (repeatable)', collect)
}

// Combines flags with Ansible's configuration; a missing inventory or a bad value is a UsageError.
export function hostSettings(flags: HostFlags, config: AnsibleConfig, warn: (text: string) => void): HostSettings {
  const { settings, origins } = config
  let forks = 50
  if (flags.forks !== undefined) forks = parsePositiveInt(flags.forks, '--forks')
  else if (settings.forks !== undefined) {
    if (settings.forks < 1) throw new UsageError(`${origins.forks}: forks must be at least 1, got ${settings.forks}`)
    forks = settings.forks
  }
  const connection: ConnectionDefaults = {
    ...((flags.user ?? settings.remoteUser) ? { user: flags.user ?? settings.remoteUser } : {}),
    ...(flags.privateKey ? { privateKeyFile: resolve(flags.privateKey) } : settings.privateKeyFile ? { privateKeyFile: settings.privateKeyFile } : {}),
    ...(flags.become ? { become: true } : settings.become !== undefined ? { become: settings.become } : {}),
    ...(settings.hostKeyChecking !== undefined ? { hostKeyChecking: settings.hostKeyChecking } : {}),
  }
  return { inventory: inventorySource(flags.inventory, config, warn), forks, connection, extraVars: absoluteExtraVars(flags.extraVars ?? []) }
}

// -i as given, else the one inventory source ANSIBLE_INVENTORY / ansible.cfg names.
export function inventorySource(flag: string | undefined, config: AnsibleConfig, warn: (text: string) => void): string {
  if (flag !== undefined) return flag.includes(',') && !existsSync(flag) ? flag : resolve(flag)
  const list = config.settings.inventory
  const origin = config.origins.inventory
  if (!list || list.length === 0) {
    throw new UsageError('no inventory: pass -i <file>, or set ANSIBLE_INVENTORY, or inventory = <file> under [defaults] in ansible.cfg')
  }
  if (list.length === 1) return list[0]!
  // Like Ansible, sources that do not exist are skipped with a warning.
  const present = list.filter((p) => existsSync(p))
  const missing = list.filter((p) => !existsSync(p))
  if (present.length === 1) {
    warn(`warning: ${origin}: skipping inventory source${missing.length === 1 ? '' : 's'} that do${missing.length === 1 ? 'es' : ''} not exist: ${missing.join(', ')}\n`)
    return present[0]!
  }
  if (present.length === 0) throw new UsageError(`${origin}: none of the inventory sources exist: ${list.join(', ')}`)
  throw new UsageError(`${origin}: gpufleet reads one inventory source, this names ${present.length} (${present.join(', ')}): pass -i to pick one, or put the files in one directory and name the directory`)
}

// Prints ansible.cfg warnings once (a skipped world-writable ./ansible.cfg).
export function printConfigWarnings(config: AnsibleConfig, warn: (text: string) => void): void {
  for (const w of config.warnings) warn(`warning: ${w}\n`)
}

// --list-hosts output, as `ansible <pattern> --list-hosts` prints it.
export function formatHostList(hosts: readonly string[]): string {
  return `  hosts (${hosts.length}):\n${hosts.map((h) => `    ${h}\n`).join('')}`
}
