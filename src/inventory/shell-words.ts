// Split a line into words the way Python's shlex.split(posix=True) does, which is what Ansible
// uses for INI host lines and for ansible_ssh_*_args. `comments` makes `#` start a comment
// anywhere outside quotes, as shlex(comments=True) does.
export function shellWords(line: string, options: { comments?: boolean } = {}): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  while (i < line.length) {
    const c = line[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      i++
    } else if (c === '#' && options.comments) {
      break
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) throw new Error('No closing quotation')
      word += line.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (c === '"') {
      i++
      for (;;) {
        if (i >= line.length) throw new Error('No closing quotation')
        const d = line[i]
        if (d === '"') break
        // Inside double quotes a backslash escapes only `"` and `\`; otherwise it stays.
        if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          word += line[i + 1]
          i += 2
        } else {
          word += d
          i++
        }
      }
      inWord = true
      i++
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('No escaped character')
      word += line[i + 1]
      inWord = true
      i += 2
    } else {
      word += c
      inWord = true
      i++
    }
  }
  if (inWord) words.push(word)
  return words
}
