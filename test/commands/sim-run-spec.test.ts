import { describe, expect, it } from 'vitest'
import { DEFAULT_ROLL } from '../../src/runner/options.js'
import { simRunSpec } from '../../src/commands/sim-run-spec.js'

describe('simRunSpec', () => {
  const rack = { inventoryFile: '/r/inventory.yaml', knownHostsFile: '/r/known_hosts' }

  it("points prep at the rack's inventory and known_hosts, refusing unknown keys", () => {
    const spec = simRunSpec(rack, '/r/runs')
    expect(spec).toMatchObject({ playbook: 'prep', inventory: '/r/inventory.yaml', knownHosts: '/r/known_hosts', acceptNewHostKeys: false, check: false, runsDir: '/r/runs' })
    expect(spec.roll).toEqual(DEFAULT_ROLL)
  })

  it('merges roll overrides into the default rolling options and keeps other overrides', () => {
    const spec = simRunSpec(rack, '/r/runs', { roll: { perRack: 1 }, stabilityMs: 200, playbook: 'verify' })
    expect(spec.roll).toEqual({ ...DEFAULT_ROLL, perRack: 1 })
    expect(spec.stabilityMs).toBe(200)
    expect(spec.playbook).toBe('verify')
  })
})
