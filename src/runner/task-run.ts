import { CommandError, ConnectError } from '../errors.js'
import { buildGatherScript } from '../facts/gather.js'
import type { Plan, Step } from '../tasks/define.js'
import { applyGroup, type GroupExtras } from './apply.js'
import { lockResult, lockToTake, takeLockNow } from './host-lock.js'
import { rebootStep } from './host-reboot.js'
import { conn, HostFailure, skipReboot, type HostState } from './host-state.js'
import type { BatchStep } from './step-batch.js'
import { TaskBudget } from './task-budget.js'
import type { RunnableTask } from './types.js'

// One task on one host: plan it (pure, against the facts as they are now), then apply its steps in
// ONE exec that ends by re-reading exactly the facts the task declares it writes, so the next task
// plans against the host as it is without a full re-gather. The first change also carries the
// fleet lock in that exec. In check mode a task's predicted facts stand in for the re-read.

type ChangePlan = Extract<Plan, { kind: 'change' }>

export async function runTask(s: HostState, pt: RunnableTask, phase: 'stage' | 'roll', holdsSlot: boolean): Promise<void> {
  const host = s.host.name
  const task = pt.task.name
  s.shared.emit({ kind: 'task-started', host, task, title: pt.title, phase })
  const started = s.shared.now()
  const plan = planTask(s, pt)
  s.earlier.push({ task, plan })
  if (plan.kind === 'noop') {
    s.shared.emit({ kind: 'task-noop', host, task, reason: plan.reason, ...(plan.notes ? { notes: plan.notes } : {}) })
    return
  }
  if (plan.kind === 'fail') failTask(s, pt, plan)
  const reboots = plan.steps.some((st) => st.kind === 'reboot')
  if (s.shared.check && plan.observeOnly) {
    // Its steps change nothing (verify loading vfio_pci to read a parameter): not a pending change.
    s.shared.emit({ kind: 'task-noop', host, task, reason: `would observe, changing nothing: ${plan.reason}`, ...(plan.notes ? { notes: plan.notes } : {}) })
    return
  }
  if (s.shared.check) {
    s.shared.emit({ kind: 'task-planned', host, task, reason: plan.reason, steps: plan.steps.map(describeStep), ...(plan.diff ? { diff: plan.diff } : {}), reboots })
    s.changed = true
    if (pt.task.predict) s.facts.predicted(pt, pt.task.predict(pt.args, s.facts.forTask(pt), plan))
    return
  }
  if (reboots && skipReboot(s)) {
    s.shared.emit({ kind: 'reboot-skipped', host, reason: 'the journal shows this run already rebooted the host (its boot_id changed since); not rebooting twice' })
    s.shared.emit({ kind: 'task-noop', host, task, reason: 'already rebooted by this run before the controller restarted' })
    return
  }
  if (reboots && !holdsSlot) throw new HostFailure(`${pt.title}: wants a reboot outside the rolling window (its plan changed between scheduling and running)`, 'failed')
  const failure = { step: undefined as string | undefined }
  try {
    await applyPlan(s, pt, plan, failure)
  } catch (error) {
    if (error instanceof HostFailure && !failure.step) throw error // the lock was refused: no step ran
    const message = error instanceof Error ? error.message : String(error)
    // Renderers name the failure by its step, exit code and stderr tail, never by the script text.
    const detail = error instanceof CommandError ? { exitCode: error.result.exitCode, stderrTail: error.result.stderr.trim().split('\n').filter(Boolean).slice(-5) } : {}
    s.shared.emit({ kind: 'task-failed', host, task, message, ...(failure.step ? { step: failure.step } : {}), ...detail })
    if (error instanceof HostFailure && error.outcome === 'needs-drain') throw error
    throw new HostFailure(`${pt.title}: ${message}`, error instanceof ConnectError ? 'unreachable' : 'failed')
  }
  if (plan.observeOnly) {
    s.shared.emit({ kind: 'task-noop', host, task, reason: plan.reason, ...(plan.notes ? { notes: plan.notes } : {}) })
    return
  }
  s.changed = true
  s.shared.emit({ kind: 'task-changed', host, task, reason: plan.reason, durationMs: s.shared.now() - started, ...(plan.notes ? { notes: plan.notes } : {}) })
}

// A task whose plan (or preflight) found the host unfit: the failure with its evidence, then the host fails.
export function failTask(s: HostState, pt: RunnableTask, plan: Extract<Plan, { kind: 'fail' }>): never {
  s.shared.emit({ kind: 'task-failed', host: s.host.name, task: pt.task.name, message: plan.reason, ...(plan.evidence ? { evidence: plan.evidence } : {}) })
  throw new HostFailure(`${pt.title}: ${plan.reason}`, 'failed')
}

// The task's plan over the current facts; a throwing plan (a fact it needs could not be parsed)
// fails the host with the reason.
export function planTask(s: HostState, pt: RunnableTask, earlier = s.earlier): Plan {
  try {
    return pt.task.plan(pt.args, s.facts.forTask(pt), { host: s.host, earlier: [...earlier] })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    s.shared.emit({ kind: 'task-failed', host: s.host.name, task: pt.task.name, message: `cannot plan: ${message}` })
    throw new HostFailure(`${pt.title}: ${message}`, 'failed')
  }
}

// Applies a change plan group by group (see stepGroups); the last group's exec confirms it.
async function applyPlan(s: HostState, pt: RunnableTask, plan: ChangePlan, failure: { step: string | undefined }): Promise<void> {
  const host = s.host.name
  const task = pt.task.name
  // The item's `timeout:` covers its steps from the first one on (see TaskBudget).
  const budget = pt.timeoutMs !== undefined ? new TaskBudget(host, task, pt.timeoutMs, s.shared.now) : undefined
  const groups = stepGroups(plan.steps, budget !== undefined)
  let journaled = false
  for (const [i, group] of groups.entries()) {
    failure.step = undefined
    if (!Array.isArray(group)) {
      await takeLockNow(s, false)
      if (!journaled) s.shared.journal({ kind: 'task', host, task })
      journaled = true
      failure.step = group.description
      await rebootStep(s, group, task, budget)
      continue
    }
    const pending = lockToTake(s)
    if (!journaled) s.shared.journal({ kind: 'task', host, task })
    journaled = true
    const extras: GroupExtras = {}
    if (pending) {
      const taken = (r: { exitCode: number | null; stdout: string; stderr: string }) => {
        try {
          lockResult(s, pending, r)
        } catch (error) {
          failure.step = undefined // refused: no step ran
          throw error
        }
      }
      extras.lock = { script: pending.script, taken }
    }
    const confirmFacts = i === groups.length - 1 ? s.facts.confirmFor(pt.task) : []
    if (confirmFacts.length) extras.confirm = { script: buildGatherScript(confirmFacts), timeoutMs: s.shared.gatherTimeoutMs }
    failure.step = group[0]!.description
    s.stepsThisSession += group.length
    const started = s.shared.now()
    const result = await applyGroup(
      group,
      {
        host: s.host,
        transport: conn(s),
        task,
        emit: s.shared.emit,
        become: s.host.become,
        commandTimeoutMs: s.shared.commandTimeoutMs,
        signal: s.shared.abort,
        now: s.shared.now,
        beforeEffect: (description) => s.shared.journal({ kind: 'step', host, task, step: description }),
        onStepStarted: (description) => (failure.step = description),
        ...(budget ? { budget } : {}),
      },
      extras,
    )
    if (result.confirm !== undefined) {
      const facts = s.facts.absorb(result.confirm, confirmFacts, false)
      s.shared.emit({ kind: 'facts-gathered', host, durationMs: s.shared.now() - started, facts })
    }
  }
}

// Contiguous run/write steps share one exec; a reboot stands alone. Under a task budget every step
// is its own exec, so each one gets what is left of the budget on the runner's clock.
export function stepGroups(steps: Step[], perStep: boolean): Array<BatchStep[] | Extract<Step, { kind: 'reboot' }>> {
  const groups: Array<BatchStep[] | Extract<Step, { kind: 'reboot' }>> = []
  for (const step of steps) {
    const last = groups[groups.length - 1]
    if (step.kind === 'reboot') groups.push(step)
    else if (!perStep && Array.isArray(last)) last.push(step)
    else groups.push([step])
  }
  return groups
}

// One line per step for check mode and reports.
export function describeStep(step: Step): string {
  if (step.kind === 'run') return `${step.description}: ${step.command}`
  if (step.kind === 'write') return `${step.description}: write ${step.path} (mode ${step.mode})`
  return `${step.description}: reboot and wait (up to ${Math.round(step.timeoutMs / 1000)}s)`
}
