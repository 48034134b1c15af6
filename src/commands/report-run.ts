// The end of a run: its reports, the printed plan and recap, and the exit code.
import { resolve } from 'node:path'
import type { HostOutcome } from '../events.js'
import { EXIT } from '../exit-codes.js'
import { formatPlan } from '../render/plan.js'
import { formatRecap } from '../render/recap.js'
import { readEvents } from '../report/read-events.js'
import { summarize, type RunSummary } from '../report/summarize.js'
import { writeReports } from '../report/write.js'
import type { RunIo, RunSpec } from './execute.js'

// Writes the reports and prints the plan (check mode) and the recap; returns the summary.
export function reportRun(spec: RunSpec, io: RunIo, runDir: string): RunSummary {
  // Reports always cover the whole run: every part of a resumed run is in events.jsonl.
  const summary = summarize(readEvents(runDir))
  writeReports(runDir, summary)
  if (spec.reportDir) writeReports(resolve(spec.reportDir), summary)
  if (spec.output !== 'jsonl') {
    if (spec.check) io.stdout(formatPlan(summary, { verbose: (spec.verbosity ?? 0) > 0 }))
    io.stdout(formatRecap(summary, runDir))
  }
  return summary
}

// 0, a host failed, check mode would change something, or interrupted.
export function runExitCode(spec: RunSpec, outcomes: Record<string, HostOutcome>, interrupted: boolean): number {
  const failed = Object.values(outcomes).some((o) => o !== 'ok' && o !== 'changed')
  // Check mode as a CI gate: 0 when nothing would change, EXIT.wouldChange when something would.
  const wouldChange = spec.check && Object.values(outcomes).some((o) => o === 'changed')
  return interrupted ? EXIT.interrupted : failed ? EXIT.hostsFailed : wouldChange ? EXIT.wouldChange : EXIT.ok
}
