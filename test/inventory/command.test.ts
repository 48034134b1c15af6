import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { inventoryCommand, registerInventory } from '../../src/commands/inventory.js'
import { InventoryError, UsageError } from '../../src/errors.js'
import { writeTree } from './tree.js'

const fixtures = join(import.meta.dirname, '../fixtures/inventory')
const example = join(import.meta.dirname, '../../inventory/example.yaml')

afterEach(() => {
  vi.restoreAllMocks()
})

describe('gpufleet inventory --json', () => {
  it('prints what ansible-inventory --list prints, with secrets redacted', async () => {
    // Expected: ansible-inventory -i docs-example.ini --list (sorted keys, 4-space indent), except
    // that gpufleet prints <redacted> for the two secret vars.
    const expected = await readFile(join(fixtures, 'docs-example.list.json'), 'utf8')
    expect(await inventoryCommand({ inventory: join(fixtures, 'docs-example.ini'), json: true })).toBe(expected)
  })

  it('never prints a secret', async () => {
    const out = await inventoryCommand({ inventory: join(fixtures, 'docs-example.ini'), json: true })
    expect(out).not.toContain('hunter2')
    expect(out).not.toContain('abc def')
  })

  it('restricts hosts and drops emptied groups with --limit, as ansible-inventory --limit', async () => {
    const out = JSON.parse(await inventoryCommand({ inventory: join(fixtures, 'docs-example.ini'), json: true, limit: 'webservers:!foo.example.com' }))
    expect(out).toEqual({
      _meta: { hostvars: { 'bar.example.com': { ansible_port: 5309, http_port: 8080 } } },
      all: { children: ['ungrouped', 'webservers', 'dbservers'] },
      webservers: { hosts: ['bar.example.com'] },
    })
  })
})

describe('gpufleet inventory --graph', () => {
  it('draws the group tree like ansible-inventory --graph', async () => {
    const dir = await writeTree({
      'hosts.ini': `
        solo
        [rack_a]
        a1
        a2
        [rack_b]
        b1
        [power9:children]
        rack_a
        rack_b
      `,
    })
    expect(await inventoryCommand({ inventory: join(dir, 'hosts.ini'), graph: true })).toBe(['@all:', '  |--@ungrouped:', '  |  |--solo', '  |--@power9:', '  |  |--@rack_a:', '  |  |  |--a1', '  |  |  |--a2', '  |  |--@rack_b:', '  |  |  |--b1', ''].join('\n'))
  })
})

describe('gpufleet inventory (table)', () => {
  it('lists address, user, rack, GPUs, VMs, groups and connection notes', async () => {
    const out = await inventoryCommand({ inventory: example, limit: 'p9-a01.gpu.example.com:p9-b04.gpu.example.com' })
    const lines = out.trimEnd().split('\n')
    expect(lines[0].split(/\s{2,}/)).toEqual(['HOST', 'ADDRESS', 'USER', 'RACK', 'GPUS', 'VMS', 'GROUPS', 'SOURCE', 'NOTES'])
    expect(lines[1].split(/\s{2,}/).slice(0, 7)).toEqual(['p9-a01.gpu.example.com', 'p9-a01.gpu.example.com', 'admin', 'r1', '4', 'train-0(2) train-1(2)', 'rack_a,ac922,vm_hosts'])
    expect(lines[1]).toContain('become=root via=admin@bastion.gpu.example.com')
    expect(lines[1].split(/\s{2,}/)[7]).toBe(`${example}:17`) // where the host was first named (the range p9-a[01:04])
    expect(lines[2].split(/\s{2,}/).slice(0, 5)).toEqual(['p9-b04.gpu.example.com', 'p9-b04.gpu.example.com:2222', 'admin', 'r2', '2'])
    expect(lines.at(-1)).toBe(`2 of 8 hosts in 2 racks (${example})`)
  })

  it('shows local connections and leaves out empty columns', async () => {
    const dir = await writeTree({ 'hosts.yaml': 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n' })
    const out = await inventoryCommand({ inventory: join(dir, 'hosts.yaml') })
    expect(out.split('\n')[0].split(/\s{2,}/)).toEqual(['HOST', 'ADDRESS', 'USER', 'GROUPS', 'SOURCE'])
    expect(out.split('\n')[1].split(/\s{2,}/)).toEqual(['localhost', 'local', '-', 'ungrouped', `${join(dir, 'hosts.yaml')}:3`])
  })
})

describe('gpufleet inventory: racks and foreign vars', () => {
  const RACKS = "[power9:children]\nrack_a\nrack_b\n[rack_a]\na1 rack=12 vms=\"[{'name': 'train-1', 'gpus': 2}]\" gpus=4\na2\n[rack_b]\nb1\n[spare]\ns1\n"

  it('shows the rack each host rolls in under --rack-by, and counts hosts without one', async () => {
    const dir = await writeTree({ 'hosts.ini': RACKS })
    const out = await inventoryCommand({ inventory: join(dir, 'hosts.ini'), rackBy: 'group:rack_*' })
    const rows = out
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{2,}/))
    expect(rows[0]).toEqual(['HOST', 'ADDRESS', 'USER', 'RACK', 'GROUPS', 'SOURCE'])
    expect(rows.slice(1, 5).map((r) => [r[0], r[3]])).toEqual([
      ['a1', 'rack_a'],
      ['a2', 'rack_a'],
      ['b1', 'rack_b'],
      ['s1', '-'],
    ])
    expect(out.trimEnd().split('\n').at(-1)).toBe(`4 of 4 hosts in 2 racks, 1 without a rack (one shared failure domain) (${join(dir, 'hosts.ini')})`)
    // The admin's own rack/gpus/vms are just vars: no RACK from them by default, no GPUS/VMS columns.
    expect((await inventoryCommand({ inventory: join(dir, 'hosts.ini') })).split('\n')[0].split(/\s{2,}/)).toEqual(['HOST', 'ADDRESS', 'USER', 'GROUPS', 'SOURCE'])
    expect(
      (await inventoryCommand({ inventory: join(dir, 'hosts.ini'), rackBy: 'var:rack' }))
        .split('\n')[1]
        .split(/\s{2,}/)
        .slice(0, 4),
    ).toEqual(['a1', 'a1', '(ssh config)', '12'])
  })

  it("--graph --rack-by names each host's rack after it; plain --graph stays ansible-inventory's", async () => {
    const dir = await writeTree({ 'hosts.ini': RACKS })
    const file = join(dir, 'hosts.ini')
    expect(await inventoryCommand({ inventory: file, graph: true, rackBy: 'var:rack' })).toBe(
      ['@all:', '  |--@ungrouped:', '  |--@power9:', '  |  |--@rack_a:', '  |  |  |--a1  (rack: 12)', '  |  |  |--a2  (rack: none)', '  |  |--@rack_b:', '  |  |  |--b1  (rack: none)', '  |--@spare:', '  |  |--s1  (rack: none)', ''].join('\n'),
    )
    expect(await inventoryCommand({ inventory: file, graph: true })).not.toContain('rack:')
  })

  it('refuses a host in two rack groups (exit 2) and a bad --rack-by before reading anything', async () => {
    const dir = await writeTree({ 'hosts.ini': RACKS + '[rack_b]\na2\n' })
    await expect(inventoryCommand({ inventory: join(dir, 'hosts.ini'), rackBy: 'group:rack_*' })).rejects.toThrow(InventoryError)
    await expect(inventoryCommand({ inventory: join(dir, 'hosts.ini'), rackBy: 'group:rack_*' })).rejects.toThrow(`host 'a2' is in 2 groups matching --rack-by group:'rack_*': rack_a, rack_b`)
    await expect(inventoryCommand({ inventory: join(dir, 'nonexistent.ini'), rackBy: 'rack_*' })).rejects.toThrow(UsageError)
  })

  it('warns about a malformed gpufleet var of a selected host instead of refusing, and ignores unselected hosts', async () => {
    const dir = await writeTree({ 'hosts.yaml': 'all:\n  hosts:\n    good:\n    bad:\n      gpufleet_gpus: 4\n' })
    const warnings: string[] = []
    const out = await inventoryCommand({ inventory: join(dir, 'hosts.yaml'), json: true }, (t) => void warnings.push(t))
    expect(JSON.parse(out)._meta.hostvars).toEqual({ bad: { gpufleet_gpus: 4 } })
    expect(warnings).toEqual([`warning: ${join(dir, 'hosts.yaml')}:5: host 'bad': gpufleet_gpus: gpufleet_gpus must be a mapping: {count: 4} or {addresses: [0004:04:00.0, ...]} (ignored here; run, plan and resume refuse it)\n`])
    warnings.length = 0
    await inventoryCommand({ inventory: join(dir, 'hosts.yaml'), limit: 'good' }, (t) => void warnings.push(t))
    expect(warnings).toEqual([])
  })
})

describe('errors', () => {
  it('passes InventoryError and UsageError through for cli.ts to map to exit code 2', async () => {
    const dir = await writeTree({ 'bad.yaml': 'all:\n  hosts:\n    p9-[3:1]:\n' })
    await expect(inventoryCommand({ inventory: join(dir, 'bad.yaml') })).rejects.toThrow(InventoryError)
    await expect(inventoryCommand({ inventory: join(dir, 'bad.yaml') })).rejects.toThrow(`${join(dir, 'bad.yaml')}:3: bad host range`)
    await expect(inventoryCommand({ inventory: example, limit: 'rack_c' })).rejects.toThrow(UsageError)
  })
})

describe('registerInventory', () => {
  function program(): Command {
    const p = new Command('gpufleet').exitOverride()
    p.configureOutput({ writeOut: () => {}, writeErr: () => {} })
    registerInventory(p)
    return p
  }

  it('wires -i, --limit and --json to the command', async () => {
    const written: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    await program().parseAsync(['node', 'gpufleet', 'inventory', '-i', join(fixtures, 'docs-example.ini'), '--limit', 'ungrouped', '--json'])
    expect(JSON.parse(written.join(''))._meta.hostvars).toEqual({})
    expect(JSON.parse(written.join('')).ungrouped).toEqual({ hosts: ['mail.example.com'] })
  })

  it('needs an inventory from -i, ANSIBLE_INVENTORY or ansible.cfg, and refuses --json with --graph', async () => {
    // An empty ansible.cfg named by ANSIBLE_CONFIG shadows any ./ansible.cfg or ~/.ansible.cfg.
    const dir = await writeTree({ 'ansible.cfg': '[defaults]\n' })
    vi.stubEnv('ANSIBLE_CONFIG', join(dir, 'ansible.cfg'))
    vi.stubEnv('ANSIBLE_INVENTORY', undefined)
    try {
      await expect(program().parseAsync(['node', 'gpufleet', 'inventory'])).rejects.toThrow(UsageError)
      await expect(program().parseAsync(['node', 'gpufleet', 'inventory'])).rejects.toThrow(/no inventory: pass -i <file>, or set ANSIBLE_INVENTORY/)
      vi.stubEnv('ANSIBLE_INVENTORY', example)
      const written: string[] = []
      vi.spyOn(process.stdout, 'write').mockImplementation((t) => written.push(String(t)) > 0)
      await program().parseAsync(['node', 'gpufleet', 'inventory', '--json'])
      expect(Object.keys(JSON.parse(written.join('')))).toContain('_meta')
    } finally {
      vi.unstubAllEnvs()
      vi.restoreAllMocks()
    }
    await expect(program().parseAsync(['node', 'gpufleet', 'inventory', '-i', 'x', '--json', '--graph'])).rejects.toThrow(/cannot be used with/)
  })

  it('shows an example in --help', () => {
    const help = program().commands.find((c) => c.name() === 'inventory')!
    let text = ''
    help.configureOutput({ writeOut: (s) => (text += s) })
    help.outputHelp()
    expect(text).toContain('gpufleet inventory -i inventory/example.yaml')
    expect(text).toContain('--limit <pattern>')
  })
})
