import type { Emit } from './emit.js'

// Ctrl-C, the way an admin in the middle of a rolling reboot needs it: the first interrupt stops
// starting new work (no new host, task or reboot) while in-flight critical steps — a dracut
// rebuild, a reboot being waited on — finish, and the run reports; the second aborts at once (the
// caller stops waiting and src/cli.ts exits, the one place that calls process.exit).
// Abandoning in-flight work is safe because every journal record is fsynced before its side effect:
// the journal is consistent at any instant, and `gpufleet resume` reconciles from the hosts.

export interface Interrupt {
  stop: AbortSignal // first interrupt
  abort: AbortSignal // second interrupt
  dispose(): void
}

// Installs SIGINT/SIGTERM handlers (when `install`), or just returns the signals (tests, embedding).
export function installInterruptHandler(emit: Emit, install: boolean): Interrupt {
  const stop = new AbortController()
  const abort = new AbortController()
  const onSignal = () => {
    if (!stop.signal.aborted) {
      stop.abort()
      emit({ kind: 'interrupted', second: false })
      return
    }
    abort.abort()
    emit({ kind: 'interrupted', second: true })
  }
  if (install) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  return {
    stop: stop.signal,
    abort: abort.signal,
    dispose() {
      if (install) {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    },
  }
}
