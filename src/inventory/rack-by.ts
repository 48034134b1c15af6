import { InventoryError, UsageError } from '../errors.js'
import { globToRegExp } from '../glob.js'
import { FLEET_VARS, rackSchema } from './fleet-vars.js'
import type { Inventory, InventoryHost } from './types.js'

// Where a host's failure domain (rack) comes from, as `--rack-by` says:
//   var:<name>     the value of an inventory var (default var:gpufleet_rack; e.g. var:rack, var:datacenter_row)
//   group:<glob>   the name of the one group the host is in whose name matches the glob (group:'rack_*')
export type RackBy = { kind: 'var'; name: string } | { kind: 'group'; glob: string }

export const DEFAULT_RACK_BY: RackBy = { kind: 'var', name: FLEET_VARS.rack }

// The one failure domain shared by every host the inventory gives no rack. gpufleet never assumes
// two hosts are in different racks unless the inventory says so: with --per-rack 1, unracked hosts
// go down one at a time (slower, never unsafe), and a warning says so.
export const NO_RACK = '(no rack)'

// Parses a --rack-by value; a bad one is a UsageError (exit 2) before anything is read or touched.
export function parseRackBy(text: string): RackBy {
  const m = /^(var|group):(.+)$/.exec(text.trim())
  if (!m || m[2]!.trim() === '') throw new UsageError(`--rack-by: expected group:<glob> (e.g. group:'rack_*') or var:<name> (e.g. var:rack), got ${JSON.stringify(text)}`)
  return m[1] === 'var' ? { kind: 'var', name: m[2]!.trim() } : { kind: 'group', glob: m[2]!.trim() }
}

// The flag as the user writes it.
export function formatRackBy(rackBy: RackBy): string {
  return rackBy.kind === 'var' ? `var:${rackBy.name}` : `group:${rackBy.glob}`
}

// Sets each selected host's rack as `rackBy` says (hosts with none keep `rack` unset: they share
// NO_RACK). Throws UsageError when the glob matches no group or no host of the inventory has the
// var (a typo must not make --per-rack silently fleet-wide), and InventoryError, with file:line,
// when a host is in two matching groups or the var is not a string or whole number.
export function assignRacks(inventory: Inventory, hosts: readonly InventoryHost[], rackBy: RackBy = DEFAULT_RACK_BY): InventoryHost[] {
  // gpufleet_rack was parsed (and its errors kept) when the inventory was loaded.
  if (rackBy.kind === 'var' && rackBy.name === FLEET_VARS.rack) return [...hosts]
  const errors: string[] = []
  let rackOf: (h: InventoryHost) => string | undefined
  if (rackBy.kind === 'var') {
    const name = rackBy.name
    if (!inventory.hosts.some((h) => Object.hasOwn(h.vars, name))) {
      throw new UsageError(`--rack-by var:${name}: no host in ${inventory.file} has a var '${name}'`)
    }
    rackOf = (h) => {
      const value = Object.hasOwn(h.vars, name) ? h.vars[name] : undefined
      if (value === undefined || value === null) return undefined
      const parsed = rackSchema.safeParse(value)
      if (parsed.success) return parsed.data
      const where = h.varOrigins && Object.hasOwn(h.varOrigins, name) ? h.varOrigins[name] : (h.source ?? inventory.file)
      errors.push(`${where}: host '${h.name}': ${name} (--rack-by var:${name}): ${parsed.error.issues[0]!.message}, got ${JSON.stringify(value)}`)
      return undefined
    }
  } else {
    const re = globToRegExp(rackBy.glob, { classes: true })
    const candidates = new Set(Object.keys(inventory.groups).filter((g) => g !== 'all' && g !== 'ungrouped' && re.test(g)))
    if (candidates.size === 0) {
      const groups = Object.keys(inventory.groups).filter((g) => g !== 'all' && g !== 'ungrouped')
      throw new UsageError(`--rack-by group:'${rackBy.glob}' matches no group in ${inventory.file} (groups: ${groups.slice(0, 12).join(', ') || 'none'}${groups.length > 12 ? ', ...' : ''})`)
    }
    rackOf = (h) => {
      const matched = h.groups.filter((g) => candidates.has(g))
      if (matched.length <= 1) return matched[0]
      errors.push(`${h.source ?? inventory.file}: host '${h.name}' is in ${matched.length} groups matching --rack-by group:'${rackBy.glob}': ${matched.join(', ')}; a host must be in one rack (fix the inventory or narrow the pattern)`)
      return undefined
    }
  }
  const out = hosts.map((h) => {
    const rack = rackOf(h)
    const { rack: _old, ...rest } = h
    return rack === undefined ? rest : { ...rest, rack }
  })
  if (errors.length > 0) throw new InventoryError(errors.slice(0, 10).join('\n') + (errors.length > 10 ? `\n(and ${errors.length - 10} more)` : ''))
  return out
}

// Warnings for a run whose limits use racks (`usedBy`: '--per-rack 1', '--rack-fail-stop'): a rack
// setting that cannot mean what the admin expects is said out loud, never silently applied.
export function rackWarnings(hosts: readonly InventoryHost[], rackBy: RackBy, usedBy: string): string[] {
  const unracked = hosts.filter((h) => h.rack === undefined).map((h) => h.name)
  if (unracked.length === 0) return []
  const source = `--rack-by ${formatRackBy(rackBy)}${rackBy.kind === 'var' && rackBy.name === FLEET_VARS.rack ? ', the default' : ''}`
  if (unracked.length === hosts.length) {
    return [`warning: ${usedBy}: no selected host has a rack (${source}), so all ${hosts.length} share one failure domain and ${usedBy} applies to the whole run. ` + `Set gpufleet_rack, or use --rack-by group:'rack_*' or --rack-by var:<name>.`]
  }
  const names = unracked.slice(0, 5).join(', ') + (unracked.length > 5 ? `, ... (${unracked.length - 5} more)` : '')
  return [`warning: ${usedBy}: ${unracked.length} of ${hosts.length} selected hosts have no rack (${source}): ${names}; they share one failure domain '${NO_RACK}'.`]
}
