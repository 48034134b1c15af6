import { z } from 'zod'
import { change, defineTask, noop } from './define.js'
import { durationSchema } from '../duration.js'
import { pendingFacts, pendingReboot, type PendingFacts } from './lib/pending-reboot.js'

// Reboots the host and waits for it, only when a reboot is pending. The runner issues the reboot
// detached, requires the host to go away AND a new boot_id, waits `stability`, then re-gathers.
//
//   - host.reboot: { timeout: 15m }     # POWER IPL takes minutes; NVLink boxes never fast-reboot
export const hostRebootArgs = z
  .object({
    timeout: durationSchema.prefault('15m').describe('how long to wait for the host to come back (15m: a full POWER IPL); a duration with a unit, e.g. 90s, 15m, 1h30m'),
    stability: durationSchema.prefault('10s').describe('how long the host must stay up after it answers before it counts as back; a duration with a unit, e.g. 10s, 1m'),
    force: z.boolean().default(false).describe('reboot even when nothing is pending'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type HostRebootArgs = z.output<typeof hostRebootArgs>

// The facts plan() reads: everything that can show a staged change is not live yet.
export interface HostRebootFacts extends PendingFacts, Record<string, unknown> {}

// The host.reboot task.
export const hostReboot = defineTask<HostRebootArgs, HostRebootFacts>({
  name: 'host.reboot',
  summary: 'reboot and wait (new boot_id, stability window) only when a reboot is pending',
  phase: 'roll',
  facts: pendingFacts,
  args: hostRebootArgs,
  writes: [], // a reboot is followed by a full gather
  plan(args, facts, ctx) {
    const reasons = pendingReboot(facts, ctx)
    if (args.force) reasons.push('force: true')
    if (reasons.length === 0) return noop('no reboot pending: staged changes are live')
    return change(`reboot pending: ${reasons[0]}${reasons.length > 1 ? ` (+${reasons.length - 1} more)` : ''}`, [{ kind: 'reboot', description: `reboot and wait up to ${Math.round(args.timeout / 1000)} s`, timeoutMs: args.timeout, stabilityMs: args.stability }], { notes: reasons })
  },
})
