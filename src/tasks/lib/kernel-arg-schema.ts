import { z } from 'zod'

// One kernel command-line word. Quotes, `$`, backslashes and backticks are refused so that the same
// word is safe in grubby's --args and in GRUB_CMDLINE_LINUX="..."; GRUB script's metacharacters
// ({ } | & < > ;) and a leading # because grub2-mkconfig copies the word unquoted into grub.cfg,
// where they would break (or comment out the rest of) the `linux` line petitboot parses.
export const kernelArgSchema = z.string().regex(/^[^\s"'$`\\;{}|&<>#][^\s"'$`\\;{}|&<>]*$/, 'a kernel argument without spaces, quotes, $, ;, {}, |, &, <>, backslashes or a leading #, e.g. vfio-pci.disable_idle_d3=1')

// The parameter name of a word, with module-name dashes folded the way the kernel folds them.
export function argKey(word: string): string {
  const eq = word.indexOf('=')
  const key = eq < 0 ? word : word.slice(0, eq)
  return key.replace(/-/g, '_')
}

// Module parameters the kernel declares `bool` (module_param(..., bool, ...) in drivers/vfio):
// the kernel reads 1/Y/y (and a bare name) as true and 0/N/n as false (param_set_bool, kstrtobool),
// so those spellings are the same setting. Any other parameter compares its value exactly: for an
// int parameter `=Y` would not parse.
export const BOOL_PARAMS = new Set(['vfio_pci.disable_idle_d3', 'vfio_pci.nointxmask', 'vfio_pci.disable_vga', 'vfio_pci.disable_denylist', 'vfio_pci.enable_sriov', 'vfio_iommu_type1.allow_unsafe_interrupts', 'vfio_iommu_type1.disable_hugepages', 'vfio.enable_unsafe_noiommu_mode'])

// The value of a word ('' for a bare name), folded to 'true'/'false' for a known bool parameter.
function argValue(word: string): string | undefined {
  const eq = word.indexOf('=')
  const value = eq < 0 ? undefined : word.slice(eq + 1)
  if (!BOOL_PARAMS.has(argKey(word))) return value
  if (value === undefined || /^[1Yy]$/.test(value)) return 'true'
  if (/^[0Nn]$/.test(value)) return 'false'
  return value
}

// True when two words set the same parameter to the same value as the kernel reads them:
// `vfio_pci.` and `vfio-pci.` alike, and 1/Y/y alike for a bool parameter.
export function sameArg(a: string, b: string): boolean {
  return a === b || (argKey(a) === argKey(b) && argValue(a) === argValue(b))
}

// The word in `words` that already gives `want` (itself, or another spelling of it).
export function spellingOf(words: string[], want: string): string | undefined {
  return words.find((w) => w === want) ?? words.find((w) => sameArg(w, want))
}

// Words to add and to remove so that `present` are all there and `absent` are gone. A word spelled
// another way (see sameArg) counts as present and is never rewritten; a present word replaces
// other values of the same parameter; an absent word without '=' removes every value.
export function argEdits(current: string[], present: string[], absent: string[]): { add: string[]; remove: string[] } {
  const add: string[] = []
  const remove = new Set<string>()
  for (const p of present) {
    if (!spellingOf(current, p)) add.push(p)
    for (const c of current) if (!sameArg(c, p) && argKey(c) === argKey(p) && p.includes('=')) remove.add(c)
  }
  for (const a of absent) {
    for (const c of current) {
      // 'key=value' removes that value only (its other spellings alike).
      if (a.includes('=') ? sameArg(c, a) : argKey(c) === argKey(a)) remove.add(c)
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
