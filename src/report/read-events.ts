import { join } from 'node:path'
import type { FleetEvent } from '../events.js'
import { readJsonLines } from '../jsonl-file.js'

// Reads a run directory's events.jsonl: every part of the run (a resume appends to the same file).
export function readEvents(runDir: string): FleetEvent[] {
  return readJsonLines<FleetEvent>(join(runDir, 'events.jsonl'))
}
