import { BACKUP_DIR, BACKUP_SUM_SUFFIX } from '../../facts/gpufleet-backups.js'
import { quote } from '../../shell.js'
import type { Step } from '../define.js'

// Shell function `keep <verified temp copy> <backup> <sha256>`: renames the copy into place with its
// sidecar <backup>.sha256 (sha256sum format, so `sha256sum -c` checks it; the gpufleet.backups fact
// reads it instead of hashing the copy). The old sidecar goes first and the new one lands last, so
// an interrupted keep leaves a copy without a sidecar (the fact then hashes it), never a copy paired
// with another copy's sum.
export const KEEP_BACKUP_FUNCTION = ['keep() {', `  rm -f "$2${BACKUP_SUM_SUFFIX}" && printf '%s  %s\\n' "$3" "$2" > "$2${BACKUP_SUM_SUFFIX}.tmp" && mv -f "$1" "$2" && mv -f "$2${BACKUP_SUM_SUFFIX}.tmp" "$2${BACKUP_SUM_SUFFIX}" || { rm -f "$2${BACKUP_SUM_SUFFIX}.tmp"; return 1; }`, '}'].join('\n')

// Shell text that copies each existing file to <backup>/prev/<path> (always) and <backup>/orig/<path>
// (only the first time: the pre-gpufleet state), verifying every copy with sha256 before it replaces
// an older one, and keeping that sum in its sidecar (KEEP_BACKUP_FUNCTION). `root` prefixes every
// path so tests can run it in a temp dir.
export function backupFilesScript(paths: string[], root = ''): string {
  const lines = [
    'set -u',
    `b=${quote(root + BACKUP_DIR)}`,
    'sum() { sha256sum < "$1" | cut -d " " -f 1; }',
    KEEP_BACKUP_FUNCTION,
    'backup_one() {',
    '  src=$1',
    '  [ -f "$src" ] || return 0',
    '  for kind in prev orig; do',
    '    dst="$b/$kind$2"',
    '    if [ "$kind" = orig ] && [ -e "$dst" ]; then continue; fi',
    '    mkdir -p "${dst%/*}" || return 1',
    '    cp -p "$src" "$dst.tmp" || return 1',
    '    s=$(sum "$dst.tmp")',
    '    if [ "$(sum "$src")" != "$s" ]; then echo "gpufleet: the backup copy of $src does not match it" >&2; rm -f "$dst.tmp"; return 1; fi',
    '    keep "$dst.tmp" "$dst" "$s" || { rm -f "$dst.tmp"; return 1; }',
    '  done',
    '}',
  ]
  for (const p of paths) lines.push(`backup_one ${quote(root + p)} ${quote(p)} || exit 1`)
  return lines.join('\n') + '\n'
}

// A step that backs up boot configuration files before they are edited.
export function backupStep(what: string, paths: string[]): Step {
  return { kind: 'run', description: `back up ${what} to ${BACKUP_DIR}`, command: backupFilesScript(paths) }
}
