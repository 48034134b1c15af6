import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InventoryError, UsageError } from '../../src/errors.js'
import { loadInventory } from '../../src/inventory/load.js'
import { assignRacks, DEFAULT_RACK_BY, formatRackBy, NO_RACK, parseRackBy, rackWarnings } from '../../src/inventory/rack-by.js'
import { selectHosts } from '../../src/inventory/select.js'
import { failureDomain } from '../../src/runner/run-fleet.js'
import { writeTree } from './tree.js'

// A rack-per-group inventory, as many GPU estates write one: hardware and role groups come first,
// so the host's "first group" is never its rack.
const RACKS_INI = `
  [power9:children]
  rack_a
  rack_b
  [gpu_hosts:children]
  rack_a
  rack_b
  [rack_a]
  p9-a01 rack=12 datacenter_row=7
  p9-a02 rack=12 datacenter_row=7
  [rack_b]
  p9-b01 rack=13 datacenter_row=8
  p9-b02 rack=13
  [spares]
  p9-s01
`

async function racks(ini: string, rackBy?: string, limit?: string) {
  const dir = await writeTree({ 'hosts.ini': ini })
  const inventory = await loadInventory(join(dir, 'hosts.ini'))
  const hosts = assignRacks(inventory, selectHosts(inventory, limit), rackBy === undefined ? undefined : parseRackBy(rackBy))
  return { dir, hosts, rackOf: Object.fromEntries(hosts.map((h) => [h.name, h.rack])) }
}

async function refusal(ini: string, rackBy: string): Promise<{ error: Error; dir: string }> {
  const dir = await writeTree({ 'hosts.ini': ini })
  const inventory = await loadInventory(join(dir, 'hosts.ini'))
  try {
    assignRacks(inventory, inventory.hosts, parseRackBy(rackBy))
  } catch (error) {
    return { error: error as Error, dir }
  }
  throw new Error('expected assignRacks to refuse')
}

describe('parseRackBy', () => {
  it.each([
    ['group:rack_*', { kind: 'group', glob: 'rack_*' }],
    ['var:rack', { kind: 'var', name: 'rack' }],
    [' var:datacenter_row ', { kind: 'var', name: 'datacenter_row' }],
  ] as const)('%s', (text, expected) => {
    expect(parseRackBy(text)).toEqual(expected)
    expect(formatRackBy(parseRackBy(text))).toBe(text.trim())
  })

  it.each(['rack_*', 'group:', 'var: ', 'host:x', ''])('refuses %j as a usage error', (text) => {
    expect(() => parseRackBy(text)).toThrow(UsageError)
    expect(() => parseRackBy(text)).toThrow(/--rack-by: expected group:<glob>/)
  })
})

describe('assignRacks', () => {
  it('by default reads gpufleet_rack only: a foreign rack var or the first group is never a rack', async () => {
    const { rackOf } = await racks(RACKS_INI + '\n[rack_b:vars]\ngpufleet_rack=B\n')
    expect(rackOf).toEqual({ 'p9-a01': undefined, 'p9-a02': undefined, 'p9-b01': 'B', 'p9-b02': 'B', 'p9-s01': undefined })
  })

  it("group:'rack_*' names each host's rack after its matching group (ancestors included)", async () => {
    const { rackOf } = await racks(RACKS_INI, 'group:rack_*')
    expect(rackOf).toEqual({ 'p9-a01': 'rack_a', 'p9-a02': 'rack_a', 'p9-b01': 'rack_b', 'p9-b02': 'rack_b', 'p9-s01': undefined })
    const nested = await racks('[rack_a:children]\nrack_a_gpu\n[rack_a_gpu]\nh1\n', 'group:rack_?')
    expect(nested.rackOf).toEqual({ h1: 'rack_a' })
  })

  it('var:<name> reads any var, numbers included; hosts without it have no rack', async () => {
    expect((await racks(RACKS_INI, 'var:rack')).rackOf).toEqual({ 'p9-a01': '12', 'p9-a02': '12', 'p9-b01': '13', 'p9-b02': '13', 'p9-s01': undefined })
    expect((await racks(RACKS_INI, 'var:datacenter_row')).rackOf).toMatchObject({ 'p9-a01': '7', 'p9-b01': '8', 'p9-b02': undefined })
  })

  it('replaces gpufleet_rack for the run when --rack-by names another source', async () => {
    const { rackOf } = await racks(RACKS_INI + '\n[rack_b:vars]\ngpufleet_rack=B\n', 'group:rack_*')
    expect(rackOf['p9-b01']).toBe('rack_b')
  })

  it('refuses a host in two matching groups, naming the host, its line and the groups (exit 2)', async () => {
    const { error, dir } = await refusal('[rack_a]\nh1\nh2\n[rack_b]\nh2\n', 'group:rack_*')
    expect(error).toBeInstanceOf(InventoryError)
    expect(error.message).toBe(`${dir}/hosts.ini:3: host 'h2' is in 2 groups matching --rack-by group:'rack_*': rack_a, rack_b; a host must be in one rack (fix the inventory or narrow the pattern)`)
  })

  it('checks only the selected hosts', async () => {
    const { rackOf } = await racks('[rack_a]\nh1\nh2\n[rack_b]\nh2\n', 'group:rack_*', 'h1')
    expect(rackOf).toEqual({ h1: 'rack_a' })
  })

  it('refuses a var:<name> value that cannot name a rack, with file:line', async () => {
    const { error, dir } = await refusal('[g]\nh1 rack="[1, 2]"\nh2 rack=r2\n', 'var:rack')
    expect(error).toBeInstanceOf(InventoryError)
    expect(error.message).toBe(`${dir}/hosts.ini:2: host 'h1': rack (--rack-by var:rack): a rack must be a non-empty string (e.g. r1) or a whole number, got [1,2]`)
  })

  it('refuses a glob that matches no group and a var no host has: a typo must not make --per-rack fleet-wide', async () => {
    const group = await refusal(RACKS_INI, 'group:rak_*')
    expect(group.error).toBeInstanceOf(UsageError)
    expect(group.error.message).toBe(`--rack-by group:'rak_*' matches no group in ${group.dir}/hosts.ini (groups: power9, gpu_hosts, rack_a, rack_b, spares)`)
    const variable = await refusal(RACKS_INI, 'var:datacentre_row')
    expect(variable.error).toBeInstanceOf(UsageError)
    expect(variable.error.message).toBe(`--rack-by var:datacentre_row: no host in ${variable.dir}/hosts.ini has a var 'datacentre_row'`)
  })
})

describe('hosts without a rack', () => {
  it('share one failure domain (never assumed to be in different racks)', async () => {
    const { hosts } = await racks(RACKS_INI, 'group:rack_*')
    expect(hosts.map(failureDomain)).toEqual(['rack_a', 'rack_a', 'rack_b', 'rack_b', NO_RACK])
  })

  it('are named in a warning when a limit uses racks', async () => {
    const some = await racks(RACKS_INI, 'group:rack_*')
    expect(rackWarnings(some.hosts, parseRackBy('group:rack_*'), '--per-rack 1')).toEqual([`warning: --per-rack 1: 1 of 5 selected hosts have no rack (--rack-by group:rack_*): p9-s01; they share one failure domain '${NO_RACK}'.`])
    const none = await racks(RACKS_INI)
    expect(rackWarnings(none.hosts, DEFAULT_RACK_BY, '--per-rack 1')).toEqual([
      "warning: --per-rack 1: no selected host has a rack (--rack-by var:gpufleet_rack, the default), so all 5 share one failure domain and --per-rack 1 applies to the whole run. Set gpufleet_rack, or use --rack-by group:'rack_*' or --rack-by var:<name>.",
    ])
    const all = await racks(RACKS_INI, 'group:rack_*', 'rack_a:rack_b')
    expect(rackWarnings(all.hosts, parseRackBy('group:rack_*'), '--per-rack 1')).toEqual([])
  })
})
