import { z } from 'zod'

// One kernel command-line word. Quotes, `$`, backslashes and backticks are refused so that the same
// word is safe in grubby's --args and in GRUB_CMDLINE_LINUX="..."; GRUB script's metacharacters
// ({ } | & < > ;) and a leading # because grub2-mkconfig copies the word unquoted into grub.cfg,
// where they would break (or comment out the rest of) the `linux` line petitboot parses.
export const kernelArgSchema = z
  .string()
  .regex(/^[^\s"'$`\\;{}|&<>#][^\s"'$`\\;{}|&<>]*$/, 'a kernel argument without spaces, quotes, $, ;, {}, |, &, <>, backslashes or a leading #, e.g. vfio-pci.disable_idle_d3=1')

// The parameter name of a word, with module-name dashes folded the way the kernel folds them.
export function argKey(word: string): string {
  const eq = word.indexOf('=')
  const key = eq < 0 ? word : word.slice(0, eq)
  return key.replace(/-/g, '_')
}

// Words to add and to remove so that `present` are all there and `absent` are gone. A present word
// replaces another value of the same parameter; an absent word without '=' removes every value.
export function argEdits(current: string[], present: string[], absent: string[]): { add: string[]; remove: string[] } {
  const add: string[] = []
  const remove = new Set<string>()
  for (const p of present) {
    if (!current.includes(p)) add.push(p)
    for (const c of current) if (c !== p && argKey(c) === argKey(p) && p.includes('=')) remove.add(c)
  }
  for (const a of absent) {
    for (const c of current) {
      // 'key=value' removes that value only (dash/underscore spellings of the key alike).
      const sameValue = c.includes('=') && c.slice(c.indexOf('=')) === a.slice(a.indexOf('='))
      if (a.includes('=') ? argKey(c) === argKey(a) && sameValue : argKey(c) === argKey(a)) remove.add(c)
    }
  }
  return { add, remove: [...remove] }
}

// Applies edits to a word list, keeping order.
export function applyArgEdits(current: string[], edits: { add: string[]; remove: string[] }): string[] {
  return [...current.filter((c) => !edits.remove.includes(c)), ...edits.add]
}

// True when every present word is in `words` and no absent word is.
export function argsSatisfied(words: string[], present: string[], absent: string[]): boolean {
  const e = argEdits(words, present, absent)
  return e.add.length === 0 && e.remove.length === 0
}
