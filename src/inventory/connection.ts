import { homedir } from 'node:os'
import { resolve } from 'node:path'
import type { InventoryHost, SshTarget } from './types.js'
import { inventoryError, type Origin } from './origin.js'
import { parseSshArgs, SshArgsError, type SshArgs } from './ssh-args.js'
import { isTemplated, renderTemplate, TemplateError } from './template.js'
import { Secret } from './secret.js'
import { VAULT_FLAGS_HINT } from './vault-values.js'
import { VaultedValue } from './yaml-source.js'

// A host's merged vars with where each winning value came from.
export interface MergedVars {
  values: Map<string, unknown>
  origins: Map<string, Origin>
}

// Ansible's boolean(): the spellings it accepts for true and false.
const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't', '1.0'])
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f', '0.0'])

// Ansible connection plugins gpufleet can stand in for.
const CONNECTIONS: Record<string, 'ssh' | 'local'> = {
  ssh: 'ssh',
  smart: 'ssh',
  paramiko: 'ssh',
  paramiko_ssh: 'ssh',
  'ansible.builtin.ssh': 'ssh',
  'ansible.builtin.paramiko_ssh': 'ssh',
  local: 'local',
  'ansible.builtin.local': 'local',
}

// The connection settings of one host from its merged vars (Ansible's names, legacy aliases too).
export function resolveConnection(name: string, vars: MergedVars): Pick<InventoryHost, 'connection' | 'ssh' | 'become' | 'becomeUser' | 'becomePassword'> {
  const read = new VarReader(name, vars)

  const connectionVar = read.string('ansible_connection')
  let connection: 'ssh' | 'local' = 'ssh'
  if (connectionVar) {
    const kind = CONNECTIONS[connectionVar.value]
    if (!kind) throw read.error(connectionVar.key, `ansible_connection '${connectionVar.value}' is not supported (gpufleet connects with ssh or local)`)
    connection = kind
  }

  const becomeMethod = read.string('ansible_become_method')
  if (becomeMethod && becomeMethod.value !== 'sudo' && becomeMethod.value !== 'ansible.builtin.sudo') {
    throw read.error(becomeMethod.key, `ansible_become_method '${becomeMethod.value}' is not supported (gpufleet becomes root with sudo)`)
  }

  // Ansible appends ssh_args, then common args, then extra args; ssh keeps the first value of each option.
  const args: SshArgs = { identityFiles: [], ignored: [] }
  for (const key of ['ansible_ssh_args', 'ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const text = read.string(key)
    if (!text) continue
    try {
      parseSshArgs(text.value, args)
    } catch (error) {
      if (error instanceof SshArgsError) throw read.error(key, `${key}: ${error.message}`)
      throw error
    }
  }

  const hostVar = read.string('ansible_ssh_host', 'ansible_host')
  if (hostVar && hostVar.value.trim() === '') throw read.error(hostVar.key, `${hostVar.key} is empty`)
  const port = read.port('ansible_ssh_port', 'ansible_port') ?? args.port
  const user = read.string('ansible_ssh_user', 'ansible_user')?.value ?? args.user
  const keyFile = read.string('ansible_ssh_private_key_file', 'ansible_private_key_file')?.value

  // ansible_host_key_checking=false comes before the common args on Ansible's ssh command line, so it wins.
  const hostKeyChecking = read.boolean('ansible_ssh_host_key_checking', 'ansible_host_key_checking')
  const strict = hostKeyChecking === false ? 'no' : args.strictHostKeyChecking
  const strictHostKeyChecking = strict === undefined ? undefined : strictValue(strict, () => read.error(argsKey(read), `StrictHostKeyChecking '${strict}' is not one of yes, no, accept-new, ask, off`))

  const ssh: SshTarget = {
    hostname: hostVar?.value.trim() ?? name,
    hostnameFromInventory: hostVar !== undefined,
    port,
    user,
    identityFiles: [...(keyFile ? [keyFile] : []), ...args.identityFiles].map(expandHome),
    proxyJump: args.proxyJump && args.proxyJump.toLowerCase() !== 'none' ? args.proxyJump : undefined,
    knownHostsFile: args.knownHostsFile ? expandHome(args.knownHostsFile) : undefined,
    strictHostKeyChecking,
  }
  return {
    connection,
    ssh,
    become: read.boolean('ansible_become') ?? false,
    becomeUser: read.string('ansible_become_user')?.value ?? 'root',
    ...becomePassword(read),
  }
}

// The sudo password from the inventory (usually a !vault value), held as a Secret. As the sudo
// become plugin, the last of its var names wins: ansible_sudo_pass, ansible_become_pass,
// ansible_become_password.
function becomePassword(read: VarReader): { becomePassword?: Secret } {
  const found = read.string('ansible_sudo_pass', 'ansible_become_pass', 'ansible_become_password')
  return found ? { becomePassword: new Secret(found.value) } : {}
}

// The ssh-args var an option came from, for the error's file:line.
function argsKey(read: VarReader): string {
  return ['ansible_ssh_args', 'ansible_ssh_common_args', 'ansible_ssh_extra_args'].find((k) => read.has(k)) ?? 'ansible_ssh_common_args'
}

function strictValue(value: string, fail: () => Error): SshTarget['strictHostKeyChecking'] {
  switch (value.toLowerCase()) {
    case 'yes':
    case 'ask': // nobody is there to answer: treat as yes
      return 'yes'
    case 'no':
    case 'off':
      return 'no'
    case 'accept-new':
      return 'accept-new'
    default:
      throw fail()
  }
}

// `~/x` → home, relative → absolute from the current directory (Ansible and ssh do both).
function expandHome(path: string): string {
  return resolve(path === '~' ? homedir() : path.startsWith('~/') ? homedir() + path.slice(1) : path)
}

// Typed access to merged vars; errors name the file:line of the winning value.
class VarReader {
  constructor(
    private readonly host: string,
    private readonly vars: MergedVars,
  ) {}

  has(key: string): boolean {
    return this.vars.values.has(key)
  }

  error(key: string, message: string): Error {
    const origin = this.vars.origins.get(key)
    return inventoryError(origin ?? { file: '<inventory>', line: 0 }, `host '${this.host}': ${message}`)
  }

  // The first key set among `keys` (the preferred spelling first) and its value.
  private raw(keys: string[]): { key: string; value: unknown } | undefined {
    for (const key of keys) if (this.vars.values.has(key)) return { key, value: this.vars.values.get(key) }
    return undefined
  }

  string(...keys: string[]): { key: string; value: string } | undefined {
    const found = this.raw(keys)
    if (!found || found.value === null) return undefined
    if (found.value instanceof VaultedValue) {
      // A decrypted vault value is used as it is: a secret is never templated (nor quoted in an error).
      const plaintext = found.value.reveal()
      if (plaintext === undefined) throw this.error(found.key, `${found.key} is encrypted with Ansible Vault; ${VAULT_FLAGS_HINT}`)
      return { key: found.key, value: plaintext }
    }
    if (typeof found.value === 'number') return { key: found.key, value: String(found.value) }
    if (typeof found.value !== 'string') throw this.error(found.key, `${found.key} must be a string, got ${JSON.stringify(found.value)}`)
    try {
      return { key: found.key, value: renderTemplate(found.value, (name) => this.lookup(name)) }
    } catch (error) {
      if (error instanceof TemplateError) throw this.error(found.key, `${found.key}: ${error.message}`)
      throw error
    }
  }

  port(...keys: string[]): number | undefined {
    const found = this.string(...keys)
    if (!found) return undefined
    const port = /^\d+$/.test(found.value.trim()) ? Number(found.value) : NaN
    if (!(port >= 1 && port <= 65535)) throw this.error(found.key, `${found.key} must be a port number (1-65535), got ${JSON.stringify(this.vars.values.get(found.key))}`)
    return port
  }

  boolean(...keys: string[]): boolean | undefined {
    const found = this.raw(keys)
    if (!found || found.value === null) return undefined
    if (typeof found.value === 'boolean') return found.value
    const text = String(found.value).trim().toLowerCase()
    if ((typeof found.value === 'string' || typeof found.value === 'number') && TRUE.has(text)) return true
    if ((typeof found.value === 'string' || typeof found.value === 'number') && FALSE.has(text)) return false
    throw this.error(found.key, `${found.key} must be a boolean (true/false, yes/no), got ${JSON.stringify(found.value)}`)
  }

  private lookup(name: string): unknown {
    if (name === 'inventory_hostname') return this.host
    if (name === 'inventory_hostname_short') return this.host.split('.')[0]
    const value = this.vars.values.get(name)
    if (value instanceof VaultedValue) {
      // `ansible_become_password: "{{ vault_sudo_pass }}"`: the vaulted var's plaintext, which is
      // not templated again (an error message would otherwise quote it).
      const plaintext = value.reveal()
      if (plaintext === undefined) throw new TemplateError(`'${name}' is encrypted with Ansible Vault; ${VAULT_FLAGS_HINT}`)
      if (isTemplated(plaintext)) throw new TemplateError(`'${name}' is a vault value that contains Jinja2 markup, which gpufleet does not evaluate`)
      return plaintext
    }
    return value
  }
}
