import { z } from 'zod'
import { bootConfig, type BootConfig, type BootEntry } from '../facts/boot-config.js'
import { kernelCmdline, type CmdlineFact } from '../facts/kernel-cmdline.js'
import { moduleName, modprobeConfig, type ModprobeConfig, type ModprobeOption } from '../facts/modprobe-config.js'
import { gpufleetBackups } from '../facts/gpufleet-backups.js'
import { rebootSentinel } from '../facts/reboot-sentinel.js'
import { command } from '../shell.js'
import { backupStep } from './lib/backup-script.js'
import { change, defineTask, noop, type Plan, type Step } from './define.js'
import { setGrubCmdlineLinux } from './lib/grub-defaults-edit.js'
import { applyArgEdits, argEdits, argKey, argsSatisfied, kernelArgSchema, sameArg, spellingOf } from './lib/kernel-arg-schema.js'
import { markRebootStep } from './lib/reboot-marker.js'

// Ensures kernel arguments are present/absent on the boot entry that boots next (as petitboot picks
// it), and in GRUB_CMDLINE_LINUX so a later grub2-mkconfig keeps them.
//
//   - name: Add vfio-pci.disable_idle_d3=1 to the next boot entry
//     kernel.arg: { present: [vfio-pci.disable_idle_d3=1] }
//   - kernel.arg: { present: [vfio-pci.disable_idle_d3=1], mode: trial }   # the guide's way, see boot.promote

// Title suffix of trial entries (the guide appended ' - testing' to its copy).
export const TRIAL_SUFFIX = ' - gpufleet'

// Args schema: checked when the playbook loads, exported by `gpufleet schema`.
export const kernelArgArgs = z
  .object({
    present: z.array(kernelArgSchema).default([]).describe('arguments that must be on the next boot entry'),
    absent: z.array(kernelArgSchema).default([]).describe('arguments (or bare parameter names) that must not be'),
    mode: z
      .enum(['persistent', 'trial'])
      .default('persistent')
      .describe("persistent: edit the entry in place; trial: copy it to a '<title> - gpufleet' entry booted once (grub2-reboot), promoted by boot.promote after verify"),
    modprobeOptions: z
      .boolean()
      .default(false)
      .describe(
        "count a module parameter (module.param=value) as present when /etc/modprobe.d sets it (`options vfio-pci disable_idle_d3=1`, either module spelling, 1/Y/y alike for a bool): right only where the module is loadable (not built into the kernel) and the initramfs carries the same modprobe.d; off by default",
      ),
  })
  .strict()
  .refine((a) => a.present.length + a.absent.length > 0, 'give at least one argument in present or absent')
// The args plan() receives: validated, with defaults applied.
export type KernelArgArgs = z.output<typeof kernelArgArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface KernelArgFacts extends Record<string, unknown> {
  boot: BootConfig
  cmdline: CmdlineFact
  modprobe: ModprobeConfig
}

// Files a boot-config edit may touch: all are backed up before the first change.
export function bootConfigFiles(boot: BootConfig): string[] {
  const files = ['/etc/default/grub']
  if (boot.grubCfgPath) files.push(boot.grubCfgPath)
  files.push('/boot/grub2/grubenv')
  // Trial entries are gpufleet's own files: a backup of one is not an "original".
  for (const e of boot.entries) if (e.file && !e.title.endsWith(TRIAL_SUFFIX)) files.push(e.file)
  return [...new Set(files)]
}

// The kernel.arg task.
export const kernelArg = defineTask<KernelArgArgs, KernelArgFacts>({
  name: 'kernel.arg',
  summary: 'kernel arguments present/absent on the entry that boots next (grubby + /etc/default/grub, or a one-time trial entry)',
  phase: 'stage',
  facts: { boot: bootConfig, cmdline: kernelCmdline, modprobe: modprobeConfig },
  writes: [bootConfig, rebootSentinel, gpufleetBackups],
  args: kernelArgArgs,
  plan(input, { boot, cmdline, modprobe }) {
    const next = boot.next
    if (!next) return { kind: 'fail', reason: 'cannot tell which boot entry boots next (no grubby, BLS entries or grub.cfg menuentries found)', evidence: { source: boot.source } }
    // Words modprobe.d already sets (when the playbook allows it) need no kernel argument, unless
    // the entry carries another value for them: the kernel command line wins over modprobe.d.
    const byModprobe = new Map<string, ModprobeOption>()
    if (input.modprobeOptions) {
      for (const p of input.present) {
        const o = modprobeOption(modprobe, p)
        if (o && !next.args.some((c) => argKey(c) === argKey(p) && !sameArg(c, p))) byModprobe.set(p, o)
      }
    }
    const args = { ...input, present: input.present.filter((p) => !byModprobe.has(p)) }
    const found = spellings(input.present, next.args, byModprobe)
    if (args.mode === 'trial') return planTrial(args, boot, next, cmdline, found)
    const edits = argEdits(next.args, args.present, args.absent)
    const live = argsSatisfied(cmdline.args, args.present, args.absent)
    const dg = boot.defaultGrub
    const dgEdits = dg ? argEdits(dg.cmdlineLinux, args.present, args.absent) : { add: [], remove: [] }
    const dgChanged = dgEdits.add.length + dgEdits.remove.length > 0
    const what = describe(input)
    if (edits.add.length + edits.remove.length === 0 && !dgChanged) {
      if (live) return noop(`${what} on '${next.title}' (boots next via ${boot.nextVia}) and live in /proc/cmdline${found}`)
      return noop(`${what} on '${next.title}' but not live yet: pending reboot${found}`, ['pending reboot: /proc/cmdline does not match the next boot entry'])
    }
    const hasGrubby = boot.tools.includes('grubby')
    if (!hasGrubby && !dg) return { kind: 'fail', reason: 'no grubby and no /etc/default/grub: cannot change kernel arguments', evidence: { tools: boot.tools } }
    if (!hasGrubby && !boot.tools.includes('grub2-mkconfig')) return { kind: 'fail', reason: 'no grubby and no grub2-mkconfig: cannot regenerate grub.cfg', evidence: { tools: boot.tools } }
    const steps: Step[] = [backupStep('the boot configuration', bootConfigFiles(boot))]
    if (edits.add.length + edits.remove.length > 0 && hasGrubby) {
      const cmd = ['grubby', `--update-kernel=${next.kernel}`]
      if (edits.add.length) cmd.push(`--args=${edits.add.join(' ')}`)
      if (edits.remove.length) cmd.push(`--remove-args=${edits.remove.join(' ')}`)
      steps.push({ kind: 'run', description: `grubby: ${what} on ${next.kernel}`, command: command(...cmd) })
    }
    if (dg && dgChanged) {
      steps.push({
        kind: 'write',
        description: `GRUB_CMDLINE_LINUX in /etc/default/grub: ${what}`,
        path: '/etc/default/grub',
        content: setGrubCmdlineLinux(dg, applyArgEdits(dg.cmdlineLinux, dgEdits)),
        mode: '0644',
        owner: 'root:root',
      })
    }
    if (!hasGrubby) {
      const out = boot.grubCfgPath ?? '/boot/grub2/grub.cfg'
      steps.push({ kind: 'run', description: `regenerate ${out}`, command: command('grub2-mkconfig', '-o', out) })
    }
    const after = applyArgEdits(next.args, edits)
    const changedEntry = edits.add.length + edits.remove.length > 0
    if (changedEntry || !live) steps.push(markRebootStep(`kernel.arg: ${what}`))
    return change(
      changedEntry ? `${what} on '${next.title}' (boots next via ${boot.nextVia})` : `${what} in /etc/default/grub (entry already has them)`,
      steps,
      { diff: `- ${next.args.join(' ')}\n+ ${after.join(' ')}\n`, rebootPending: changedEntry || !live },
    )
  },
})

// `options` in modprobe.d that give a module parameter word (module.param=value) its value: the
// last line for that parameter wins, as when modprobe passes them to the module.
function modprobeOption(modprobe: ModprobeConfig | undefined, word: string): ModprobeOption | undefined {
  const key = argKey(word)
  const dot = key.indexOf('.')
  if (dot <= 0) return undefined
  const [mod, param] = [moduleName(key.slice(0, dot)), key.slice(dot + 1)]
  const last = (modprobe?.options ?? []).filter((o) => o.module === mod && o.param.replace(/-/g, '_') === param).pop()
  if (!last) return undefined
  return sameArg(`${mod}.${last.param}${last.value === undefined ? '' : `=${last.value}`}`, word) ? last : undefined
}

// What satisfied each present word when it is not the word itself: another spelling on the entry,
// or a modprobe.d line. Named in the no-op reason so an admin sees why nothing was rewritten.
function spellings(present: string[], entry: string[], byModprobe: Map<string, ModprobeOption>): string {
  const parts: string[] = []
  for (const p of present) {
    const o = byModprobe.get(p)
    if (o) parts.push(`${p} as '${o.line}' in ${o.file}`)
    else {
      const w = spellingOf(entry, p)
      if (w && w !== p) parts.push(`${p} as ${w}`)
    }
  }
  return parts.length ? ` (found ${parts.join('; ')})` : ''
}

function describe(args: KernelArgArgs): string {
  return [...args.present.map((a) => `+${a}`), ...args.absent.map((a) => `-${a}`)].join(' ')
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

function planTrial(args: KernelArgArgs, boot: BootConfig, next: BootEntry, cmdline: CmdlineFact, found = ''): Plan {
  const what = describe(args)
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
    return change(`boot trial entry '${existing.title}' once at the next reboot`, [
      { kind: 'run', description: `grub2-reboot '${existing.title}'`, command: command('grub2-reboot', existing.title) },
      markRebootStep(`kernel.arg trial: boot '${existing.title}' once`),
    ], { rebootPending: true })
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
