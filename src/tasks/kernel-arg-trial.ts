import type { BootConfig, BootEntry } from '../facts/boot-config.js'
import type { CmdlineFact } from '../facts/kernel-cmdline.js'
import { command } from '../shell.js'
import { backupStep } from './lib/backup-script.js'
import { bootConfigFiles, TRIAL_SUFFIX } from './boot-config-files.js'
import { change, noop, type Plan } from './define.js'
import { applyArgEdits, argEdits, argsSatisfied } from './lib/kernel-arg-schema.js'
import { markRebootStep } from './lib/reboot-marker.js'

// What kernel.arg's trial plan needs of its args.
export interface TrialRequest {
  present: string[]
  absent: string[]
  what: string // '+vfio-pci.disable_idle_d3=1' for reasons
}

// What grub2-set-default/grub2-reboot should name an entry by: a BLS id is unique (its file name);
// a legacy grub.cfg id is not (grubby copies it into the entries it adds), so legacy uses the title.
export function entryName(e: BootEntry): string {
  return e.file && e.id ? e.id : e.title
}

// The trial entry made from `base`: same kernel and initrd, title suffixed.
export function trialEntryOf(boot: BootConfig, base: BootEntry): BootEntry | undefined {
  const title = base.title.endsWith(TRIAL_SUFFIX) ? base.title : base.title + TRIAL_SUFFIX
  return boot.entries.find((e) => e.title === title)
}

export function planTrial(args: TrialRequest, boot: BootConfig, next: BootEntry, cmdline: CmdlineFact, found = ''): Plan {
  const what = args.what
  // The known-good entry is the default (saved_entry), not a one-shot next_entry.
  const base = boot.entries.find((e) => e.index === boot.defaultIndex) ?? next
  const liveOk = argsSatisfied(cmdline.args, args.present, args.absent)
  // The default entry already says it (in any spelling, or modprobe.d does): no trial needed.
  if (!base.title.endsWith(TRIAL_SUFFIX) && argsSatisfied(base.args, args.present, args.absent) && found) {
    return liveOk ? noop(`${what} on '${base.title}' and live in /proc/cmdline${found}`) : noop(`${what} on '${base.title}' but not live yet: pending reboot${found}`)
  }
  if (base.title.endsWith(TRIAL_SUFFIX) && argsSatisfied(base.args, args.present, args.absent)) {
    return liveOk ? noop(`trial entry '${base.title}' is the default and live`) : noop(`trial entry '${base.title}' is the default but not live: pending reboot`)
  }
  if (!boot.tools.includes('grub2-reboot')) return { kind: 'fail', reason: 'grub2-reboot is not installed: cannot boot a trial entry once', evidence: { tools: boot.tools } }
  const existing = trialEntryOf(boot, base)
  if (existing && argsSatisfied(existing.args, args.present, args.absent)) {
    if (boot.nextVia === 'next_entry' && boot.next?.index === existing.index) return noop(`trial entry '${existing.title}' boots once at the next reboot: pending reboot`)
    if (liveOk) return noop(`trial entry '${existing.title}' is booted and live; boot.promote makes it the default after verify`)
    return change(`boot trial entry '${existing.title}' once at the next reboot`, [{ kind: 'run', description: `grub2-reboot '${existing.title}'`, command: command('grub2-reboot', existing.title) }, markRebootStep(`kernel.arg trial: boot '${existing.title}' once`)], { rebootPending: true })
  }
  if (existing) return { kind: 'fail', reason: `trial entry '${existing.title}' exists with other arguments; remove it (rollback) first`, evidence: { args: existing.args } }
  if (!boot.tools.includes('grubby')) return { kind: 'fail', reason: 'trial mode needs grubby to add the trial entry', evidence: { tools: boot.tools } }
  if (!boot.tools.includes('grub2-set-default')) return { kind: 'fail', reason: 'trial mode needs grub2-set-default to keep the known-good entry the default', evidence: { tools: boot.tools } }
  const title = base.title + TRIAL_SUFFIX
  const words = applyArgEdits(base.args, argEdits(base.args, args.present, args.absent))
  const add = ['grubby', `--add-kernel=${base.kernel}`, `--title=${title}`, `--args=${words.join(' ')}`]
  if (base.initrd) add.push(`--initrd=${base.initrd}`)
  return change(
    `add trial entry '${title}' (${what}) and boot it once; '${base.title}' stays the default until boot.promote`,
    [
      backupStep('the boot configuration', bootConfigFiles(boot)),
      { kind: 'run', description: `grubby: add '${title}'`, command: command(...add) },
      // grubby may put the new entry first (or make it the default): pin the known-good entry by a
      // name that survives the index shift.
      { kind: 'run', description: `keep '${base.title}' the default`, command: command('grub2-set-default', entryName(base)) },
      { kind: 'run', description: `grub2-reboot '${title}'`, command: command('grub2-reboot', title) },
      markRebootStep(`kernel.arg trial: boot '${title}' once`),
    ],
    { diff: `- ${base.args.join(' ')}\n+ ${words.join(' ')}\n`, rebootPending: true, notes: [`a host that fails to boot '${title}' falls back to '${base.title}' on the next power cycle`] },
  )
}
