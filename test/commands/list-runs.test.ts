import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { formatRunList, listRunDetails } from '../../src/commands/list-runs.js'
import { summarize } from '../../src/report/summarize.js'
import { writeReports } from '../../src/report/write.js'
import { firstPart, resumedRun, T } from '../report/resumed-run.js'

const base = mkdtempSync(join(tmpdir(), 'gpufleet-list-runs-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe('gpufleet runs', () => {
  it('lists past runs newest first: id, playbook, start, duration, outcome counts, state', () => {
    writeReports(join(base, '20261126T030000Z-aaaaaa'), summarize(resumedRun))
    writeReports(join(base, '20261127T030000Z-bbbbbb'), summarize(firstPart.map((e) => ({ ...e, t: e.t + 86_400_000 }))))
    // A run whose controller died: options and an unfinished journal, no summary yet.
    const dead = join(base, '20261128T030000Z-cccccc')
    mkdirSync(dead)
    writeFileSync(join(dead, 'options.json'), JSON.stringify({ playbook: 'rollback', check: false }))
    writeFileSync(join(dead, 'journal.jsonl'), JSON.stringify({ t: T, kind: 'run-started', runId: 'x', pid: 1, controller: 'c', resumed: false }) + '\n')
    const runs = listRunDetails(base)
    expect(runs.map((r) => [r.id, r.playbook, r.state, r.parts])).toEqual([
      ['20261128T030000Z-cccccc', 'rollback', 'unfinished', 1],
      ['20261127T030000Z-bbbbbb', 'prep', 'interrupted', 1],
      ['20261126T030000Z-aaaaaa', 'prep', 'finished', 2],
    ])
    expect(formatRunList(runs).split('\n')).toEqual([
      'RUN                      PLAYBOOK  STARTED (UTC)        TOOK   HOSTS                               STATE',
      '20261128T030000Z-cccccc  rollback  -                    -      -                                   unfinished',
      '20261127T030000Z-bbbbbb  prep      2026-11-27 03:00:00  5s     1 changed, 1 failed, 1 not-started  interrupted',
      '20261126T030000Z-aaaaaa  prep      2026-11-26 03:00:00  1m04s  2 changed, 1 failed                 finished (2 parts)',
      '',
    ])
  })
})
