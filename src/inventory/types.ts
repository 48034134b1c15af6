// The resolved inventory: what loaders produce and everything else reads.
import type { Secret } from './secret.js'

// Connection settings from the inventory. A field left undefined was not set there, so the
// transport falls back to ~/.ssh/config for it, then to OpenSSH's default.
export interface SshTarget {
  // Address to connect to: ansible_host, else the inventory name (which ~/.ssh/config may map
  // through `Host`/`HostName`, as OpenSSH does).
  hostname: string
  hostnameFromInventory: boolean // true when ansible_host set it explicitly
  port?: number // ansible_port
  user?: string // ansible_user
  identityFiles: string[] // ansible_ssh_private_key_file
  proxyJump?: string // "user@host:port[,user@host2]" from -o ProxyJump / ProxyJump in ssh config
  knownHostsFile?: string // -o UserKnownHostsFile
  strictHostKeyChecking?: 'yes' | 'no' | 'accept-new'
}

// One GPU→VM assignment for the attach task: explicit host PCI addresses, or a count of GPUs.
export interface GpuAssignment {
  domain: string // libvirt domain name
  addresses?: string[] // host PCI addresses 'dddd:bb:ss.f'
  count?: number
}

export interface InventoryHost {
  name: string // inventory_hostname
  groups: string[] // every group the host belongs to, ancestors included, 'all' first
  vars: Record<string, unknown> // merged vars, Ansible precedence (host > child group > parent > all)
  connection: 'ssh' | 'local'
  ssh: SshTarget
  become: boolean // ansible_become
  becomeUser: string // ansible_become_user, default root
  becomePassword?: Secret // ansible_become_password (a !vault value, decrypted), for sudo; wins over --ask-become-pass
  // gpufleet's own vars (documented in inventory/README.md):
  rack?: string // failure domain for rolling reboots: `gpufleet_rack`, or what --rack-by says (rack-by.ts)
  expectedGpus?: { count?: number; addresses?: string[] } // `gpufleet_gpus` var
  assignments: GpuAssignment[] // `gpufleet_vms` var
  // Malformed gpufleet_* vars as "file:line: message" (those vars are then left unset). Checked only
  // for the hosts a command selects: run/plan/resume refuse them, inventory/facts warn.
  fleetVarErrors?: string[]
  // Where each merged var was written ("file:line"), for errors about vars read later (--rack-by var:x).
  varOrigins?: Record<string, string>
  // Where the host was defined, for error messages: "file:line".
  source?: string
}

export interface Inventory {
  file: string
  hosts: InventoryHost[] // in inventory order
  groups: Record<string, { hosts: string[]; children: string[]; vars: Record<string, unknown> }>
}
