import { BACKUP_DIR } from '../facts/gpufleet-backups.js'
import { quote } from '../shell.js'
import type { Step } from './define.js'

// Shell text that copies each existing file to <backup>/prev/<path> (always) and <backup>/orig/<path>
// (only the first time: the pre-gpufleet state), verifying every copy with sha256 before it replaces
// an older one. `root` prefixes every path so tests can run it in a temp dir.
export function backupFilesScript(paths: string[], root = ''): string {
  const lines = [
    'set -u',
    `b=${quote(root + BACKUP_DIR)}`,
    'sum() { sha256sum < "$1" | cut -d " " -f 1; }',
    'backup_one() {',
    '  src=$1',
    '  [ -f "$src" ] || return 0',
    '  for kind in prev orig; do',
    '    dst="$b/$kind$2"',
    '    if [ "$kind" = orig ] && [ -e "$dst" ]; then continue; fi',
    '    mkdir -p "${dst%/*}" || return 1',
    '    cp -p "$src" "$dst.tmp" || return 1',
    '    if [ "$(sum "$src")" != "$(sum "$dst.tmp")" ]; then echo "gpufleet: the backup copy of $src does not match it" >&2; rm -f "$dst.tmp"; return 1; fi',
    '    mv -f "$dst.tmp" "$dst" || return 1',
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
