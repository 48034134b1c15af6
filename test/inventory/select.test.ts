import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { loadInventory } from '../../src/inventory/load.js'
import { selectHosts, splitPatterns } from '../../src/inventory/select.js'
import type { Inventory } from '../../src/inventory/types.js'
import { writeTree } from './tree.js'

let inventory: Inventory
beforeAll(async () => {
  inventory = await loadInventory(join(import.meta.dirname, '../fixtures/inventory/limits.yaml'))
})

const names = (limit?: string) => selectHosts(inventory, limit).map((h) => h.name)
const A = ['p9-a01', 'p9-a02', 'p9-a03', 'p9-a04']
const B = ['p9-b01', 'p9-b02', 'p9-b03', 'p9-b04']

describe('splitPatterns', () => {
  it.each([
    ['a:b', ['a', 'b']],
    ['a,b', ['a', 'b']],
    ['a:!b:&c', ['a', '!b', '&c']],
    ['a, b ,,c', ['a', 'b', 'c']],
    ['web[0:2]:db', ['web[0:2]', 'db']],
    ['~p9-(a|b)0[1:3]', ['~p9-(a|b)0[1:3]']],
    ['::1', ['::1']],
  ])('%s', (limit, patterns) => {
    expect(splitPatterns(limit)).toEqual(patterns)
  })
})

describe('selectHosts', () => {
  it('returns every host in inventory order without a limit', () => {
    expect(names()).toEqual(['bastion', ...A, ...B])
    expect(names('')).toEqual(names())
    expect(names('all')).toEqual(names())
    expect(names('*')).toEqual(names())
  })

  it('selects a host, a group, a group with child groups', () => {
    expect(names('p9-a02')).toEqual(['p9-a02'])
    expect(names('rack_b')).toEqual(B)
    expect(names('ac922')).toEqual([...A, 'p9-b01'])
    expect(names('ungrouped')).toEqual(['bastion'])
  })

  it('matches globs and ~regexes (anchored at the start, like re.match)', () => {
    expect(names('p9-a0*')).toEqual(A)
    expect(names('p9-?01')).toEqual(['p9-a01', 'p9-b01'])
    expect(names('rack_*')).toEqual([...A, ...B])
    expect(names('~p9-(a|b)0[13]')).toEqual(['p9-a01', 'p9-a03', 'p9-b01', 'p9-b03'])
  })

  it('unions with : and , in inventory order', () => {
    expect(names('rack_b:rack_a')).toEqual([...A, ...B])
    expect(names('p9-b02,p9-a01')).toEqual(['p9-a01', 'p9-b02'])
  })

  it('excludes with :! and intersects with :&', () => {
    expect(names('rack_a:!p9-a02')).toEqual(['p9-a01', 'p9-a03', 'p9-a04'])
    expect(names('ac922:&rack_b')).toEqual(['p9-b01'])
    expect(names('!rack_a')).toEqual(['bastion', ...B])
    expect(names('&rack_b:!p9-b0[!1]')).toEqual(['p9-b01'])
    // exclusions apply after unions whatever their position
    expect(names('!p9-a01:rack_a')).toEqual(['p9-a02', 'p9-a03', 'p9-a04'])
  })

  it('picks hosts of a group by position', () => {
    expect(names('rack_a[0]')).toEqual(['p9-a01'])
    expect(names('rack_a[-1]')).toEqual(['p9-a04'])
    expect(names('rack_a[1:2]')).toEqual(['p9-a02', 'p9-a03'])
    expect(names('rack_a[2:]')).toEqual(['p9-a03', 'p9-a04'])
  })

  it('reads @file patterns, one per line (a retry file)', async () => {
    const dir = await writeTree({ 'site.retry': 'p9-a03\np9-b04\n\n' })
    expect(names(`@${join(dir, 'site.retry')}`)).toEqual(['p9-a03', 'p9-b04'])
    expect(names(`@${join(dir, 'site.retry')}:!p9-b04`)).toEqual(['p9-a03'])
  })

  it.each([
    ['rakc_a', `--limit pattern 'rakc_a' matches no host or group in`],
    ['rack_a:nosuch', `--limit pattern 'nosuch' matches no host or group`],
    ['rack_a:!nosuch', `--limit pattern 'nosuch' matches no host or group`],
    ['p9-z*', `--limit pattern 'p9-z*' matches no host or group`],
    ['~b0', `--limit pattern '~b0' matches no host or group`], // re.match: anchored at the start
    ['spare', `--limit 'spare' leaves no hosts to target`],
    ['rack_a:!rack_a', `--limit 'rack_a:!rack_a' leaves no hosts to target`],
    ['rack_a[9]', `--limit 'rack_a[9]': rack_a has only 4 hosts`],
    ['~p9-(', `--limit '~p9-(': invalid regular expression`],
    ['@/nonexistent/retry', '--limit @/nonexistent/retry: file /nonexistent/retry not found'],
    ['rack_a:!', `--limit: empty pattern after '!'`],
  ])('rejects %s with a UsageError', (limit, message) => {
    expect(() => selectHosts(inventory, limit)).toThrow(UsageError)
    expect(() => selectHosts(inventory, limit)).toThrow(message)
  })

  it('suggests the host a short name or a typo most likely meant', async () => {
    const dir = await writeTree({ 'hosts.yaml': 'all:\n  children:\n    rack_a:\n      hosts:\n        p9-a01.gpu.example.com:\n        p9-a02.gpu.example.com:\n' })
    const fqdn = await loadInventory(join(dir, 'hosts.yaml'))
    expect(() => selectHosts(fqdn, 'p9-a01')).toThrow(/matches no host or group in .*hosts\.yaml \(did you mean p9-a01\.gpu\.example\.com\?\)$/)
    expect(() => selectHosts(fqdn, 'rakc_a')).toThrow(/ \(did you mean rack_a\?\)$/)
    expect(() => selectHosts(inventory, 'p9-a1')).toThrow(/ \(did you mean p9-a01\?\)$/)
    expect(() => selectHosts(inventory, 'zzzzzzzz')).toThrow(/matches no host or group in [^(]*$/)
  })

  it('rejects an @directory', async () => {
    const dir = await writeTree({ 'd/x': '' })
    await writeFile(join(dir, 'unused'), '')
    expect(() => selectHosts(inventory, `@${join(dir, 'd')}`)).toThrow(/is not a file/)
  })
})
