// The one glob-to-RegExp converter. `*` matches any run of characters, `?` one character; with
// `classes` (Python's fnmatch, as Ansible's --limit; the simulator's rack spec) `[seq]` and `[!seq]`
// are character classes. OpenSSH's host patterns have no classes: there `[` is a literal character.
export function globToRegExp(glob: string, options: { classes?: boolean } = {}): RegExp {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') out += '.*'
    else if (c === '?') out += '.'
    else if (c === '[' && options.classes) {
      // As fnmatch.translate: a `]` right after `[` is part of the class, and no closing `]` makes `[` literal.
      let from = i + 1
      if (glob[from] === '!') from++
      if (glob[from] === ']') from++
      const close = glob.indexOf(']', from)
      if (close < 0) {
        out += '\\['
        continue
      }
      // Backslashes first, then the negation, as fnmatch.translate (a literal `^` is escaped).
      // (JavaScript reads `[]` as an empty class, so a member `]` is escaped too.)
      let body = glob.slice(i + 1, close).replace(/[\\\]]/g, '\\$&')
      if (body.startsWith('!')) body = '^' + body.slice(1)
      else if (body.startsWith('^')) body = '\\' + body
      out += `[${body}]`
      i = close
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  // Whole-name match; `s` so `*` also spans a newline, as fnmatch and OpenSSH's match_pattern do.
  return new RegExp(`^${out}$`, 's')
}
