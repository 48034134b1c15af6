import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { loadExtraVars } from '../../src/inventory/extra-vars.js'
import { loadInventory } from '../../src/inventory/load.js'

// Differential test against real Ansible (Debian's ansible-core): the same -e arguments over the same
// inventory give every host the same vars. `debug` runs on the controller, so nothing connects.
const dir = mkdtempSync(join(tmpdir(), 'gpufleet-evcompat-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'hosts.yaml'), 'all:\n  vars:\n    x: fromall\n    gpufleet_rack: r1\n  children:\n    rack_a:\n      hosts:\n        p9-01:\n          ansible_user: fromhost\n          ansible_port: 2200\n          y: 1\n        p9-02:\n')
writeFileSync(join(dir, 'vars.yaml'), 'y: fromfile\nz: [1, 2]\ngpufleet_rack: r7\n')
const NAMES = ['ansible_user', 'ansible_port', 'x', 'y', 'z', 'w', 'gpufleet_rack']

describe('-e gives every host the vars ansible -e gives it', () => {
  it('key=value with quotes, JSON, @file, later -e winning, over host and group vars', async () => {
    const args = ['x=first ansible_user=ops', 'x="a b" ansible_port=2222', '{"w": {"k": 1}, "x": "from json"}', `@${join(dir, 'vars.yaml')}`]
    const msg = `msg={{ {${NAMES.map((n) => `"${n}": ${n}|default(None)`).join(', ')}} }}`
    const { stdout } = await execa('ansible', ['all', '-i', join(dir, 'hosts.yaml'), '-m', 'debug', '-a', msg, ...args.flatMap((a) => ['-e', a])], { env: { ANSIBLE_NOCOLOR: '1' } })
    const theirs: Record<string, unknown> = {}
    for (const m of stdout.matchAll(/^(\S+) \| SUCCESS => (\{[\s\S]*?\n\})$/gm)) theirs[m[1]!] = (JSON.parse(m[2]!) as { msg: unknown }).msg
    const inventory = await loadInventory(join(dir, 'hosts.yaml'), { extraVars: await loadExtraVars(args) })
    const ours = Object.fromEntries(inventory.hosts.map((h) => [h.name, Object.fromEntries(NAMES.map((n) => [n, h.vars[n] ?? null]))]))
    // Ansible prints hosts in the order they finish, not inventory order.
    expect(Object.keys(theirs).sort()).toEqual(['p9-01', 'p9-02'])
    expect(ours).toEqual(theirs)
  })
})
