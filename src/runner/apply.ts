import { CommandError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import type { Step } from '../tasks/define.js'
import type { Transport } from '../transport/types.js'
import type { Emit } from './emit.js'

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
}

// Applies a `run` or `write` step. A disallowed exit code becomes a CommandError naming the step;
// output lines stream out as events while the command runs (dracut -v is long).
export async function applyStep(step: Exclude<Step, { kind: 'reboot' }>, ctx: ApplyContext): Promise<void> {
  const host = ctx.host.name
  ctx.beforeEffect(step.description)
  ctx.emit({ kind: 'step-started', host, task: ctx.task, step: step.description })
  const started = Date.now()
  if (step.kind === 'write') {
    await ctx.transport.writeFile(step.path, step.content, { mode: step.mode, ...(step.owner ? { owner: step.owner } : {}), become: ctx.become })
    ctx.emit({ kind: 'step-finished', host, task: ctx.task, step: step.description, command: `write ${step.path} (mode ${step.mode}, ${Buffer.byteLength(step.content)} bytes)`, exitCode: 0, durationMs: Date.now() - started })
    return
  }
  const result = await ctx.transport.exec(step.command, {
    become: ctx.become,
    timeoutMs: step.timeoutMs ?? ctx.commandTimeoutMs,
    ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onLine: (stream, line) => ctx.emit({ kind: 'command-output', host, task: ctx.task, stream, line }),
  })
  ctx.emit({ kind: 'step-finished', host, task: ctx.task, step: step.description, command: step.command, exitCode: result.exitCode, durationMs: result.durationMs })
  const ok = step.okExitCodes ?? [0]
  if (result.exitCode === null || !ok.includes(result.exitCode)) throw new CommandError(host, result, step.description)
}
