// How every transport stops a command early (its timeout, or the run's abort signal) and says so
// in the result: exitCode and signal null, a gpufleet line at the end of stderr.
import type { CommandResult, ExecOptions } from './types.js'

// The result of a command whose run was aborted before it started.
export function abortedBeforeStart(command: string): CommandResult {
  return { command, exitCode: null, signal: null, stdout: '', stderr: 'gpufleet: aborted before the command started', durationMs: 0 }
}

// Calls stop('timed out after N ms') once opts.timeoutMs has passed since `started`, or
// stop('aborted') when opts.signal fires. The returned function stops watching.
export function watchForStop(opts: ExecOptions, started: number, stop: (why: string) => void): () => void {
  const timer = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? setTimeout(() => stop(`timed out after ${opts.timeoutMs} ms`), Math.max(0, opts.timeoutMs - (Date.now() - started))) : undefined
  const onAbort = () => stop('aborted')
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  return () => {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

// stderr with the line that says why the command was stopped and what became of it.
export function withStopNote(stderr: string, why: string, outcome: string): string {
  return `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}gpufleet: command ${why}; ${outcome}\n`
}
