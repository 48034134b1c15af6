import type { InventoryBuilder } from './builder.js'
import { expandHostPattern, HostPatternError } from './host-pattern.js'
import { inventoryError, type Origin } from './origin.js'
import { parsePythonLiteral } from './python-literal.js'
import { shellWords } from './shell-words.js'

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/

interface Pending {
  line: number
  state: 'vars' | 'children'
  parents: string[]
}

// Read Ansible's INI inventory format into `builder`, following ansible-core's ini plugin line by
// line: hosts before any section are ungrouped; `[g:children]` may name groups declared later,
// but a child or `[g:vars]` group that is never declared is an error.
// Returns the groups the file declares with a [group] or [group:children] section.
export function parseIniInventory(file: string, text: string, builder: InventoryBuilder): Set<string> {
  // One function on purpose: a line-by-line state machine (current section, pending children/vars) like ansible-core's ini plugin.
  const declared = new Set<string>()
  const lines = text.split(/\r\n|\n|\r/)
  const pending = new Map<string, Pending>()
  let group = 'ungrouped'
  let state = 'hosts'
  for (let i = 0; i < lines.length; i++) {
    const origin: Origin = { file, line: i + 1 }
    const line = lines[i].trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue

    const section = SECTION.exec(line)
    if (section) {
      group = section[1]
      state = section[2] ?? 'hosts'
      if (state !== 'hosts' && state !== 'children' && state !== 'vars') {
        throw inventoryError(origin, `section [${group}:${state}] has unknown type '${state}' (expected hosts, children or vars)`)
      }
      if (state !== 'vars') declared.add(group)
      if (!builder.groups.has(group)) {
        // [g] and [g:children] declare a group; [g:vars] alone does not.
        if (state === 'vars' && !pending.has(group)) pending.set(group, { line: i + 1, state: 'vars', parents: [] })
        builder.addGroup(group, origin)
      }
      const waiting = pending.get(group)
      if (waiting && state !== 'vars') {
        if (waiting.state === 'children') addPendingChildren(group, pending, builder, file)
        else pending.delete(group)
      }
      continue
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      throw inventoryError(origin, `invalid section header '${line}': a group name cannot contain spaces or ':' (use [group], [group:vars] or [group:children])`)
    }

    if (state === 'hosts') {
      let words: string[]
      try {
        words = shellWords(line, { comments: true })
      } catch (error) {
        throw inventoryError(origin, `cannot parse host line '${line}': ${(error as Error).message}`)
      }
      if (words.length === 0) continue
      let expanded: { names: string[]; port?: number }
      try {
        expanded = expandHostPattern(words[0])
      } catch (error) {
        if (error instanceof HostPatternError) throw inventoryError(origin, error.message)
        throw error
      }
      if (expanded.names.some((n) => n === '---')) throw inventoryError(origin, `host '---' looks like the start of a YAML file; name YAML inventories *.yml or *.yaml`)
      const vars: Array<[string, unknown, Origin]> = []
      if (expanded.port !== undefined) vars.push(['ansible_port', expanded.port, origin])
      for (const word of words.slice(1)) {
        const eq = word.indexOf('=')
        if (eq <= 0) throw inventoryError(origin, `expected key=value host variable, got '${word}'`)
        vars.push([word.slice(0, eq), parsePythonLiteral(word.slice(eq + 1)), origin])
      }
      for (const name of expanded.names) builder.addHost(name, group, vars, origin)
    } else if (state === 'vars') {
      const eq = line.indexOf('=')
      if (eq < 0) throw inventoryError(origin, `expected key=value in [${group}:vars], got '${line}'`)
      const key = line.slice(0, eq).trim()
      if (key === '') throw inventoryError(origin, `missing variable name in '${line}'`)
      builder.setGroupVar(group, key, parsePythonLiteral(line.slice(eq + 1).trim()), origin)
    } else {
      const m = GROUP_NAME.exec(line)
      if (!m) throw inventoryError(origin, `expected a group name in [${group}:children], got '${line}'`)
      const child = m[1]
      if (builder.groups.has(child)) {
        builder.addChild(group, child, origin)
      } else {
        const waiting = pending.get(child)
        if (waiting) waiting.parents.push(group)
        else pending.set(child, { line: i + 1, state: 'children', parents: [group] })
      }
    }
  }
  for (const [name, decl] of pending) {
    const origin = { file, line: decl.line }
    if (decl.state === 'vars') throw inventoryError(origin, `section [${name}:vars] is for group '${name}', which is not defined (add a [${name}] or [${name}:children] section)`)
    throw inventoryError(origin, `section [${decl.parents.at(-1)}:children] includes undefined group '${name}' (add a [${name}] section)`)
  }
  return declared
}

function addPendingChildren(group: string, pending: Map<string, Pending>, builder: InventoryBuilder, file: string): void {
  const decl = pending.get(group)!
  pending.delete(group)
  for (const parent of decl.parents) {
    builder.addChild(parent, group, { file, line: decl.line })
    const up = pending.get(parent)
    if (up?.state === 'children') addPendingChildren(parent, pending, builder, file)
  }
}
