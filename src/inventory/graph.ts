import type { Inventory, InventoryHost } from './types.js'

// The tree `ansible-inventory --graph` draws: groups as @name:, then their hosts. `note` adds text
// after a host name (gpufleet inventory --graph --rack-by: the host's rack); without it the output
// is exactly Ansible's.
export function inventoryGraph(inventory: Inventory, selected: InventoryHost[], top = 'all', note?: (host: string) => string | undefined): string {
  const available = new Set(selected.map((h) => h.name))
  const lines: string[] = []
  const indent = (depth: number, text: string) => (depth === 0 ? text : '  |'.repeat(depth) + '--' + text)
  const walk = (name: string, depth: number, path: Set<string>) => {
    lines.push(indent(depth, `@${name}:`))
    const group = inventory.groups[name]
    for (const child of group.children) if (!path.has(child)) walk(child, depth + 1, new Set([...path, child]))
    if (name !== 'all') for (const host of group.hosts) if (available.has(host)) lines.push(indent(depth + 1, host + (note?.(host) ?? '')))
  }
  walk(top, 0, new Set([top]))
  return lines.join('\n')
}
