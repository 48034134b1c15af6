import { defineFact } from './define.js'

export interface CmdlineFact {
  raw: string
  bootImage?: string // GRUB prefixes BOOT_IMAGE=; petitboot (PowerNV) does not
  args: string[] // every other word, in order
}

// /proc/cmdline, tolerant of both GRUB's BOOT_IMAGE= prefix and petitboot's bare form.
export const kernelCmdline = defineFact({
  name: 'kernel.cmdline',
  command: 'cat /proc/cmdline',
  parse(stdout): CmdlineFact {
    const raw = stdout.trim()
    const words = splitCmdline(raw)
    const first = words[0]
    if (first?.startsWith('BOOT_IMAGE=')) return { raw, bootImage: first.slice('BOOT_IMAGE='.length), args: words.slice(1) }
    return { raw, args: words }
  },
})

// Splits a kernel command line into words; double quotes group (the kernel's own rule).
export function splitCmdline(text: string): string[] {
  const words: string[] = []
  let cur = ''
  let inQuote = false
  let has = false
  for (const ch of text) {
    if (ch === '"') {
      inQuote = !inQuote
      cur += ch
      has = true
    } else if (/\s/.test(ch) && !inQuote) {
      if (has) words.push(cur)
      cur = ''
      has = false
    } else {
      cur += ch
      has = true
    }
  }
  if (has) words.push(cur)
  return words
}
