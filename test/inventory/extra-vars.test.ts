import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InventoryError, UsageError } from '../../src/errors.js'
import { absoluteExtraVars, loadExtraVars, redactedExtraVars, redactExtraVars } from '../../src/inventory/extra-vars.js'
import { loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

const values = async (args: string[]) => Object.fromEntries((await loadExtraVars(args)).values)

describe('-e/--extra-vars', () => {
  it('reads key=value words (shell quoting, values stay strings), YAML/JSON and @file; later -e wins', async () => {
    const dir = await writeTree({ 'vars.yaml': 'gpufleet_rack: r9\nports: [22, 2222]\n', 'empty.yml': '' })
    expect(await values(['a=1 b="two words" c=x=y', '{"a": 2, "d": {"e": true}}', '{f: [1, 2]}', `@${join(dir, 'vars.yaml')}`, `@${join(dir, 'empty.yml')}`, 'gpufleet_rack=r10'])).toEqual({ a: 2, b: 'two words', c: 'x=y', d: { e: true }, f: [1, 2], ports: [22, 2222], gpufleet_rack: 'r10' })
  })

  it.each([
    ['justaword', /'justaword' is not key=value/],
    ['a="unclosed', /No closing quotation/],
    ['{a: [1', /not valid YAML\/JSON/],
    ['[1, 2]', /extra vars must be a mapping/],
  ])('refuses %j as a usage error', async (arg, message) => {
    const error = await loadExtraVars([arg]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as Error).message).toMatch(message)
  })

  it('a missing or malformed @file is an inventory error naming the file', async () => {
    const dir = await writeTree({ 'bad.yaml': 'a: [1\n' })
    await expect(loadExtraVars([`@${join(dir, 'nope.yaml')}`])).rejects.toThrow(InventoryError)
    await expect(loadExtraVars([`@${join(dir, 'bad.yaml')}`])).rejects.toThrow(new RegExp(`${dir}/bad\\.yaml:\\d`))
  })

  it('beat every inventory var, connection vars included, for every host', async () => {
    const dir = await writeTree({
      'hosts.yaml': 'all:\n  vars:\n    ansible_user: fromall\n  hosts:\n    p9-01:\n      ansible_user: fromhost\n      ansible_port: 2200\n    p9-02:\n',
      'host_vars/p9-01.yaml': 'ansible_user: fromhostvars\n',
    })
    const extraVars = await loadExtraVars(['ansible_user=ops ansible_port=2222'])
    const inventory = await loadInventory(join(dir, 'hosts.yaml'), { extraVars })
    expect(inventory.hosts.map((h) => [h.name, h.ssh.user, h.ssh.port, h.vars.ansible_user])).toEqual([
      ['p9-01', 'ops', 2222, 'ops'],
      ['p9-02', 'ops', 2222, 'ops'],
    ])
    // A bad connection value from -e is reported against the -e that set it.
    const bad = await loadExtraVars(['ansible_port=ssh'])
    await expect(loadInventory(join(dir, 'hosts.yaml'), { extraVars: bad })).rejects.toThrow(/^--extra-vars #1:1: /)
  })

  it('@files become absolute; secrets are redacted for the run directory and named for resume', () => {
    expect(absoluteExtraVars(['@vars.yaml', 'a=1'])).toEqual([`@${join(process.cwd(), 'vars.yaml')}`, 'a=1'])
    const saved = redactExtraVars(['a=1', 'ansible_become_password=s3cret b=2', '@/x.yaml'])
    expect(saved).toEqual(['a=1', '{"ansible_become_password":"<redacted>","b":"2"}', '@/x.yaml'])
    expect(saved.join(' ')).not.toContain('s3cret')
    expect(redactedExtraVars(saved)).toEqual(['ansible_become_password'])
  })
})
