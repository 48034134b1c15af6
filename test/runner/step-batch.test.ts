import { execa } from 'execa'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildGatherScript, splitGatherOutput } from '../../src/facts/gather.js'
import { defineFact } from '../../src/facts/define.js'
import { batchScript, splitBatchOutput, stepPart, type BatchStep } from '../../src/runner/step-batch.js'

// Several steps in one exec, run by a real sh: each step's output and exit code come back on their
// own, a failing step stops the script, and the confirm (a gather script) runs only after all passed.

let dirs: string[] = []
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
})
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gpufleet-batch-'))
  dirs.push(d)
  return d
}

const sh = (script: string) => execa('sh', ['-c', script], { reject: false })

describe('step batch', () => {
  it("runs every step in order, keeps each one's output apart, and confirms after the last", async () => {
    const d = tmp()
    const file = join(d, 'etc', 'x.conf')
    const fact = defineFact({ name: 'test.file', command: `cat ${file}`, parse: (out) => out.trim() })
    const steps: BatchStep[] = [
      { kind: 'run', description: 'make dir', command: `mkdir -p ${d}/etc && echo made` },
      { kind: 'write', description: 'write x.conf', path: file, content: 'it\'s "quoted" $HOME `x`\nno final newline', mode: '0640' },
      { kind: 'run', description: 'grep exits 1', command: `grep -q nothing ${file}`, okExitCodes: [0, 1] },
      { kind: 'run', description: 'stdin', command: 'cat; echo oops >&2', stdin: 'fed\n' },
    ]
    const script = batchScript(steps.map(stepPart), buildGatherScript([fact]))
    expect((await execa('sh', ['-n', '-c', script], { reject: false })).exitCode).toBe(0)
    const r = await sh(script)
    expect(r.exitCode).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe('it\'s "quoted" $HOME `x`\nno final newline')
    expect((statSync(file).mode & 0o777).toString(8)).toBe('640')
    const out = splitBatchOutput(r.stdout, r.stderr)
    expect(out.parts).toEqual([
      { exitCode: 0, stdout: 'made\n', stderr: '' },
      { exitCode: 0, stdout: '', stderr: '' },
      { exitCode: 1, stdout: '', stderr: '' },
      { exitCode: 0, stdout: 'fed\n', stderr: 'oops\n' },
    ])
    expect(splitGatherOutput(out.confirm!)['test.file']).toEqual({ stdout: 'it\'s "quoted" $HOME `x`\nno final newline\n', exitCode: 0 })
  })

  it('stops at the first step whose exit code is not allowed: nothing after it runs, no confirm', async () => {
    const d = tmp()
    const steps: BatchStep[] = [
      { kind: 'run', description: 'fails', command: 'echo before; echo bad >&2; exit 3' },
      { kind: 'run', description: 'never', command: `touch ${d}/ran` },
    ]
    const r = await sh(batchScript(steps.map(stepPart), 'echo confirmed'))
    expect(r.exitCode).toBe(3)
    const out = splitBatchOutput(r.stdout, r.stderr)
    expect(out.parts).toEqual([{ exitCode: 3, stdout: 'before\n', stderr: 'bad\n' }])
    expect(out.confirm).toBeUndefined()
    expect(() => statSync(join(d, 'ran'))).toThrow()
  })

  it('a step that exits its subshell early (exit 0 mid-script) does not end the batch', async () => {
    const steps: BatchStep[] = [
      { kind: 'run', description: 'early exit', command: 'echo a; exit 0; echo never' },
      { kind: 'run', description: 'next', command: 'set -e; echo b' },
    ]
    const out = splitBatchOutput((await sh(batchScript(steps.map(stepPart)))).stdout, '')
    expect(out.parts.map((p) => [p.exitCode, p.stdout])).toEqual([
      [0, 'a\n'],
      [0, 'b\n'],
    ])
  })

  it('a step cut off mid-run has no exit code', () => {
    const out = splitBatchOutput('@@gpufleet-step@@ begin 0\npartial line', '')
    expect(out.parts).toEqual([{ exitCode: null, stdout: 'partial line\n', stderr: '' }])
  })
})
