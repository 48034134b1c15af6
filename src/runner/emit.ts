import type { FleetEvent } from '../events.js'

// A FleetEvent before it is stamped with its time; the bus adds `t`.
export type EventInput = FleetEvent extends infer E ? (E extends { t: number } ? Omit<E, 't'> : never) : never

// Where the runner sends events. The bus stamps, fans out to renderers, the run log and reports.
export type Emit = (event: EventInput) => void

// Collects events for tests and for reports built in-process.
export function createEventBus(sinks: Array<(event: FleetEvent) => void>, now: () => number = Date.now): Emit {
  return (input) => {
    const event = { t: now(), ...input } as FleetEvent
    for (const sink of sinks) sink(event)
  }
}
