import { existsSync, readFileSync, statSync } from 'node:fs'
import { UsageError } from '../errors.js'
import { globToRegExp } from '../glob.js'
import { closestName } from '../playbook/closest-name.js'
import type { Inventory, InventoryHost } from './types.js'

// Hosts matching an Ansible --limit expression, in inventory order.
//   all / *            every host
//   p9-01, rack_a      a host or a group (with its child groups)
//   p9-0*, ~p9-0[1-4]  a glob, or a regular expression after ~
//   a:b  a,b           union;  a:&b  intersection;  a:!b  exclusion
//   rack_a[0], g[1:3]  hosts of a group by position
//   @retry.txt         patterns read from a file, one per line
// A pattern that matches no host or group is a UsageError: a typo must not shrink the run silently.
export function selectHosts(inventory: Inventory, limit?: string): InventoryHost[] {
  if (limit === undefined || limit.trim() === '') return [...inventory.hosts]
  const patterns = expandFiles(splitPatterns(limit))
  const selected = new Set(evaluate(inventory, orderPatterns(patterns)))
  const hosts = inventory.hosts.filter((h) => selected.has(h.name))
  if (hosts.length === 0) throw new UsageError(`--limit '${limit}' leaves no hosts to target`)
  return hosts
}

// Split `a:b:!c` or `a,b,!c` into patterns, keeping `[x:y]` subscripts and IPv6 addresses whole.
export function splitPatterns(limit: string): string[] {
  const out: string[] = []
  for (const piece of limit.split(',')) {
    const p = piece.trim()
    if (p === '') continue
    if (/^[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*$/.test(p)) {
      out.push(p) // an IPv6 address, not a list
      continue
    }
    for (const m of p.matchAll(/(?:[^\s:[\]]|\[[^\]]*\])+/g)) out.push(m[0])
  }
  return out
}

// Replace each @file with the patterns in it (one per line), as Ansible reads retry files.
function expandFiles(patterns: string[]): string[] {
  const out: string[] = []
  for (const p of patterns) {
    if (!p.startsWith('@')) {
      out.push(p)
      continue
    }
    const file = p.slice(1)
    if (!existsSync(file)) throw new UsageError(`--limit ${p}: file ${file} not found`)
    if (!statSync(file).isFile()) throw new UsageError(`--limit ${p}: ${file} is not a file`)
    out.push(
      ...readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    )
  }
  return out
}

// Ansible applies plain patterns first, then &intersections, then !exclusions; with only
// exclusions the base is `all`.
function orderPatterns(patterns: string[]): string[] {
  const regular = patterns.filter((p) => !p.startsWith('!') && !p.startsWith('&'))
  const intersect = patterns.filter((p) => p.startsWith('&'))
  const exclude = patterns.filter((p) => p.startsWith('!'))
  return [...(regular.length > 0 ? regular : ['all']), ...intersect, ...exclude]
}

function evaluate(inventory: Inventory, patterns: string[]): string[] {
  let hosts: string[] = []
  for (const pattern of patterns) {
    const op = pattern[0] === '!' || pattern[0] === '&' ? pattern[0] : ''
    const body = pattern.slice(op.length)
    if (body === '') throw new UsageError(`--limit: empty pattern after '${op}'`)
    const matched = matchOne(inventory, body)
    if (op === '!') {
      const drop = new Set(matched)
      hosts = hosts.filter((h) => !drop.has(h))
    } else if (op === '&') {
      const keep = new Set(matched)
      hosts = hosts.filter((h) => keep.has(h))
    } else {
      const have = new Set(hosts)
      hosts.push(...matched.filter((h) => !have.has(h)))
    }
  }
  return hosts
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+):([0-9]*))\]$/

// Host names for one pattern (without its !/& prefix).
function matchOne(inventory: Inventory, pattern: string): string[] {
  if (inventory.hosts.some((h) => h.name === pattern)) return [pattern]
  let expression = pattern
  let subscript: [number, number | undefined] | undefined
  const m = pattern.startsWith('~') ? null : SUBSCRIPT.exec(pattern)
  if (m) {
    expression = m[1]
    subscript = m[2] !== undefined ? [Number(m[2]), undefined] : [Number(m[3]), m[4] === '' ? -1 : Number(m[4])]
  }
  let names = enumerate(inventory, expression)
  if (subscript) {
    const [start, end] = subscript
    if (end === undefined) {
      const host = names.at(start)
      if (host === undefined) throw new UsageError(`--limit '${pattern}': ${expression} has only ${names.length} hosts`)
      names = [host]
    } else {
      names = names.slice(start, end === -1 ? undefined : end + 1)
      if (names.length === 0) throw new UsageError(`--limit '${pattern}': no hosts at that position in ${expression}`)
    }
  }
  return names
}

// Hosts of matching groups, and of matching host names when no group matched or the pattern is
// a glob/regex (Ansible's _enumerate_matches).
function enumerate(inventory: Inventory, pattern: string): string[] {
  const test = compile(pattern)
  const groups = Object.keys(inventory.groups).filter((g) => test(g))
  const results: string[] = []
  const seen = new Set<string>()
  for (const g of groups) {
    for (const h of groupHosts(inventory, g)) {
      if (!seen.has(h)) {
        seen.add(h)
        results.push(h)
      }
    }
  }
  if (groups.length === 0 || pattern.startsWith('~') || /[.?*[]/.test(pattern)) {
    for (const h of inventory.hosts) {
      if (test(h.name) && !seen.has(h.name)) {
        seen.add(h.name)
        results.push(h.name)
      }
    }
  }
  if (results.length === 0 && groups.length === 0) {
    throw new UsageError(`--limit pattern '${pattern}' matches no host or group in ${inventory.file}${limitSuggestion(inventory, pattern)}`)
  }
  return results
}

// " (did you mean …?)" for a pattern that matches nothing: the hosts whose short name it is
// (p9-a01 for p9-a01.gpu.example.com), else the nearest host or group name by spelling.
function limitSuggestion(inventory: Inventory, pattern: string): string {
  if (pattern.startsWith('~') || /[?*[]/.test(pattern)) return ''
  const long = inventory.hosts.filter((h) => h.name.startsWith(`${pattern}.`)).map((h) => h.name)
  if (long.length > 0) return ` (did you mean ${long.slice(0, 3).join(', ')}${long.length > 3 ? ', …' : ''}?)`
  const near = closestName(pattern, [...inventory.hosts.map((h) => h.name), ...Object.keys(inventory.groups)])
  return near ? ` (did you mean ${near}?)` : ''
}

// A group's hosts and its descendants' hosts, breadth first, as Ansible's Group.get_hosts().
function groupHosts(inventory: Inventory, name: string): string[] {
  if (name === 'all') return inventory.hosts.map((h) => h.name)
  const out: string[] = []
  const seen = new Set<string>()
  const queue = [name]
  const visited = new Set<string>(queue)
  while (queue.length > 0) {
    const group = inventory.groups[queue.shift()!]
    for (const h of group?.hosts ?? []) {
      if (!seen.has(h)) {
        seen.add(h)
        out.push(h)
      }
    }
    for (const child of group?.children ?? []) {
      if (!visited.has(child)) {
        visited.add(child)
        queue.push(child)
      }
    }
  }
  return out
}

// fnmatch (full match, case-sensitive) or, after ~, a regex anchored at the start (re.match).
function compile(pattern: string): (name: string) => boolean {
  if (pattern.startsWith('~')) {
    let re: RegExp
    try {
      re = new RegExp(pattern.slice(1), 'y')
    } catch (error) {
      throw new UsageError(`--limit '${pattern}': invalid regular expression: ${(error as Error).message}`)
    }
    return (name) => {
      re.lastIndex = 0
      return re.test(name)
    }
  }
  if (pattern === 'all' || pattern === '*') return () => true
  const re = globToRegExp(pattern, { classes: true })
  return (name) => re.test(name)
}
