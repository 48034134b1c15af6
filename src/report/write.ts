import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunSummary } from './summarize.js'

// Writes the run's reports: summary.json (totals and every host) and hosts/<host>.json, one file
// per host with its tasks, steps, exit codes, facts before/after, reboot and slot timeline.
export function writeReports(dir: string, summary: RunSummary): string[] {
  mkdirSync(join(dir, 'hosts'), { recursive: true })
  const files: string[] = []
  const summaryFile = join(dir, 'summary.json')
  const brief = {
    runId: summary.runId,
    playbook: summary.playbook,
    check: summary.check,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    durationMs: summary.durationMs,
    interrupted: summary.interrupted,
    counts: summary.counts,
    budget: summary.budget,
    hosts: Object.fromEntries(Object.values(summary.hosts).map((h) => [h.host, { rack: h.rack, outcome: h.outcome, message: h.message, rebooted: Boolean(h.reboot?.upAt) }])),
  }
  writeFileSync(summaryFile, JSON.stringify(brief, null, 2) + '\n')
  files.push(summaryFile)
  for (const h of Object.values(summary.hosts)) {
    // Host names come from the inventory; keep the file name inside hosts/ whatever they contain.
    const file = join(dir, 'hosts', `${h.host.replace(/[^A-Za-z0-9._-]/g, '_')}.json`)
    writeFileSync(file, JSON.stringify(h, null, 2) + '\n')
    files.push(file)
  }
  return files
}
