import { Listr } from 'listr2'
import type { FleetEvent } from '../events.js'
import { HostTable } from './host-table.js'

// The TTY renderer (the one home of listr2): one listr2 task for the whole run whose title is the
// HostTable frame, repainted a few times a second. listr2 owns cursor handling and the final
// frame; NO_COLOR is honoured by its colour library. The recap is printed after it ends.

export interface TtyRenderer {
  onEvent(event: FleetEvent): void
  // Resolves once the last frame is painted (after run-finished).
  done(): Promise<void>
}

// Starts the live view on process.stdout.
export function createListrRenderer(stream: NodeJS.WriteStream = process.stdout): TtyRenderer {
  const table = new HostTable()
  let finish: (() => void) | undefined
  const finished = new Promise<void>((resolve) => (finish = resolve))
  let paint: (() => void) | undefined
  const list = new Listr(
    [
      {
        title: 'gpufleet',
        task: (_ctx, task) =>
          new Promise<void>((resolve) => {
            paint = () => {
              const frame = table.frame(Date.now(), Math.max(40, (stream.columns ?? 100) - 4))
              // The whole frame is the title: listr2 repaints a changed title in place, while
              // task output is an append-only buffer (it would scroll, not refresh).
              task.title = frame.join('\n')
            }
            const timer = setInterval(() => paint?.(), 200)
            void finished.then(() => {
              clearInterval(timer)
              paint?.()
              resolve()
            })
          }),
      },
    ],
    { renderer: 'default', exitOnError: false, registerSignalListeners: false, rendererOptions: { lazy: false } },
  )
  const running = list.run().catch(() => undefined)
  return {
    onEvent(event) {
      table.apply(event)
      if (event.kind === 'run-finished') finish?.()
    },
    async done() {
      finish?.()
      await running
    },
  }
}
