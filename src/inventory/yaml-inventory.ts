import { isMap, isScalar, isSeq, type Node } from 'yaml'
import type { InventoryBuilder } from './builder.js'
import { expandHostPattern, HostPatternError } from './host-pattern.js'
import { inventoryError, type Origin } from './origin.js'
import { mapEntries, parseYamlSource, type YamlSource } from './yaml-source.js'

// Groups named only as an empty `children:` entry, never given hosts, children or vars anywhere.
// Ansible creates them empty; gpufleet reports them unless group_vars/ defines them (see load.ts).
export type ReferencedOnlyGroups = Map<string, Origin>

// Read Ansible's YAML inventory format (the `yaml` inventory plugin) into `builder`.
export function parseYamlInventory(file: string, text: string, builder: InventoryBuilder): ReferencedOnlyGroups {
  const source = parseYamlSource(file, text)
  const root = source.doc.contents as Node | null
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    throw inventoryError({ file, line: 1 }, 'the inventory is empty')
  }
  if (!isMap(root)) {
    throw inventoryError(source.origin(root), 'a YAML inventory must be a mapping of group names (usually starting with `all:`)')
  }
  const walker = new YamlWalker(source, builder)
  for (const [name, keyNode, value] of mapEntries(root, source.doc)) {
    if (name === 'plugin') {
      throw inventoryError(source.origin(keyNode), 'this is an inventory plugin configuration (`plugin:`), not a static inventory; gpufleet reads static YAML or INI inventories')
    }
    walker.group(name, keyNode, value, true)
  }
  const referencedOnly: ReferencedOnlyGroups = new Map()
  for (const [name, origin] of walker.referenced) if (!walker.defined.has(name)) referencedOnly.set(name, origin)
  return referencedOnly
}

class YamlWalker {
  readonly defined = new Set<string>(['all', 'ungrouped'])
  readonly referenced = new Map<string, Origin>()

  constructor(
    private readonly source: YamlSource,
    private readonly builder: InventoryBuilder,
  ) {}

  group(name: string, keyNode: Node, value: Node | null, topLevel: boolean): void {
    const origin = this.source.origin(keyNode)
    this.builder.addGroup(name, origin)
    if (value === null || (isScalar(value) && value.value === null)) {
      if (topLevel) this.defined.add(name)
      else if (!this.referenced.has(name)) this.referenced.set(name, origin)
      return
    }
    if (!isMap(value)) {
      throw inventoryError(origin, `group '${name}' must be a mapping with hosts:, children: and/or vars:, found ${describe(value)}`)
    }
    this.defined.add(name)
    for (const [section, sectionKey, body] of mapEntries(value, this.source.doc)) {
      const at = this.source.origin(sectionKey)
      if (section !== 'hosts' && section !== 'children' && section !== 'vars') {
        throw inventoryError(at, `unexpected key '${section}' in group '${name}': only hosts, children and vars are allowed`)
      }
      if (body === null || (isScalar(body) && body.value === null)) continue
      if (section === 'vars') this.vars(name, at, body)
      else if (section === 'children') this.children(name, at, body)
      else this.hosts(name, at, body)
    }
  }

  private vars(group: string, at: Origin, body: Node): void {
    if (!isMap(body)) throw inventoryError(at, `vars of group '${group}' must be a mapping, found ${describe(body)}`)
    for (const [key, keyNode, value] of mapEntries(body, this.source.doc)) {
      this.builder.setGroupVar(group, key, this.source.toJS(value), this.source.origin(keyNode, value))
    }
  }

  private children(group: string, at: Origin, body: Node): void {
    // Ansible accepts a single string where a mapping is expected (`children: web`).
    if (isScalar(body) && typeof body.value === 'string') {
      this.group(body.value, body, null, false)
      this.builder.addChild(group, body.value, this.source.origin(body))
      return
    }
    if (!isMap(body)) throw inventoryError(at, `children of group '${group}' must be a mapping of group names, found ${describe(body)}`)
    for (const [child, keyNode, value] of mapEntries(body, this.source.doc)) {
      this.group(child, keyNode, value, false)
      this.builder.addChild(group, child, this.source.origin(keyNode))
    }
  }

  private hosts(group: string, at: Origin, body: Node): void {
    if (isScalar(body) && typeof body.value === 'string') {
      this.host(group, body.value, body, null)
      return
    }
    if (!isMap(body)) {
      const hint = isSeq(body) ? ' (write each host as a key: `hosts: {p9-01: }` or one `p9-01:` per line)' : ''
      throw inventoryError(at, `hosts of group '${group}' must be a mapping of host names, found ${describe(body)}${hint}`)
    }
    for (const [pattern, keyNode, value] of mapEntries(body, this.source.doc)) this.host(group, pattern, keyNode, value)
  }

  private host(group: string, pattern: string, keyNode: Node, value: Node | null): void {
    const origin = this.source.origin(keyNode)
    let expanded: { names: string[]; port?: number }
    try {
      expanded = expandHostPattern(pattern)
    } catch (error) {
      if (error instanceof HostPatternError) throw inventoryError(origin, error.message)
      throw error
    }
    const vars: Array<[string, unknown, Origin]> = []
    if (expanded.port !== undefined) vars.push(['ansible_port', expanded.port, origin])
    if (value !== null && !(isScalar(value) && value.value === null)) {
      if (!isMap(value)) {
        const hint = isScalar(value) && typeof value.value === 'string' ? ` (for an address write '${pattern}: {ansible_host: ${value.value}}')` : ''
        throw inventoryError(origin, `vars of host '${pattern}' must be a mapping, found ${describe(value)}${hint}`)
      }
      for (const [key, varKey, varValue] of mapEntries(value, this.source.doc)) {
        vars.push([key, this.source.toJS(varValue), this.source.origin(varKey, varValue)])
      }
    }
    for (const name of expanded.names) this.builder.addHost(name, group, vars, origin)
  }
}

function describe(node: Node): string {
  if (isSeq(node)) return 'a list'
  if (isMap(node)) return 'a mapping'
  if (isScalar(node)) return `the ${typeof node.value} ${JSON.stringify(node.value)}`
  return 'something else'
}
