import { CommandError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import type { Step } from '../tasks/define.js'
import type { Transport } from '../transport/types.js'
import type { Emit } from './emit.js'
import type { TaskBudget } from './task-budget.js'

// Everything one step needs to touch one host. The journal hook runs before the effect.
export interface ApplyContext {
  host: InventoryHost
  transport: Transport
  task: string
  emit: Emit
  become: boolean
  commandTimeoutMs: number // used when the step names no timeout of its own
  beforeEffect: (step: string) => void
  signal?: AbortSignal
  budget?: TaskBudget // the task's `timeout:`, shared by all its steps
}

// Applies a `run` or `write` step. A disallowed exit code becomes a CommandError naming the step;
// output lines stream out as events while the command runs (dracut -v is long). Under a task
// budget a command gets min(its own timeout, what the task has left); the transport kills it when
// that runs out, and a kill by the budget becomes a TaskTimeoutError naming the task.
export async function applyStep(step: Exclude<Step, { kind: 'reboot' }>, ctx: ApplyContext): Promise<void> {
  const host = ctx.host.name
  const left = ctx.budget?.remainingMs()
  // Checked before the journal entry: a step that never starts is no effect to record.
  if (ctx.budget && left !== undefined && left <= 0) throw ctx.budget.timedOut(step.description, false)
  ctx.beforeEffect(step.description)
  ctx.emit({ kind: 'step-started', host, task: ctx.task, step: step.description })
  const started = Date.now()
  // A write is one atomic upload (temp file, then rename) with no timeout of its own: it is checked
  // against the budget before it starts, never cut halfway.
  if (step.kind === 'write') {
    await ctx.transport.writeFile(step.path, step.content, { mode: step.mode, ...(step.owner ? { owner: step.owner } : {}), become: ctx.become })
    ctx.emit({ kind: 'step-finished', host, task: ctx.task, step: step.description, command: `write ${step.path} (mode ${step.mode}, ${Buffer.byteLength(step.content)} bytes)`, exitCode: 0, durationMs: Date.now() - started })
    return
  }
  const own = step.timeoutMs ?? ctx.commandTimeoutMs
  const byBudget = left !== undefined && left < own
  const result = await ctx.transport.exec(step.command, {
    become: ctx.become,
    timeoutMs: byBudget ? left : own,
    ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onLine: (stream, line) => ctx.emit({ kind: 'command-output', host, task: ctx.task, stream, line }),
  })
  ctx.emit({ kind: 'step-finished', host, task: ctx.task, step: step.description, command: step.command, exitCode: result.exitCode, durationMs: result.durationMs })
  // Killed by us (exit and signal both null) while the budget was the tighter limit: the task ran out.
  if (byBudget && ctx.budget && result.exitCode === null && result.signal === null && !ctx.signal?.aborted) throw ctx.budget.timedOut(step.description)
  const ok = step.okExitCodes ?? [0]
  if (result.exitCode === null || !ok.includes(result.exitCode)) throw new CommandError(host, result, step.description)
}
