import type { HostOutcome } from '../events.js'
import type { InventoryHost } from '../inventory/types.js'
import type { Plan } from '../tasks/define.js'
import { restoreGuests } from './guests.js'
import { failHost, HostFailure } from './host-failure.js'
import { HostFacts } from './host-facts.js'
import { blockersClear, drainRefusal, guestContext, refuseForDrain } from './host-guests.js'
import { releaseLock, takeLockNow } from './host-lock.js'
import { openHost } from './host-resume.js'
import { preflight } from './host-preflight.js'
import { DEFAULT_REBOOT_TIMEOUT_MS, skipReboot, type HostRunShared, type HostState } from './host-state.js'
import type { JournalHostState } from './journal.js'
import { runTask } from './task-run.js'

export type { HostRunShared, JournalInput } from './host-state.js'

// One host's path through a run: connect and gather every fact in one exec (host-resume.ts), then
// the stage tasks, each change applied in one exec that confirms what it changed (task-run.ts),
// then, inside a rolling slot when it reboots, the roll tasks: the reboot (host-reboot.ts) is
// followed by the only other full gather, for verify. A no-op run costs one connect and one exec
// per host; a first run one gather, one exec per changed task, the reboot and verify's gather.
// The fleet lock is checked from the gather and taken inside the first change (host-lock.ts).

// Methods are called by the fleet runner in order: stage(), needsSlot(), roll(), finish().
export class HostRun {
  readonly host: InventoryHost
  staged = false // every stage task ran (or the host failed)
  rolled = false // every roll task ran (or the host failed)
  private readonly s: HostState
  private finishing: Promise<HostOutcome> | undefined

  constructor(
    host: InventoryHost,
    private readonly shared: HostRunShared,
    previous?: JournalHostState,
  ) {
    this.host = host
    this.s = {
      host,
      shared,
      previous,
      facts: new HostFacts(shared.playbook, host),
      transport: undefined,
      outcome: undefined,
      message: undefined,
      earlier: [],
      changed: false,
      lockOwner: undefined,
      rebootDone: false,
      stepsThisSession: 0,
      stillDown: false,
      stable: undefined,
      drained: [],
      bmc: undefined,
      blockers: { checks: 0 },
    }
  }

  get outcome(): HostOutcome | undefined {
    return this.s.outcome
  }
  get message(): string | undefined {
    return this.s.message
  }
  get stillDown(): boolean {
    return this.s.stillDown
  }
  get failed(): boolean {
    return this.s.outcome === 'failed' || this.s.outcome === 'unreachable'
  }

  // Connects, gathers, checks the lock, reconciles with the journal and runs the stage tasks.
  async stage(): Promise<void> {
    try {
      await openHost(this.s)
      preflight(this.s)
      for (const pt of this.shared.playbook.stage) {
        if (this.shared.stop.aborted) throw new HostFailure('interrupted before this task started', 'not-started')
        await runTask(this.s, pt, 'stage', false)
      }
      this.staged = true
    } catch (error) {
      failHost(this.s, error)
    }
  }

  // True when the roll tasks would reboot this host, so it must wait for a slot. Pure over the
  // current facts (plans are pure), so asking costs nothing.
  needsSlot(): boolean {
    if (this.s.outcome !== undefined) return false
    const earlier = [...this.s.earlier]
    for (const pt of this.shared.playbook.roll) {
      let plan: Plan
      try {
        plan = pt.task.plan(pt.args, this.s.facts.forTask(pt), { host: this.host, earlier })
      } catch {
        return false // the roll will fail on this task, without taking a host down
      }
      earlier.push({ task: pt.task.name, plan })
      if (plan.kind === 'change' && plan.steps.some((st) => st.kind === 'reboot')) return !skipReboot(this.s)
    }
    return false
  }

  // Runs the roll tasks (reboot-and-wait, verify). The caller holds a slot when needsSlot() said so.
  async roll(holdsSlot: boolean): Promise<void> {
    const s = this.s
    if (s.outcome !== undefined) return
    try {
      if (holdsSlot && !this.shared.check && !(await blockersClear(s))) return
      // Refresh the lock before a long reboot wait if it could expire meanwhile (one exec, rarely).
      const needsMs = (this.shared.rebootTimeoutMs ?? DEFAULT_REBOOT_TIMEOUT_MS) + 10 * 60_000
      if (holdsSlot && s.lockOwner && !this.shared.check && s.lockOwner.expiresAt - this.shared.now() < needsMs) await takeLockNow(s, true)
      let rebootPlanned = false
      for (const pt of this.shared.playbook.roll) {
        if (this.shared.stop.aborted && !holdsSlot) throw new HostFailure('interrupted before this task started', 'not-started')
        if (rebootPlanned) {
          // Check mode cannot know the host after a reboot it did not do; say so rather than guess.
          this.shared.emit({ kind: 'task-noop', host: this.host.name, task: pt.task.name, reason: 'not checked: runs after the reboot, which check mode does not do' })
          continue
        }
        await runTask(s, pt, 'roll', holdsSlot)
        const last = s.earlier[s.earlier.length - 1]?.plan
        rebootPlanned = this.shared.check && last?.kind === 'change' && last.steps.some((st) => st.kind === 'reboot')
      }
      // Verified; the slot is freed only once the boot also held for its stability window.
      const unstable = await s.stable
      s.stable = undefined
      if (unstable) {
        s.stillDown = true
        throw new HostFailure(unstable.replace(/^\[[^\]]*\] /, ''), 'failed')
      }
      // The host verified: exactly the guests the drain stopped run again.
      if (s.drained.length) await restoreGuests(guestContext(s), s.drained)
      this.rolled = true
    } catch (error) {
      failHost(s, error)
      if (s.drained.length && error instanceof HostFailure) s.message += `; guests stopped by the drain (${s.drained.join(', ')}) were not started again`
    }
  }

  // The running guests that keep this host from rebooting under --drain refuse, or undefined.
  drainRefusal(): string[] | undefined {
    return drainRefusal(this.s)
  }

  // Reports the host as `needs drain`: not rebooted, staged changes left pending.
  refuseForDrain(guests: string[]): void {
    refuseForDrain(this.s, guests)
  }

  // The blockers held: how long until the slot should be tried again (once), else undefined.
  takeRetry(): number | undefined {
    const r = this.s.blockers.retryInMs
    delete this.s.blockers.retryInMs
    return r
  }

  // Marks a host that never got its turn (failure budget, paused rack, Ctrl-C).
  notStarted(message: string): void {
    if (this.s.outcome === undefined) {
      this.s.outcome = 'not-started'
      this.s.message = message
    }
  }

  // Releases the lock, closes the connection, records the outcome. Called the moment this host's
  // part of the run ends (renderers show its end then, not at the end of the run); idempotent.
  finish(): Promise<HostOutcome> {
    this.finishing ??= this.doFinish()
    return this.finishing
  }

  private async doFinish(): Promise<HostOutcome> {
    const s = this.s
    if (s.outcome === undefined) s.outcome = s.changed ? 'changed' : 'ok'
    await releaseLock(s)
    await s.transport?.close().catch(() => undefined)
    s.transport = undefined
    this.shared.journal({ kind: 'host-finished', host: this.host.name, outcome: s.outcome })
    this.shared.emit({ kind: 'host-finished', host: this.host.name, outcome: s.outcome, ...(s.message ? { message: s.message } : {}) })
    return s.outcome
  }
}
