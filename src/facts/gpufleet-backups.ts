import { quote } from '../shell.js'
import { defineFact } from './define.js'

// Backups live on the host, mirroring absolute paths: <dir>/orig/<path> is the first copy gpufleet
// ever took (the pre-gpufleet state rollback restores), <dir>/prev/<path> the copy taken just before
// the latest change (what a failed dracut restores).
export const BACKUP_DIR = '/var/lib/gpufleet/backup'

// One backed-up file and whether the original still matches it.
export interface BackupFile {
  kind: 'orig' | 'prev'
  path: string // the original absolute path
  backup: string // where the copy is
  sizeBytes: number
  sha256: string
  currentSha256?: string // of the original path now; undefined when it no longer exists
}

// `<backup>.sha256` beside each copy, in sha256sum's format (`<hex>  <path>`): the checksum the
// backup step verified the copy against when it took it. The fact reads it instead of hashing the
// copy (an initramfs is tens of MB); a copy without one (taken by an older gpufleet, or a sidecar
// lost mid-write) is hashed as before. A restore checks its copy against this recorded sum, so a
// backup damaged since it was taken is refused rather than restored.
export const BACKUP_SUM_SUFFIX = '.sha256'

// The fact's shell text; `root` prefixes every path so tests can run it against a temp tree.
// The live file is always hashed: whether it still matches its original is what rollback asks.
export function gpufleetBackupsCommand(root = ''): string {
  const dir = quote(`${root}${BACKUP_DIR}/orig`)
  return [
    `[ -d ${dir} ] || exit 0`,
    `cd ${dir} && find . -type f ! -name '*.tmp' ! -name '*${BACKUP_SUM_SUFFIX}' | LC_ALL=C sort | while IFS= read -r f; do`,
    '  p=${f#.}',
    // stderr first: a missing live file's `<` error goes to /dev/null too (redirections apply in order).
    `  c=$(sha256sum 2>/dev/null < ${root ? quote(root) : ''}"$p" | cut -d " " -f 1); [ -n "$c" ] || c=-`,
    `  s=$(sed -n '1s/^\\([0-9a-f]\\{64\\}\\) .*/\\1/p' "$f${BACKUP_SUM_SUFFIX}" 2>/dev/null)`,
    '  [ -n "$s" ] || s=$(sha256sum < "$f" | cut -d " " -f 1)',
    '  echo "orig $(stat -c %s "$f") $s $c $p"',
    'done',
  ].join('\n')
}

// Every file under orig/ with its checksum (from its sidecar) and the checksum of the live file.
export const gpufleetBackups = defineFact({
  name: 'gpufleet.backups',
  command: gpufleetBackupsCommand(),
  parse(stdout): BackupFile[] {
    const files: BackupFile[] = []
    for (const line of stdout.split('\n')) {
      const m = /^(orig|prev) (\d+) ([0-9a-f]{64}) ([0-9a-f]{64}|-) (\/.*)$/.exec(line.trim())
      if (!m) continue
      const kind = m[1] as 'orig' | 'prev'
      files.push({
        kind,
        path: m[5],
        backup: `${BACKUP_DIR}/${kind}${m[5]}`,
        sizeBytes: Number(m[2]),
        sha256: m[3],
        ...(m[4] !== '-' ? { currentSha256: m[4] } : {}),
      })
    }
    return files
  },
})
