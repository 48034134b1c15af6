import type { FleetEvent, HostOutcome } from '../events.js'
import { foldHypervisor, type HypervisorReport } from './hypervisor-report.js'

// Folds the event stream into per-host reports and run totals. Pure: the same events always give
// the same report, so `gpufleet report` can re-render any past run from its events.jsonl. A resumed
// run appends to the same events.jsonl, so folding the whole file reports both parts: a reboot
// done before the interruption stays on the host, and its final outcome is the last part's.

export interface StepReport {
  step: string
  command?: string
  exitCode: number | null
  durationMs: number
}

export interface TaskReport {
  task: string
  title: string
  phase?: 'stage' | 'roll'
  status: 'running' | 'noop' | 'changed' | 'failed' | 'planned'
  reason?: string
  notes?: string[]
  diff?: string
  plannedSteps?: string[]
  evidence?: Record<string, unknown>
  steps: StepReport[]
  startedAt: number
  durationMs?: number
  part: number // 1 for the first run, 2 for the first resume, ...
  reboots?: boolean // check mode: this planned change reboots the host
  failedStep?: { step: string; exitCode?: number | null; stderrTail?: string[] }
}

// A span of a host's run for the timeline. Kinds are open: other event kinds (drain, BMC) add theirs.
export interface HostWindow {
  kind: 'stage' | 'slot-wait' | 'reboot' | 'verify' | (string & {})
  start: number
  end?: number
  label?: string
}

export interface HostReport {
  host: string
  rack?: string
  outcome?: HostOutcome
  message?: string
  unreachable?: { reason: string; message: string }
  tasks: TaskReport[]
  factsBefore?: Record<string, unknown>
  factsAfter?: Record<string, unknown>
  reboot?: { bootIdBefore: string; issuedAt: number; downAt?: number; upAt?: number; bootIdAfter?: string; waitedMs?: number; skipped?: string }
  slot?: { waitingSince?: number; waitReason?: string; acquiredAt?: number; releasedAt?: number }
  lock?: { acquiredAt: number; expiresAt: number; releasedAt?: number; takenOver?: string }
  windows: HostWindow[]
  finishedAt?: number
  hypervisor?: HypervisorReport // drain, reboot blockers, BMC actions, guest restarts
}

export interface RunSummary {
  runId?: string
  playbook?: string
  check: boolean
  startedAt?: number
  finishedAt?: number
  durationMs?: number
  interrupted: boolean
  inventory?: string // as the run was given it (for the retry command)
  limit?: string
  parts: Array<{ startedAt: number; finishedAt?: number; resumed: boolean }>
  budget: Array<{ failed: number; allowed: number; scope: string }>
  hosts: Record<string, HostReport>
  counts: Record<HostOutcome, number>
}

// Builds the summary from a recorded event stream.
export function summarize(events: Iterable<FleetEvent>): RunSummary {
  // One function on purpose: one exhaustive switch over the event union, every case folding into the same summary and its helpers.
  const s: RunSummary = { check: false, interrupted: false, parts: [], budget: [], hosts: {}, counts: emptyCounts() }
  const host = (name: string): HostReport => (s.hosts[name] ??= { host: name, tasks: [], windows: [] })
  const open = (name: string, kind: string) => [...host(name).windows].reverse().find((w) => w.kind === kind && w.end === undefined)
  const close = (name: string, kind: string, t: number) => {
    const w = open(name, kind)
    if (w) w.end = t
  }
  const part = () => Math.max(1, s.parts.length)
  const current = (name: string, task: string): TaskReport | undefined => {
    const tasks = host(name).tasks
    for (let i = tasks.length - 1; i >= 0; i--) if (tasks[i]!.task === task) return tasks[i]
    return undefined
  }
  for (const e of events) {
    if (foldHypervisor(host, e)) continue
    switch (e.kind) {
      case 'run-started':
        s.runId = e.runId
        s.playbook = e.playbook
        s.check = e.check
        s.startedAt ??= e.t
        s.interrupted = false // the last part says whether the run as a whole was cut short
        if (typeof e.options.inventory === 'string') s.inventory = e.options.inventory
        if (typeof e.options.limit === 'string') s.limit = e.options.limit
        s.parts.push({ startedAt: e.t, resumed: Boolean(e.resumed) })
        for (const h of e.hosts) {
          host(h).rack = e.racks?.[h]
          // A new part: the host's end is the new part's.
          delete host(h).outcome
          delete host(h).message
        }
        break
      case 'host-connected':
        // Staging begins with the connection; one window per part.
        if (!open(e.host, 'stage')) host(e.host).windows.push({ kind: 'stage', start: e.t - e.durationMs })
        break
      case 'host-unreachable':
        host(e.host).unreachable = { reason: e.reason, message: e.message }
        break
      case 'facts-gathered':
        if (!host(e.host).factsBefore) host(e.host).factsBefore = e.facts
        host(e.host).factsAfter = e.facts
        break
      case 'task-started':
        host(e.host).tasks.push({ task: e.task, title: e.title, ...(e.phase ? { phase: e.phase } : {}), status: 'running', steps: [], startedAt: e.t, part: part() })
        if (e.phase === 'roll') {
          close(e.host, 'stage', e.t)
          if (!open(e.host, 'verify') && !open(e.host, 'reboot') && e.task === 'host.verify') host(e.host).windows.push({ kind: 'verify', start: e.t })
        }
        break
      case 'task-noop':
      case 'task-changed':
      case 'task-planned':
      case 'task-failed': {
        let t = current(e.host, e.task)
        if (!t || t.status !== 'running') {
          t = { task: e.task, title: e.task, status: 'running', steps: [], startedAt: e.t, part: part() }
          host(e.host).tasks.push(t)
        }
        t.durationMs = e.t - t.startedAt
        if (e.kind === 'task-noop') Object.assign(t, { status: 'noop', reason: e.reason }, e.notes ? { notes: e.notes } : {})
        if (e.kind === 'task-changed') Object.assign(t, { status: 'changed', reason: e.reason }, e.notes ? { notes: e.notes } : {})
        if (e.kind === 'task-planned') Object.assign(t, { status: 'planned', reason: e.reason, plannedSteps: e.steps }, e.diff ? { diff: e.diff } : {}, e.reboots ? { reboots: true } : {})
        if (e.kind === 'task-failed') {
          Object.assign(t, { status: 'failed', reason: e.message }, e.evidence ? { evidence: e.evidence } : {})
          if (e.step) t.failedStep = { step: e.step, ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}), ...(e.stderrTail ? { stderrTail: e.stderrTail } : {}) }
        }
        if (e.kind === 'task-noop' || e.kind === 'task-changed' || e.kind === 'task-failed') {
          if (t.task === 'host.verify') close(e.host, 'verify', e.t)
        }
        break
      }
      case 'step-finished':
        current(e.host, e.task)?.steps.push({ step: e.step, ...(e.command ? { command: e.command } : {}), exitCode: e.exitCode, durationMs: e.durationMs })
        break
      case 'slot-waiting':
        host(e.host).slot = { ...host(e.host).slot, waitingSince: host(e.host).slot?.waitingSince ?? e.t, waitReason: e.reason }
        close(e.host, 'stage', e.t)
        if (open(e.host, 'slot-wait')) open(e.host, 'slot-wait')!.label = e.reason
        else host(e.host).windows.push({ kind: 'slot-wait', start: e.t, label: e.reason })
        break
      case 'slot-acquired':
        host(e.host).slot = { ...host(e.host).slot, acquiredAt: e.t }
        close(e.host, 'stage', e.t)
        close(e.host, 'slot-wait', e.t)
        break
      case 'slot-released':
        host(e.host).slot = { ...host(e.host).slot, releasedAt: e.t }
        break
      case 'reboot-issued':
        host(e.host).reboot = { bootIdBefore: e.bootIdBefore, issuedAt: e.t }
        host(e.host).windows.push({ kind: 'reboot', start: e.t })
        break
      case 'host-down':
        if (host(e.host).reboot) host(e.host).reboot!.downAt = e.t
        break
      case 'host-up':
        host(e.host).reboot = { bootIdBefore: '', issuedAt: e.t - e.waitedMs, ...host(e.host).reboot, upAt: e.t, bootIdAfter: e.bootIdAfter, waitedMs: e.waitedMs }
        if (open(e.host, 'reboot')) close(e.host, 'reboot', e.t)
        else host(e.host).windows.push({ kind: 'reboot', start: e.t - e.waitedMs, end: e.t, label: 'reboot seen by the resumed run' })
        break
      case 'reboot-skipped':
        host(e.host).reboot = { bootIdBefore: '', issuedAt: e.t, ...host(e.host).reboot, skipped: e.reason }
        break
      case 'lock-acquired':
        host(e.host).lock = { acquiredAt: e.t, expiresAt: e.expiresAt, ...(e.takenOver ? { takenOver: e.takenOver } : {}) }
        break
      case 'lock-released':
        if (host(e.host).lock) host(e.host).lock!.releasedAt = e.t
        break
      case 'host-finished':
        host(e.host).outcome = e.outcome
        if (e.message) host(e.host).message = e.message
        host(e.host).finishedAt = e.t
        // Whatever is still open ends with the host (a reboot that never came back, a wait never served).
        for (const w of host(e.host).windows) w.end ??= e.t
        break
      case 'budget-exhausted':
        s.budget.push({ failed: e.failed, allowed: e.allowed, scope: e.scope })
        break
      case 'interrupted':
        s.interrupted = true
        break
      case 'run-finished':
        s.finishedAt = e.t
        s.durationMs = e.t - s.startedAt!
        if (s.parts.length) s.parts[s.parts.length - 1]!.finishedAt = e.t
        for (const h of Object.values(s.hosts)) for (const w of h.windows) w.end ??= e.t
        break
      case 'phase-started':
      case 'connect-retry':
      case 'step-started':
      case 'command-output':
        break
    }
  }
  s.counts = emptyCounts()
  for (const h of Object.values(s.hosts)) if (h.outcome) s.counts[h.outcome]++
  return s
}

// A host's tasks as the whole run left them. One part: its tasks. Resumed: the last part that ran
// tasks on the host, where a task the resume found already done (noop) but an earlier part changed
// counts as changed, so the recap says what this run did to the host.
export function finalTasks(h: HostReport): TaskReport[] {
  const parts = [...new Set(h.tasks.map((t) => t.part))]
  if (parts.length <= 1) return h.tasks
  const last = Math.max(...parts)
  const changedBefore = new Map<string, TaskReport>()
  for (const t of h.tasks) if (t.part < last && t.status === 'changed') changedBefore.set(`${t.phase}/${t.task}`, t)
  return h.tasks
    .filter((t) => t.part === last)
    .map((t) => {
      const earlier = changedBefore.get(`${t.phase}/${t.task}`)
      return t.status === 'noop' && earlier ? { ...t, status: 'changed' as const, reason: `${earlier.reason ?? 'changed'} (part ${earlier.part} of this run)`, steps: earlier.steps } : t
    })
}

export function emptyCounts(): Record<HostOutcome, number> {
  return { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, 'not-started': 0, 'needs-drain': 0, blocked: 0 }
}
