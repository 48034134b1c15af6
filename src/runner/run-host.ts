import { CommandError, ConnectError, FactParseError, FleetError } from '../errors.js'
import type { HostOutcome } from '../events.js'
import type { Fact } from '../facts/define.js'
import { buildGatherScript, splitGatherOutput, type RawFact } from '../facts/gather.js'
import { bootId as bootIdFact } from '../facts/host-basics.js'
import { libvirtGuests as libvirtGuestsFact, type LibvirtGuests } from '../facts/libvirt-guests.js'
import type { InventoryHost } from '../inventory/types.js'
import type { Plan, PlanContext, Step } from '../tasks/define.js'
import type { Transport } from '../transport/types.js'
import { applyStep } from './apply.js'
import { bmcConfig } from './bmc-config.js'
import { checkBlockers, drainGuests, GuestError, restoreGuests, type GuestContext } from './guests.js'
import type { HypervisorOptions, HypervisorTiming } from './hypervisor-options.js'
import { redfishClient, type RedfishClient } from './redfish.js'
import { backoffMs, sleep } from './timing.js'
import { connectWithRetry, type ConnectFn, type ConnectRetryOptions } from './connect-retry.js'
import type { Emit } from './emit.js'
import type { JournalHostState, JournalRecord } from './journal.js'
import { decideLock, lockCommand, lockFact, rebootMarkerFact, unlockCommand, type LockFact, type LockOwner } from './lock.js'
import { rebootAndWait, RebootWaitError, waitForIssuedReboot, type RebootResult, type RebootWaitOptions } from './reboot-wait.js'
import { TaskBudget } from './task-budget.js'
import type { RunnablePlaybook, RunnableTask } from './types.js'

// One host's path through a run: connect, gather every fact in one exec, then stage tasks, then
// (inside a rolling slot when it reboots) the roll tasks. Facts are re-gathered (one exec) only
// after a task changed something, so a no-op run costs one connect and one exec per host.
//
// The fleet lock keeps that promise. Checking it is free: the lock file is read by a fact in the
// same gather exec, so a host held by another live run is refused before anything is planned.
// Taking it costs one exec, so it is taken lazily, right before the first side effect on the host
// (the first step of the first task that changes something, or the reboot). A no-op host is
// therefore never locked — nothing is being changed on it, so there is nothing to protect — and
// releasing is skipped too. The race this leaves (another run locks the host between our gather
// and our lock) is closed by the lock command itself: mkdir is atomic, and a lost race is the same
// clear refusal, naming the holder.

// Journal input: the host fills in `t`.
export type JournalInput = JournalRecord extends infer R ? (R extends { t: number } ? Omit<R, 't'> : never) : never

// What every host of a run shares.
export interface HostRunShared {
  runId: string
  playbook: RunnablePlaybook
  check: boolean
  connect: ConnectFn
  emit: Emit
  journal: (record: JournalInput) => void // no-op in check mode
  connectRetry: ConnectRetryOptions
  commandTimeoutMs: number
  gatherTimeoutMs: number
  rebootTimeoutMs?: number // --reboot-timeout: overrides every reboot step's own timeout
  rebootWait?: Partial<RebootWaitOptions> // test knobs (poll, stability)
  hypervisor: HypervisorOptions // drain, reboot blockers, BMC recovery
  hypervisorTiming: HypervisorTiming
  lock: { ttlMs: number; controller: string; pid: number }
  stop: AbortSignal // first Ctrl-C: start nothing new
  abort: AbortSignal // second Ctrl-C: cancel in-flight commands
  now: () => number
}

// A host stopped by a failure; the message is user-facing.
class HostFailure extends Error {
  constructor(
    message: string,
    readonly outcome: 'failed' | 'unreachable' | 'not-started' | 'needs-drain',
  ) {
    super(message)
  }
}

type ParsedFact = { ok: true; value: unknown } | { ok: false; error: FactParseError }

// The runner's own facts, gathered with the playbook's: boot_id (journal, reboot proof), the fleet
// lock (so checking it costs no exec) and the reboot marker (resume).
const RUNNER_FACTS: Array<Fact<unknown>> = [bootIdFact, lockFact, rebootMarkerFact]

// Every fact of every task of the playbook, once, plus the runner's own. A playbook that can reboot
// also reads the host's guests (for the drain), in the same exec.
export function playbookFacts(playbook: RunnablePlaybook): Array<Fact<unknown>> {
  const byName = new Map<string, Fact<unknown>>()
  for (const pt of [...playbook.stage, ...playbook.roll]) for (const fact of Object.values(pt.task.facts) as Array<Fact<unknown>>) byName.set(fact.name, fact)
  for (const fact of RUNNER_FACTS) byName.set(fact.name, fact)
  if (playbook.roll.some((pt) => pt.task.name === 'host.reboot')) byName.set(libvirtGuestsFact.name, libvirtGuestsFact as Fact<unknown>)
  return [...byName.values()]
}

// One host's run. Methods are called by the fleet runner in order: stage(), needsSlot(), roll(), finish().
export class HostRun {
  readonly host: InventoryHost
  outcome: HostOutcome | undefined
  message: string | undefined
  staged = false // every stage task ran (or the host failed)
  rolled = false // every roll task ran (or the host failed)
  stillDown = false // a reboot took it away and it never came back: it stays unavailable
  private transport: Transport | undefined
  private parsed = new Map<string, ParsedFact>()
  private earlier: PlanContext['earlier'] = []
  private changed = false
  private lockOwner: LockOwner | undefined
  private rebootDone = false // this run's reboot already happened (journal + boot_id), resume must not repeat it
  private stable: Promise<string | undefined> | undefined // the stability window after this run's reboot, running beside verify
  private stepsThisSession = 0
  private drained: string[] = [] // guests this run shut down before the reboot, in their order
  private blockerChecks = 0
  private blockerSince: number | undefined
  private retryInMs: number | undefined // the blockers held: give the slot back, try again then
  private bmc: { client: RedfishClient; systemPath: string } | undefined
  private readonly facts: Array<Fact<unknown>>
  private readonly script: string

  constructor(
    host: InventoryHost,
    private readonly shared: HostRunShared,
    private readonly previous?: JournalHostState,
  ) {
    this.host = host
    this.facts = playbookFacts(shared.playbook)
    this.script = buildGatherScript(this.facts)
  }

  get failed(): boolean {
    return this.outcome === 'failed' || this.outcome === 'unreachable'
  }

  // Connects, gathers, checks the lock, reconciles with the journal and runs the stage tasks.
  async stage(): Promise<void> {
    try {
      await this.open()
      for (const pt of this.shared.playbook.stage) {
        if (this.shared.stop.aborted) throw new HostFailure('interrupted before this task started', 'not-started')
        await this.runTask(pt, 'stage', false)
      }
      this.staged = true
    } catch (error) {
      this.fail(error)
    }
  }

  // True when the roll tasks would reboot this host, so it must wait for a slot. Pure over the
  // current facts (plans are pure), so asking costs nothing.
  needsSlot(): boolean {
    if (this.outcome !== undefined) return false
    const earlier = [...this.earlier]
    for (const pt of this.shared.playbook.roll) {
      let plan: Plan
      try {
        plan = pt.task.plan(pt.args, this.taskFacts(pt), { host: this.host, earlier })
      } catch {
        return false // the roll will fail on this task, without taking a host down
      }
      earlier.push({ task: pt.task.name, plan })
      if (plan.kind === 'change' && plan.steps.some((s) => s.kind === 'reboot')) return !this.skipReboot()
    }
    return false
  }

  // Runs the roll tasks (reboot-and-wait, verify). The caller holds a slot when needsSlot() said so.
  async roll(holdsSlot: boolean): Promise<void> {
    if (this.outcome !== undefined) return
    try {
      if (holdsSlot && !this.shared.check && !(await this.blockersClear())) return
      // Refresh the lock before a long reboot wait if it could expire meanwhile (one exec, rarely).
      const needsMs = (this.shared.rebootTimeoutMs ?? 15 * 60_000) + 10 * 60_000
      if (holdsSlot && this.lockOwner && !this.shared.check && this.lockOwner.expiresAt - this.shared.now() < needsMs) await this.takeLock(true)
      let rebootPlanned = false
      for (const pt of this.shared.playbook.roll) {
        if (this.shared.stop.aborted && !holdsSlot) throw new HostFailure('interrupted before this task started', 'not-started')
        if (rebootPlanned) {
          // Check mode cannot know the host after a reboot it did not do; say so rather than guess.
          this.shared.emit({ kind: 'task-noop', host: this.host.name, task: pt.task.name, reason: 'not checked: runs after the reboot, which check mode does not do' })
          continue
        }
        await this.runTask(pt, 'roll', holdsSlot)
        const last = this.earlier[this.earlier.length - 1]?.plan
        rebootPlanned = this.shared.check && last?.kind === 'change' && last.steps.some((s) => s.kind === 'reboot')
      }
      // Verified; the slot is freed only once the boot also held for its stability window.
      const unstable = await this.stable
      this.stable = undefined
      if (unstable) {
        this.stillDown = true
        throw new HostFailure(unstable.replace(/^\[[^\]]*\] /, ''), 'failed')
      }
      // The host verified: exactly the guests the drain stopped run again.
      if (this.drained.length) await restoreGuests(this.guestContext(), this.drained)
      this.rolled = true
    } catch (error) {
      this.fail(error)
      if (this.drained.length && error instanceof HostFailure) this.message += `; guests stopped by the drain (${this.drained.join(', ')}) were not started again`
    }
  }

  // --- hypervisor: guests, reboot blockers, BMC ------------------------------------------------

  // The running guests that keep this host from rebooting under --drain refuse, or undefined. Pure
  // over the gathered facts; asked before the host queues for a slot.
  drainRefusal(): string[] | undefined {
    if (this.shared.hypervisor.drain !== 'refuse' || this.outcome !== undefined) return undefined
    let active: string[]
    try {
      active = this.guests()?.guests.filter((g) => g.active).map((g) => g.name) ?? []
    } catch {
      return undefined // unreadable guests: the host fails in its slot, before any reboot (beforeReboot)
    }
    return active.length ? active : undefined
  }

  // Reports the host as `needs drain`: not rebooted, staged changes left pending.
  refuseForDrain(guests: string[]): void {
    this.outcome = 'needs-drain'
    this.message = `needs drain: guest${guests.length === 1 ? '' : 's'} ${guests.join(', ')} running; not rebooted (--drain refuse), so its staged changes stay pending and verify reports them until it reboots. Stop the guests, or run with --drain shutdown`
    this.shared.emit({ kind: 'drain-needed', host: this.host.name, guests })
  }

  // The blockers held: how long until the slot should be tried again (once), else undefined.
  takeRetry(): number | undefined {
    const r = this.retryInMs
    this.retryInMs = undefined
    return r
  }

  private guests(): LibvirtGuests | undefined {
    const entry = this.parsed.get(libvirtGuestsFact.name)
    if (!entry) return undefined
    if (!entry.ok) throw new HostFailure(`cannot read the host's guests before its reboot: ${entry.error.message}`, 'failed')
    return entry.value as LibvirtGuests
  }

  private guestContext(): GuestContext {
    return { host: this.host.name, transport: this.conn(), become: this.host.become, emit: this.shared.emit, signal: this.shared.abort, timing: this.shared.hypervisorTiming, commandTimeoutMs: Math.min(this.shared.commandTimeoutMs, 120_000) }
  }

  // Runs the reboot blockers (one exec) while holding a slot. Held: sets retryInMs (the slot goes
  // back at once) or, past --reboot-blocker-timeout, reports the host `blocked`. True when clear.
  private async blockersClear(): Promise<boolean> {
    const blockers = this.shared.hypervisor.rebootBlockers
    if (blockers.length === 0 || this.skipReboot()) return true
    const held = await checkBlockers(this.guestContext(), blockers)
    this.blockerChecks++
    const now = Date.now()
    this.blockerSince ??= now
    const waitedMs = now - this.blockerSince
    if (!held) {
      this.shared.emit({ kind: 'blocker-cleared', host: this.host.name, attempts: this.blockerChecks, waitedMs })
      return true
    }
    const left = this.shared.hypervisor.blockerTimeoutMs - waitedMs
    const base = { kind: 'blocker-held' as const, host: this.host.name, command: held.command, exitCode: held.exitCode, attempt: this.blockerChecks, ...(held.output ? { output: held.output } : {}) }
    if (left <= 0) {
      this.shared.emit(base)
      this.shared.emit({ kind: 'host-blocked', host: this.host.name, command: held.command, attempts: this.blockerChecks, waitedMs })
      this.outcome = 'blocked'
      this.message = `blocked: reboot blocker '${held.command}' still held (exit ${held.exitCode}) after ${this.blockerChecks} checks over ${Math.round(waitedMs / 1000)}s; not rebooted, staged changes stay pending`
      return false
    }
    const t = this.shared.hypervisorTiming
    this.retryInMs = Math.min(left, backoffMs(this.blockerChecks, t.blockerMinMs, t.blockerMaxMs))
    this.shared.emit({ ...base, retryInMs: this.retryInMs })
    return false
  }

  // Right before the reboot (in the slot): check the BMC when recovery is on, drain the guests,
  // note a libvirt-guests setting that would kill VFIO guests at shutdown.
  private async beforeReboot(): Promise<void> {
    const hv = this.shared.hypervisor
    const cfg = bmcConfig(this.host)
    if (hv.bmcRecover && cfg) {
      try {
        const client = redfishClient(cfg, hv.bmcCaFile)
        const systemPath = await client.systemPath()
        const powerState = await client.powerState(systemPath)
        this.bmc = { client, systemPath }
        this.shared.emit({ kind: 'bmc-action', host: this.host.name, action: 'check', url: cfg.url, powerState })
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        this.shared.emit({ kind: 'bmc-action', host: this.host.name, action: 'failed', url: cfg.url, message })
        throw new HostFailure(`not rebooted: --bmc-recover is on but the BMC check failed: ${message}`, 'failed')
      }
    }
    const facts = this.guests()
    if (!facts) return
    const active = facts.guests.filter((g) => g.active)
    const svc = facts.service
    if (svc.enabled && svc.onShutdown === 'suspend') {
      const vfio = active.filter((g) => g.hostdevs > 0).map((g) => g.name)
      this.shared.emit({
        kind: 'libvirt-guests-note',
        host: this.host.name,
        onShutdown: svc.onShutdown,
        ...(svc.shutdownTimeoutS !== undefined ? { shutdownTimeoutS: svc.shutdownTimeoutS } : {}),
        message: `libvirt-guests.service is enabled with ON_SHUTDOWN=suspend${svc.file ? ` (${svc.file})` : ''}: guests with VFIO host devices cannot be saved at shutdown and are killed after SHUTDOWN_TIMEOUT${svc.shutdownTimeoutS !== undefined ? `=${svc.shutdownTimeoutS}s` : ''}; gpufleet drains before the reboot instead${vfio.length ? ` (${vfio.join(', ')} have host devices)` : ''}`,
      })
    }
    if (active.length === 0) return
    if (hv.drain === 'refuse') {
      // Guests started after the host queued: still never a silent kill.
      this.refuseForDrain(active.map((g) => g.name))
      throw new HostFailure(this.message!, 'needs-drain')
    }
    this.shared.journal({ kind: 'step', host: this.host.name, task: 'host.reboot', step: `drain: virsh shutdown ${active.map((g) => g.name).join(' ')}` })
    this.drained = active.map((g) => g.name)
    try {
      await drainGuests(this.guestContext(), active, hv)
    } catch (error) {
      if (error instanceof GuestError) {
        // Nothing was rebooted; guests still running are left alone, the others stay off (say so).
        this.drained = []
        throw new HostFailure(error.message, 'failed')
      }
      throw error
    }
  }

  // The host did not come back: power-cycle it once through its BMC (--bmc-recover) and wait again.
  private async recoverThroughBmc(error: RebootWaitError, bootIdBefore: string, options: RebootWaitOptions): Promise<RebootResult> {
    const cfg = bmcConfig(this.host)
    if (!error.hostDown || !this.bmc || !cfg) {
      if (error.hostDown && cfg && !this.shared.hypervisor.bmcRecover) throw new RebootWaitError(`${error.message}; it has a BMC (gpufleet_bmc): --bmc-recover would power-cycle it once`, true)
      throw error
    }
    const { client, systemPath } = this.bmc
    const url = cfg.url
    try {
      this.shared.emit({ kind: 'bmc-action', host: this.host.name, action: 'power-cycle', url, message: error.message.replace(/^\[[^\]]*\] /, '') })
      this.shared.journal({ kind: 'step', host: this.host.name, task: 'host.reboot', step: `bmc: ComputerSystem.Reset ForceRestart via ${url}` })
      await client.forceRestart(systemPath)
      const deadline = Date.now() + this.shared.hypervisorTiming.bmcPowerOnTimeoutMs
      let state = await client.powerState(systemPath)
      while (state !== 'On') {
        if (Date.now() > deadline) throw new Error(`PowerState still ${state} after the power cycle`)
        await sleep(Math.min(1000, this.shared.hypervisorTiming.guestPollMs), this.shared.abort)
        state = await client.powerState(systemPath)
      }
      this.shared.emit({ kind: 'bmc-action', host: this.host.name, action: 'power-on', url, powerState: state })
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      this.shared.emit({ kind: 'bmc-action', host: this.host.name, action: 'failed', url, message })
      throw new RebootWaitError(`${error.message}; the BMC power cycle failed: ${message}`, true)
    }
    let result: Awaited<ReturnType<typeof rebootAndWait>>
    try {
      result = await waitForIssuedReboot(undefined, bootIdBefore, this.rebootContext(), options)
    } catch (e) {
      if (e instanceof RebootWaitError) throw new RebootWaitError(`${error.message}; power-cycled once through the BMC (${url}), still not back: ${e.message.replace(/^\[[^\]]*\] /, '')}`, e.hostDown)
      throw e
    }
    // A trial boot entry is one-shot: the boot that hung used it up, so this boot is the default,
    // known-good entry; verify then shows the argument is not live and nothing gets promoted.
    const trial = this.shared.playbook.roll.some((pt) => pt.task.name === 'boot.promote')
    this.shared.emit({ kind: 'bmc-action', host: this.host.name, action: 'recovered', url, message: trial ? 'mode: trial: it came back on its known-good (default) entry, the one-time trial entry was used by the boot that hung' : `new boot_id ${result.bootIdAfter.slice(0, 8)}` })
    return result
  }

  // Marks a host that never got its turn (failure budget, paused rack, Ctrl-C).
  notStarted(message: string): void {
    if (this.outcome === undefined) {
      this.outcome = 'not-started'
      this.message = message
    }
  }

  // Releases the lock, closes the connection, records the outcome. Called the moment this host's
  // part of the run ends (renderers show its end then, not at the end of the run); idempotent.
  finish(): Promise<HostOutcome> {
    this.finishing ??= this.doFinish()
    return this.finishing
  }

  private finishing: Promise<HostOutcome> | undefined

  private async doFinish(): Promise<HostOutcome> {
    if (this.outcome === undefined) this.outcome = this.changed ? 'changed' : 'ok'
    if (this.lockOwner && this.transport?.connected && !this.shared.abort.aborted) {
      try {
        this.shared.journal({ kind: 'unlock', host: this.host.name })
        await this.transport.exec(unlockCommand(this.lockOwner), { become: this.host.become, timeoutMs: 30_000 })
        this.shared.emit({ kind: 'lock-released', host: this.host.name })
      } catch {
        // The lock expires on its own; a host we cannot reach now is reported by its outcome.
      }
    }
    await this.transport?.close().catch(() => undefined)
    this.transport = undefined
    this.shared.journal({ kind: 'host-finished', host: this.host.name, outcome: this.outcome })
    this.shared.emit({ kind: 'host-finished', host: this.host.name, outcome: this.outcome, ...(this.message ? { message: this.message } : {}) })
    return this.outcome
  }

  // --- connection and facts -------------------------------------------------------------------

  private async open(): Promise<void> {
    const started = Date.now()
    const pending = this.previous?.reboot && !this.previous.reboot.bootIdAfter ? this.previous.reboot : undefined
    try {
      this.transport = await connectWithRetry(this.shared.connect, this.host, this.shared.connectRetry, this.shared.emit, this.shared.abort)
      this.shared.emit({ kind: 'host-connected', host: this.host.name, durationMs: Date.now() - started })
      await this.gather()
    } catch (error) {
      if (!(error instanceof ConnectError) || !pending || !error.retryable) throw error
      // Resume: the journal says we rebooted this host and never saw it back, and it is down (or
      // went down under our gather): that reboot is happening. Report it as down (the timeline
      // shows it), not as unreachable, and wait for it like any reboot.
      this.shared.emit({ kind: 'host-down', host: this.host.name })
      await this.transport?.close().catch(() => undefined)
      await this.waitForJournaledReboot(undefined, pending.bootIdBefore)
      return
    }
    this.checkLock()
    await this.reconcile(pending)
  }

  // The one exec that reads every fact; retried once on a dropped connection (it is read-only).
  private async gather(): Promise<void> {
    const started = Date.now()
    let stdout: string
    try {
      stdout = await this.execGather()
    } catch (error) {
      if (!(error instanceof ConnectError) || this.shared.abort.aborted) throw error
      await this.transport?.close().catch(() => undefined)
      this.transport = await connectWithRetry(this.shared.connect, this.host, this.shared.connectRetry, this.shared.emit, this.shared.abort)
      stdout = await this.execGather()
    }
    const raw = splitGatherOutput(stdout)
    this.parsed.clear()
    const shown: Record<string, unknown> = {}
    for (const fact of this.facts) {
      const entry = parseOne(fact, raw[fact.name])
      this.parsed.set(fact.name, entry)
      shown[fact.name] = entry.ok ? entry.value : { error: entry.error.message }
    }
    this.shared.emit({ kind: 'facts-gathered', host: this.host.name, durationMs: Date.now() - started, facts: shown })
  }

  private async execGather(): Promise<string> {
    const r = await this.conn().exec(this.script, { become: this.host.become, timeoutMs: this.shared.gatherTimeoutMs, signal: this.shared.abort })
    if (r.exitCode !== 0) throw new FleetError(`[${this.host.name}] gathering facts failed with exit code ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`)
    return r.stdout
  }

  private conn(): Transport {
    if (!this.transport) throw new HostFailure('no connection', 'unreachable')
    return this.transport
  }

  private fact<T>(fact: Fact<T>): T {
    const entry = this.parsed.get(fact.name)
    if (!entry) throw new FactParseError(fact.name, '', 'not gathered')
    if (!entry.ok) throw entry.error
    return entry.value as T
  }

  private taskFacts(pt: RunnableTask): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [key, fact] of Object.entries(pt.task.facts as Record<string, Fact<unknown>>)) out[key] = this.fact(fact)
    return out
  }

  // --- lock and resume ------------------------------------------------------------------------

  // Refuses a host another live run holds. Read from the gathered facts: no exec of its own.
  private checkLock(): void {
    const decision = decideLock(this.fact(lockFact) as LockFact, this.shared.runId, this.shared.now())
    if (decision.kind === 'refuse') {
      if (this.shared.check) this.shared.emit({ kind: 'task-noop', host: this.host.name, task: 'gpufleet.lock', reason: `note: ${decision.message}` })
      else throw new HostFailure(decision.message, 'failed')
    }
  }

  // Takes the lock (one exec) before the first change on this host, or refreshes our own.
  private async takeLock(refresh: boolean): Promise<void> {
    if (this.lockOwner && !refresh) return
    const current: LockFact = this.lockOwner ? { state: 'held', raw: JSON.stringify(this.lockOwner), owner: this.lockOwner } : (this.fact(lockFact) as LockFact)
    const decision = decideLock(current, this.shared.runId, this.shared.now())
    if (decision.kind === 'refuse') throw new HostFailure(decision.message, 'failed')
    const owner: LockOwner = {
      runId: this.shared.runId,
      controller: this.shared.lock.controller,
      pid: this.shared.lock.pid,
      playbook: this.shared.playbook.name,
      expiresAt: this.shared.now() + this.shared.lock.ttlMs,
    }
    this.shared.journal({ kind: 'lock', host: this.host.name, expiresAt: owner.expiresAt })
    const r = await this.conn().exec(lockCommand(owner, decision.replace), { become: this.host.become, timeoutMs: 30_000, signal: this.shared.abort })
    if (r.exitCode === 3) {
      // Someone took it between our gather and now: the same refusal, with the new holder.
      const raced = decideLock(lockFact.parse(`held\n${r.stdout}`, 0), this.shared.runId, this.shared.now())
      throw new HostFailure(raced.kind === 'refuse' ? raced.message : 'host is locked by another run', 'failed')
    }
    if (r.exitCode !== 0) throw new HostFailure(`could not take the fleet lock (exit ${r.exitCode}): ${r.stderr.trim()}`, 'failed')
    this.lockOwner = owner
    this.shared.emit({ kind: 'lock-acquired', host: this.host.name, expiresAt: owner.expiresAt, ...(decision.takenOverFrom ? { takenOver: decision.takenOverFrom.runId } : {}) })
  }

  // Resume: compare the journal's last reboot of this host with what the host says now.
  private async reconcile(pending: JournalHostState['reboot'] | undefined): Promise<void> {
    const prev = this.previous?.reboot
    if (!prev) return
    const now = this.fact(bootIdFact)
    if (now !== prev.bootIdBefore) {
      // The journaled reboot happened. Unless a step was applied after it, another one is not due.
      if (!prev.bootIdAfter) this.shared.journal({ kind: 'rebooted', host: this.host.name, bootIdAfter: now })
      this.rebootDone = (this.previous?.stepsSinceReboot ?? 0) === 0
      if (this.previous?.stepsSinceReboot === 0) this.changed = true // the reboot was this run's change
      return
    }
    if (pending && this.fact(rebootMarkerFact) === this.shared.runId) {
      // Issued on this very boot and not yet carried out: wait for it, never issue a second one.
      await this.waitForJournaledReboot(this.transport, pending.bootIdBefore)
    }
  }

  private async waitForJournaledReboot(transport: Transport | undefined, bootIdBefore: string): Promise<void> {
    const timeoutMs = this.shared.rebootTimeoutMs ?? 15 * 60_000
    const result = await waitForIssuedReboot(transport, bootIdBefore, this.rebootContext(), { stabilityMs: 0, ...this.shared.rebootWait, timeoutMs })
    this.transport = result.transport
    this.rebootDone = true
    this.changed = true
    await this.gather()
    this.checkLock()
  }

  private skipReboot(): boolean {
    return this.rebootDone && this.stepsThisSession === 0
  }

  private rebootContext() {
    return {
      host: this.host,
      connect: this.shared.connect,
      emit: this.shared.emit,
      runId: this.shared.runId,
      become: this.host.become,
      signal: this.shared.abort,
      beforeIssue: (bootIdBefore: string) => this.shared.journal({ kind: 'reboot', host: this.host.name, bootIdBefore }),
      afterUp: (bootIdAfter: string) => this.shared.journal({ kind: 'rebooted', host: this.host.name, bootIdAfter }),
    }
  }

  // --- tasks ----------------------------------------------------------------------------------

  private async runTask(pt: RunnableTask, phase: 'stage' | 'roll', holdsSlot: boolean): Promise<void> {
    const host = this.host.name
    const task = pt.task.name
    this.shared.emit({ kind: 'task-started', host, task, title: pt.title, phase })
    const started = Date.now()
    let plan: Plan
    try {
      plan = pt.task.plan(pt.args, this.taskFacts(pt), { host: this.host, earlier: [...this.earlier] })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      this.shared.emit({ kind: 'task-failed', host, task, message: `cannot plan: ${message}` })
      throw new HostFailure(`${pt.title}: ${message}`, 'failed')
    }
    this.earlier.push({ task, plan })
    if (plan.kind === 'noop') {
      this.shared.emit({ kind: 'task-noop', host, task, reason: plan.reason, ...(plan.notes ? { notes: plan.notes } : {}) })
      return
    }
    if (plan.kind === 'fail') {
      this.shared.emit({ kind: 'task-failed', host, task, message: plan.reason, ...(plan.evidence ? { evidence: plan.evidence } : {}) })
      throw new HostFailure(`${pt.title}: ${plan.reason}`, 'failed')
    }
    const reboots = plan.steps.some((s) => s.kind === 'reboot')
    if (this.shared.check) {
      this.shared.emit({ kind: 'task-planned', host, task, reason: plan.reason, steps: plan.steps.map(describeStep), ...(plan.diff ? { diff: plan.diff } : {}), reboots })
      this.changed = true
      return
    }
    if (reboots && this.skipReboot()) {
      this.shared.emit({ kind: 'reboot-skipped', host, reason: 'the journal shows this run already rebooted the host (its boot_id changed since); not rebooting twice' })
      this.shared.emit({ kind: 'task-noop', host, task, reason: 'already rebooted by this run before the controller restarted' })
      return
    }
    if (reboots && !holdsSlot) throw new HostFailure(`${pt.title}: wants a reboot outside the rolling window (its plan changed between scheduling and running)`, 'failed')
    await this.takeLock(false)
    this.shared.journal({ kind: 'task', host, task })
    // The item's `timeout:` covers its steps from the first one on (see TaskBudget).
    const budget = pt.timeoutMs !== undefined ? new TaskBudget(host, task, pt.timeoutMs, this.shared.now) : undefined
    let failedStep: string | undefined
    try {
      for (const step of plan.steps) {
        failedStep = step.description
        await this.applyOne(step, task, budget)
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      // Renderers name the failure by its step, exit code and stderr tail, never by the script text.
      const detail = error instanceof CommandError ? { exitCode: error.result.exitCode, stderrTail: error.result.stderr.trim().split('\n').filter(Boolean).slice(-5) } : {}
      this.shared.emit({ kind: 'task-failed', host, task, message, ...(failedStep ? { step: failedStep } : {}), ...detail })
      if (error instanceof HostFailure && error.outcome === 'needs-drain') throw error
      throw new HostFailure(`${pt.title}: ${message}`, error instanceof ConnectError ? 'unreachable' : 'failed')
    }
    this.changed = true
    this.shared.emit({ kind: 'task-changed', host, task, reason: plan.reason, durationMs: Date.now() - started, ...(plan.notes ? { notes: plan.notes } : {}) })
    // Facts went stale: the next task plans against the host as it is now (one exec). A reboot
    // step has already re-gathered.
    if (plan.steps[plan.steps.length - 1]?.kind !== 'reboot') await this.gather()
  }

  private async applyOne(step: Step, task: string, budget: TaskBudget | undefined): Promise<void> {
    this.stepsThisSession++
    if (step.kind !== 'reboot') {
      await applyStep(step, {
        host: this.host,
        transport: this.conn(),
        task,
        emit: this.shared.emit,
        become: this.host.become,
        commandTimeoutMs: this.shared.commandTimeoutMs,
        signal: this.shared.abort,
        beforeEffect: (description) => this.shared.journal({ kind: 'step', host: this.host.name, task, step: description }),
        ...(budget ? { budget } : {}),
      })
      return
    }
    this.shared.emit({ kind: 'step-started', host: this.host.name, task, step: step.description })
    const timeoutMs = this.shared.rebootTimeoutMs ?? step.timeoutMs
    let result: Awaited<ReturnType<typeof rebootAndWait>>
    // A reboot waits under its own timeout, not the task's: its wait is handed back to the budget.
    const waitStarted = this.shared.now()
    try {
      await this.beforeReboot()
      const options = { stabilityMs: step.stabilityMs, ...this.shared.rebootWait, timeoutMs }
      const bootIdBefore = this.fact(bootIdFact)
      try {
        result = await rebootAndWait(this.conn(), bootIdBefore, this.rebootContext(), options)
      } catch (error) {
        if (!(error instanceof RebootWaitError)) throw error
        result = await this.recoverThroughBmc(error, bootIdBefore, options)
      }
    } catch (error) {
      if (error instanceof HostFailure) throw error
      // Only a host seen back up is available again; an aborted wait leaves it in doubt, so down.
      this.stillDown = !(error instanceof RebootWaitError) || error.hostDown
      throw error
    } finally {
      budget?.exclude(this.shared.now() - waitStarted)
    }
    this.transport = result.transport
    this.stable = result.stable
    this.stepsThisSession = 0
    this.rebootDone = true
    this.shared.emit({ kind: 'step-finished', host: this.host.name, task, step: step.description, exitCode: 0, durationMs: result.waitedMs })
    await this.gather()
  }

  private fail(error: unknown): void {
    if (error instanceof HostFailure) {
      this.outcome = error.outcome
      this.message = error.message
    } else if (error instanceof ConnectError) {
      this.outcome = 'unreachable'
      this.message = error.message
      this.shared.emit({ kind: 'host-unreachable', host: this.host.name, reason: error.reason, message: error.message })
    } else if (this.shared.abort.aborted) {
      this.outcome = 'failed'
      this.message = 'aborted by a second interrupt'
    } else {
      this.outcome = 'failed'
      this.message = error instanceof Error ? error.message : String(error)
    }
    if (this.outcome === 'unreachable' && error instanceof HostFailure) {
      this.shared.emit({ kind: 'host-unreachable', host: this.host.name, reason: 'unreachable', message: error.message })
    }
  }
}

// One line per step for check mode and reports.
export function describeStep(step: Step): string {
  if (step.kind === 'run') return `${step.description}: ${step.command}`
  if (step.kind === 'write') return `${step.description}: write ${step.path} (mode ${step.mode})`
  return `${step.description}: reboot and wait (up to ${Math.round(step.timeoutMs / 1000)}s)`
}

function parseOne(fact: Fact<unknown>, raw: RawFact | undefined): ParsedFact {
  if (!raw) return { ok: false, error: new FactParseError(fact.name, '', 'no output (the gather script did not reach it)') }
  try {
    return { ok: true, value: fact.parse(raw.stdout, raw.exitCode) }
  } catch (error) {
    return { ok: false, error: error instanceof FactParseError ? error : new FactParseError(fact.name, raw.stdout, error instanceof Error ? error.message : String(error)) }
  }
}
