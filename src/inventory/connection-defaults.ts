// Ansible's connection settings from the command line and ansible.cfg/ANSIBLE_* (-u/remote_user,
// --private-key/private_key_file, -b/become, host_key_checking). In Ansible these sit BELOW every
// inventory var (a host's ansible_user beats -u; -e beats both), but above ~/.ssh/config: Ansible
// passes them to ssh as -o options. So they fill in only what a host's vars leave unset.
import type { InventoryHost } from './types.js'

export interface ConnectionDefaults {
  user?: string
  privateKeyFile?: string // absolute
  become?: boolean
  hostKeyChecking?: boolean // false: accept unknown host keys (a changed key is still refused)
}

const KEY_VARS = ['ansible_ssh_private_key_file', 'ansible_private_key_file']
const HOST_KEY_VARS = ['ansible_ssh_host_key_checking', 'ansible_host_key_checking']

// The hosts with the defaults filled in where their vars say nothing.
export function applyConnectionDefaults(hosts: readonly InventoryHost[], defaults: ConnectionDefaults): InventoryHost[] {
  return hosts.map((host) => {
    const has = (names: string[]) => names.some((n) => Object.hasOwn(host.vars, n))
    const ssh = { ...host.ssh }
    if (defaults.user !== undefined && ssh.user === undefined) ssh.user = defaults.user
    if (defaults.privateKeyFile !== undefined && !has(KEY_VARS)) ssh.identityFiles = [defaults.privateKeyFile, ...ssh.identityFiles]
    if (defaults.hostKeyChecking === false && !has(HOST_KEY_VARS)) ssh.strictHostKeyChecking = 'no'
    const become = defaults.become !== undefined && !Object.hasOwn(host.vars, 'ansible_become') ? defaults.become : host.become
    return { ...host, ssh, become }
  })
}
