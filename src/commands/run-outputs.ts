// A run's local record: its private run directory with options.json, the journal (not in check
// mode) and events.jsonl, and the event bus that feeds the renderer and events.jsonl.
import { closeSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { openAppendPrivate } from '../atomic-file.js'
import type { FleetEvent } from '../events.js'
import { redactExtraVars } from '../inventory/extra-vars.js'
import { createEventBus } from '../runner/emit.js'
import { hostStates, Journal, readJournal, writeRunFile, type JournalRecord } from '../runner/journal.js'
import { mkdirPrivate } from '../runner/runs-dir.js'
import { stamp, type Unstamped } from '../unstamped.js'
import type { RunSpec } from './execute.js'

export interface RunOutputs {
  emit: ReturnType<typeof createEventBus>
  journalAppend: ((r: Unstamped<JournalRecord>) => void) | undefined
  previous: ReturnType<typeof hostStates> // what the journal of this run says so far (resume)
  close: () => void // the journal and events.jsonl
}

// Creates (or reopens, on resume) the run directory and opens its files.
export function openRunOutputs(spec: RunSpec, runDir: string, renderer: (e: FleetEvent) => void): RunOutputs {
  // Run directories are private (0700): they hold hosts' facts, commands and the fleet's layout.
  mkdirPrivate(spec.runsDir)
  mkdirPrivate(runDir)
  const previous = hostStates(readJournal(runDir))
  writeRunFile(runDir, 'options.json', { ...spec, ...(spec.extraVars ? { extraVars: redactExtraVars(spec.extraVars) } : {}) })
  // Check mode changes nothing, so there is nothing to journal (or resume).
  const journal = spec.check ? undefined : new Journal(runDir)
  // Sinks: the renderer and the run's own events.jsonl (the reports are folded from that file).
  const eventsFd = openAppendPrivate(join(runDir, 'events.jsonl'))
  const sinks: Array<(e: FleetEvent) => void> = [renderer]
  if (eventsFd >= 0) sinks.push((e) => writeSync(eventsFd, JSON.stringify(e) + '\n'))
  return {
    emit: createEventBus(sinks),
    journalAppend: journal ? (r) => journal.append(stamp(Date.now(), r)) : undefined,
    previous,
    close: () => {
      journal?.close()
      if (eventsFd >= 0) closeSync(eventsFd)
    },
  }
}
