import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { ensurePrivateDir } from '../private-dir.js'
import { formatPlan } from '../render/plan.js'
import { formatHtml } from './html.js'
import { formatJunit } from './junit.js'
import { formatMarkdown } from './markdown.js'
import { formatRetry } from './retry.js'
import type { RunSummary } from './summarize.js'

// The report formats `gpufleet report --format` accepts; a run writes them all.
export const REPORT_FORMATS = ['json', 'md', 'junit', 'html', 'retry'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

// Writes the run's reports into `dir` and returns the files written:
//   json:  summary.json (totals, every host in brief) and hosts/<host>.json (tasks, steps, exit
//          codes, durations, facts before/after, verify evidence, reboot, slot, timeline windows)
//   md:    summary.md (recap, what changed, what failed and why, what to do next)
//   junit: junit.xml (host = suite, task = case)
//   html:  report.html (rack tiles and timeline, self-contained)
//   retry: retry.txt (failed and unreachable hosts, for --limit @retry.txt)
// A check run also gets plan.txt, the plan in words.
// The directory must be ours and writable by nobody else (created 0700 if missing, see
// src/private-dir.ts); every file is written 0600 by temp + rename, never through a symlink.
export function writeReports(dir: string, summary: RunSummary, formats: readonly ReportFormat[] = REPORT_FORMATS): string[] {
  ensurePrivateDir(dir, 'report directory')
  const files: string[] = []
  const put = (name: string, text: string) => {
    const file = join(dir, name)
    writeFileAtomic(file, text)
    files.push(file)
  }
  if (formats.includes('json')) {
    const brief = {
      runId: summary.runId,
      playbook: summary.playbook,
      check: summary.check,
      startedAt: summary.startedAt,
      finishedAt: summary.finishedAt,
      durationMs: summary.durationMs,
      interrupted: summary.interrupted,
      parts: summary.parts,
      counts: summary.counts,
      budget: summary.budget,
      hosts: Object.fromEntries(Object.values(summary.hosts).map((h) => [h.host, { rack: h.rack, outcome: h.outcome, message: h.message, rebooted: Boolean(h.reboot?.upAt) }])),
    }
    put('summary.json', JSON.stringify(brief, null, 2) + '\n')
    ensurePrivateDir(join(dir, 'hosts'), 'report directory')
    for (const h of Object.values(summary.hosts)) put(join('hosts', hostReportName(h.host)), JSON.stringify(h, null, 2) + '\n')
  }
  if (formats.includes('retry')) put('retry.txt', formatRetry(summary))
  if (formats.includes('md')) put('summary.md', formatMarkdown(summary, { runDir: dir, retryFile: join(dir, 'retry.txt') }))
  if (formats.includes('junit')) put('junit.xml', formatJunit(summary))
  if (formats.includes('html')) put('report.html', formatHtml(summary))
  if (summary.check) put('plan.txt', formatPlan(summary, { verbose: true }))
  return files
}

// The file name of a host's report inside hosts/. Host names come from the inventory, so the name is
// kept to [A-Za-z0-9._-] inside hosts/; a name that needed changing also gets a short hash of the
// original (with '~', which no kept name contains), so `a/b` and `a_b` never share a file.
export function hostReportName(host: string): string {
  const safe = host.replace(/[^A-Za-z0-9._-]/g, '_')
  if (safe === host && host !== '.' && host !== '..') return `${host}.json`
  return `${safe}~${createHash('sha256').update(host).digest('hex').slice(0, 8)}.json`
}
