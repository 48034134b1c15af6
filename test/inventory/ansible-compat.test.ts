import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { inventoryCommand } from '../../src/commands/inventory.js'
import { loadInventory } from '../../src/inventory/load.js'
import { assignRacks, parseRackBy } from '../../src/inventory/rack-by.js'
import { selectHosts } from '../../src/inventory/select.js'

// Differential tests against the real ansible-inventory (Debian's ansible-core package, installed by
// .ci/run): gpufleet must print exactly what Ansible prints for the same files.
const ansibleInventory = ['/usr/bin/ansible-inventory', '/usr/local/bin/ansible-inventory'].find(existsSync) ?? 'ansible-inventory'
const ansible = ansibleInventory.replace(/-inventory$/, '')
const fixtures = join(import.meta.dirname, '../fixtures/inventory')
const env = { ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False', ANSIBLE_NOCOLOR: '1' }

describe('same output as ansible-inventory', () => {
  it.each([
    join(fixtures, 'compat/hosts.yaml'),
    join(fixtures, 'compat/hosts.ini'),
    join(fixtures, 'dir'),
    join(fixtures, 'foreign-vars/hosts.yaml'),
    join(fixtures, 'foreign-vars/hosts.ini'),
    join(import.meta.dirname, '../../inventory/example.yaml'),
    join(import.meta.dirname, '../../inventory/example.ini'),
  ])('--list for %s', async (file) => {
    const theirs = await execa(ansibleInventory, ['-i', file, '--list'], { env })
    expect(await inventoryCommand({ inventory: file, json: true })).toBe(theirs.stdout + '\n')
  })

  it('--graph', async () => {
    const file = join(fixtures, 'compat/hosts.yaml')
    const theirs = await execa(ansibleInventory, ['-i', file, '--graph'], { env })
    expect(await inventoryCommand({ inventory: file, graph: true })).toBe(theirs.stdout + '\n')
  })

  it.each(['web[1:2]:zeta:!h2', '&alpha:zeta', '~(d|w):!deep'])('the hosts --limit %s selects', async (limit) => {
    const file = join(fixtures, 'compat/hosts.yaml')
    const theirs = await execa(ansible, ['-i', file, 'all', '--limit', limit, '--list-hosts'], { env })
    const expected = theirs.stdout
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean)
    const ours = selectHosts(await loadInventory(file), limit).map((h) => h.name)
    expect([...ours].sort()).toEqual([...expected].sort())
  })

  it.each(['hosts.yaml', 'hosts.ini'])("foreign-vars/%s: the admin's vms, gpus and rack load untouched; racks by group follow Ansible's groups", async (name) => {
    const file = join(fixtures, 'foreign-vars', name)
    const list = JSON.parse((await execa(ansibleInventory, ['-i', file, '--list'], { env })).stdout) as Record<string, { hosts?: string[] }> & { _meta: { hostvars: Record<string, Record<string, unknown>> } }
    const inventory = await loadInventory(file)
    const byName = Object.fromEntries(inventory.hosts.map((h) => [h.name, h]))
    // gpufleet read its own vars only, and saw the admin's ones exactly as Ansible did.
    expect(inventory.hosts.flatMap((h) => h.fleetVarErrors ?? [])).toEqual([])
    expect(byName['p9-a01']!.assignments).toEqual([{ domain: 'train-1', addresses: ['0004:04:00.0', '0004:05:00.0'] }])
    expect(byName['p9-a02']!.expectedGpus?.addresses).toHaveLength(4)
    for (const h of inventory.hosts) expect({ vms: h.vars.vms, gpus: h.vars.gpus, rack: h.vars.rack }).toEqual({ vms: list._meta.hostvars[h.name]!.vms, gpus: list._meta.hostvars[h.name]!.gpus, rack: list._meta.hostvars[h.name]!.rack })
    // --rack-by group:'rack_*': each host's rack is the rack_* group Ansible lists it in.
    const racks = assignRacks(inventory, inventory.hosts, parseRackBy('group:rack_*'))
    for (const h of racks) expect(list[h.rack!]?.hosts, h.name).toContain(h.name)
    expect(racks.map((h) => h.rack)).toEqual(['rack_a', 'rack_a', 'rack_b', 'rack_b'])
    expect(assignRacks(inventory, inventory.hosts).map((h) => h.rack)).toEqual([undefined, undefined, 'b-override', undefined])
    expect(assignRacks(inventory, inventory.hosts, parseRackBy('var:rack')).map((h) => h.rack)).toEqual(['12', '12', '13', '13'])
  })
})
