import { conn, HostFailure, type HostState } from './host-state.js'
import { decideLock, lockCommand, lockFact, unlockCommand, type LockDecision, type LockFact, type LockOwner } from './lock.js'

// The fleet lock on one host. Checking it is free: the lock file is read by a fact in the gather
// exec, so a host held by another live run is refused before anything is planned. Taking it costs
// no exec of its own either: it rides at the head of the first exec that changes something (the
// first changing task's, or the reboot's refresh). A no-op host is therefore never locked — nothing
// is being changed on it, so there is nothing to protect — and releasing is skipped too. The race
// this leaves (another run locks the host between our gather and our lock) is closed by the lock
// command itself: mkdir is atomic, and a lost race is the same clear refusal, naming the holder.

const LOCK_EXEC_TIMEOUT_MS = 30_000

// Refuses a host another live run holds (check mode: notes it). No exec.
export function checkLock(s: HostState): void {
  const decision = decideLock(s.facts.get(lockFact) as LockFact, s.shared.runId, s.shared.now())
  if (decision.kind !== 'refuse') return
  if (s.shared.check) s.shared.emit({ kind: 'task-noop', host: s.host.name, task: 'gpufleet.lock', reason: `note: ${decision.message}` })
  else throw new HostFailure(decision.message, 'failed')
}

// A lock to take (journaled here, before the exec that carries it), or undefined when this run
// holds it already and no refresh is asked for.
export interface PendingLock {
  owner: LockOwner
  decision: Extract<LockDecision, { kind: 'take' }>
  script: string
  timeoutMs: number
}

export function lockToTake(s: HostState, refresh = false): PendingLock | undefined {
  if (s.lockOwner && !refresh) return undefined
  const current: LockFact = s.lockOwner ? { state: 'held', raw: JSON.stringify(s.lockOwner), owner: s.lockOwner } : (s.facts.get(lockFact) as LockFact)
  const decision = decideLock(current, s.shared.runId, s.shared.now())
  if (decision.kind === 'refuse') throw new HostFailure(decision.message, 'failed')
  const owner: LockOwner = {
    runId: s.shared.runId,
    controller: s.shared.lock.controller,
    pid: s.shared.lock.pid,
    playbook: s.shared.playbook.name,
    expiresAt: s.shared.now() + s.shared.lock.ttlMs,
  }
  s.shared.journal({ kind: 'lock', host: s.host.name, expiresAt: owner.expiresAt })
  return { owner, decision, script: lockCommand(owner, decision.replace), timeoutMs: LOCK_EXEC_TIMEOUT_MS }
}

// The lock part's result: taken (exit 0), or a refusal naming whoever took it meanwhile.
export function lockResult(s: HostState, pending: PendingLock, r: { exitCode: number | null; stdout: string; stderr: string }): void {
  if (r.exitCode === 3) {
    // Someone took it between our gather and now: the same refusal, with the new holder.
    const raced = decideLock(lockFact.parse(`held\n${r.stdout}`, 0), s.shared.runId, s.shared.now())
    throw new HostFailure(raced.kind === 'refuse' ? raced.message : 'host is locked by another run', 'failed')
  }
  if (r.exitCode !== 0) throw new HostFailure(`could not take the fleet lock (exit ${r.exitCode}): ${r.stderr.trim()}`, 'failed')
  s.lockOwner = pending.owner
  s.shared.emit({ kind: 'lock-acquired', host: s.host.name, expiresAt: pending.owner.expiresAt, ...(pending.decision.takenOverFrom ? { takenOver: pending.decision.takenOverFrom.runId } : {}) })
}

// Takes or refreshes the lock in an exec of its own (before a long reboot wait, rarely).
export async function takeLockNow(s: HostState, refresh: boolean): Promise<void> {
  const pending = lockToTake(s, refresh)
  if (!pending) return
  const r = await conn(s).exec(pending.script, { become: s.host.become, timeoutMs: pending.timeoutMs, signal: s.shared.abort })
  lockResult(s, pending, r)
}

// Releases our lock (one exec) if we hold it and can still reach the host.
export async function releaseLock(s: HostState): Promise<void> {
  if (!s.lockOwner || !s.transport?.connected || s.shared.abort.aborted) return
  try {
    s.shared.journal({ kind: 'unlock', host: s.host.name })
    await s.transport.exec(unlockCommand(s.lockOwner), { become: s.host.become, timeoutMs: LOCK_EXEC_TIMEOUT_MS })
    s.shared.emit({ kind: 'lock-released', host: s.host.name })
  } catch {
    // The lock expires on its own; a host we cannot reach now is reported by its outcome.
  }
}
