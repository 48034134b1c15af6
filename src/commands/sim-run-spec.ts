import type { RunSpec } from './execute.js'
import { DEFAULT_ROLL, type RollOptions } from '../runner/options.js'

// The run settings for `prep` against a simulated rack (demo, benchmark, rack tests): the rack's own
// inventory and known_hosts, full fan-out, and the given overrides. Simulated reboots take seconds,
// so callers pass short stability windows and timeouts.
// RunSpec fields to change; `roll` is merged into the default rolling options.
export type SimRunOverrides = Partial<Omit<RunSpec, 'roll'>> & { roll?: Partial<RollOptions> }

export function simRunSpec(rack: { inventoryFile: string; knownHostsFile: string }, runsDir: string, overrides: SimRunOverrides = {}): RunSpec {
  const { roll, ...rest } = overrides
  return {
    playbook: 'prep',
    inventory: rack.inventoryFile,
    check: false,
    forks: 50,
    knownHosts: rack.knownHostsFile,
    acceptNewHostKeys: false,
    askBecomePass: false,
    output: 'jsonl',
    commandTimeoutMs: 10 * 60_000,
    lockTtlMs: 3_600_000,
    runsDir,
    ...rest,
    roll: { ...DEFAULT_ROLL, ...roll },
  }
}
