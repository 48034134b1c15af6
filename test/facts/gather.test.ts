import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { defineFact } from '../../src/facts/define.js'
import { buildGatherScript, parseFacts, splitGatherOutput } from '../../src/facts/gather.js'
import { FactParseError } from '../../src/errors.js'

const echo = defineFact({ name: 'test.echo', command: 'printf "a\\nb\\n"', parse: (s) => s })
const noNewline = defineFact({ name: 'test.no-newline', command: 'printf x', parse: (s) => s })
const failing = defineFact({ name: 'test.failing', command: 'echo partial; echo oops >&2; exit 3', parse: (s, code) => ({ s, code }) })
const missing = defineFact({ name: 'test.missing', command: 'no-such-tool-gpufleet --x', parse: (s, code) => ({ s, code }) })
const empty = defineFact({ name: 'test.empty', command: 'true', parse: (s) => s })

// The script runs in a real sh, as it would on a host.
function run(script: string): string {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' })
}

describe('gather script', () => {
  it('gathers every fact in one shell run with its own output and exit code', () => {
    const raw = splitGatherOutput(run(buildGatherScript([echo, noNewline, failing, missing, empty])))
    expect(raw['test.echo']).toEqual({ stdout: 'a\nb\n', exitCode: 0 })
    expect(raw['test.no-newline']).toEqual({ stdout: 'x\n', exitCode: 0 })
    expect(raw['test.failing']).toEqual({ stdout: 'partial\n', exitCode: 3 })
    expect(raw['test.missing']).toEqual({ stdout: '', exitCode: 127 })
    expect(raw['test.empty']).toEqual({ stdout: '', exitCode: 0 })
  })

  it('gathers a fact named twice only once', () => {
    expect(buildGatherScript([echo, echo]).match(/begin test\.echo/g)).toHaveLength(1)
  })

  it('parses facts by key, passing exit codes', () => {
    const raw = splitGatherOutput(run(buildGatherScript([echo, failing])))
    expect(parseFacts({ e: echo, f: failing }, raw)).toEqual({ e: 'a\nb\n', f: { s: 'partial\n', code: 3 } })
  })

  it('names the fact whose output is missing (connection dropped mid-script)', () => {
    const out = run(buildGatherScript([echo]))
    expect(() => parseFacts({ e: echo, n: noNewline }, splitGatherOutput(out))).toThrow(FactParseError)
    expect(() => parseFacts({ e: echo, n: noNewline }, splitGatherOutput(out))).toThrow(/test\.no-newline/)
  })

  it('wraps a parser exception with the fact name and raw output', () => {
    const bad = defineFact({
      name: 'test.bad',
      command: 'echo nope',
      parse: () => {
        throw new Error('unexpected')
      },
    })
    try {
      parseFacts({ b: bad }, splitGatherOutput(run(buildGatherScript([bad]))))
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(FactParseError)
      expect((error as FactParseError).stdout).toBe('nope\n')
      expect((error as FactParseError).message).toMatch(/test\.bad.*unexpected/)
    }
  })
})
