import type { InventoryBuilder, RawGroup, VarLayer } from './builder.js'
import { resolveConnection, type MergedVars } from './connection.js'
import { resolveFleetVars } from './fleet-vars.js'
import { formatOrigin } from './origin.js'
import type { Inventory, InventoryHost } from './types.js'

// Vars from group_vars/ and host_vars/ beside the inventory, per group or host, in file order.
export interface VarsFileLayers {
  groups: Map<string, VarLayer[]>
  hosts: Map<string, VarLayer[]>
}

// Apply Ansible's variable precedence and turn the parsed graph into the resolved Inventory.
// Per host, later layers win: the inventory's `all` vars, its other groups' vars (parents before
// children: sorted by depth, then ansible_group_priority, then name), group_vars/all,
// group_vars/<group> in the same order, the host's own inventory vars, host_vars/<host>, then the
// extra vars (-e) above everything.
export function resolveInventory(builder: InventoryBuilder, files: VarsFileLayers, extraVars?: VarLayer): Inventory {
  const depth = groupDepths(builder)
  const order = [...builder.groups.keys()]
  const directGroups = new Map<string, string[]>()
  for (const group of builder.groups.values()) {
    for (const h of group.hosts) directGroups.set(h, [...(directGroups.get(h) ?? []), group.name])
  }
  const hosts: InventoryHost[] = []
  for (const raw of builder.hosts.values()) {
    const memberOf = hostGroups(builder, directGroups.get(raw.name) ?? [])
    const sorted = [...memberOf].filter((g) => g !== 'all').sort((a, b) => compareGroups(builder.groups.get(a)!, builder.groups.get(b)!, depth))
    const layers: VarLayer[] = [builder.groups.get('all')!.vars, ...sorted.map((g) => builder.groups.get(g)!.vars), ...(files.groups.get('all') ?? []), ...sorted.flatMap((g) => files.groups.get(g) ?? []), raw.vars, ...(files.hosts.get(raw.name) ?? []), ...(extraVars ? [extraVars] : [])]
    const merged = mergeLayers(layers)
    hosts.push({
      name: raw.name,
      groups: ['all', ...order.filter((g) => g !== 'all' && memberOf.has(g))],
      vars: toObject(merged.values),
      ...resolveConnection(raw.name, merged),
      ...resolveFleetVars(raw.name, merged),
      varOrigins: originsOf(merged),
      source: formatOrigin(raw.origin),
    })
  }
  const groups: Inventory['groups'] = {}
  for (const group of builder.groups.values()) {
    const vars = mergeLayers([group.vars, ...(files.groups.get(group.name) ?? [])])
    // defineProperty: a group named __proto__ must stay a plain key
    Object.defineProperty(groups, group.name, {
      value: { hosts: [...group.hosts], children: [...group.children], vars: toObject(vars.values) },
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return { file: builder.file, hosts, groups }
}

// Later layers replace earlier values key by key (Ansible's default hash_behaviour=replace).
export function mergeLayers(layers: VarLayer[]): MergedVars {
  const merged: MergedVars = { values: new Map(), origins: new Map() }
  for (const layer of layers) {
    for (const [key, value] of layer.values) {
      merged.values.set(key, value)
      const origin = layer.origins.get(key)
      if (origin) merged.origins.set(key, origin)
    }
  }
  return merged
}

// "file:line" per var (fromEntries keeps a var named __proto__ a plain key).
function originsOf(merged: MergedVars): Record<string, string> {
  return Object.fromEntries([...merged.origins].map(([key, origin]) => [key, formatOrigin(origin)]))
}

function toObject(values: Map<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(values)
}

// A group's depth is its longest path from 'all' (Ansible raises it as children are added).
function groupDepths(builder: InventoryBuilder): Map<string, number> {
  const depth = new Map<string, number>()
  const visit = (name: string): number => {
    const known = depth.get(name)
    if (known !== undefined) return known
    const parents = builder.groups.get(name)!.parents
    const d = parents.length === 0 ? 0 : Math.max(...parents.map(visit)) + 1
    depth.set(name, d)
    return d
  }
  for (const name of builder.groups.keys()) visit(name)
  return depth
}

function compareGroups(a: RawGroup, b: RawGroup, depth: Map<string, number>): number {
  return depth.get(a.name)! - depth.get(b.name)! || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

// Every group a host belongs to: its direct groups and all their ancestors.
function hostGroups(builder: InventoryBuilder, direct: string[]): Set<string> {
  const result = new Set<string>()
  const climb = (name: string) => {
    if (result.has(name)) return
    result.add(name)
    for (const parent of builder.groups.get(name)!.parents) climb(parent)
  }
  for (const name of direct) climb(name)
  result.add('all')
  return result
}
