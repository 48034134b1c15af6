import type { BootConfig, BootEntry } from '../facts/boot-config.js'
import type { BootStack } from '../facts/boot-stack.js'
import { splitCmdline, type CmdlineFact } from '../facts/kernel-cmdline.js'
import { command } from '../shell.js'
import { backupStep } from './lib/backup-script.js'
import { bootConfigFiles, TRIAL_SUFFIX } from './boot-config-files.js'
import { change, noop, type Plan, type Step } from './define.js'
import { setGrubCmdlineLinux, setGrubVar } from './lib/grub-defaults-edit.js'
import { applyArgEdits, argEdits, argsSatisfied } from './lib/kernel-arg-schema.js'
import { markRebootStep } from './lib/reboot-marker.js'

// What a persistent kernel.arg plan needs of its args.
export interface ArgRequest {
  present: string[]
  absent: string[]
  what: string // '+vfio-pci.disable_idle_d3=1' for reasons
  found: string // ' (found … as …)' for no-op reasons, or ''
}

type Edits = { add: string[]; remove: string[] }
const empty = (e: Edits) => e.add.length + e.remove.length === 0

// The persistent plan of one boot stack. Every stack keeps the argument where the NEXT kernel
// installed takes its command line from, so a kernel update boots prepared:
//   el7: the next entry (grubby) + GRUB_CMDLINE_LINUX (new-kernel-pkg copies the default entry's args);
//   el8: every BLS entry and grubenv kernelopts (grubby --update-kernel=ALL) + GRUB_CMDLINE_LINUX;
//   el9: every BLS entry (literal options) + GRUB_CMDLINE_LINUX + /etc/kernel/cmdline (kernel-install);
//   ubuntu: GRUB_CMDLINE_LINUX + update-grub (every generated entry, and the ones later kernels get).
export function planPersistent(stack: BootStack, req: ArgRequest, boot: BootConfig, next: BootEntry, cmdline: CmdlineFact): Plan {
  if (stack === 'el7') return planEl7(req, boot, next, cmdline)
  if (stack === 'ubuntu') return planUbuntu(req, boot, next, cmdline)
  return planBls(stack, req, boot, next, cmdline)
}

function noopOrPending(req: ArgRequest, where: string, cmdline: CmdlineFact): Plan {
  if (argsSatisfied(cmdline.args, req.present, req.absent)) return noop(`${req.what} ${where} and live in /proc/cmdline${req.found}`)
  return noop(`${req.what} ${where} but not live yet: pending reboot${req.found}`, ['pending reboot: /proc/cmdline does not match the next boot entry'])
}

function defaultGrubEdits(boot: BootConfig, req: ArgRequest): Edits {
  return boot.defaultGrub ? argEdits(boot.defaultGrub.cmdlineLinux, req.present, req.absent) : { add: [], remove: [] }
}

function defaultGrubStep(boot: BootConfig, req: ArgRequest, edits: Edits): Step {
  const dg = boot.defaultGrub!
  return { kind: 'write', description: `GRUB_CMDLINE_LINUX in /etc/default/grub: ${req.what}`, path: '/etc/default/grub', content: setGrubCmdlineLinux(dg, applyArgEdits(dg.cmdlineLinux, edits)), mode: '0644', owner: 'root:root' }
}

function grubby(target: string, e: Edits): string {
  const cmd = ['grubby', `--update-kernel=${target}`]
  if (e.add.length) cmd.push(`--args=${e.add.join(' ')}`)
  if (e.remove.length) cmd.push(`--remove-args=${e.remove.join(' ')}`)
  return command(...cmd)
}

function diffOf(next: BootEntry, e: Edits): string {
  return `- ${next.args.join(' ')}\n+ ${applyArgEdits(next.args, e).join(' ')}\n`
}

// EL7: C grubby edits grub.cfg; new-kernel-pkg gives a new kernel the default entry's arguments.
function planEl7(req: ArgRequest, boot: BootConfig, next: BootEntry, cmdline: CmdlineFact): Plan {
  const edits = argEdits(next.args, req.present, req.absent)
  const dgEdits = defaultGrubEdits(boot, req)
  const live = argsSatisfied(cmdline.args, req.present, req.absent)
  if (empty(edits) && empty(dgEdits)) return noopOrPending(req, `on '${next.title}' (boots next via ${boot.nextVia})`, cmdline)
  const hasGrubby = boot.tools.includes('grubby')
  const dg = boot.defaultGrub
  if (!hasGrubby && !dg) return { kind: 'fail', reason: 'no grubby and no /etc/default/grub: cannot change kernel arguments', evidence: { tools: boot.tools } }
  if (!hasGrubby && !boot.tools.includes('grub2-mkconfig')) return { kind: 'fail', reason: 'no grubby and no grub2-mkconfig: cannot regenerate grub.cfg', evidence: { tools: boot.tools } }
  const steps: Step[] = [backupStep('the boot configuration', bootConfigFiles(boot))]
  if (!empty(edits) && hasGrubby) steps.push({ kind: 'run', description: `grubby: ${req.what} on ${next.kernel}`, command: grubby(next.kernel, edits) })
  if (dg && !empty(dgEdits)) steps.push(defaultGrubStep(boot, req, dgEdits))
  if (!hasGrubby) {
    const out = boot.grubCfgPath ?? '/boot/grub2/grub.cfg'
    steps.push({ kind: 'run', description: `regenerate ${out}`, command: command('grub2-mkconfig', '-o', out) })
  }
  const changedEntry = !empty(edits)
  if (changedEntry || !live) steps.push(markRebootStep(`kernel.arg: ${req.what}`))
  return change(changedEntry ? `${req.what} on '${next.title}' (boots next via ${boot.nextVia})` : `${req.what} in /etc/default/grub (entry already has them)`, steps, {
    diff: diffOf(next, edits),
    rebootPending: changedEntry || !live,
  })
}

// EL8/EL9 BLS: every installed entry, grubenv kernelopts (EL8, where entries say `$kernelopts`),
// GRUB_CMDLINE_LINUX (grub2-mkconfig rewrites BLS options from it on EL9) and /etc/kernel/cmdline
// (kernel-install's 20-grub.install writes it into a new kernel's entry on EL9).
function planBls(stack: 'el8' | 'el9', req: ArgRequest, boot: BootConfig, next: BootEntry, cmdline: CmdlineFact): Plan {
  const entries = boot.entries.filter((e) => !e.title.endsWith(TRIAL_SUFFIX))
  const stale = entries.filter((e) => !argsSatisfied(e.args, req.present, req.absent))
  const ko = boot.grubenv.kernelopts
  const koEdits = ko !== undefined ? argEdits(splitCmdline(ko), req.present, req.absent) : { add: [], remove: [] }
  const dgEdits = defaultGrubEdits(boot, req)
  const kc = boot.platform.kernelCmdline
  const kcEdits = kc ? argEdits(kc, req.present, req.absent) : { add: [], remove: [] }
  const where = `on all ${entries.length} boot entr${entries.length === 1 ? 'y' : 'ies'}${ko !== undefined ? ', kernelopts' : ''}${kc ? ', /etc/kernel/cmdline' : ''}`
  if (stale.length === 0 && empty(koEdits) && empty(dgEdits) && empty(kcEdits)) return noopOrPending(req, where, cmdline)
  const steps: Step[] = [backupStep('the boot configuration', bootConfigFiles(boot))]
  if (!empty(koEdits)) {
    // grubby-bls --update-kernel=ALL edits kernelopts and every entry with literal options: one call.
    const all = { add: [...new Set([...koEdits.add, ...stale.flatMap((e) => argEdits(e.args, req.present, req.absent).add)])], remove: [...new Set([...koEdits.remove, ...stale.flatMap((e) => argEdits(e.args, req.present, req.absent).remove)])] }
    steps.push({ kind: 'run', description: `grubby: ${req.what} on every entry and kernelopts`, command: grubby('ALL', all) })
  } else {
    // Only some entries differ: each gets its own edits, so another spelling on one is kept.
    for (const e of stale) steps.push({ kind: 'run', description: `grubby: ${req.what} on ${e.kernel}`, command: grubby(e.kernel, argEdits(e.args, req.present, req.absent)) })
  }
  if (boot.defaultGrub && !empty(dgEdits)) steps.push(defaultGrubStep(boot, req, dgEdits))
  if (kc && !empty(kcEdits)) {
    steps.push({ kind: 'write', description: `/etc/kernel/cmdline: ${req.what}`, path: '/etc/kernel/cmdline', content: applyArgEdits(kc, kcEdits).join(' ') + '\n', mode: '0644', owner: 'root:root' })
  }
  const nextEdits = argEdits(next.args, req.present, req.absent)
  const live = argsSatisfied(cmdline.args, req.present, req.absent)
  const pending = !empty(nextEdits) || !live
  if (pending) steps.push(markRebootStep(`kernel.arg: ${req.what}`))
  const parts = [stale.length ? `${stale.length} of ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}` : '', !empty(koEdits) ? 'kernelopts' : '', !empty(dgEdits) ? 'GRUB_CMDLINE_LINUX' : '', !empty(kcEdits) ? '/etc/kernel/cmdline' : '']
  return change(`${req.what} on ${parts.filter(Boolean).join(', ')} (${stack.toUpperCase()} BLS; '${next.title}' boots next via ${boot.nextVia})`, steps, { diff: diffOf(next, nextEdits), rebootPending: pending })
}

// Ubuntu: update-grub regenerates grub.cfg from GRUB_CMDLINE_LINUX, for the kernels installed now
// and (from the kernel package's zz-update-grub hook) for every one installed later.
function planUbuntu(req: ArgRequest, boot: BootConfig, next: BootEntry, cmdline: CmdlineFact): Plan {
  const dg = boot.defaultGrub
  if (!dg) return { kind: 'fail', reason: 'no /etc/default/grub: update-grub has no GRUB_CMDLINE_LINUX to generate entries from', evidence: { tools: boot.tools } }
  const dgEdits = defaultGrubEdits(boot, req)
  // An absent word must leave GRUB_CMDLINE_LINUX_DEFAULT too (update-grub appends it to normal entries).
  const dflt = splitCmdline(dg.vars.GRUB_CMDLINE_LINUX_DEFAULT ?? '')
  const dfltEdits = { add: [], remove: argEdits(dflt, [], req.absent).remove }
  const stale = boot.entries.filter((e) => !argsSatisfied(e.args, req.present, req.absent))
  if (empty(dgEdits) && empty(dfltEdits) && stale.length === 0) return noopOrPending(req, `in GRUB_CMDLINE_LINUX and on all ${boot.entries.length} grub.cfg entries`, cmdline)
  const regen = boot.tools.includes('update-grub') ? command('update-grub') : boot.tools.includes('grub-mkconfig') ? command('grub-mkconfig', '-o', boot.grubCfgPath ?? '/boot/grub/grub.cfg') : undefined
  if (!regen) return { kind: 'fail', reason: 'neither update-grub nor grub-mkconfig is installed: cannot regenerate grub.cfg', evidence: { tools: boot.tools } }
  const steps: Step[] = [backupStep('the boot configuration', bootConfigFiles(boot))]
  let text = dg.raw
  if (!empty(dgEdits)) text = setGrubVar(text, 'GRUB_CMDLINE_LINUX', applyArgEdits(dg.cmdlineLinux, dgEdits))
  if (!empty(dfltEdits)) text = setGrubVar(text, 'GRUB_CMDLINE_LINUX_DEFAULT', applyArgEdits(dflt, dfltEdits))
  if (text !== dg.raw) steps.push({ kind: 'write', description: `GRUB_CMDLINE_LINUX in /etc/default/grub: ${req.what}`, path: '/etc/default/grub', content: text, mode: '0644', owner: 'root:root' })
  steps.push({ kind: 'run', description: `regenerate ${boot.grubCfgPath ?? '/boot/grub/grub.cfg'} (update-grub)`, command: regen })
  const nextEdits = argEdits(next.args, req.present, req.absent)
  const live = argsSatisfied(cmdline.args, req.present, req.absent)
  const pending = !empty(nextEdits) || !live
  if (pending) steps.push(markRebootStep(`kernel.arg: ${req.what}`))
  return change(`${req.what} in GRUB_CMDLINE_LINUX and ${stale.length} of ${boot.entries.length} grub.cfg entries (update-grub; '${next.title}' boots next via ${boot.nextVia})`, steps, {
    diff: diffOf(next, nextEdits),
    rebootPending: pending,
  })
}
