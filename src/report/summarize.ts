import type { FleetEvent, HostOutcome } from '../events.js'
import { foldHypervisor, type HypervisorReport } from './hypervisor-report.js'

// Folds the event stream into per-host reports and run totals. Pure: the same events always give
// the same report, so `gpufleet report` can re-render any past run from its events.jsonl.

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
  budget: Array<{ failed: number; allowed: number; scope: string }>
  hosts: Record<string, HostReport>
  counts: Record<HostOutcome, number>
}

// Builds the summary from a recorded event stream.
export function summarize(events: Iterable<FleetEvent>): RunSummary {
  const s: RunSummary = { check: false, interrupted: false, budget: [], hosts: {}, counts: emptyCounts() }
  const host = (name: string): HostReport => (s.hosts[name] ??= { host: name, tasks: [] })
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
        s.startedAt = e.t
        for (const h of e.hosts) host(h).rack = e.racks?.[h]
        break
      case 'host-unreachable':
        host(e.host).unreachable = { reason: e.reason, message: e.message }
        break
      case 'facts-gathered':
        if (!host(e.host).factsBefore) host(e.host).factsBefore = e.facts
        host(e.host).factsAfter = e.facts
        break
      case 'task-started':
        host(e.host).tasks.push({ task: e.task, title: e.title, ...(e.phase ? { phase: e.phase } : {}), status: 'running', steps: [], startedAt: e.t })
        break
      case 'task-noop':
      case 'task-changed':
      case 'task-planned':
      case 'task-failed': {
        let t = current(e.host, e.task)
        if (!t || t.status !== 'running') {
          t = { task: e.task, title: e.task, status: 'running', steps: [], startedAt: e.t }
          host(e.host).tasks.push(t)
        }
        t.durationMs = e.t - t.startedAt
        if (e.kind === 'task-noop') Object.assign(t, { status: 'noop', reason: e.reason }, e.notes ? { notes: e.notes } : {})
        if (e.kind === 'task-changed') Object.assign(t, { status: 'changed', reason: e.reason }, e.notes ? { notes: e.notes } : {})
        if (e.kind === 'task-planned') Object.assign(t, { status: 'planned', reason: e.reason, plannedSteps: e.steps }, e.diff ? { diff: e.diff } : {})
        if (e.kind === 'task-failed') Object.assign(t, { status: 'failed', reason: e.message }, e.evidence ? { evidence: e.evidence } : {})
        break
      }
      case 'step-finished':
        current(e.host, e.task)?.steps.push({ step: e.step, ...(e.command ? { command: e.command } : {}), exitCode: e.exitCode, durationMs: e.durationMs })
        break
      case 'slot-waiting':
        host(e.host).slot = { ...host(e.host).slot, waitingSince: host(e.host).slot?.waitingSince ?? e.t, waitReason: e.reason }
        break
      case 'slot-acquired':
        host(e.host).slot = { ...host(e.host).slot, acquiredAt: e.t }
        break
      case 'slot-released':
        host(e.host).slot = { ...host(e.host).slot, releasedAt: e.t }
        break
      case 'reboot-issued':
        host(e.host).reboot = { bootIdBefore: e.bootIdBefore, issuedAt: e.t }
        break
      case 'host-down':
        if (host(e.host).reboot) host(e.host).reboot!.downAt = e.t
        break
      case 'host-up':
        host(e.host).reboot = { bootIdBefore: '', issuedAt: e.t - e.waitedMs, ...host(e.host).reboot, upAt: e.t, bootIdAfter: e.bootIdAfter, waitedMs: e.waitedMs }
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
        break
      case 'budget-exhausted':
        s.budget.push({ failed: e.failed, allowed: e.allowed, scope: e.scope })
        break
      case 'interrupted':
        s.interrupted = true
        break
      case 'run-finished':
        s.finishedAt = e.t
        s.durationMs = e.durationMs
        break
      case 'phase-started':
      case 'connect-retry':
      case 'host-connected':
      case 'step-started':
      case 'command-output':
        break
    }
  }
  s.counts = emptyCounts()
  for (const h of Object.values(s.hosts)) if (h.outcome) s.counts[h.outcome]++
  return s
}

function emptyCounts(): Record<HostOutcome, number> {
  return { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, 'not-started': 0, 'needs-drain': 0, blocked: 0 }
}
