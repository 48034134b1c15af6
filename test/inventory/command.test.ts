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
    expect(await inventoryCommand({ inventory: join(dir, 'hosts.ini'), graph: true })).toBe(
      ['@all:', '  |--@ungrouped:', '  |  |--solo', '  |--@power9:', '  |  |--@rack_a:', '  |  |  |--a1', '  |  |  |--a2', '  |  |--@rack_b:', '  |  |  |--b1', ''].join('\n'),
    )
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

  it('requires --inventory and refuses --json with --graph', async () => {
    await expect(program().parseAsync(['node', 'gpufleet', 'inventory'])).rejects.toThrow(/required option '-i, --inventory <file>'/)
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
