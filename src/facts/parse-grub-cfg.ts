// The parts of a generated grub.cfg that decide what petitboot boots: the `set default=` lines of
// the header and each `menuentry` with its `linux`/`initrd` lines.
export interface GrubCfgEntry {
  title: string
  id?: string
  linux?: string
  args: string
  initrd?: string
}

// The decision-relevant content of grub.cfg.
export interface GrubCfg {
  entries: GrubCfgEntry[]
  honoursNextEntry: boolean // `set default="${next_entry}"` (GRUB_DEFAULT=saved header)
  honoursSavedEntry: boolean // `set default="${saved_entry}"`
  literalDefault?: string // `set default="0"` or a title/id
  blscfg: boolean // EL8+: entries come from /boot/loader/entries
}

// Parses grub.cfg text. Submenus are flattened (petitboot does not match `a>b` paths anyway).
export function parseGrubCfg(text: string): GrubCfg {
  const cfg: GrubCfg = { entries: [], honoursNextEntry: false, honoursSavedEntry: false, blscfg: false }
  let cur: GrubCfgEntry | null = null
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim()
    if (line === '' || line.startsWith('#')) continue
    if (!cur) {
      const def = /^set\s+default=(?:"([^"]*)"|'([^']*)'|(\S*))/.exec(line)
      if (def) {
        const value = def[1] ?? def[2] ?? def[3] ?? ''
        if (value === '${next_entry}') cfg.honoursNextEntry = true
        else if (value === '${saved_entry}') cfg.honoursSavedEntry = true
        else if (!value.includes('$')) cfg.literalDefault = value
        continue
      }
      if (/^blscfg\b/.test(line)) cfg.blscfg = true
      const me = /^menuentry\s+(?:'([^']*)'|"([^"]*)")(.*)\{$/.exec(line)
      if (me) {
        const id = /\$menuentry_id_option\s+(?:'([^']*)'|"([^"]*)"|(\S+))/.exec(me[3])
        cur = { title: me[1] ?? me[2] ?? '', args: '' }
        const idValue = id ? (id[1] ?? id[2] ?? id[3]) : undefined
        if (idValue) cur.id = idValue
        cfg.entries.push(cur)
      }
      continue
    }
    if (line === '}') {
      cur = null
      continue
    }
    const linux = /^linux(?:16|efi)?\s+(\S+)\s*(.*)$/.exec(line)
    if (linux) {
      cur.linux = linux[1]
      cur.args = linux[2].trim()
      continue
    }
    const initrd = /^initrd(?:16|efi)?\s+(\S+)/.exec(line)
    if (initrd) cur.initrd = initrd[1]
  }
  return cfg
}
