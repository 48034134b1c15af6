import { z } from 'zod'
import { bootConfig, type BootConfig } from '../facts/boot-config.js'
import { bootRefusal, detectStack } from '../facts/boot-stack.js'
import { kernelCmdline, type CmdlineFact } from '../facts/kernel-cmdline.js'
import { moduleName, modprobeConfig, type ModprobeConfig, type ModprobeOption } from '../facts/modprobe-config.js'
import { defineTask, type Plan } from './define.js'
import { gpufleetBackups } from '../facts/gpufleet-backups.js'
import { rebootSentinel } from '../facts/reboot-sentinel.js'
import { argKey, kernelArgSchema, sameArg, spellingOf } from './lib/kernel-arg-schema.js'
import { planPersistent } from './kernel-arg-persistent.js'
import { planTrial } from './kernel-arg-trial.js'

// Ensures kernel arguments are present/absent on the boot entry that boots next (as petitboot picks
// it), and wherever the host's boot stack takes a later kernel's command line from (every BLS entry
// and kernelopts on EL8, /etc/kernel/cmdline on EL9, GRUB_CMDLINE_LINUX + update-grub on Ubuntu,
// GRUB_CMDLINE_LINUX everywhere), so a kernel update boots prepared. A host whose boot stack
// gpufleet cannot edit safely is refused before any change (see facts/boot-stack.ts).
//
//   - name: Add vfio-pci.disable_idle_d3=1 to the next boot entry
//     kernel.arg: { present: [vfio-pci.disable_idle_d3=1] }
//   - kernel.arg: { present: [vfio-pci.disable_idle_d3=1], mode: trial }   # the guide's way, see boot.promote

export { bootConfigFiles, TRIAL_SUFFIX } from './boot-config-files.js'
export { entryName, trialEntryOf } from './kernel-arg-trial.js'

// Args schema: checked when the playbook loads, exported by `gpufleet schema`.
export const kernelArgArgs = z
  .object({
    present: z.array(kernelArgSchema).default([]).describe('arguments that must be on the next boot entry'),
    absent: z.array(kernelArgSchema).default([]).describe('arguments (or bare parameter names) that must not be'),
    mode: z.enum(['persistent', 'trial']).default('persistent').describe("persistent: edit the entry in place; trial: copy it to a '<title> - gpufleet' entry booted once (grub2-reboot), promoted by boot.promote after verify"),
    modprobeOptions: z
      .boolean()
      .default(false)
      .describe(
        'count a module parameter (module.param=value) as present when /etc/modprobe.d sets it (`options vfio-pci disable_idle_d3=1`, either module spelling, 1/Y/y alike for a bool): right only where the module is loadable (not built into the kernel) and the initramfs carries the same modprobe.d; off by default',
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

// The refusal of a boot stack gpufleet cannot edit safely (facts/boot-stack.ts), as a plan.
function refusalOf(input: KernelArgArgs, boot: BootConfig): Extract<Plan, { kind: 'fail' }> | undefined {
  const refusal = bootRefusal(boot, input.mode)
  if (!refusal) return undefined
  return { kind: 'fail', reason: `refused before any change: ${refusal}`, evidence: { style: boot.style, source: boot.source, tools: boot.tools, platform: boot.platform } }
}

// The kernel.arg task.
export const kernelArg = defineTask<KernelArgArgs, KernelArgFacts>({
  name: 'kernel.arg',
  summary: 'kernel arguments present/absent on the entry that boots next and wherever later kernels take theirs from (EL7 grubby, EL8/EL9 BLS, Ubuntu update-grub), or a one-time trial entry',
  phase: 'stage',
  facts: { boot: bootConfig, cmdline: kernelCmdline, modprobe: modprobeConfig },
  writes: [bootConfig, rebootSentinel, gpufleetBackups],
  args: kernelArgArgs,
  // A boot stack gpufleet cannot edit safely is refused before anything changes (the runner asks
  // before the first task of the run; plan() says the same).
  preflight: (input, { boot }) => refusalOf(input, boot),
  plan(input, { boot, cmdline, modprobe }) {
    const refused = refusalOf(input, boot)
    const stack = detectStack(boot)
    if (refused || !stack.ok) return refused ?? { kind: 'fail', reason: `refused before any change: ${stack.ok ? '' : stack.reason}` }
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
    const what = describe(input)
    if (args.mode === 'trial') return planTrial({ ...args, what }, boot, next, cmdline, found)
    return planPersistent(stack.stack, { ...args, what, found }, boot, next, cmdline)
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
