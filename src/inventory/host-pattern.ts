// Ansible host patterns in inventories: `name`, `name:port`, `[::1]:port`, and ranges such as
// `p9-[01:40]`, `node[a:f]`, `www[01:50:2]` (several ranges in one name multiply out).

// Thrown for a malformed pattern; loaders add "file:line: " in front.
export class HostPatternError extends Error {}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

// The host names a pattern stands for, and the port it sets (`host:2222`), if any.
export function expandHostPattern(pattern: string): { names: string[]; port?: number } {
  const { host, port } = splitPort(pattern.trim())
  if (host === '') throw new HostPatternError(`empty host name in '${pattern}'`)
  return { names: host.includes('[') || host.includes(']') ? expandRanges(host) : [host], port }
}

// Separate a trailing `:port` from a host pattern, leaving `[a:b]` ranges and IPv6 addresses alone.
export function splitPort(pattern: string): { host: string; port?: number } {
  const bracketed = /^\[([0-9A-Fa-f:.%\w]*:[0-9A-Fa-f:.%\w]*:[0-9A-Fa-f:.%\w]*)\](?::(\d+))?$/.exec(pattern)
  if (bracketed) return { host: bracketed[1], port: bracketed[2] === undefined ? undefined : toPort(bracketed[2], pattern) }
  const outside = pattern.replace(/\[[^\]]*\]/g, (m) => '_'.repeat(m.length))
  const colons = [...outside].filter((c) => c === ':').length
  if (colons === 0) return { host: pattern }
  if (colons > 1) {
    if (/^[0-9A-Fa-f:.]+$/.test(pattern)) return { host: pattern } // a bare IPv6 address
    throw new HostPatternError(`invalid host pattern '${pattern}': more than one ':' (write IPv6 addresses with a port as [addr]:port)`)
  }
  const at = outside.indexOf(':')
  const port = pattern.slice(at + 1)
  if (port === '') throw new HostPatternError(`invalid host pattern '${pattern}': ending in ':' is not allowed, ':' introduces a port`)
  return { host: pattern.slice(0, at), port: toPort(port, pattern) }
}

function toPort(text: string, pattern: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : NaN
  if (!(port >= 1 && port <= 65535)) throw new HostPatternError(`invalid port '${text}' in host pattern '${pattern}'`)
  return port
}

// Expand the first [begin:end(:step)] range, then recurse for the rest, as Ansible does.
function expandRanges(name: string): string[] {
  const open = name.indexOf('[')
  const close = name.indexOf(']', open + 1)
  if (open < 0 || close < 0 || name.indexOf(']') < open) throw new HostPatternError(`unbalanced brackets in host range '${name}'`)
  const head = name.slice(0, open)
  const body = name.slice(open + 1, close)
  const tail = name.slice(close + 1)
  const values = rangeValues(body, name)
  const out: string[] = []
  for (const v of values) {
    const host = head + v + tail
    if (host.includes('[') || host.includes(']')) out.push(...expandRanges(host))
    else out.push(host)
  }
  return out
}

function rangeValues(body: string, name: string): string[] {
  const bad = (why: string) => new HostPatternError(`bad host range '[${body}]' in '${name}': ${why}`)
  const bounds = body.split(':')
  if (bounds.length !== 2 && bounds.length !== 3) throw bad('a range is [begin:end] or [begin:end:step]')
  const begin = bounds[0] === '' ? '0' : bounds[0]
  const end = bounds[1]
  if (end === '') throw bad('the end is missing')
  let step = 1
  if (bounds.length === 3) {
    if (!/^\d+$/.test(bounds[2]) || Number(bounds[2]) === 0) throw bad(`step '${bounds[2]}' is not a positive integer`)
    step = Number(bounds[2])
  }
  if (/^[A-Za-z]$/.test(begin) || /^[A-Za-z]$/.test(end)) {
    const from = LETTERS.indexOf(begin)
    const to = LETTERS.indexOf(end)
    if (from < 0 || to < 0) throw bad('begin and end must both be numbers or both be single letters, e.g. [01:40] or [a:f]')
    if (from > to) throw bad(`'${begin}' comes after '${end}'`)
    const out: string[] = []
    for (let i = from; i <= to; i += step) out.push(LETTERS[i])
    return out
  }
  if (!/^\d+$/.test(begin) || !/^\d+$/.test(end)) throw bad('begin and end must both be numbers or both be single letters')
  // A leading zero sets a fixed width (01..40); Ansible requires the end to be written as wide.
  const width = begin.length > 1 && begin.startsWith('0') ? begin.length : 0
  if (width > 0 && end.length !== width) throw bad('begin and end must have the same number of digits when zero-padded')
  const from = Number(begin)
  const to = Number(end)
  // Ansible silently expands [05:01] to no hosts; an empty range is always a typo.
  if (from > to) throw bad(`begin ${begin} is greater than end ${end}`)
  if ((to - from) / step > 100_000) throw bad('more than 100000 hosts')
  const out: string[] = []
  for (let i = from; i <= to; i += step) out.push(width > 0 ? String(i).padStart(width, '0') : String(i))
  return out
}
