import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { UsageError } from '../errors.js'
import { formatRunList, listRunDetails } from './list-runs.js'
import { readEvents } from '../report/read-events.js'
import { summarize } from '../report/summarize.js'
import { REPORT_FORMATS, writeReports, type ReportFormat } from '../report/write.js'
import { listRuns } from '../runner/journal.js'
import { defaultRunsDir, RUNS_DIR_HELP } from '../runner/runs-dir.js'

// `gpufleet report <run-id>`: re-renders a run's reports from its whole events.jsonl (every part of
// a resumed run). `gpufleet runs`: lists past runs.
export function registerReport(program: Command): void {
  program
    .command('report')
    .description("re-render a run's reports (summary.md, junit.xml, report.html, hosts/*.json, retry.txt) from its events")
    .argument('<run-id>', 'the run id (a directory under the runs directory; `gpufleet runs` lists them)')
    .option('--format <list>', `comma-separated: ${REPORT_FORMATS.join(', ')} (default: all)`)
    .option('--out <dir>', 'write the reports here instead of into the run directory')
    .option('--run-dir <dir>', `where run directories live (default ${RUNS_DIR_HELP})`)
    .addHelpText('after', `\nExamples:\n  $ gpufleet report 20261126T031502Z-3f9a1c\n  $ gpufleet report 20261126T031502Z-3f9a1c --format junit,md --out ci-artifacts/\n`)
    .action((runId: string, flags: { format?: string; out?: string; runDir?: string }) => {
      const runsDir = resolve(flags.runDir ?? defaultRunsDir())
      const dir = join(runsDir, runId)
      if (!/^[\w.-]+$/.test(runId) || !existsSync(join(dir, 'events.jsonl'))) throw new UsageError(`no run ${runId} in ${runsDir} (recent runs: ${listRuns(runsDir).slice(0, 5).join(', ') || 'none'})`)
      const formats = parseFormats(flags.format)
      const files = writeReports(flags.out ? resolve(flags.out) : dir, summarize(readEvents(dir)), formats)
      for (const f of files) if (!f.includes(`${join('hosts', '')}`)) process.stdout.write(`${f}\n`)
      const hostFiles = files.filter((f) => f.includes(join('hosts', ''))).length
      if (hostFiles) process.stdout.write(`${hostFiles} host report${hostFiles === 1 ? '' : 's'} in ${join(flags.out ? resolve(flags.out) : dir, 'hosts')}/\n`)
    })

  program
    .command('runs')
    .description('list past runs: id, playbook, start, duration, outcome counts, state')
    .option('--run-dir <dir>', `where run directories live (default ${RUNS_DIR_HELP})`)
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', `\nExamples:\n  $ gpufleet runs\n  $ gpufleet runs --json | jq '.[0].id'\n`)
    .action((flags: { runDir?: string; json?: boolean }) => {
      const runs = listRunDetails(resolve(flags.runDir ?? defaultRunsDir()))
      process.stdout.write(flags.json ? JSON.stringify(runs, null, 2) + '\n' : formatRunList(runs))
    })
}

export function parseFormats(text: string | undefined): ReportFormat[] {
  if (!text) return [...REPORT_FORMATS]
  const out = text.split(',').map((s) => s.trim())
  for (const f of out) if (!(REPORT_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format: unknown format ${JSON.stringify(f)} (choose from ${REPORT_FORMATS.join(', ')})`)
  return out as ReportFormat[]
}
