import { Listr } from 'listr2'
import pc from 'picocolors'
import type { FleetEvent, FleetEventKind } from '../events.js'
import { HostTable } from './host-table.js'
import { escapeControlsDeep } from '../terminal-text.js'

// The TTY renderer (the one home of listr2): one listr2 task for the whole run whose title is the
// HostTable frame, repainted a few times a second and at once on events a human must see now (a
// failure, a host's end, a slot taken). listr2 owns cursor handling and the final frame. Colour
// follows picocolors (NO_COLOR, FORCE_COLOR, a terminal); width and height follow the terminal.

export interface TtyRenderer {
  onEvent(event: FleetEvent): void
  // Resolves once the last frame is painted (after run-finished).
  done(): Promise<void>
}

// How often the frame (elapsed times, last output lines) is refreshed.
export const REFRESH_MS = 200

const URGENT: ReadonlySet<FleetEventKind> = new Set<FleetEventKind>(['task-failed', 'host-finished', 'host-unreachable', 'slot-acquired', 'slot-waiting', 'reboot-issued', 'host-up', 'budget-exhausted', 'interrupted'])

// Starts the live view on process.stdout.
export function createListrRenderer(stream: NodeJS.WriteStream = process.stdout): TtyRenderer {
  const table = new HostTable()
  const colour = pc.isColorSupported && Boolean(stream.isTTY)
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
              // listr2 indents the title and adds its spinner; leave room for both.
              const frame = table.frame(Date.now(), Math.max(40, (stream.columns ?? 100) - 4), { colour, maxRows: Math.max(5, (stream.rows ?? 40) - 8) })
              // The whole frame is the title: listr2 repaints a changed title in place, while
              // task output is an append-only buffer (it would scroll, not refresh).
              task.title = frame.join('\n')
            }
            paint()
            const timer = setInterval(() => paint?.(), REFRESH_MS)
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
      // Every string of the event (remote output, names) escaped before it can reach a frame.
      table.apply(escapeControlsDeep(event))
      if (URGENT.has(event.kind)) paint?.()
      if (event.kind === 'run-finished') finish?.()
    },
    async done() {
      finish?.()
      await running
    },
  }
}
