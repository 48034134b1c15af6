import { redactVars } from './redact.js'
import type { Inventory, InventoryHost } from './types.js'

// The JSON `ansible-inventory --list` prints (groups with hosts/children, `_meta.hostvars` with
// merged vars), restricted to `selected` hosts, so the two can be diffed. Secrets are redacted.
export function ansibleListJson(inventory: Inventory, selected: InventoryHost[]): Record<string, unknown> {
  const available = new Set(selected.map((h) => h.name))
  const result: Record<string, unknown> = {}
  const seen = new Set<string>()
  const format = (name: string) => {
    const group = inventory.groups[name]
    const entry: { hosts?: string[]; children?: string[] } = {}
    if (name !== 'all') entry.hosts = group.hosts.filter((h) => available.has(h))
    entry.children = [...group.children]
    const nested: Record<string, unknown> = {}
    for (const child of group.children) {
      if (seen.has(child)) continue
      seen.add(child)
      Object.assign(nested, format(child))
    }
    const own: Record<string, unknown> = {}
    if (entry.hosts?.length) own.hosts = entry.hosts
    if (entry.children.length) own.children = entry.children
    return Object.keys(own).length > 0 ? { [name]: own, ...nested } : nested
  }
  Object.assign(result, format('all'))
  const hostvars: Record<string, unknown> = {}
  for (const host of selected) {
    if (Object.keys(host.vars).length === 0) continue
    Object.defineProperty(hostvars, host.name, { value: redactVars(host.vars), enumerable: true, writable: true, configurable: true })
  }
  result._meta = { hostvars }
  return result
}

// JSON text with keys sorted at every level and 4-space indents, as ansible-inventory prints it.
export function toAnsibleJsonText(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 4)
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      Object.defineProperty(out, key, { value: sortKeys((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  return value
}
