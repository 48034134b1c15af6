import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import type { MergedVars } from '../../src/inventory/connection.js'
import { resolveFleetVars } from '../../src/inventory/fleet-vars.js'

function vars(values: Record<string, unknown>): MergedVars {
  const entries = Object.entries(values)
  return { values: new Map(entries), origins: new Map(entries.map(([k]) => [k, { file: 'group_vars/gpu.yml', line: 7 }])) }
}

const resolve = (values: Record<string, unknown>) => resolveFleetVars('p9-01', vars(values))

function failure(values: Record<string, unknown>): string {
  try {
    resolve(values)
  } catch (error) {
    expect(error).toBeInstanceOf(InventoryError)
    return (error as Error).message
  }
  throw new Error('expected an InventoryError')
}

describe('resolveFleetVars', () => {
  it('is empty when no gpufleet vars are set', () => {
    expect(resolve({ other: 1 })).toEqual({ rack: undefined, expectedGpus: undefined, assignments: [] })
  })

  it('reads rack, gpus and vms', () => {
    expect(
      resolve({
        rack: 'r1',
        gpus: { addresses: ['0004:04:00.0', '0004:05:00.0', '0035:03:00.0', '0035:04:00.0'] },
        vms: [
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

  it('accepts a numeric rack (INI `rack=3`) and upper-case PCI addresses', () => {
    expect(resolve({ rack: 3, gpus: { count: 1, addresses: ['000A:01:00.0'] } })).toMatchObject({ rack: '3', expectedGpus: { count: 1, addresses: ['000a:01:00.0'] } })
  })

  it('accepts an empty address list: a host expected to have no GPUs', () => {
    expect(resolve({ gpus: { addresses: [] } }).expectedGpus).toEqual({ addresses: [] })
  })

  it.each([
    [{ vms: [{ domain: 'vm1', addresses: [] }] }, "group_vars/gpu.yml:7: host 'p9-01': vms[0].addresses: addresses must not be empty"],
    [{ rack: [1] }, "group_vars/gpu.yml:7: host 'p9-01': rack: rack must be a string (e.g. r1)"],
    [{ rack: '' }, /^group_vars\/gpu\.yml:7: host 'p9-01': rack: /],
    [{ gpus: 4 }, "group_vars/gpu.yml:7: host 'p9-01': gpus: gpus must be a mapping: {count: 4} or {addresses: [0004:04:00.0, ...]}"],
    [{ gpus: {} }, "group_vars/gpu.yml:7: host 'p9-01': gpus: gpus needs count or addresses"],
    [{ gpus: { count: -1 } }, "group_vars/gpu.yml:7: host 'p9-01': gpus.count: count must be 0 or more"],
    [{ gpus: { count: 2.5 } }, "group_vars/gpu.yml:7: host 'p9-01': gpus.count: count must be a whole number"],
    [{ gpus: { cnt: 2 } }, "group_vars/gpu.yml:7: host 'p9-01': gpus: unknown key cnt (allowed: count, addresses)"],
    [{ vms: [{ domain: 'a', count: 1, gpu: 1 }] }, "group_vars/gpu.yml:7: host 'p9-01': vms[0]: unknown key gpu (allowed: domain, count, addresses)"],
    [{ gpus: { addresses: ['4:4:0.0'] } }, "group_vars/gpu.yml:7: host 'p9-01': gpus.addresses[0]: '4:4:0.0' is not a PCI address (dddd:bb:ss.f, e.g. 0004:04:00.0)"],
    [{ gpus: { addresses: [4] } }, "group_vars/gpu.yml:7: host 'p9-01': gpus.addresses[0]: must be a PCI address string like '0004:04:00.0'"],
    [{ gpus: { count: 3, addresses: ['0004:04:00.0'] } }, "group_vars/gpu.yml:7: host 'p9-01': gpus.count: gpus.count does not match the number of gpus.addresses"],
    [{ vms: { domain: 'vm1' } }, "group_vars/gpu.yml:7: host 'p9-01': vms: vms must be a list of {domain, count} or {domain, addresses}"],
    [{ vms: [{ count: 1 }] }, "group_vars/gpu.yml:7: host 'p9-01': vms[0].domain: domain must be the libvirt domain name (a string)"],
    [{ vms: [{ domain: 'vm1' }] }, "group_vars/gpu.yml:7: host 'p9-01': vms[0]: a vms entry needs exactly one of count or addresses"],
    [{ vms: [{ domain: 'vm1', count: 1, addresses: ['0004:04:00.0'] }] }, "group_vars/gpu.yml:7: host 'p9-01': vms[0]: a vms entry needs exactly one of count or addresses"],
    [{ vms: [{ domain: 'vm1', count: 0 }] }, "group_vars/gpu.yml:7: host 'p9-01': vms[0].count: count must be 1 or more"],
    [{ vms: [{ domain: 'vm1', count: 1 }, { domain: 'vm1', count: 1 }] }, "group_vars/gpu.yml:7: host 'p9-01': vms[1]: domain 'vm1' is listed twice"],
    [
      { vms: [{ domain: 'a', addresses: ['0004:04:00.0'] }, { domain: 'b', addresses: ['0004:04:00.0'] }] },
      "group_vars/gpu.yml:7: host 'p9-01': vms[1].addresses[0]: GPU 0004:04:00.0 is already assigned to 'a'",
    ],
    [
      { gpus: { addresses: ['0004:04:00.0'] }, vms: [{ domain: 'a', addresses: ['0035:03:00.0'] }] },
      "group_vars/gpu.yml:7: host 'p9-01': vms[0].addresses[0]: GPU 0035:03:00.0 is not in gpus.addresses",
    ],
    [{ gpus: { count: 2 }, vms: [{ domain: 'a', count: 2 }, { domain: 'b', count: 1 }] }, "group_vars/gpu.yml:7: host 'p9-01': vms assign 3 GPUs but gpus expects only 2"],
  ])('rejects %j', (values, message) => {
    if (typeof message === 'string') expect(failure(values)).toBe(message)
    else expect(failure(values)).toMatch(message)
  })
})
