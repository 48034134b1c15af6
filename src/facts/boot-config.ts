import { splitCmdline } from './kernel-cmdline.js'
import { defineFact } from './define.js'
import { parseBlsEntry, type BlsEntry } from './parse-bls-entry.js'
import { parseDefaultGrub, type DefaultGrub } from './parse-default-grub.js'
import { parseGrubCfg, type GrubCfg } from './parse-grub-cfg.js'
import { parseGrubbyInfo } from './parse-grubby-info.js'
import { parseGrubenv } from './parse-grubenv.js'
import { section, splitSections } from './sections.js'
import { bootPlatformCommand, parseBootPlatform, type BootPlatform } from './boot-platform.js'

// One boot menu entry, whichever tool described it.
export interface BootEntry {
  index: number
  title: string
  id?: string // BLS id or grub.cfg $menuentry_id_option
  kernel: string // '/boot/vmlinuz-<kver>' (normalised to the root file system's view)
  kver?: string
  initrd?: string // '/boot/initramfs-<kver>.img'
  args: string[] // the kernel command line petitboot passes (root= included, no BOOT_IMAGE=)
  file?: string // BLS entry file
}

// Boot tools whose presence changes how kernel.arg edits the configuration (grub2-* on EL, grub-*
// and update-grub on Debian/Ubuntu).
export type BootTool = 'grubby' | 'grub2-mkconfig' | 'grub2-reboot' | 'grub2-set-default' | 'grub2-editenv' | 'update-grub' | 'grub-mkconfig' | 'grub-reboot' | 'grub-set-default' | 'grub-editenv'

// How the host boots next, resolved the way petitboot evaluates the grub.cfg header.
export interface BootConfig {
  tools: BootTool[]
  style: 'bls' | 'legacy' | 'unknown'
  source: 'grubby' | 'bls' | 'grub.cfg' | 'none'
  entries: BootEntry[]
  grubenv: Record<string, string>
  grubCfgPath?: string
  defaultGrub?: DefaultGrub // undefined when /etc/default/grub does not exist
  defaultIndex?: number // the entry booted when no one-shot next_entry is set
  next?: BootEntry // the entry that boots next
  nextVia?: 'next_entry' | 'saved_entry' | 'set default' | 'grubby' | 'first entry'
  grubenvPath: string // /boot/grub2/grubenv (EL) or /boot/grub/grubenv (Debian/Ubuntu)
  platform: BootPlatform // OS release, /etc/kernel/cmdline, petitboot, secure boot, lockdown
}

const TOOLS: BootTool[] = ['grubby', 'grub2-mkconfig', 'grub2-reboot', 'grub2-set-default', 'grub2-editenv', 'update-grub', 'grub-mkconfig', 'grub-reboot', 'grub-set-default', 'grub-editenv']

// Reads every boot-config source at once; the parser picks the authoritative one (grubby when
// installed, else BLS entries, else grub.cfg menuentries).
export const bootConfig = defineFact({
  name: 'boot.config',
  command: [
    `for t in ${TOOLS.join(' ')}; do command -v "$t" >/dev/null 2>&1 && echo "@@ tool $t"; done`,
    'if command -v grubby >/dev/null 2>&1; then',
    '  echo "@@ grubby-default-index"; grubby --default-index; echo',
    '  echo "@@ grubby-info"; grubby --info=ALL; echo',
    'fi',
    // `-` is the default grubenv; the file itself is a 1024-byte block with no final newline, hence
    // the echo after each output: a marker must start its own line.
    // Debian's grub-editenv defaults to /boot/grub/grubenv; EL's grub2-editenv to /boot/grub2/grubenv.
    'echo "@@ grubenv"; grub2-editenv - list 2>/dev/null || grub-editenv - list 2>/dev/null || cat /boot/grub2/grubenv 2>/dev/null || cat /boot/grub/grubenv 2>/dev/null; echo',
    'for e in /boot/grub2/grubenv /boot/grub/grubenv; do [ -f "$e" ] && { echo "@@ grubenv-path $e"; break; }; done',
    'for f in /boot/loader/entries/*.conf; do [ -f "$f" ] && { echo "@@ bls $f"; cat "$f"; echo; }; done',
    'for c in /boot/grub2/grub.cfg /boot/grub/grub.cfg; do [ -f "$c" ] && { echo "@@ grub-cfg $c"; cat "$c"; echo; break; }; done',
    '[ -f /etc/default/grub ] && { echo "@@ default-grub"; cat /etc/default/grub; echo; }',
    bootPlatformCommand,
    'true',
  ].join('\n'),
  parse(stdout): BootConfig {
    const sections = splitSections(stdout)
    const tools = sections
      .filter((s) => s.name === 'tool')
      .map((s) => s.arg as BootTool)
      .filter((t) => TOOLS.includes(t))
    const grubenv = parseGrubenv(section(sections, 'grubenv')?.lines.join('\n') ?? '')
    const cfgSection = section(sections, 'grub-cfg')
    const cfg = cfgSection ? parseGrubCfg(cfgSection.lines.join('\n')) : undefined
    const bls = sections.filter((s) => s.name === 'bls').map((s) => parseBlsEntry(s.arg, s.lines.join('\n')))
    const dg = section(sections, 'default-grub')
    const defaultGrub = dg ? parseDefaultGrub(dg.lines.join('\n') + '\n') : undefined

    let entries: BootEntry[] = []
    let source: BootConfig['source'] = 'none'
    const grubbyInfo = section(sections, 'grubby-info')
    if (grubbyInfo) {
      entries = parseGrubbyInfo(grubbyInfo.lines.join('\n'))
        .filter((e) => !e.nonLinux && e.kernel)
        .map((e) => {
          const args = splitCmdline(expandVars(e.args ?? '', grubenv))
          if (e.root && !args.some((a) => a.startsWith('root='))) args.unshift(`root=${e.root}`)
          const blsFile = e.id ? bls.find((b) => b.id === e.id)?.file : undefined
          return entry(e.index, e.title ?? '', e.id, e.kernel!, e.initrd, args, blsFile)
        })
      if (entries.length > 0) source = 'grubby'
    }
    if (source === 'none' && bls.length > 0 && (!cfg || cfg.blscfg || cfg.entries.length === 0)) {
      entries = sortBls(bls).map((b, i) => entry(i, b.title ?? b.id, b.id, b.linux ?? '', b.initrd, splitCmdline(expandVars(b.options ?? '', grubenv)), b.file))
      source = 'bls'
    }
    if (source === 'none' && cfg && cfg.entries.length > 0) {
      entries = cfg.entries.map((e, i) => entry(i, e.title, e.id, e.linux ?? '', e.initrd, splitCmdline(e.args)))
      source = 'grub.cfg'
    }
    // grubby (EL7) has no ids; grub.cfg's $menuentry_id_option lets saved_entry name an entry by id.
    if (source === 'grubby' && cfg && cfg.entries.length === entries.length) {
      entries.forEach((e, i) => {
        if (!e.id && cfg.entries[i].id) e.id = cfg.entries[i].id
      })
    }
    const style: BootConfig['style'] = bls.length > 0 || cfg?.blscfg ? 'bls' : cfg || source === 'grubby' ? 'legacy' : 'unknown'
    const envPath = section(sections, 'grubenv-path')?.arg.trim()
    const grubenvPath = envPath || (cfgSection?.arg.startsWith('/boot/grub/') ? '/boot/grub/grubenv' : '/boot/grub2/grubenv')
    const grubbyIndex = Number(section(sections, 'grubby-default-index')?.lines[0]?.trim())
    const resolved = resolveNext(entries, grubenv, cfg, Number.isInteger(grubbyIndex) && grubbyIndex >= 0 ? grubbyIndex : undefined)
    return {
      tools,
      style,
      source,
      entries,
      grubenv,
      ...(cfgSection ? { grubCfgPath: cfgSection.arg } : {}),
      ...(defaultGrub ? { defaultGrub } : {}),
      ...resolved,
      grubenvPath,
      platform: parseBootPlatform(sections),
    }
  },
})

function entry(index: number, title: string, id: string | undefined, kernel: string, initrd: string | undefined, args: string[], file?: string): BootEntry {
  const k = bootPath(kernel)
  const kver = /(?:vmlinuz|vmlinux|Image|kernel)-(.+)$/.exec(k.split('/').pop() ?? '')?.[1]
  return {
    index,
    title,
    ...(id ? { id } : {}),
    kernel: k,
    ...(kver ? { kver } : {}),
    ...(initrd ? { initrd: bootPath(initrd.split(/\s+/)[0]) } : {}),
    args,
    ...(file ? { file } : {}),
  }
}

// grub.cfg and BLS paths are relative to the /boot partition; grubby prints them under /boot.
function bootPath(p: string): string {
  if (p === '' || p.startsWith('/boot/')) return p
  return '/boot' + (p.startsWith('/') ? p : '/' + p)
}

// BLS options may reference grubenv variables ($kernelopts on EL8, $tuned_params).
function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? '')
}

// grub's blscfg lists entries newest version first (rpm version compare of the ids).
function sortBls(entries: BlsEntry[]): BlsEntry[] {
  return [...entries].sort((a, b) => versionCompare(b.id, a.id))
}

// rpmvercmp-like: digit runs compare numerically, letter runs lexically; other characters separate.
export function versionCompare(a: string, b: string): number {
  const pa = a.match(/\d+|[a-zA-Z]+/g) ?? []
  const pb = b.match(/\d+|[a-zA-Z]+/g) ?? []
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i]
    const y = pb[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    const nx = /^\d/.test(x)
    const ny = /^\d/.test(y)
    if (nx && ny) {
      const d = Number(x) - Number(y)
      if (d !== 0) return d
    } else if (nx !== ny) {
      return nx ? 1 : -1
    } else if (x !== y) {
      return x < y ? -1 : 1
    }
  }
  return 0
}

// petitboot matches `default` as a 0-based index, an id, or an exact title; no match → first entry.
export function findEntry(entries: BootEntry[], value: string | undefined): BootEntry | undefined {
  if (value === undefined || value === '') return undefined
  if (/^\d+$/.test(value)) return entries.find((e) => e.index === Number(value))
  return entries.find((e) => e.id === value) ?? entries.find((e) => e.title === value)
}

function resolveNext(entries: BootEntry[], env: Record<string, string>, cfg: GrubCfg | undefined, grubbyIndex: number | undefined): Pick<BootConfig, 'defaultIndex' | 'next' | 'nextVia'> {
  if (entries.length === 0) return {}
  // Without a readable grub.cfg assume the stock RHEL header (GRUB_DEFAULT=saved).
  const honoursNext = cfg ? cfg.honoursNextEntry : true
  const honoursSaved = cfg ? cfg.honoursSavedEntry : true
  let def: BootEntry | undefined
  let defVia: BootConfig['nextVia'] = 'first entry'
  if (honoursSaved && env.saved_entry) {
    def = findEntry(entries, env.saved_entry)
    defVia = 'saved_entry'
  } else if (cfg?.literalDefault !== undefined) {
    def = findEntry(entries, cfg.literalDefault)
    defVia = 'set default'
  } else if (!cfg && grubbyIndex !== undefined) {
    def = entries.find((e) => e.index === grubbyIndex)
    defVia = 'grubby'
  }
  if (!def) {
    def = entries[0]
    defVia = 'first entry'
  }
  const once = honoursNext ? findEntry(entries, env.next_entry) : undefined
  if (once) return { defaultIndex: def.index, next: once, nextVia: 'next_entry' }
  return { defaultIndex: def.index, next: def, nextVia: defVia }
}
