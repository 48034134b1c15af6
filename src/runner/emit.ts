import type { FleetEvent } from '../events.js'
import { stamp, type Unstamped } from '../unstamped.js'

// A FleetEvent before it is stamped with its time; the bus adds `t`.
export type EventInput = Unstamped<FleetEvent>

// Where the runner sends events. The bus stamps, fans out to renderers, the run log and reports.
export type Emit = (event: EventInput) => void

// Collects events for tests and for reports built in-process.
export function createEventBus(sinks: Array<(event: FleetEvent) => void>, now: () => number = Date.now): Emit {
  return (input) => {
    const event = stamp<FleetEvent>(now(), input)
    for (const sink of sinks) sink(event)
  }
}
