import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { applyConnectionDefaults } from '../../src/inventory/connection-defaults.js'
import { loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

describe('-u, --private-key, -b, host_key_checking: below every inventory var, as in Ansible', () => {
  it('fill in only what a host leaves unset', async () => {
    const dir = await writeTree({
      'hosts.yaml': `all:
  hosts:
    bare:
    own:
      ansible_user: alice
      ansible_ssh_private_key_file: /keys/alice
      ansible_become: false
      ansible_host_key_checking: true
    args:
      ansible_ssh_common_args: -i /keys/extra -o StrictHostKeyChecking=yes
`,
    })
    const inventory = await loadInventory(join(dir, 'hosts.yaml'))
    const hosts = applyConnectionDefaults(inventory.hosts, { user: 'ops', privateKeyFile: '/keys/fleet', become: true, hostKeyChecking: false })
    const view = hosts.map((h) => ({ name: h.name, user: h.ssh.user, keys: h.ssh.identityFiles, become: h.become, strict: h.ssh.strictHostKeyChecking }))
    expect(view).toEqual([
      { name: 'bare', user: 'ops', keys: ['/keys/fleet'], become: true, strict: 'no' },
      { name: 'own', user: 'alice', keys: ['/keys/alice'], become: false, strict: undefined },
      // Ansible puts private_key_file and StrictHostKeyChecking=no before the common args: ssh takes the first.
      { name: 'args', user: 'ops', keys: ['/keys/fleet', '/keys/extra'], become: true, strict: 'no' },
    ])
    // Nothing given, nothing changed.
    expect(applyConnectionDefaults(inventory.hosts, {})).toEqual(inventory.hosts)
  })
})
