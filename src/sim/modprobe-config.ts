// Module configuration as modprobe reads it: modprobe.d files and the kernel command line.
import fs from 'node:fs'
import path from 'node:path'
import { readOptional as read } from './read-optional.js'

// Modprobe config in a set of files: blacklisted/forbidden modules and options.
export function modprobeConfig(texts: string[]): { blacklist: Set<string>; forbidden: Set<string>; options: Record<string, Record<string, string>> } {
  const blacklist = new Set<string>()
  const forbidden = new Set<string>()
  const options: Record<string, Record<string, string>> = {}
  for (const text of texts) {
    for (const raw of text.split('\n')) {
      const words = raw.replace(/#.*/, '').trim().split(/\s+/)
      const mod = (words[1] ?? '').replace(/-/g, '_')
      if (words[0] === 'blacklist' && mod) blacklist.add(mod)
      else if (words[0] === 'install' && mod && /^\/(usr\/)?bin\/(false|true)$/.test(words[2] ?? '')) forbidden.add(mod)
      else if (words[0] === 'options' && mod)
        for (const kv of words.slice(2)) {
          const i = kv.indexOf('=')
          ;(options[mod] ??= {})[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '1' : kv.slice(i + 1)
        }
    }
  }
  return { blacklist, forbidden, options }
}

// The texts of /etc/modprobe.d/*.conf in the host's tree, in the order modprobe reads them.
export function etcModprobe(root: string): string[] {
  const dir = path.join(root, 'etc/modprobe.d')
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .map((f) => read(path.join(dir, f)) ?? '')
  } catch {
    return []
  }
}

// The modules a comma-list kernel parameter (`module_blacklist=a,b`) names, `-` as `_`.
export function cmdlineList(words: string[], key: string): string[] {
  return words
    .filter((w) => w.startsWith(key + '='))
    .flatMap((w) => w.slice(key.length + 1).split(','))
    .map((m) => m.replace(/-/g, '_'))
}
