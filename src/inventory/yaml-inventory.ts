import { isMap, isScalar, isSeq, type Node } from 'yaml'
import type { InventoryBuilder } from './builder.js'
import { expandHostPattern, HostPatternError } from './host-pattern.js'
import { inventoryError, type Origin } from './origin.js'
import { mapEntries, parseYamlSource, type YamlSource } from './yaml-source.js'

// Which groups a YAML file gives a body (or names at the top level), and which it only names as
// an empty `children:` entry. Ansible creates the latter empty; gpufleet reports a group that no
// file defines and no group_vars/ file covers, as a likely typo (see load.ts).
export interface YamlGroupUse {
  defined: Set<string>
  referenced: Map<string, Origin>
}

// Read Ansible's YAML inventory format (the `yaml` inventory plugin) into `builder`.
export function parseYamlInventory(file: string, text: string, builder: InventoryBuilder): YamlGroupUse {
  const source = parseYamlSource(file, text)
  const root = source.doc.contents as Node | null
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    throw inventoryError({ file, line: 1 }, 'the inventory is empty')
  }
  if (!isMap(root)) {
    throw inventoryError(source.origin(root), 'a YAML inventory must be a mapping of group names (usually starting with `all:`)')
  }
  if ([...mapEntries(root, source.doc)].some(([name]) => name === '_meta')) return parseListOutput(source, root, builder)
  const walker = new YamlWalker(source, builder)
  for (const [name, keyNode, value] of mapEntries(root, source.doc)) {
    if (name === 'plugin') {
      throw inventoryError(source.origin(keyNode), `this is an inventory plugin configuration (\`plugin:\`), not a static inventory; snapshot it with \`ansible-inventory -i ${file} --list > inventory.json\` and pass that file`)
    }
    walker.group(name, keyNode, value, true)
  }
  return { defined: walker.defined, referenced: walker.referenced }
}

// The JSON that `ansible-inventory --list` and dynamic inventory scripts print (Ansible's script
// plugin format): groups with host lists, `children` lists and `vars`, and `_meta.hostvars`.
// Saving a dynamic inventory's output this way lets gpufleet read it as a static file.
export function parseListOutput(source: YamlSource, root: Node, builder: InventoryBuilder): YamlGroupUse {
  const defined = new Set<string>(['all', 'ungrouped'])
  let hostvars: Node | null = null
  for (const [name, keyNode, value] of mapEntries(root, source.doc)) {
    const at = source.origin(keyNode)
    if (name === '_meta') {
      for (const [key, metaKey, body] of mapEntries(value, source.doc)) if (key === 'hostvars') hostvars = body ?? metaKey
      continue
    }
    builder.addGroup(name, at)
    defined.add(name)
    if (value === null || (isScalar(value) && value.value === null)) continue
    if (isSeq(value)) {
      listHosts(source, builder, name, value)
      continue
    }
    if (!isMap(value)) throw inventoryError(at, `group '${name}' must be a list of hosts or a mapping with hosts, children and vars, found ${describe(value)}`)
    const sections = new Map([...mapEntries(value, source.doc)].map(([key, k, v]) => [key, { k, v }]))
    if (!sections.has('hosts') && !sections.has('vars') && !sections.has('children')) {
      // Ansible's "simplified syntax": a group that is a single host with these vars.
      const host = builder.addHost(name, name, [], at)
      builder.addHostVars(
        host,
        [...mapEntries(value, source.doc)].map(([key, k, v]) => [key, source.toJS(v), source.origin(k, v)] as [string, unknown, Origin]),
      )
      continue
    }
    for (const [section, { k, v }] of sections) {
      const where = source.origin(k)
      if (section === 'hosts') {
        if (!isSeq(v)) throw inventoryError(where, `hosts of group '${name}' must be a list of host names, found ${v ? describe(v) : 'nothing'}`)
        listHosts(source, builder, name, v)
      } else if (section === 'children') {
        if (!isSeq(v)) throw inventoryError(where, `children of group '${name}' must be a list of group names, found ${v ? describe(v) : 'nothing'}`)
        for (const child of v.items as Node[]) {
          if (!isScalar(child)) throw inventoryError(source.origin(child), `a child group name must be a string, found ${describe(child)}`)
          builder.addChild(name, String(child.value), source.origin(child))
          defined.add(String(child.value))
        }
      } else if (section === 'vars') {
        if (!isMap(v)) throw inventoryError(where, `vars of group '${name}' must be a mapping, found ${v ? describe(v) : 'nothing'}`)
        for (const [key, varKey, varValue] of mapEntries(v, source.doc)) builder.setGroupVar(name, key, source.toJS(varValue), source.origin(varKey, varValue))
      } else {
        throw inventoryError(where, `unexpected key '${section}' in group '${name}': only hosts, children and vars are allowed`)
      }
    }
  }
  if (hostvars !== null && !isMap(hostvars)) throw inventoryError(source.origin(hostvars), '_meta.hostvars must be a mapping of host names to vars')
  for (const [name, keyNode, value] of mapEntries(hostvars, source.doc)) {
    const host = builder.hosts.get(name)
    if (!host) continue // Ansible ignores vars of hosts that are in no group
    if (value !== null && !isMap(value)) throw inventoryError(source.origin(keyNode), `_meta.hostvars of '${name}' must be a mapping, found ${describe(value)}`)
    builder.addHostVars(
      host,
      [...mapEntries(value, source.doc)].map(([key, k, v]) => [key, source.toJS(v), source.origin(k, v)] as [string, unknown, Origin]),
    )
  }
  return { defined, referenced: new Map() }
}

function listHosts(source: YamlSource, builder: InventoryBuilder, group: string, list: Node): void {
  for (const item of (list as { items: Node[] }).items) {
    if (!isScalar(item) || item.value === null) throw inventoryError(source.origin(item), `a host name in group '${group}' must be a string, found ${describe(item)}`)
    builder.addHost(String(item.value), group, [], source.origin(item))
  }
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
