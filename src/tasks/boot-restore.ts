import { z } from 'zod'
import { bootConfig, type BootConfig } from '../facts/boot-config.js'
import { BACKUP_DIR, BACKUP_SUM_SUFFIX, gpufleetBackups, type BackupFile } from '../facts/gpufleet-backups.js'
import { command, quote } from '../shell.js'
import { change, defineTask, noop, type Step } from './define.js'
import { TRIAL_SUFFIX } from './boot-config-files.js'
import { markRebootStep } from './lib/reboot-marker.js'

// Puts the boot configuration back as it was before gpufleet first touched it, from the orig/
// backups (/etc/default/grub, grub.cfg, grubenv, BLS entries), and removes '… - gpufleet' entries.
//
//   - boot.restore: {}
export const bootRestoreArgs = z.object({}).strict()
// The args plan() receives: validated, with defaults applied.
export type BootRestoreArgs = z.output<typeof bootRestoreArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface BootRestoreFacts extends Record<string, unknown> {
  boot: BootConfig
  backups: BackupFile[]
}

// Boot-config files, as opposed to initramfs images, among the backups.
export function isBootConfigBackup(path: string): boolean {
  return path === '/etc/default/grub' || path === '/etc/kernel/cmdline' || path.startsWith('/boot/grub2/') || path.startsWith('/boot/grub/') || path.startsWith('/boot/loader/entries/')
}

// The boot.restore task.
export const bootRestore = defineTask<BootRestoreArgs, BootRestoreFacts>({
  name: 'boot.restore',
  summary: 'restore the boot configuration from the backups taken before gpufleet first changed it',
  phase: 'stage',
  facts: { boot: bootConfig, backups: gpufleetBackups },
  args: bootRestoreArgs,
  plan(_args, { boot, backups }) {
    // Trial entries are gpufleet's own: always removed, and never restored from a backup (older
    // versions backed their files up before promoting them).
    const trials = boot.entries.filter((e) => e.title.endsWith(TRIAL_SUFFIX))
    const trialFiles = new Set(trials.flatMap((e) => (e.file ? [e.file] : [])))
    const candidates = backups.filter((b) => b.kind === 'orig' && isBootConfigBackup(b.path) && !trialFiles.has(b.path))
    // A BLS entry that no longer exists belonged to a kernel removed since: restoring it would
    // offer petitboot an entry whose kernel is gone.
    const differs = candidates.filter((b) => b.currentSha256 !== b.sha256 && !(b.currentSha256 === undefined && b.path.startsWith('/boot/loader/entries/')))
    // grubenv is rewritten by booting itself (next_entry cleared, boot_success): on its own it is
    // drift, not a gpufleet change, and restoring it would reboot the host on every rollback run.
    const changed = differs.filter((b) => !b.path.endsWith('/grubenv'))
    const extraBls = trials.filter((e) => e.file)
    const legacyTrials = trials.filter((e) => !e.file)
    const restore = changed.length > 0 || trials.length > 0 ? differs : []
    if (restore.length === 0 && trials.length === 0) {
      return noop(candidates.length ? `boot configuration matches its ${candidates.length} original backup file(s)` : 'no boot configuration backups: gpufleet never changed it')
    }
    const steps: Step[] = restore.map((b) => ({
      kind: 'run' as const,
      description: `restore ${b.path} from ${b.backup}`,
      command: [`cp -p ${quote(b.backup)} ${quote(b.path + '.gpufleet-restore')}`, `[ "$(sha256sum < ${quote(b.path + '.gpufleet-restore')} | cut -d ' ' -f 1)" = ${quote(b.sha256)} ]`, `mv -f ${quote(b.path + '.gpufleet-restore')} ${quote(b.path)}`].join(' && '),
    }))
    for (const e of extraBls) {
      steps.push({ kind: 'run', description: `remove trial entry '${e.title}'`, command: command('rm', '-f', '--', e.file!, ...['orig', 'prev'].flatMap((k) => [`${BACKUP_DIR}/${k}${e.file}`, `${BACKUP_DIR}/${k}${e.file}${BACKUP_SUM_SUFFIX}`])) })
    }
    // Legacy grub.cfg trial entries vanish with the restored grub.cfg; otherwise grubby removes them.
    if (legacyTrials.length > 0 && !restore.some((b) => b.path === boot.grubCfgPath)) {
      if (!boot.tools.includes('grubby')) {
        return { kind: 'fail', reason: `trial entries ${legacyTrials.map((e) => `'${e.title}'`).join(', ')} are in grub.cfg, which has no backup, and grubby is not installed to remove them`, evidence: { grubCfg: boot.grubCfgPath } }
      }
      for (const e of legacyTrials) steps.push({ kind: 'run', description: `remove trial entry '${e.title}'`, command: command('grubby', `--remove-kernel=TITLE=${e.title}`) })
    }
    steps.push(markRebootStep('boot.restore: original boot configuration restored'))
    const what = [...restore.map((b) => b.path), ...extraBls.map((e) => e.file!), ...legacyTrials.map((e) => `'${e.title}'`)]
    return change(`restore the original boot configuration (${what.join(', ')})`, steps, { rebootPending: true })
  },
})
