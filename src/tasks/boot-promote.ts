import { z } from 'zod'
import { bootConfig, type BootConfig } from '../facts/boot-config.js'
import { kernelCmdline, type CmdlineFact } from '../facts/kernel-cmdline.js'
import { command } from '../shell.js'
import { change, defineTask, noop, type Step } from './define.js'
import { setGrubCmdlineLinux } from './lib/grub-defaults-edit.js'
import { applyArgEdits, argEdits } from './lib/kernel-arg-schema.js'
import { bootConfigFiles, TRIAL_SUFFIX } from './boot-config-files.js'
import { entryName } from './kernel-arg-trial.js'
import { backupStep } from './lib/backup-script.js'

// Makes the '<title> - gpufleet' trial entry the default once it has booted and verify passed
// (place it after host.verify in `roll`: a failed verify stops the host before this task).
//
//   roll:
//     - host.reboot: {}
//     - host.verify: {}
//     - boot.promote: {}
export const bootPromoteArgs = z.object({}).strict()
// The args plan() receives: validated, with defaults applied.
export type BootPromoteArgs = z.output<typeof bootPromoteArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface BootPromoteFacts extends Record<string, unknown> {
  boot: BootConfig
  cmdline: CmdlineFact
}

// The boot.promote task.
export const bootPromote = defineTask<BootPromoteArgs, BootPromoteFacts>({
  name: 'boot.promote',
  summary: "make the booted, verified '… - gpufleet' trial entry the default boot entry",
  phase: 'roll',
  facts: { boot: bootConfig, cmdline: kernelCmdline },
  args: bootPromoteArgs,
  plan(_args, { boot, cmdline }) {
    const trials = boot.entries.filter((e) => e.title.endsWith(TRIAL_SUFFIX))
    if (trials.length === 0) return noop('no trial entry to promote')
    const def = boot.entries.find((e) => e.index === boot.defaultIndex)
    if (def && def.title.endsWith(TRIAL_SUFFIX)) return noop(`trial entry '${def.title}' is already the default`)
    // The trial that is running is the one whose arguments are all live.
    const booted = trials.find((t) => t.args.every((a) => cmdline.args.includes(a)))
    if (!booted) return { kind: 'fail', reason: 'the trial entry is not the booted one: not promoting it', evidence: { cmdline: cmdline.raw, trials: trials.map((t) => ({ title: t.title, args: t.args.join(' ') })) } }
    const base = boot.entries.find((e) => e.title === booted.title.slice(0, -TRIAL_SUFFIX.length))
    const steps: Step[] = [backupStep('the boot configuration', bootConfigFiles(boot))]
    steps.push({ kind: 'run', description: `grub2-set-default '${booted.title}'`, command: command('grub2-set-default', entryName(booted)) })
    // Keep /etc/default/grub in step so a later grub2-mkconfig regenerates the same arguments.
    const dg = boot.defaultGrub
    if (dg && base) {
      const added = booted.args.filter((a) => !base.args.includes(a))
      const removed = base.args.filter((a) => !booted.args.includes(a))
      const edits = argEdits(dg.cmdlineLinux, added, removed)
      if (edits.add.length + edits.remove.length > 0) {
        steps.push({ kind: 'write', description: 'GRUB_CMDLINE_LINUX in /etc/default/grub', path: '/etc/default/grub', content: setGrubCmdlineLinux(dg, applyArgEdits(dg.cmdlineLinux, edits)), mode: '0644', owner: 'root:root' })
      }
    }
    return change(`promote '${booted.title}' to the default boot entry`, steps)
  },
})
