import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findUnfinishedRun, type RunSpec } from '../../src/commands/execute.js'
import { Journal, writeRunFile } from '../../src/runner/journal.js'
import { DEFAULT_ROLL } from '../../src/runner/options.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function spec(runsDir: string, extra: Partial<RunSpec> = {}): RunSpec {
  return { playbook: 'prep', inventory: '/inv.yaml', check: false, forks: 50, acceptNewHostKeys: false, askBecomePass: false, output: 'plain', roll: DEFAULT_ROLL, commandTimeoutMs: 1, lockTtlMs: 1, runsDir, ...extra }
}

function saveRun(runsDir: string, id: string, s: RunSpec, finished: boolean) {
  const dir = join(runsDir, id)
  writeRunFile(dir, 'options.json', s)
  const j = new Journal(dir)
  j.append({ t: 1, kind: 'run-started', runId: id, pid: 1, controller: 'c', resumed: false })
  if (finished) j.append({ t: 2, kind: 'run-finished', outcomes: {} })
  j.close()
}

describe('re-running the same command after a crash', () => {
  it('continues the newest unfinished run of the same playbook, inventory and --limit', () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'gpufleet-runs-'))
    dirs.push(runsDir)
    saveRun(runsDir, '20261126T010000Z-aaaaaa', spec(runsDir), false)
    saveRun(runsDir, '20261126T020000Z-bbbbbb', spec(runsDir), true)
    saveRun(runsDir, '20261126T030000Z-cccccc', spec(runsDir, { limit: 'r1' }), false)
    expect(findUnfinishedRun(spec(runsDir))).toBe('20261126T010000Z-aaaaaa')
    expect(findUnfinishedRun(spec(runsDir, { limit: 'r1' }))).toBe('20261126T030000Z-cccccc')
    expect(findUnfinishedRun(spec(runsDir, { playbook: 'verify' }))).toBeUndefined()
    expect(findUnfinishedRun(spec(join(runsDir, 'none')))).toBeUndefined()
  })
})
