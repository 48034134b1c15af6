import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HostOutcome } from '../events.js'
import { isUnfinished, listRuns, readJournal, readRunFile, RunFileError } from '../runner/journal.js'

// The past runs under a runs directory, newest first, for `gpufleet runs`. Read from each run's
// summary.json (written at the end of every part); a run without one, or whose journal has no end,
// is unfinished (its controller died): `gpufleet resume <id>` finishes it.

export interface RunListing {
  id: string
  playbook?: string
  check: boolean
  startedAt?: number
  durationMs?: number
  counts?: Record<HostOutcome, number>
  state: 'finished' | 'interrupted' | 'unfinished'
  parts: number
}

interface SavedSummary {
  playbook?: string
  check?: boolean
  startedAt?: number
  durationMs?: number
  interrupted?: boolean
  counts?: Record<HostOutcome, number>
  parts?: unknown[]
}

export function listRunDetails(runsDir: string): RunListing[] {
  return listRuns(runsDir).map((id) => {
    const dir = join(runsDir, id)
    const summary = readSaved(dir)
    const options = readOptions(dir)
    const unfinished = isUnfinished(readJournal(dir)) || !summary
    return {
      id,
      ...((summary?.playbook ?? options?.playbook) ? { playbook: summary?.playbook ?? options?.playbook } : {}),
      check: Boolean(summary?.check ?? options?.check),
      ...(summary?.startedAt !== undefined ? { startedAt: summary.startedAt } : {}),
      ...(summary?.durationMs !== undefined && !unfinished ? { durationMs: summary.durationMs } : {}),
      ...(summary?.counts ? { counts: summary.counts } : {}),
      state: unfinished ? 'unfinished' : summary.interrupted ? 'interrupted' : 'finished',
      parts: summary?.parts?.length ?? 1,
    }
  })
}

// A table for the terminal.
export function formatRunList(runs: RunListing[]): string {
  if (!runs.length) return 'no runs yet\n'
  const rows = runs.map((r) => [
    r.id,
    `${r.playbook ?? '?'}${r.check ? ' (check)' : ''}`,
    r.startedAt !== undefined ? new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19) : '-',
    r.durationMs !== undefined ? duration(r.durationMs) : '-',
    r.counts ? counts(r.counts) : '-',
    `${r.state}${r.parts > 1 ? ` (${r.parts} parts)` : ''}`,
  ])
  const head = ['RUN', 'PLAYBOOK', 'STARTED (UTC)', 'TOOK', 'HOSTS', 'STATE']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
}

// A run's options, or undefined when the file is missing or unreadable (empty, truncated).
function readOptions(dir: string): { playbook?: string; check?: boolean } | undefined {
  try {
    return readRunFile<{ playbook?: string; check?: boolean }>(dir, 'options.json')
  } catch (error) {
    if (error instanceof RunFileError) return undefined
    throw error
  }
}

function readSaved(dir: string): SavedSummary | undefined {
  const file = join(dir, 'summary.json')
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SavedSummary
  } catch {
    return undefined
  }
}

function counts(c: Record<HostOutcome, number>): string {
  const parts = Object.entries(c)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
  return parts.join(', ') || '0 hosts'
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}
