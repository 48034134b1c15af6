import { formatOrigin, inventoryError, type Origin } from './origin.js'
import { CONTROL_CHAR } from '../terminal-text.js'

// Variables from one place (a group section, a host line, a vars file), each with where it was written.
export interface VarLayer {
  values: Map<string, unknown>
  origins: Map<string, Origin>
}

// A group as the inventory file declares it, before precedence is applied.
export interface RawGroup {
  name: string
  hosts: string[] // direct members, in the order they were added
  children: string[]
  parents: string[]
  vars: VarLayer // from the inventory file itself
  priority: number // ansible_group_priority (default 1)
  origin?: Origin // where it was first declared
}

// A host as the inventory file declares it.
export interface RawHost {
  name: string
  vars: VarLayer // host vars from the inventory file (all lines that name the host, last wins)
  origin: Origin // first line that names it
}

// An empty VarLayer.
export function emptyLayer(): VarLayer {
  return { values: new Map(), origins: new Map() }
}

// Same host address or port, spelled two ways (the ssh_ forms are Ansible's legacy names).
const CONFLICTING: Record<string, string> = {
  ansible_host: 'address',
  ansible_ssh_host: 'address',
  ansible_port: 'port',
  ansible_ssh_port: 'port',
}

// Builds the group/host graph the way Ansible's InventoryData does, as loaders walk a file.
export class InventoryBuilder {
  readonly groups = new Map<string, RawGroup>()
  readonly hosts = new Map<string, RawHost>()
  // Direct members per group as a set: a range like p9-[0001:5000] must not cost n² lookups.
  private readonly members = new Map<string, Set<string>>()

  constructor(readonly file: string) {
    this.addGroup('all')
    this.addGroup('ungrouped')
    this.addChild('all', 'ungrouped', { file, line: 1 })
  }

  // Declare a group (no-op if it exists).
  addGroup(name: string, origin?: Origin): RawGroup {
    let group = this.groups.get(name)
    if (!group) {
      group = { name, hosts: [], children: [], parents: [], vars: emptyLayer(), priority: 1, origin }
      this.groups.set(name, group)
    } else if (!group.origin && origin) {
      group.origin = origin
    }
    return group
  }

  // Make `child` a child group of `parent`, refusing loops (Ansible: "recursive dependency loop").
  addChild(parent: string, child: string, origin: Origin): void {
    const p = this.addGroup(parent)
    const c = this.addGroup(child)
    if (p.children.includes(child)) return
    if (child === 'all') throw inventoryError(origin, `group 'all' cannot be a child of '${parent}'`)
    if (child === parent || this.isDescendant(parent, child)) {
      throw inventoryError(origin, `adding group '${child}' as a child of '${parent}' creates a cycle (${this.cyclePath(child, parent).join(' -> ')} -> ${child})`)
    }
    p.children.push(child)
    c.parents.push(parent)
  }

  // Set a variable on a group; ansible_group_priority sets the group's priority instead.
  setGroupVar(groupName: string, key: string, value: unknown, origin: Origin): void {
    const group = this.addGroup(groupName)
    if (key === 'ansible_group_priority') {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value
      if (typeof n !== 'number' || !Number.isInteger(n)) {
        throw inventoryError(origin, `ansible_group_priority must be an integer, got ${JSON.stringify(value)}`)
      }
      group.priority = n
      return
    }
    group.vars.values.set(key, value)
    group.vars.origins.set(key, origin)
  }

  // Add a host to a group with its inline vars. A host may appear in many groups; its vars
  // accumulate (last wins), but two different addresses or ports for one name is an error.
  addHost(name: string, groupName: string, vars: Array<[string, unknown, Origin]>, origin: Origin): RawHost {
    // A host name reaches terminals, file names and remote messages: no control characters.
    if (CONTROL_CHAR.test(name)) throw inventoryError(origin, `host name ${JSON.stringify(name)} contains a control character`)
    let host = this.hosts.get(name)
    if (!host) {
      host = { name, vars: emptyLayer(), origin }
      this.hosts.set(name, host)
    }
    this.addHostVars(host, vars)
    const group = this.addGroup(groupName)
    let members = this.members.get(groupName)
    if (!members) this.members.set(groupName, (members = new Set(group.hosts)))
    if (!members.has(name)) {
      members.add(name)
      group.hosts.push(name)
    }
    return host
  }

  // Set vars on a known host (later values win; a second, different address is an error).
  addHostVars(host: RawHost, vars: Array<[string, unknown, Origin]>): void {
    for (const [key, value, where] of vars) {
      const kind = CONFLICTING[key]
      if (kind) this.checkConflict(host, key, kind, value, where)
      host.vars.values.set(key, value)
      host.vars.origins.set(key, where)
    }
  }

  private checkConflict(host: RawHost, key: string, kind: string, value: unknown, origin: Origin): void {
    for (const [otherKey, otherKind] of Object.entries(CONFLICTING)) {
      if (otherKind !== kind || !host.vars.values.has(otherKey)) continue
      const previous = host.vars.values.get(otherKey)
      if (String(previous) !== String(value)) {
        const first = host.vars.origins.get(otherKey)
        throw inventoryError(origin, `host '${host.name}' is defined again with a different ${kind}: ${key}=${JSON.stringify(value)}, ` + `but ${otherKey}=${JSON.stringify(previous)}${first ? ` at ${formatOrigin(first)}` : ''}`)
      }
    }
  }

  // Ansible's reconcile_inventory: parentless groups join 'all'; hosts in no group join 'ungrouped'.
  reconcile(): void {
    for (const group of this.groups.values()) {
      if (group.name !== 'all' && group.parents.length === 0) this.addChild('all', group.name, { file: this.file, line: 1 })
    }
    const ungrouped = this.groups.get('ungrouped')!
    const grouped = new Set<string>()
    for (const group of this.groups.values()) {
      if (group.name !== 'all' && group.name !== 'ungrouped') for (const h of group.hosts) grouped.add(h)
    }
    ungrouped.hosts = ungrouped.hosts.filter((h) => !grouped.has(h))
    const inUngrouped = new Set(ungrouped.hosts)
    for (const name of this.hosts.keys()) {
      if (!grouped.has(name) && !inUngrouped.has(name)) ungrouped.hosts.push(name)
    }
    this.members.set('ungrouped', new Set(ungrouped.hosts))
  }

  // True if `name` is `ancestor` or below it.
  private isDescendant(name: string, ancestor: string): boolean {
    return this.cyclePath(ancestor, name).length > 0
  }

  // Group names from `from` down to `to` through children links, or [] if `to` is not below `from`.
  private cyclePath(from: string, to: string, seen = new Set<string>()): string[] {
    if (from === to) return [from]
    if (seen.has(from)) return []
    seen.add(from)
    for (const child of this.groups.get(from)?.children ?? []) {
      const path = this.cyclePath(child, to, seen)
      if (path.length > 0) return [from, ...path]
    }
    return []
  }
}
