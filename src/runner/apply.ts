import { CommandError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import type { CommandResult, Transport } from '../transport/types.js'
import type { Emit } from './emit.js'
import { batchMarker, batchScript, splitBatchOutput, stepPart, type BatchPart, type BatchStep } from './step-batch.js'
import type { TaskBudget } from './task-budget.js'

// Everything one group of steps needs to touch one host. The journal hook runs before the effect.
export interface ApplyContext {
  host: InventoryHost
  transport: Transport
  task: string
  emit: Emit
  become: boolean
  commandTimeoutMs: number // used when a step names no timeout of its own
  beforeEffect: (step: string) => void
  onStepStarted?: (step: string) => void // the step now running (for the failure report)
  now: () => number // the runner's clock
  signal?: AbortSignal
  budget?: TaskBudget // the task's `timeout:`, shared by all its steps
}

// Extras that ride in the same exec: the lock before the steps (`taken` gets its part's result the
// moment the exec returns, and throws when it was refused: then no step ran), a fact re-read after.
// The lock is one mkdir: it adds nothing to the exec's timeout.
export interface GroupExtras {
  lock?: { script: string; taken: (r: { exitCode: number | null; stdout: string; stderr: string }) => void }
  confirm?: { script: string; timeoutMs: number }
}

// What the exec brought back besides the steps: the confirm's stdout (only when every step passed).
export interface GroupResult {
  confirm?: string
}

// Applies a contiguous group of run/write steps in ONE exec (see step-batch.ts). Every step is
// journaled before the exec starts, so each gets its record before it runs. A step whose exit code
// is not allowed becomes a CommandError naming it; output lines stream out as events while the
// script runs (dracut -v is long). Under a task budget the exec gets min(its own timeout, what the
// task has left); a kill by the budget becomes a TaskTimeoutError naming the step it cut.
export async function applyGroup(steps: BatchStep[], ctx: ApplyContext, extras: GroupExtras = {}): Promise<GroupResult> {
  const host = ctx.host.name
  const left = ctx.budget?.remainingMs()
  // Checked before the journal entries: a step that never starts is no effect to record.
  if (ctx.budget && left !== undefined && left <= 0) throw ctx.budget.timedOut(steps[0]!.description, false)
  for (const step of steps) ctx.beforeEffect(step.description)
  // The lock runs in a subshell like every step: its `exit 3` (held by another run) must end only its
  // own part, so the marker line carrying that code is printed and the refusal names the holder.
  const parts: BatchPart[] = [...(extras.lock ? [{ script: `(\n${extras.lock.script}\n) </dev/null`, okExitCodes: [0] }] : []), ...steps.map(stepPart)]
  const offset = extras.lock ? 1 : 0
  const own = steps.reduce((sum, s) => sum + ((s.kind === 'run' ? s.timeoutMs : undefined) ?? ctx.commandTimeoutMs), 0) + (extras.confirm?.timeoutMs ?? 0)
  const byBudget = left !== undefined && left < own
  const progress = stepProgress(steps, offset, ctx)
  const result = await ctx.transport.exec(batchScript(parts, extras.confirm?.script), {
    become: ctx.become,
    timeoutMs: byBudget ? left : own,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onLine: progress.onLine,
  })
  progress.cut(result.exitCode)
  const out = splitBatchOutput(result.stdout, result.stderr)
  const lock = extras.lock ? out.parts[0] : undefined
  if (extras.lock && lock) extras.lock.taken(lock)
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!
    const part = out.parts[i + offset]
    if (!part) break
    const ok = step.kind === 'run' ? (step.okExitCodes ?? [0]) : [0]
    if (part.exitCode !== null && ok.includes(part.exitCode)) continue
    // Killed by us (exit and signal both null) while the budget was the tighter limit: the task ran out.
    if (byBudget && ctx.budget && result.exitCode === null && result.signal === null && !ctx.signal?.aborted) throw ctx.budget.timedOut(step.description)
    throw new CommandError(host, stepResult(step, part, result), step.description)
  }
  const started = out.parts.length - offset
  if (started < steps.length || (extras.confirm && out.confirm === undefined)) {
    // The script stopped between parts (sudo refused, connection cut): name the step it did not reach.
    const next = steps[Math.min(Math.max(0, started), steps.length - 1)]!
    const what = started < steps.length ? next.description : `confirming ${next.description}`
    throw new CommandError(host, { ...result, command: next.kind === 'run' ? next.command : `write ${next.path}` }, what)
  }
  return out.confirm !== undefined ? { confirm: out.confirm } : {}
}

// A failed step's own result: its exit code and output; a cut exec keeps the transport's signal
// and its stderr note (timeout) on the step that was running.
function stepResult(step: BatchStep, part: { exitCode: number | null; stdout: string; stderr: string }, whole: CommandResult): CommandResult {
  return {
    command: step.kind === 'run' ? step.command : `write ${step.path}`,
    exitCode: part.exitCode,
    signal: part.exitCode === null ? whole.signal : null,
    stdout: part.stdout,
    stderr: part.stderr,
    durationMs: whole.durationMs,
  }
}

// Turns the script's marker lines into step-started/step-finished events (timed on the runner's
// clock) and every other line of a step into command-output. Lock and confirm lines stay quiet.
function stepProgress(steps: BatchStep[], offset: number, ctx: ApplyContext) {
  const host = ctx.host.name
  let current: number | undefined
  let started = 0
  const onLine = (stream: 'stdout' | 'stderr', line: string) => {
    const mark = batchMarker(line)
    if (mark) {
      if (stream !== 'stdout') return
      if (mark.kind === 'confirm') current = undefined
      else if (mark.index >= offset) {
        const step = steps[mark.index - offset]!
        if (mark.kind === 'begin') {
          current = mark.index - offset
          ctx.onStepStarted?.(step.description)
          started = ctx.now()
          ctx.emit({ kind: 'step-started', host, task: ctx.task, step: step.description })
        } else {
          current = undefined
          const command = step.kind === 'run' ? step.command : `write ${step.path} (mode ${step.mode}, ${Buffer.byteLength(step.content)} bytes)`
          ctx.emit({ kind: 'step-finished', host, task: ctx.task, step: step.description, command, exitCode: mark.exitCode ?? null, durationMs: ctx.now() - started })
        }
      }
      return
    }
    // The empty line printed before each end marker is the script's, not the step's.
    if (current !== undefined && line !== '') ctx.emit({ kind: 'command-output', host, task: ctx.task, stream, line })
  }
  // The exec ended inside a step (killed, cut off): that step finished without an exit code.
  const cut = (exitCode: number | null) => {
    if (current === undefined) return
    const step = steps[current]!
    ctx.emit({ kind: 'step-finished', host, task: ctx.task, step: step.description, ...(step.kind === 'run' ? { command: step.command } : {}), exitCode, durationMs: ctx.now() - started })
  }
  return { onLine, cut }
}
