// OpenSSH host pattern lists (ssh_config `Host`/`Match`, known_hosts names): `*` and `?` wildcards,
// `!pattern` negation. known_hosts names and `Match host` compare case-insensitively (OpenSSH
// lowercases host names there); `Host` lines and `Match user` compare case-sensitively, as ssh does.

import { globToRegExp } from '../glob.js'

// True when one glob (no negation) matches the whole name.
export function globMatch(pattern: string, name: string, options: { caseSensitive?: boolean } = {}): boolean {
  const fold = (s: string) => (options.caseSensitive ? s : s.toLowerCase())
  return globToRegExp(fold(pattern)).test(fold(name))
}

// OpenSSH's match_pattern_list: a negated match vetoes the list; otherwise any positive match wins.
export function matchPatternList(patterns: readonly string[], name: string, options: { caseSensitive?: boolean } = {}): boolean {
  let matched = false
  for (const raw of patterns) {
    if (raw.startsWith('!')) {
      if (globMatch(raw.slice(1), name, options)) return false
    } else if (globMatch(raw, name, options)) {
      matched = true
    }
  }
  return matched
}
