import { BACKUP_DIR } from '../../facts/gpufleet-backups.js'
import { INITRAMFS_LISTING_FILTER, INITRAMFS_LISTING_SUFFIX, INITRAMFS_STATE_DIR, initramfsKeyCommand } from '../../facts/initramfs-status.js'
import { quote } from '../../shell.js'
import { KEEP_BACKUP_FUNCTION } from './backup-script.js'
import { markRebootScript } from './reboot-marker.js'

// Inputs of the rebuild script; everything in it is quoted.
export interface InitramfsScriptOptions {
  image: string // /boot/initramfs-<kver>.img of the kernel that boots next
  kver: string
  omitDrivers: string[]
  tool: 'dracut' | 'update-initramfs'
  minFreeFactor: number // free space needed in /boot, in multiples of the image size
  root?: string // prefixes every file path (tests run the script in a temp dir)
  // List the image first and rebuild only if it holds an omitted driver (dracut only): for an image
  // the fact gather did not list because it is not the one grubby says boots next.
  checkFirst?: boolean
}

// Exit codes of the script beyond 0/1, so a report can say what state the host is in.
export const INITRAMFS_EXIT = { restored: 2, restoreFailed: 3 } as const

// One shell script that backs up the image (sha256-verified, with sha256 sidecars), rebuilds it for an explicit kernel
// version, checks that the new image lists no nouveau module, records that check for the fact
// gather (so a no-op re-run never decompresses the image), and on any failure puts the backup
// back and verifies it. It is one step so the runner can never apply half of it; SIGHUP is ignored
// so a dropped SSH connection does not kill it between "dracut wrote a truncated image" and "restore".
export function initramfsRebuildScript(o: InitramfsScriptOptions): string {
  const root = o.root ?? ''
  const img = root + o.image
  const name = o.image.split('/').pop()!
  const lister = o.tool === 'dracut' ? 'lsinitrd' : 'lsinitramfs'
  const build =
    o.tool === 'dracut'
      ? `dracut -f -v --omit-drivers "$omit" "$img" "$kver"`
      : // initramfs-tools has no --omit-drivers; it copies /etc/modprobe.d, which blacklists nouveau.
        `update-initramfs -u -k "$kver"`
  const omitted = `/(${o.omitDrivers.map((d) => d.replace(/[^A-Za-z0-9_-]/g, '')).join('|')})\\.ko`
  return [
    'set -u',
    "trap '' HUP PIPE",
    `img=${quote(img)}`,
    `kver=${quote(o.kver)}`,
    `omit=${quote(o.omitDrivers.join(' '))}`,
    `prev=${quote(`${root}${BACKUP_DIR}/prev${o.image}`)}`,
    `orig=${quote(`${root}${BACKUP_DIR}/orig${o.image}`)}`,
    `state=${quote(root + INITRAMFS_STATE_DIR)}`,
    `booted=${quote(`${root}${INITRAMFS_STATE_DIR}/${name}.boot-id`)}`,
    `record=${quote(`${root}${INITRAMFS_STATE_DIR}/${name}${INITRAMFS_LISTING_SUFFIX}`)}`,
    `factor=${Math.max(1, Math.ceil(o.minFreeFactor))}`,
    'say() { echo "gpufleet: $*" >&2; }',
    'sum() { sha256sum < "$1" | cut -d " " -f 1; }',
    KEEP_BACKUP_FUNCTION,
    // The record initramfs.status reuses while the image's key is unchanged: key line, then the
    // listing lines the fact's parser reads. Written via a temp file so a reader never sees half.
    'record_listing() {',
    '  mkdir -p "$state" || return 1',
    `  { ${initramfsKeyCommand('$img')} && { printf '%s\\n' "$1" | grep -E ${quote(INITRAMFS_LISTING_FILTER)} || true; }; } > "$record.tmp" && mv -f "$record.tmp" "$record" || { rm -f "$record.tmp"; say "could not record the check of $img in $record"; }`,
    '}',
    'freekb() { df -P "$1" | awk \'NR == 2 { print $4 }\'; }',
    '[ -f "$img" ] || { say "no image $img to rebuild"; exit 1; }',
    ...(o.checkFirst && o.tool === 'dracut' ? [`if listing=$(${lister} "$img" 2>/dev/null) && [ -n "$listing" ] && ! printf '%s\\n' "$listing" | grep -Eq '${omitted}'; then`, '  record_listing "$listing"', '  say "$img has no $omit: not rebuilt"', '  exit 0', 'fi'] : []),
    'size=$(stat -c %s "$img")',
    'need=$(( (size * factor + 1023) / 1024 ))',
    'have=$(freekb "${img%/*}")',
    '[ -n "$have" ] && [ "$have" -ge "$need" ] || { say "not enough free space in ${img%/*}: ${have:-?} KiB free, need $need KiB (${factor}x the image); nothing changed"; exit 1; }',
    'mkdir -p "${prev%/*}" "${orig%/*}" "$state" || exit 1',
    'bhave=$(freekb "${prev%/*}")',
    '[ -n "$bhave" ] && [ "$bhave" -ge "$need" ] || { say "not enough free space for the backup in ${prev%/*}; nothing changed"; exit 1; }',
    'sum0=$(sum "$img")',
    'cp -p "$img" "$prev.tmp" && [ "$(sum "$prev.tmp")" = "$sum0" ] && keep "$prev.tmp" "$prev" "$sum0" || { rm -f "$prev.tmp"; say "backup copy of $img failed or does not match; nothing changed"; exit 1; }',
    'if [ ! -e "$orig" ]; then',
    '  cp -p "$prev" "$orig.tmp" && [ "$(sum "$orig.tmp")" = "$sum0" ] && keep "$orig.tmp" "$orig" "$sum0" || { rm -f "$orig.tmp"; say "backup copy to $orig failed; nothing changed"; exit 1; }',
    'fi',
    'say "backed up $img (sha256 $sum0) to $prev"',
    'restore() {',
    '  say "$1; restoring $img from $prev"',
    // Copy beside the image then rename; if /boot is full (dracut filled it) drop the broken image first.
    '  if ! { cp -p "$prev" "$img.gpufleet-restore" && mv -f "$img.gpufleet-restore" "$img"; }; then',
    '    rm -f "$img.gpufleet-restore" "$img"',
    '    cp -p "$prev" "$img"',
    '  fi',
    '  if [ -f "$img" ] && [ "$(sum "$img")" = "$sum0" ]; then say "restored $img (sha256 $sum0); the host boots the old image"; exit ' + INITRAMFS_EXIT.restored + '; fi',
    '  say "RESTORE FAILED: $img does not match its backup $prev; do not reboot this host until it is fixed"',
    '  exit ' + INITRAMFS_EXIT.restoreFailed,
    '}',
    `${build} || restore "${o.tool} failed with exit code $?"`,
    `listing=$(${lister} "$img" 2>/dev/null) || restore "${lister} cannot read the new image"`,
    '[ -n "$listing" ] || restore "the new image lists no files"',
    ...(o.tool === 'dracut' ? [`if printf '%s\\n' "$listing" | grep -Eq '${omitted}'; then restore "the new image still contains $omit"; fi`] : []),
    'cat /proc/sys/kernel/random/boot_id > "$booted" 2>/dev/null || true',
    'record_listing "$listing"',
    'say "rebuilt $img for $kver without $omit (sha256 $(sum "$img"))"',
    markRebootScript(`initramfs.rebuild: ${o.image} rebuilt`, root),
    '',
  ].join('\n')
}
