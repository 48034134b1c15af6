// The rack's ground truth: every SimEvent in memory and, one JSON line each, in DIR/events.jsonl.
import fs from 'node:fs'
import path from 'node:path'
import type { SimEvent } from './sim-host.js'

export interface EventLog {
  events: SimEvent[]
  emit: (e: SimEvent) => void
  close: () => void
}

// Starts DIR/events.jsonl empty.
export function openEventLog(dir: string): EventLog {
  const events: SimEvent[] = []
  const eventsFile = path.join(dir, 'events.jsonl')
  fs.writeFileSync(eventsFile, '')
  const eventsFd = fs.openSync(eventsFile, 'a')
  const emit = (e: SimEvent) => {
    events.push(e)
    fs.writeSync(eventsFd, JSON.stringify(e) + '\n')
  }
  return { events, emit, close: () => fs.closeSync(eventsFd) }
}
