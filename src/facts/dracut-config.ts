import { defineFact } from './define.js'
import { splitSections } from './sections.js'

// dracut reads /etc/dracut.conf, then every /etc/dracut.conf.d/*.conf in name order (dracut.conf(5)).
export const DRACUT_CONF_DIR = '/etc/dracut.conf.d'

// One /etc/dracut.conf.d/*.conf file.
export interface DracutConfFile {
  path: string
  mtime: number // seconds since the epoch
  content: string
}

// The drop-in directory: whether it exists (the dracut package creates it) and its files.
export interface DracutConfig {
  dir: boolean
  files: DracutConfFile[]
}

// Every /etc/dracut.conf.d/*.conf with its mtime: a few short files, and what future dracut runs
// (a kernel update's included) build with.
export const dracutConfig = defineFact({
  name: 'dracut.config',
  command: [`[ -d ${DRACUT_CONF_DIR} ] || exit 0`, 'echo "@@ dir"', `for f in ${DRACUT_CONF_DIR}/*.conf; do [ -f "$f" ] || continue; echo "@@ file $(stat -c %Y "$f") $f"; cat "$f"; echo; done`, 'true'].join('\n'),
  parse(stdout): DracutConfig {
    const sections = splitSections(stdout)
    const files: DracutConfFile[] = []
    for (const s of sections.filter((x) => x.name === 'file')) {
      const m = /^(\d+) (\/.+)$/.exec(s.arg)
      if (!m) continue
      files.push({ path: m[2], mtime: Number(m[1]), content: s.lines.length ? s.lines.join('\n') + '\n' : '' })
    }
    return { dir: sections.some((s) => s.name === 'dir'), files }
  },
})
