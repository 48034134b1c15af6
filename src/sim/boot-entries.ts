// The boot menu petitboot builds from a host's files: grub.cfg menu entries, BLS entries where
// grub.cfg says `blscfg`, and which one boots (see README.md "Boot rules").
import fs from 'node:fs'
import path from 'node:path'
import { parseGrubenv, renderGrubenv } from './boot-config.js'
import { readOptional as read } from './read-optional.js'

// A boot entry as petitboot lists it.
export interface BootEntry {
  index: number
  title: string
  id: string
  linux: string // as written in the config (relative to the /boot partition or absolute)
  initrd?: string
  args: string // variables expanded
}

function expandVars(text: string, env: Record<string, string>): string {
  return text
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => env[name] ?? '')
    .replace(/\s+/g, ' ')
    .trim()
}

// rpm-ish version compare, enough for kernel versions in BLS file names.
function verCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true })
}

function blsEntries(root: string, env: Record<string, string>): Array<Omit<BootEntry, 'index'>> {
  const dir = path.join(root, 'boot/loader/entries')
  let files: string[] = []
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.conf'))
  } catch {
    return []
  }
  const entries = files.map((f) => {
    const kv: Record<string, string> = {}
    for (const line of (read(path.join(dir, f)) ?? '').split('\n')) {
      const m = /^(\S+)\s+(.*)$/.exec(line.trim())
      if (m && !(m[1]! in kv)) kv[m[1]!] = m[2]!
    }
    const initrd = kv.initrd ? expandVars(kv.initrd, env).split(' ')[0] : undefined
    return {
      file: f,
      version: kv.version ?? f,
      title: kv.title ?? f,
      id: f.replace(/\.conf$/, ''),
      linux: kv.linux ?? '',
      ...(initrd ? { initrd } : {}),
      args: expandVars(kv.options ?? '', env),
    }
  })
  // blscfg lists the newest version first
  entries.sort((a, b) => verCompare(b.version, a.version) || verCompare(b.file, a.file))
  return entries.map(({ title, id, linux, initrd, args }) => ({ title, id, linux, ...(initrd ? { initrd } : {}), args }))
}

function menuEntries(cfg: string, env: Record<string, string>): Array<Omit<BootEntry, 'index'> & { at: number }> {
  const out: Array<Omit<BootEntry, 'index'> & { at: number }> = []
  const re = /^[ \t]*menuentry[ \t]+(['"])(.*?)\1([^{\n]*)\{([\s\S]*?)^[ \t]*\}/gm
  for (let m = re.exec(cfg); m; m = re.exec(cfg)) {
    const id = /\$menuentry_id_option\s+(['"])(.*?)\1/.exec(m[3]!)?.[2] ?? m[2]!
    const linux = /^[ \t]*linux(?:16|efi)?[ \t]+(\S+)[ \t]*(.*)$/m.exec(m[4]!)
    const initrd = /^[ \t]*initrd(?:16|efi)?[ \t]+(\S+)/m.exec(m[4]!)
    out.push({ at: m.index, title: m[2]!, id, linux: linux?.[1] ?? '', ...(initrd ? { initrd: initrd[1]! } : {}), args: expandVars(linux?.[2] ?? '', env) })
  }
  return out
}

// The grub directory petitboot finds first ([PB] discover/grub2/grub2.c tries /boot/grub/grub.cfg
// before /boot/grub2/grub.cfg): Ubuntu's /boot/grub, EL's /boot/grub2.
export function grubDirOf(root: string): string {
  return fs.existsSync(path.join(root, 'boot/grub/grub.cfg')) ? 'boot/grub' : 'boot/grub2'
}

// Every entry petitboot would list, and the grubenv it read.
export function readBootEntries(root: string): { entries: BootEntry[]; env: Record<string, string>; cfg: string } {
  const dir = grubDirOf(root)
  const cfg = read(path.join(root, dir, 'grub.cfg')) ?? ''
  const env = parseGrubenv(read(path.join(root, dir, 'grubenv')) ?? '')
  const menus = menuEntries(cfg, env)
  const blsAt = /^[ \t]*blscfg[ \t]*$/m.exec(cfg)?.index
  let list: Array<Omit<BootEntry, 'index'>> = menus
  if (blsAt !== undefined) {
    const bls = blsEntries(root, env)
    list = [...menus.filter((e) => e.at < blsAt), ...bls, ...menus.filter((e) => e.at > blsAt)]
  }
  return { entries: list.map((e, index) => ({ index, title: e.title, id: e.id, linux: e.linux, ...(e.initrd ? { initrd: e.initrd } : {}), args: e.args })), env, cfg }
}

// The entry petitboot boots: next_entry (one-shot, cleared), else saved_entry, else `set default`.
export function chooseEntry(root: string, consume: boolean): { entry?: BootEntry; entries: BootEntry[] } {
  const { entries, env, cfg } = readBootEntries(root)
  let spec: string | undefined
  if (/\$\{?next_entry\}?/.test(cfg) && env.next_entry) {
    spec = env.next_entry
    if (consume) {
      env.next_entry = ''
      fs.writeFileSync(path.join(root, grubDirOf(root), 'grubenv'), renderGrubenv(env))
    }
  } else if (/set default="?\$\{?saved_entry\}?"?/.test(cfg)) spec = env.saved_entry
  // a literal `set default="0"` (Ubuntu's GRUB_DEFAULT=0), not the "${next_entry}" line before it
  else spec = /^[ \t]*set default="?([^"\s$]+)"?[ \t]*$/m.exec(cfg)?.[1]
  let entry: BootEntry | undefined
  if (spec !== undefined && /^\d+$/.test(spec)) entry = entries[Number(spec)]
  else if (spec) entry = entries.find((e) => e.id === spec || e.title === spec)
  return { entry: entry ?? entries[0], entries }
}
