import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import type { MergedVars } from '../../src/inventory/connection.js'
import { fleetVarWarnings, requireFleetVars, resolveFleetVars } from '../../src/inventory/fleet-vars.js'
import type { InventoryHost } from '../../src/inventory/types.js'

function vars(values: Record<string, unknown>): MergedVars {
  const entries = Object.entries(values)
  return { values: new Map(entries), origins: new Map(entries.map(([k]) => [k, { file: 'group_vars/gpu.yml', line: 7 }])) }
}

const resolve = (values: Record<string, unknown>) => resolveFleetVars('p9-01', vars(values))

// The one problem resolveFleetVars keeps for a bad value (it never throws: see requireFleetVars).
function failure(values: Record<string, unknown>): string {
  const result = resolve(values)
  expect(result.fleetVarErrors).toHaveLength(1)
  return result.fleetVarErrors![0]!
}

describe('resolveFleetVars', () => {
  it('accepts gpufleet_smt off and auto, and refuses anything else with file:line', () => {
    expect(resolve({ gpufleet_smt: 'auto' }).fleetVarErrors).toBeUndefined()
    expect(resolve({ gpufleet_smt: 'off' }).fleetVarErrors).toBeUndefined()
    expect(failure({ gpufleet_smt: 'on' })).toMatch(/^group_vars\/gpu\.yml:7: .*gpufleet_smt: gpufleet_smt must be 'off' .* or 'auto'/)
  })

  it('is empty when no gpufleet vars are set', () => {
    expect(resolve({ other: 1 })).toEqual({ rack: undefined, expectedGpus: undefined, assignments: [] })
  })

  it('reads gpufleet_rack, gpufleet_gpus and gpufleet_vms', () => {
    expect(
      resolve({
        gpufleet_rack: 'r1',
        gpufleet_gpus: { addresses: ['0004:04:00.0', '0004:05:00.0', '0035:03:00.0', '0035:04:00.0'] },
        gpufleet_vms: [
          { domain: 'vm1', addresses: ['0004:04:00.0', '0004:05:00.0'] },
          { domain: 'vm2', count: 2 },
        ],
      }),
    ).toEqual({
      rack: 'r1',
      expectedGpus: { addresses: ['0004:04:00.0', '0004:05:00.0', '0035:03:00.0', '0035:04:00.0'] },
      assignments: [
        { domain: 'vm1', addresses: ['0004:04:00.0', '0004:05:00.0'] },
        { domain: 'vm2', count: 2 },
      ],
    })
  })

  it('accepts a numeric rack (INI `gpufleet_rack=3`) and upper-case PCI addresses', () => {
    expect(resolve({ gpufleet_rack: 3, gpufleet_gpus: { count: 1, addresses: ['000A:01:00.0'] } })).toMatchObject({ rack: '3', expectedGpus: { count: 1, addresses: ['000a:01:00.0'] } })
  })

  it('accepts an empty address list: a host expected to have no GPUs', () => {
    expect(resolve({ gpufleet_gpus: { addresses: [] } }).expectedGpus).toEqual({ addresses: [] })
  })

  it.each([
    [{ gpufleet_vms: [{ domain: 'vm1', addresses: [] }] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[0].addresses: addresses must not be empty"],
    [{ gpufleet_rack: [1] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_rack: a rack must be a non-empty string (e.g. r1) or a whole number"],
    [{ gpufleet_rack: '' }, /^group_vars\/gpu\.yml:7: host 'p9-01': gpufleet_rack: /],
    [{ gpufleet_gpus: 4 }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus: gpufleet_gpus must be a mapping: {count: 4} or {addresses: [0004:04:00.0, ...]}"],
    [{ gpufleet_gpus: {} }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus: gpufleet_gpus needs count or addresses"],
    [{ gpufleet_gpus: { count: -1 } }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus.count: count must be 0 or more"],
    [{ gpufleet_gpus: { count: 2.5 } }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus.count: count must be a whole number"],
    [{ gpufleet_gpus: { cnt: 2 } }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus: unknown key cnt (allowed: count, addresses)"],
    [{ gpufleet_vms: [{ domain: 'a', count: 1, gpu: 1 }] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[0]: unknown key gpu (allowed: domain, count, addresses)"],
    [{ gpufleet_gpus: { addresses: ['4:4:0.0'] } }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus.addresses[0]: '4:4:0.0' is not a PCI address (dddd:bb:ss.f, e.g. 0004:04:00.0)"],
    [{ gpufleet_gpus: { addresses: [4] } }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus.addresses[0]: must be a PCI address string like '0004:04:00.0'"],
    [{ gpufleet_gpus: { count: 3, addresses: ['0004:04:00.0'] } }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus.count: gpufleet_gpus.count does not match the number of gpufleet_gpus.addresses"],
    [{ gpufleet_vms: { domain: 'vm1' } }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms: gpufleet_vms must be a list of {domain, count} or {domain, addresses}"],
    [{ gpufleet_vms: [{ count: 1 }] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[0].domain: domain must be the libvirt domain name (a string)"],
    [{ gpufleet_vms: [{ domain: 'vm1' }] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[0]: a gpufleet_vms entry needs exactly one of count or addresses"],
    [{ gpufleet_vms: [{ domain: 'vm1', count: 1, addresses: ['0004:04:00.0'] }] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[0]: a gpufleet_vms entry needs exactly one of count or addresses"],
    [{ gpufleet_vms: [{ domain: 'vm1', count: 0 }] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[0].count: count must be 1 or more"],
    [
      {
        gpufleet_vms: [
          { domain: 'vm1', count: 1 },
          { domain: 'vm1', count: 1 },
        ],
      },
      "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[1]: domain 'vm1' is listed twice",
    ],
    [
      {
        gpufleet_vms: [
          { domain: 'a', addresses: ['0004:04:00.0'] },
          { domain: 'b', addresses: ['0004:04:00.0'] },
        ],
      },
      "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[1].addresses[0]: GPU 0004:04:00.0 is already assigned to 'a'",
    ],
    [{ gpufleet_gpus: { addresses: ['0004:04:00.0'] }, gpufleet_vms: [{ domain: 'a', addresses: ['0035:03:00.0'] }] }, "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms[0].addresses[0]: GPU 0035:03:00.0 is not in gpufleet_gpus.addresses"],
    [
      {
        gpufleet_gpus: { count: 2 },
        gpufleet_vms: [
          { domain: 'a', count: 2 },
          { domain: 'b', count: 1 },
        ],
      },
      "group_vars/gpu.yml:7: host 'p9-01': gpufleet_vms assign 3 GPUs but gpufleet_gpus expects only 2",
    ],
  ])('rejects %j', (values, message) => {
    if (typeof message === 'string') expect(failure(values)).toBe(message)
    else expect(failure(values)).toMatch(message)
  })

  it("never reads, checks or refuses vars it does not own: the admin's own rack, gpus and vms", () => {
    const foreign = { vms: [{ name: 'train-1', gpus: 2 }], gpus: 4, rack: 12, gpufleet: 'x', gpufleet_other: [1] }
    expect(resolve(foreign)).toEqual({ rack: undefined, expectedGpus: undefined, assignments: [] })
    expect(resolve({ ...foreign, gpufleet_rack: 'r1', gpufleet_gpus: { count: 2 } })).toEqual({ rack: 'r1', expectedGpus: { count: 2 }, assignments: [] })
  })

  it('keeps every bad var of a host, and drops assignments that failed a check', () => {
    const result = resolve({ gpufleet_rack: [1], gpufleet_gpus: 4, gpufleet_vms: [{ domain: 'a', count: 1 }] })
    expect(result.fleetVarErrors).toEqual(["group_vars/gpu.yml:7: host 'p9-01': gpufleet_rack: a rack must be a non-empty string (e.g. r1) or a whole number", "group_vars/gpu.yml:7: host 'p9-01': gpufleet_gpus: gpufleet_gpus must be a mapping: {count: 4} or {addresses: [0004:04:00.0, ...]}"])
    expect(result.assignments).toEqual([])
  })
})

describe('requireFleetVars and fleetVarWarnings', () => {
  const host = (name: string, fleetVarErrors?: string[]) => ({ name, ...(fleetVarErrors ? { fleetVarErrors } : {}) }) as InventoryHost

  it('passes hosts without problems, and refuses the others with every file:line', () => {
    expect(() => requireFleetVars([host('a'), host('b')])).not.toThrow()
    const bad = [host('a', ['hosts.yaml:3: x']), host('b'), host('c', ['hosts.yaml:9: y'])]
    expect(() => requireFleetVars(bad)).toThrow(InventoryError)
    expect(() => requireFleetVars(bad)).toThrow('hosts.yaml:3: x\nhosts.yaml:9: y')
    expect(fleetVarWarnings(bad)).toEqual(['warning: hosts.yaml:3: x (ignored here; run, plan and resume refuse it)', 'warning: hosts.yaml:9: y (ignored here; run, plan and resume refuse it)'])
  })

  it('lists at most ten problems', () => {
    const many = Array.from({ length: 12 }, (_, i) => host(`h${i}`, [`f:${i}: bad`]))
    expect(() => requireFleetVars(many)).toThrow(/f:9: bad\n\(and 2 more\)$/)
  })
})
