// Which renderer a run's events go to (--output): the live listr2 view, JSON lines or plain lines.
import type { FleetEvent } from '../events.js'
import { createJsonlRenderer } from '../render/jsonl.js'
import { createListrRenderer } from '../render/listr.js'
import { createPlainRenderer } from '../render/plain.js'
import type { RunIo, RunSpec } from './execute.js'

// `tty` is the live view when one runs (its `done()` awaited at the end of the run).
export function runRenderer(spec: RunSpec, io: RunIo, hostNames: string[]): { renderer: (e: FleetEvent) => void; tty: ReturnType<typeof createListrRenderer> | undefined } {
  // The live listr2 view only on a real terminal; piped or captured output gets plain lines.
  // A terminal that reports no width (some pseudo-terminals) cannot hold a live view either.
  const tty = spec.output === 'tty' && io.isTTY && (process.stdout.columns ?? 0) > 0 ? createListrRenderer() : undefined
  const renderer = tty ? tty.onEvent : spec.output === 'jsonl' ? createJsonlRenderer(io.stdout) : createPlainRenderer(io.stdout, hostNames, { showDiffs: Boolean(spec.diff), verbosity: spec.verbosity ?? 0 })
  return { renderer, tty }
}
