import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { hostStates, isUnfinished, Journal, newRunId, readJournal } from '../../src/runner/journal.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gpufleet-journal-'))
  dirs.push(d)
  return d
}

describe('journal', () => {
  it('appends records durably and reads them back, ignoring a torn last line', () => {
    const dir = tmp()
    const j = new Journal(dir)
    j.append({ t: 1, kind: 'run-started', runId: 'x', pid: 1, controller: 'c', resumed: false })
    j.append({ t: 2, kind: 'reboot', host: 'h1', bootIdBefore: 'b1' })
    j.close()
    appendFileSync(join(dir, 'journal.jsonl'), '{"t":3,"kind":"rebo') // SIGKILL mid-write
    const records = readJournal(dir)
    expect(records.map((r) => r.kind)).toEqual(['run-started', 'reboot'])
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n')[0]).toContain('"run-started"')
    expect(isUnfinished(records)).toBe(true)
  })

  it('folds per-host reboot state for reconciliation', () => {
    const states = hostStates([
      { t: 1, kind: 'step', host: 'a', task: 'kernel.arg', step: 's' },
      { t: 2, kind: 'reboot', host: 'a', bootIdBefore: 'A0' },
      { t: 3, kind: 'rebooted', host: 'a', bootIdAfter: 'A1' },
      { t: 4, kind: 'reboot', host: 'b', bootIdBefore: 'B0' },
      { t: 5, kind: 'step', host: 'c', task: 'kernel.arg', step: 's' },
      { t: 6, kind: 'host-finished', host: 'c', outcome: 'failed' },
    ])
    expect(states.get('a')).toEqual({ reboot: { bootIdBefore: 'A0', issuedAt: 2, bootIdAfter: 'A1' }, stepsSinceReboot: 0 })
    expect(states.get('b')).toEqual({ reboot: { bootIdBefore: 'B0', issuedAt: 4 }, stepsSinceReboot: 0 })
    expect(states.get('c')).toEqual({ stepsSinceReboot: 1, outcome: 'failed' })
  })

  it('knows a finished run from an unfinished one, also across a resume', () => {
    expect(
      isUnfinished([
        { t: 1, kind: 'run-started', runId: 'x', pid: 1, controller: 'c', resumed: false },
        { t: 2, kind: 'run-finished', outcomes: {} },
      ]),
    ).toBe(false)
    expect(
      isUnfinished([
        { t: 1, kind: 'run-started', runId: 'x', pid: 1, controller: 'c', resumed: false },
        { t: 2, kind: 'run-finished', outcomes: {} },
        { t: 3, kind: 'run-started', runId: 'x', pid: 2, controller: 'c', resumed: true },
      ]),
    ).toBe(true)
    expect(isUnfinished([])).toBe(false)
  })

  it('makes sortable, unique run ids', () => {
    const a = newRunId(new Date(Date.UTC(2026, 10, 26, 3, 15, 2)))
    expect(a).toMatch(/^20261126T031502Z-[0-9a-f]{6}$/)
    expect(newRunId()).not.toBe(newRunId())
  })
})
