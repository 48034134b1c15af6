import { defineFact } from './define.js'
import { section, splitSections } from './sections.js'

// Where the initramfs task records the boot_id a rebuild happened in: "rebuilt during this boot"
// then needs no clock (a simulated or freshly-NTP-synced host's btime cannot be trusted).
export const INITRAMFS_STATE_DIR = '/var/lib/gpufleet/state'

// One initramfs image in /boot and what its listing says about nouveau.
export interface InitramfsImage {
  path: string // /boot/initramfs-<kver>.img or /boot/initrd.img-<kver>
  kver: string
  sizeBytes: number
  mtime: number // seconds since the epoch
  listed: boolean // lsinitrd/lsinitramfs could read it
  nouveauDriver: boolean // a nouveau.ko* inside
  nouveauBlacklist: boolean // an etc/modprobe.d/*.conf naming nouveau inside (e.g. blacklist-nouveau.conf)
  dracutArgs?: string // lsinitrd's `Arguments:` line
  builtInBootId?: string // boot_id recorded by gpufleet when it rebuilt this image
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

// Lists each regular (not kdump/rescue) image with the lines of its listing that mention nouveau.
export const initramfsStatus = defineFact({
  name: 'initramfs.status',
  command: [
    'echo "@@ boot-id $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"',
    'echo "@@ btime $(sed -n "s/^btime //p" /proc/stat 2>/dev/null)"',
    'for t in dracut lsinitrd update-initramfs lsinitramfs; do command -v "$t" >/dev/null 2>&1 && echo "@@ tool $t"; done',
    'echo "@@ df"; df -P /boot 2>/dev/null',
    'for img in /boot/initramfs-*.img /boot/initrd.img-*; do',
    '  [ -f "$img" ] || continue',
    '  case "$img" in *kdump.img|*rescue*) continue;; esac',
    '  echo "@@ image $(stat -c "%s %Y" "$img") $img"',
    `  b="${INITRAMFS_STATE_DIR}/$(basename "$img").boot-id"; [ -f "$b" ] && echo "@@ built-in-boot $(cat "$b")"`,
    '  if command -v lsinitrd >/dev/null 2>&1; then l=lsinitrd; else l=lsinitramfs; fi',
    '  { $l "$img" 2>/dev/null; rc=$?; echo; echo "@@ listed $rc"; } | grep -E "nouveau|^Arguments:|^@@ listed"',
    'done',
    'true',
  ].join('\n'),
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
