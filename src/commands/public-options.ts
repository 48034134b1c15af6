import { formatRackBy } from '../inventory/rack-by.js'
import { formatLimit } from '../runner/options.js'
import type { RunSpec } from './execute.js'

// The options shown in events and reports: flags as the user gave them, never a secret.
export function publicOptions(spec: RunSpec): Record<string, unknown> {
  return {
    inventory: spec.inventory,
    ...(spec.limit ? { limit: spec.limit } : {}),
    forks: spec.forks,
    maxUnavailable: formatLimit(spec.roll.maxUnavailable),
    ...(spec.roll.perRack !== undefined ? { perRack: spec.roll.perRack } : {}),
    ...(spec.rackBy ? { rackBy: formatRackBy(spec.rackBy) } : {}),
    ...(spec.roll.batches ? { batches: spec.roll.batches.map(formatLimit).join(',') } : {}),
    ...(spec.roll.maxFail ? { maxFail: formatLimit(spec.roll.maxFail) } : {}),
    rackFailStop: spec.roll.rackFailStop,
    ...(spec.rebootTimeoutMs !== undefined ? { rebootTimeoutMs: spec.rebootTimeoutMs } : {}),
    ...(spec.drain ? { drain: spec.drain } : {}),
    ...(spec.drainTimeoutMs !== undefined ? { drainTimeoutMs: spec.drainTimeoutMs } : {}),
    ...(spec.drainForce ? { drainForce: true } : {}),
    ...(spec.rebootBlockers?.length ? { rebootBlockers: spec.rebootBlockers } : {}),
    ...(spec.bmcRecover ? { bmcRecover: true } : {}),
  }
}
