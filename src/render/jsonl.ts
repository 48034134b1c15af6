import type { FleetEvent } from '../events.js'

// The JSONL renderer: the event stream itself, one JSON object per line (schema: src/events.ts).
export function createJsonlRenderer(write: (text: string) => void): (event: FleetEvent) => void {
  return (event) => write(JSON.stringify(event) + '\n')
}
