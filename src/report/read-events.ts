import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FleetEvent } from '../events.js'

// Reads a run directory's events.jsonl: every part of the run (a resume appends to the same file).
// A torn last line (the controller was killed mid-write) is skipped, never guessed at.
export function readEvents(runDir: string): FleetEvent[] {
  const file = join(runDir, 'events.jsonl')
  if (!existsSync(file)) return []
  const events: FleetEvent[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    try {
      events.push(JSON.parse(line) as FleetEvent)
    } catch {
      // torn line
    }
  }
  return events
}
