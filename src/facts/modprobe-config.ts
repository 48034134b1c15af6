import { defineFact } from './define.js'
import { splitSections } from './sections.js'

// One /etc/modprobe.d/*.conf file.
export interface ModprobeFile {
  path: string
  mtime: number // seconds since the epoch
  content: string
}

// One parameter of an `options MODULE PARAM=VALUE ...` line.
export interface ModprobeOption {
  file: string
  module: string // with '_' for '-', as kmod folds module names (and /proc/modules shows them)
  param: string
  value?: string // absent for a bare `PARAM` (a bool set to true)
  line: string // the line as written, for messages
}

// The modprobe.d directory: its files and what they block.
export interface ModprobeConfig {
  dirMtime?: number // /etc/modprobe.d itself: changes when a file is removed
  files: ModprobeFile[]
  // Module names are folded to '_' the way kmod folds them (`modprobe --showconfig` prints
  // `blacklist lbm_nouveau` for `blacklist lbm-nouveau`), so they compare with /proc/modules names.
  blacklisted: string[] // modules named by `blacklist X`
  installDisabled: string[] // `install X /bin/false|/bin/true`: blocks loading as a dependency too
  options: ModprobeOption[] // `options X ...` lines, one entry per parameter
  newestMtime?: number // newest of the files and the directory: what the initramfs must postdate
}

// Every /etc/modprobe.d/*.conf with its mtime (the directory is small; dracut copies it whole).
export const modprobeConfig = defineFact({
  name: 'modprobe.config',
  command: ['echo "@@ dir $(stat -c %Y /etc/modprobe.d 2>/dev/null)"', 'for f in /etc/modprobe.d/*.conf; do [ -f "$f" ] || continue; echo "@@ file $(stat -c %Y "$f") $f"; cat "$f"; echo; done', 'true'].join('\n'),
  parse(stdout): ModprobeConfig {
    const sections = splitSections(stdout)
    const dir = Number(sections.find((s) => s.name === 'dir')?.arg)
    const files: ModprobeFile[] = []
    const blacklisted = new Set<string>()
    const installDisabled = new Set<string>()
    const options: ModprobeOption[] = []
    for (const s of sections.filter((x) => x.name === 'file')) {
      const m = /^(\d+) (.+)$/.exec(s.arg)
      if (!m) continue
      files.push({ path: m[2], mtime: Number(m[1]), content: s.lines.length ? s.lines.join('\n') + '\n' : '' })
      for (const raw of s.lines) {
        const words = raw.replace(/#.*/, '').trim().split(/\s+/)
        if (words[0] === 'blacklist' && words[1]) blacklisted.add(moduleName(words[1]))
        if (words[0] === 'install' && words[1] && /^\/(usr\/)?bin\/(false|true)$/.test(words[2] ?? '')) installDisabled.add(moduleName(words[1]))
        if (words[0] === 'options' && words[1]) {
          for (const w of words.slice(2)) {
            const eq = w.indexOf('=')
            options.push({ file: m[2], module: moduleName(words[1]), param: eq < 0 ? w : w.slice(0, eq), ...(eq < 0 ? {} : { value: w.slice(eq + 1) }), line: raw.trim() })
          }
        }
      }
    }
    const times = files.map((f) => f.mtime).concat(Number.isFinite(dir) && dir > 0 ? [dir] : [])
    return {
      ...(Number.isFinite(dir) && dir > 0 ? { dirMtime: dir } : {}),
      files,
      blacklisted: [...blacklisted].sort(),
      installDisabled: [...installDisabled].sort(),
      options,
      ...(times.length ? { newestMtime: Math.max(...times) } : {}),
    }
  },
})

// The fact's output for these files (in the gather's C-locale glob order): lets a task predict the
// fact after its change through the very parser the gather uses.
export function modprobeConfigOutput(files: ModprobeFile[], dirMtime?: number): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return [`@@ dir ${dirMtime ?? ''}`, ...sorted.map((f) => `@@ file ${f.mtime} ${f.path}\n${f.content}`)].join('\n') + '\n'
}

// kmod's spelling of a module name: '-' and '_' are the same character to it.
export function moduleName(name: string): string {
  return name.replace(/-/g, '_')
}
