import { quote } from '../shell.js'
import { defineFact } from './define.js'
import { section, splitSections } from './sections.js'

// Where the initramfs task records the boot_id a rebuild happened in: "rebuilt during this boot"
// then needs no clock (a simulated or freshly-NTP-synced host's btime cannot be trusted). It also
// holds the listing cache (see INITRAMFS_LISTING_SUFFIX).
export const INITRAMFS_STATE_DIR = '/var/lib/gpufleet/state'

// `<state>/<image basename><suffix>`: what initramfs.rebuild saw when it checked the image it built,
// keyed by the image's identity. lsinitrd decompresses the whole image (seconds on a real POWER
// host), so a gather reuses the record while the key still matches and lists the image again as
// soon as anything rewrote it (a hand-run dracut, a restore, a kernel update).
export const INITRAMFS_LISTING_SUFFIX = '.listing'

// Shell text printing an image's cache key. Inode, size, mtime and ctime with nanoseconds: every
// rewrite changes the ctime (which `touch` cannot set back), and TZ is pinned so the text of %z is
// the same in the rebuild step and in a later gather.
export function initramfsKeyCommand(imageVar: string): string {
  return `TZ=UTC0 stat -c 'key %i %s %Y %z' "${imageVar}"`
}

// The lines of a listing the parser reads: nouveau modules and files, and dracut's Arguments line.
export const INITRAMFS_LISTING_FILTER = 'nouveau|^Arguments:'

// One initramfs image in /boot and what its listing says about nouveau.
export interface InitramfsImage {
  path: string // /boot/initramfs-<kver>.img or /boot/initrd.img-<kver>
  kver: string
  sizeBytes: number
  mtime: number // seconds since the epoch
  listed: boolean // lsinitrd/lsinitramfs could read it (now, or when the cache record was written)
  nouveauDriver: boolean // a nouveau.ko* inside
  nouveauBlacklist: boolean // an etc/modprobe.d/*.conf naming nouveau inside (e.g. blacklist-nouveau.conf)
  dracutArgs?: string // lsinitrd's `Arguments:` line
  builtInBootId?: string // boot_id recorded by gpufleet when it rebuilt this image
  cached?: true // the listing came from gpufleet's record of its last check, not a fresh lsinitrd
  skipped?: true // not listed: not the default entry's image (per grubenv/grubby), and no record of it
}

// Every image plus what a rebuild needs to know (tools, free space, boot_id).
export interface InitramfsStatus {
  bootId?: string
  btime?: number // /proc/stat btime (informational)
  tools: string[] // dracut, lsinitrd, update-initramfs, lsinitramfs
  bootFreeBytes?: number // `df -P /boot` Available
  bootSizeBytes?: number
  images: InitramfsImage[]
}

// The fact's shell text; `root` prefixes every path so tests can run it against a temp tree.
// Each regular (not kdump/rescue) image is stat'ed; its listing comes from the cache record when the
// key matches, else from lsinitrd, but only for the default entry's image (every image when that
// cannot be told or a one-shot next_entry is set). The plan resolves "boots next" the way petitboot
// does; if that names a skipped image, initramfs.rebuild checks it in its own step.
export function initramfsStatusCommand(root = ''): string {
  const state = quote(root + INITRAMFS_STATE_DIR)
  const r = root ? quote(root) : ''
  return [
    'echo "@@ boot-id $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"',
    'echo "@@ btime $(sed -n "s/^btime //p" /proc/stat 2>/dev/null)"',
    'for t in dracut lsinitrd update-initramfs lsinitramfs; do command -v "$t" >/dev/null 2>&1 && echo "@@ tool $t"; done',
    `echo "@@ df"; df -P ${r}/boot 2>/dev/null`,
    'if command -v lsinitrd >/dev/null 2>&1; then l=lsinitrd; else l=lsinitramfs; fi',
    // next: the default entry's initrd (first word, quotes stripped, under /boot); empty = list all.
    // BLS (EL8+): the entry file saved_entry names, read directly (grubby-bls is a slow bash script);
    // else grubby's default (legacy grubby is a fast C binary). A one-shot next_entry: list all.
    `env=$({ grub2-editenv - list 2>/dev/null || cat ${r}/boot/grub2/grubenv 2>/dev/null; })`,
    'next=',
    `if ! printf '%s\\n' "$env" | grep -q '^next_entry=.'; then`,
    `  saved=$(printf '%s\\n' "$env" | sed -n 's/^saved_entry=//p' | head -n 1)`,
    `  if [ -n "$saved" ] && [ -f "${r}/boot/loader/entries/$saved.conf" ]; then`,
    `    next=$(sed -n 's/^initrd[[:space:]][[:space:]]*//p' "${r}/boot/loader/entries/$saved.conf" | head -n 1 | tr -d '"' | cut -d ' ' -f 1)`,
    '  elif command -v grubby >/dev/null 2>&1; then',
    `    next=$(grubby --info=DEFAULT 2>/dev/null | sed -n 's/^initrd=//p' | head -n 1 | tr -d '"' | cut -d ' ' -f 1)`,
    '  fi',
    '  case "$next" in "") ;; /boot/*) ;; /*) next=/boot$next ;; *) next=/boot/$next ;; esac',
    'fi',
    `for img in ${r}/boot/initramfs-*.img ${r}/boot/initrd.img-*; do`,
    '  [ -f "$img" ] || continue',
    '  case "$img" in *kdump.img|*rescue*) continue;; esac',
    r ? `  p=\${img#${r}}` : '  p=$img',
    '  echo "@@ image $(stat -c "%s %Y" "$img") $p"',
    `  b=${state}/$(basename "$img").boot-id; [ -f "$b" ] && echo "@@ built-in-boot $(cat "$b")"`,
    `  c=${state}/$(basename "$img")${INITRAMFS_LISTING_SUFFIX}`,
    `  if [ -f "$c" ] && [ "$(head -n 1 "$c")" = "$(${initramfsKeyCommand('$img')} 2>/dev/null)" ]; then`,
    '    echo "@@ cached"; tail -n +2 "$c"; echo "@@ listed 0"',
    '  elif [ -z "$next" ] || [ "$p" = "$next" ]; then',
    `    { $l "$img" 2>/dev/null; rc=$?; echo; echo "@@ listed $rc"; } | grep -E "${INITRAMFS_LISTING_FILTER}|^@@ listed"`,
    '  else echo "@@ skipped"; fi',
    'done',
    'true',
  ].join('\n')
}

// Lists each regular (not kdump/rescue) image with the lines of its listing that mention nouveau.
export const initramfsStatus = defineFact({
  name: 'initramfs.status',
  command: initramfsStatusCommand(),
  parse(stdout): InitramfsStatus {
    const sections = splitSections(stdout)
    const bootId = section(sections, 'boot-id')?.arg.trim()
    const btime = Number(section(sections, 'btime')?.arg)
    const status: InitramfsStatus = {
      ...(bootId ? { bootId } : {}),
      ...(Number.isFinite(btime) && btime > 0 ? { btime } : {}),
      tools: sections.filter((s) => s.name === 'tool').map((s) => s.arg),
      images: [],
    }
    const df = section(sections, 'df')?.lines.find((l) => /^\S+\s+\d+\s+\d+\s+\d+\s+\d+%/.test(l))
    if (df) {
      const cols = df.trim().split(/\s+/)
      status.bootSizeBytes = Number(cols[1]) * 1024
      status.bootFreeBytes = Number(cols[3]) * 1024
    }
    let cur: InitramfsImage | null = null
    for (const s of sections) {
      if (s.name === 'image') {
        const m = /^(\d+) (\d+) (.+)$/.exec(s.arg)
        if (!m) {
          cur = null
          continue
        }
        const path = m[3]
        const base = path.split('/').pop() ?? path
        const kver = /^initramfs-(.+)\.img$/.exec(base)?.[1] ?? /^initrd\.img-(.+)$/.exec(base)?.[1] ?? ''
        cur = { path, kver, sizeBytes: Number(m[1]), mtime: Number(m[2]), listed: false, nouveauDriver: false, nouveauBlacklist: false }
        status.images.push(cur)
        readListing(cur, s.lines)
      } else if (cur && s.name === 'built-in-boot') {
        if (s.arg.trim()) cur.builtInBootId = s.arg.trim()
        readListing(cur, s.lines)
      } else if (cur && s.name === 'cached') {
        cur.cached = true
        readListing(cur, s.lines)
      } else if (cur && s.name === 'skipped') {
        cur.skipped = true
      } else if (cur && s.name === 'listed') {
        cur.listed = s.arg.trim() === '0'
      }
    }
    return status
  },
})

function readListing(image: InitramfsImage, lines: string[]): void {
  for (const line of lines) {
    if (line.startsWith('Arguments:')) image.dracutArgs = line.slice('Arguments:'.length).trim()
    else if (/\/nouveau\.ko(\.[a-z]+)?$/.test(line.trim())) image.nouveauDriver = true
    else if (/etc\/modprobe\.d\/\S*\.conf$/.test(line.trim())) image.nouveauBlacklist = true
  }
}
