import { z } from 'zod'
import { bootConfig, type BootConfig } from '../facts/boot-config.js'
import { kernelCmdline, kernelModules, type CmdlineFact, type LoadedModule } from '../facts/host-basics.js'
import { initramfsStatus, type InitramfsStatus } from '../facts/initramfs-status.js'
import { modprobeConfig, type ModprobeConfig } from '../facts/modprobe-config.js'
import { rebootSentinel, type RebootSentinel } from '../facts/reboot-sentinel.js'
import { smtState, type SmtState } from '../facts/smt-state.js'
import { smtUnit, type SmtUnit } from '../facts/smt-unit.js'
import { change, defineTask, noop } from './define.js'
import { durationSchema } from './duration.js'
import { pendingReboot } from './pending-reboot.js'

// Reboots the host and waits for it, only when a reboot is pending. The runner issues the reboot
// detached, requires the host to go away AND a new boot_id, waits `stability`, then re-gathers.
//
//   - host.reboot: { timeout: 15m }     # POWER IPL takes minutes; NVLink boxes never fast-reboot
export const hostRebootArgs = z
  .object({
    timeout: durationSchema.default(15 * 60_000).describe('how long to wait for the host to come back (15m: a full POWER IPL)'),
    stability: durationSchema.default(10_000).describe('how long the host must stay up after it answers before it counts as back'),
    force: z.boolean().default(false).describe('reboot even when nothing is pending'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type HostRebootArgs = z.output<typeof hostRebootArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface HostRebootFacts extends Record<string, unknown> {
  sentinel: RebootSentinel
  cmdline: CmdlineFact
  boot: BootConfig
  modules: Record<string, LoadedModule>
  modprobe: ModprobeConfig
  initramfs: InitramfsStatus
  smt: SmtState
  smtUnit: SmtUnit
}

// The host.reboot task.
export const hostReboot = defineTask<HostRebootArgs, HostRebootFacts>({
  name: 'host.reboot',
  summary: 'reboot and wait (new boot_id, stability window) only when a reboot is pending',
  phase: 'roll',
  facts: {
    sentinel: rebootSentinel,
    cmdline: kernelCmdline,
    boot: bootConfig,
    modules: kernelModules,
    modprobe: modprobeConfig,
    initramfs: initramfsStatus,
    smt: smtState,
    smtUnit: smtUnit,
  },
  args: hostRebootArgs,
  plan(args, facts, ctx) {
    const reasons = pendingReboot(facts, ctx)
    if (args.force) reasons.push('force: true')
    if (reasons.length === 0) return noop('no reboot pending: staged changes are live')
    return change(
      `reboot pending: ${reasons[0]}${reasons.length > 1 ? ` (+${reasons.length - 1} more)` : ''}`,
      [{ kind: 'reboot', description: `reboot and wait up to ${Math.round(args.timeout / 1000)} s`, timeoutMs: args.timeout, stabilityMs: args.stability }],
      { notes: reasons },
    )
  },
})
