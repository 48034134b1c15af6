import type { DefaultGrub } from '../../facts/parse-default-grub.js'

// Rewrites GRUB_CMDLINE_LINUX in /etc/default/grub to `words`, keeping every other line as it is
// (the last assignment wins in shell, so that is the one replaced; none → one appended).
export function setGrubCmdlineLinux(file: DefaultGrub, words: string[]): string {
  return setGrubVar(file.raw, 'GRUB_CMDLINE_LINUX', words)
}

// Rewrites the last assignment of `name` (GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT) in the
// text of /etc/default/grub to `words`; none → one appended.
export function setGrubVar(raw: string, name: string, words: string[]): string {
  const line = `${name}="${words.map(doubleQuoted).join(' ')}"`
  const lines = raw.replace(/\n$/, '').split('\n')
  let last = -1
  const re = new RegExp(`^\\s*(?:export\\s+)?${name}=`)
  lines.forEach((l, i) => {
    if (re.test(l)) last = i
  })
  if (last >= 0) lines[last] = line
  else lines.push(line)
  return lines.join('\n') + '\n'
}

// A word as it must appear inside "..." so that grub2-mkconfig's shell reads it back unchanged: the
// parser removed one level of escaping (`\"` is `"` in the word), so it is put back; `$NAME` and
// `${NAME}` stay references, as the file had them (GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x").
function doubleQuoted(word: string): string {
  return word.replace(/[\\"`]/g, '\\$&').replace(/\$(?![A-Za-z_{])/g, '\\$')
}
