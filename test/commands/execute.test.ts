import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { executeRun, findUnfinishedRun, type RunSpec } from '../../src/commands/execute.js'
import { readEvents } from '../../src/report/read-events.js'
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

describe('Ctrl-C twice', () => {
  it('returns exit code 130 at once with the resume command, even while a host hangs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpufleet-abort-'))
    dirs.push(dir)
    const inventory = join(dir, 'hosts.yaml')
    writeFileSync(inventory, 'all:\n  hosts:\n    p9-01:\n      ansible_host: 127.0.0.1\n      gpufleet_rack: r1\n')
    const stderr: string[] = []
    const listeners = process.listenerCount('SIGINT')
    const result = await executeRun(spec(join(dir, 'runs'), { inventory }), {
      stdout: () => undefined,
      stderr: (t) => void stderr.push(t),
      isTTY: false,
      installSignals: true,
      // The connection never completes and ignores its abort signal: only the second Ctrl-C ends the run.
      connect: () => {
        process.emit('SIGINT')
        process.emit('SIGINT')
        return new Promise(() => undefined)
      },
    })
    expect(result.exitCode).toBe(130)
    expect(stderr.join('')).toContain(`Finish the run with: gpufleet resume ${result.runId} --run-dir ${join(dir, 'runs')}`)
    expect(result.summary.interrupted).toBe(true)
    const interrupts = [...readEvents(result.runDir)].flatMap((e) => (e.kind === 'interrupted' ? [e.second] : []))
    expect(interrupts).toEqual([false, true])
    expect(process.listenerCount('SIGINT')).toBe(listeners)
  })
})
