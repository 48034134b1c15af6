// OpenSSH host pattern lists (ssh_config `Host`, known_hosts names): `*` and `?` wildcards,
// `!pattern` negation. Names compare case-insensitively, as OpenSSH lowercases host names.

// True when one glob (no negation) matches the whole name.
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .toLowerCase()
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
        .join('') +
      '$',
    's',
  )
  return re.test(name.toLowerCase())
}

// OpenSSH's match_pattern_list: a negated match vetoes the list; otherwise any positive match wins.
export function matchPatternList(patterns: readonly string[], name: string): boolean {
  let matched = false
  for (const raw of patterns) {
    if (raw.startsWith('!')) {
      if (globMatch(raw.slice(1), name)) return false
    } else if (globMatch(raw, name)) {
      matched = true
    }
  }
  return matched
}
