import { defineFact } from './define.js'
import { splitSections } from './sections.js'

// One /etc/modprobe.d/*.conf file.
export interface ModprobeFile {
  path: string
  mtime: number // seconds since the epoch
  content: string
}

// The modprobe.d directory: its files and what they block.
export interface ModprobeConfig {
  dirMtime?: number // /etc/modprobe.d itself: changes when a file is removed
  files: ModprobeFile[]
  blacklisted: string[] // modules named by `blacklist X`
  installDisabled: string[] // `install X /bin/false|/bin/true`: blocks loading as a dependency too
  newestMtime?: number // newest of the files and the directory: what the initramfs must postdate
}

// Every /etc/modprobe.d/*.conf with its mtime (the directory is small; dracut copies it whole).
export const modprobeConfig = defineFact({
  name: 'modprobe.config',
  command: [
    'echo "@@ dir $(stat -c %Y /etc/modprobe.d 2>/dev/null)"',
    'for f in /etc/modprobe.d/*.conf; do [ -f "$f" ] || continue; echo "@@ file $(stat -c %Y "$f") $f"; cat "$f"; echo; done',
    'true',
  ].join('\n'),
  parse(stdout): ModprobeConfig {
    const sections = splitSections(stdout)
    const dir = Number(sections.find((s) => s.name === 'dir')?.arg)
    const files: ModprobeFile[] = []
    const blacklisted = new Set<string>()
    const installDisabled = new Set<string>()
    for (const s of sections.filter((x) => x.name === 'file')) {
      const m = /^(\d+) (.+)$/.exec(s.arg)
      if (!m) continue
      files.push({ path: m[2], mtime: Number(m[1]), content: s.lines.length ? s.lines.join('\n') + '\n' : '' })
      for (const raw of s.lines) {
        const words = raw.replace(/#.*/, '').trim().split(/\s+/)
        if (words[0] === 'blacklist' && words[1]) blacklisted.add(words[1])
        if (words[0] === 'install' && words[1] && /^\/(usr\/)?bin\/(false|true)$/.test(words[2] ?? '')) installDisabled.add(words[1])
      }
    }
    const times = files.map((f) => f.mtime).concat(Number.isFinite(dir) && dir > 0 ? [dir] : [])
    return {
      ...(Number.isFinite(dir) && dir > 0 ? { dirMtime: dir } : {}),
      files,
      blacklisted: [...blacklisted].sort(),
      installDisabled: [...installDisabled].sort(),
      ...(times.length ? { newestMtime: Math.max(...times) } : {}),
    }
  },
})
