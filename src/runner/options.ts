import { parseDuration } from '../duration.js'
import { UsageError } from '../errors.js'

// A limit given as an absolute count or as a percentage of the hosts in the run ("2" or "10%").
export type Limit = { kind: 'count'; n: number } | { kind: 'percent'; p: number }

// The rolling and safety knobs of one run. Saved in the run directory so `resume` honours them.
export interface RollOptions {
  maxUnavailable: Limit // hosts down at once, fleet-wide
  perRack?: number // hosts down at once per failure domain; undefined = no per-rack cap
  batches?: Limit[] // Ansible `serial`-style barriers; the last value repeats
  maxFail?: Limit // failures allowed before new reboots stop (must be exceeded); undefined = no budget
  rackFailStop: boolean // a failure in a rack stops new reboots in that rack
}

// Defaults: one tenth of the fleet down at once (at least one host), no per-rack cap, no budget.
export const DEFAULT_ROLL: RollOptions = { maxUnavailable: { kind: 'percent', p: 10 }, rackFailStop: false }

// Parses "N" or "N%" (a flag value) into a Limit.
export function parseLimit(text: string, flag: string): Limit {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text)
  if (!m) throw new UsageError(`${flag}: expected a number or a percentage like 2 or 10%, got ${JSON.stringify(text)}`)
  const value = Number(m[1])
  if (m[2] === '%') {
    if (value > 100) throw new UsageError(`${flag}: a percentage must be at most 100%, got ${text}`)
    return { kind: 'percent', p: value }
  }
  if (!Number.isInteger(value)) throw new UsageError(`${flag}: expected a whole number, got ${text}`)
  return { kind: 'count', n: value }
}

// Parses a positive whole number flag (--forks, --per-rack).
export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text)
  if (!/^\s*\d+\s*$/.test(text) || !Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: expected a whole number of at least 1, got ${JSON.stringify(text)}`)
  return n
}

// Parses "1,5,20%" (Ansible's serial list) into limits; every value must allow at least one host.
export function parseBatches(text: string): Limit[] {
  const parts = text.split(',').map((s) => s.trim())
  if (parts.length === 0 || parts.some((p) => p === '')) throw new UsageError(`--batches: expected a list like 1,5,20%, got ${JSON.stringify(text)}`)
  return parts.map((p) => {
    const limit = parseLimit(p, '--batches')
    if ((limit.kind === 'count' && limit.n < 1) || (limit.kind === 'percent' && limit.p <= 0)) throw new UsageError(`--batches: every batch must hold at least one host, got ${p}`)
    return limit
  })
}

// Resolves a limit against the number of hosts. `atLeastOne` mirrors Ansible: a batch or window of
// "10%" of 5 hosts is still one host, while a failure budget of 10% of 5 hosts is zero failures.
export function resolveLimit(limit: Limit, total: number, atLeastOne: boolean): number {
  const n = limit.kind === 'count' ? limit.n : Math.floor((total * limit.p) / 100)
  return atLeastOne ? Math.max(1, n) : Math.max(0, n)
}

// Prints a limit the way the user wrote it.
export function formatLimit(limit: Limit): string {
  return limit.kind === 'count' ? String(limit.n) : `${limit.p}%`
}

// A duration flag (--reboot-timeout 20m) in ms through the one duration parser; a bad value is a
// UsageError naming the flag.
export function parseDurationFlag(text: string, flag: string): number {
  try {
    return parseDuration(text)
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`)
  }
}
