import { z } from 'zod'
import { dracutConfig, type DracutConfig } from '../facts/dracut-config.js'
import { gpufleetBackups, type BackupFile } from '../facts/gpufleet-backups.js'
import { command, quote } from '../shell.js'
import { change, defineTask, noop, type Step } from './define.js'
import { DRACUT_OMIT_CONF } from './lib/dracut-omit-conf.js'
import { markRebootScript } from './lib/reboot-marker.js'

// Puts back every initramfs image gpufleet rebuilt, from the orig/ copy taken before its first
// rebuild, verifying the sha256 of the restored image, and removes gpufleet's dracut drop-in (the
// omit_drivers+= line initramfs.rebuild wrote) so later dracut runs build stock images again.
//
//   - initramfs.restore: {}
export const initramfsRestoreArgs = z.object({}).strict()
// The args plan() receives: validated, with defaults applied.
export type InitramfsRestoreArgs = z.output<typeof initramfsRestoreArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface InitramfsRestoreFacts extends Record<string, unknown> {
  backups: BackupFile[]
  dracut: DracutConfig
}

function isImage(path: string): boolean {
  return /^\/boot\/(initramfs-.+\.img|initrd\.img-.+)$/.test(path)
}

// Restores one file from its backup: copies it beside the original, checks the copy's sha256
// against the one the plan saw, and only then renames it over the original (a damaged backup
// leaves the current image in place), then verifies the result.
export function restoreFileScript(b: BackupFile, root = ''): string {
  const dst = root + b.path
  const src = root + b.backup
  const tmp = dst + '.gpufleet-restore'
  return [
    'set -u',
    `if ! cp -p ${quote(src)} ${quote(tmp)}; then rm -f ${quote(tmp)}; echo ${quote(`gpufleet: cannot restore ${b.path}`)} >&2; exit 1; fi`,
    `if [ "$(sha256sum < ${quote(tmp)} | cut -d ' ' -f 1)" != ${quote(b.sha256)} ]; then rm -f ${quote(tmp)}; echo ${quote(`gpufleet: the backup ${b.backup} no longer matches its sha256; ${b.path} left as it is`)} >&2; exit 1; fi`,
    `mv -f ${quote(tmp)} ${quote(dst)} || { rm -f ${quote(tmp)}; echo ${quote(`gpufleet: cannot restore ${b.path}`)} >&2; exit 1; }`,
    `[ "$(sha256sum < ${quote(dst)} | cut -d ' ' -f 1)" = ${quote(b.sha256)} ] || { echo ${quote(`gpufleet: ${b.path} does not match its backup after restore`)} >&2; exit 1; }`,
    markRebootScript(`initramfs.restore: ${b.path} restored`, root),
    '',
  ].join('\n')
}

// The initramfs.restore task.
export const initramfsRestore = defineTask<InitramfsRestoreArgs, InitramfsRestoreFacts>({
  name: 'initramfs.restore',
  summary: 'restore initramfs images from the backups taken before gpufleet first rebuilt them',
  phase: 'stage',
  facts: { backups: gpufleetBackups, dracut: dracutConfig },
  args: initramfsRestoreArgs,
  plan(_args, { backups, dracut }) {
    const images = backups.filter((b) => b.kind === 'orig' && isImage(b.path))
    const stale = images.filter((b) => b.currentSha256 !== b.sha256)
    const conf = dracut.files.find((f) => f.path === DRACUT_OMIT_CONF)
    const imagesState = images.length ? `${images.length} initramfs image(s) match their original backups` : 'no initramfs backups: gpufleet never rebuilt one'
    if (stale.length === 0 && !conf) return noop(`${imagesState}; no ${DRACUT_OMIT_CONF}`)
    const steps: Step[] = stale.map((b) => ({ kind: 'run', description: `restore ${b.path} from ${b.backup}`, command: restoreFileScript(b), timeoutMs: 10 * 60_000 }))
    const what = stale.length ? [`restore ${stale.map((b) => b.path).join(', ')} from the original backups`] : []
    if (conf) {
      steps.push({ kind: 'run', description: `remove ${DRACUT_OMIT_CONF}`, command: command('rm', '-f', '--', DRACUT_OMIT_CONF) })
      what.push(`remove ${DRACUT_OMIT_CONF} (future initramfs builds keep their drivers)`)
    }
    // The drop-in only steers future dracut runs: removing it alone needs no reboot.
    return change(what.join('; ') + (stale.length ? '' : `; ${imagesState}`), steps, {
      ...(stale.length ? { rebootPending: true } : {}),
      ...(conf
        ? {
            diff: `--- ${DRACUT_OMIT_CONF}\n${conf.content
              .replace(/\n$/, '')
              .split('\n')
              .map((l) => '-' + l)
              .join('\n')}\n`,
          }
        : {}),
    })
  },
})
