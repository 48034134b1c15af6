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

// Every file under orig/ with its checksum and the checksum of the file it was copied from.
export const gpufleetBackups = defineFact({
  name: 'gpufleet.backups',
  command: [
    `[ -d ${BACKUP_DIR}/orig ] || exit 0`,
    `cd ${BACKUP_DIR}/orig && find . -type f ! -name '*.tmp' | LC_ALL=C sort | while IFS= read -r f; do`,
    '  p=${f#.}',
    '  c=$(sha256sum < "$p" 2>/dev/null | cut -d " " -f 1); [ -n "$c" ] || c=-',
    '  echo "orig $(stat -c %s "$f") $(sha256sum < "$f" | cut -d " " -f 1) $c $p"',
    'done',
  ].join('\n'),
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
