import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { inventoryCommand } from '../../src/commands/inventory.js'
import { loadInventory } from '../../src/inventory/load.js'
import { selectHosts } from '../../src/inventory/select.js'

// Differential tests against the real ansible-inventory (Debian's ansible-core package), run only
// where it is installed: gpufleet must print exactly what Ansible prints for the same files.
const ansibleInventory = ['/usr/bin/ansible-inventory', '/usr/local/bin/ansible-inventory'].find(existsSync)
const ansible = ansibleInventory?.replace(/-inventory$/, '')
const fixtures = join(import.meta.dirname, '../fixtures/inventory')
const env = { ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False', ANSIBLE_NOCOLOR: '1' }

describe.skipIf(!ansibleInventory)('same output as ansible-inventory', () => {
  it.each([
    join(fixtures, 'compat/hosts.yaml'),
    join(fixtures, 'compat/hosts.ini'),
    join(fixtures, 'dir'),
    join(import.meta.dirname, '../../inventory/example.yaml'),
  ])('--list for %s', async (file) => {
    const theirs = await execa(ansibleInventory!, ['-i', file, '--list'], { env })
    expect(await inventoryCommand({ inventory: file, json: true })).toBe(theirs.stdout + '\n')
  })

  it('--graph', async () => {
    const file = join(fixtures, 'compat/hosts.yaml')
    const theirs = await execa(ansibleInventory!, ['-i', file, '--graph'], { env })
    expect(await inventoryCommand({ inventory: file, graph: true })).toBe(theirs.stdout + '\n')
  })

  it.each(['web[1:2]:zeta:!h2', '&alpha:zeta', '~(d|w):!deep'])('the hosts --limit %s selects', async (limit) => {
    const file = join(fixtures, 'compat/hosts.yaml')
    const theirs = await execa(ansible!, ['-i', file, 'all', '--limit', limit, '--list-hosts'], { env })
    const expected = theirs.stdout.split('\n').slice(1).map((l) => l.trim()).filter(Boolean)
    const ours = selectHosts(await loadInventory(file), limit).map((h) => h.name)
    expect([...ours].sort()).toEqual([...expected].sort())
  })
})
