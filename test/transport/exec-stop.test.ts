import { describe, expect, it } from 'vitest'
import { abortedBeforeStart, watchForStop, withStopNote } from '../../src/transport/exec-stop.js'

describe('exec-stop', () => {
  it('describes a command aborted before it started', () => {
    expect(abortedBeforeStart('true')).toEqual({ command: 'true', exitCode: null, signal: null, stdout: '', stderr: 'gpufleet: aborted before the command started', durationMs: 0 })
  })

  it('adds the stop line on its own line', () => {
    expect(withStopNote('', 'aborted', 'the process was killed')).toBe('gpufleet: command aborted; the process was killed\n')
    expect(withStopNote('partial', 'timed out after 5 ms', 'the channel was closed')).toBe('partial\ngpufleet: command timed out after 5 ms; the channel was closed\n')
    expect(withStopNote('line\n', 'aborted', 'x')).toBe('line\ngpufleet: command aborted; x\n')
  })

  it('stops on abort and on timeout, and not after unwatching', async () => {
    const why: string[] = []
    const ac = new AbortController()
    const unwatch = watchForStop({ signal: ac.signal }, Date.now(), (w) => why.push(w))
    ac.abort()
    unwatch()
    const timed = new Promise<void>((resolve) => watchForStop({ timeoutMs: 5 }, Date.now(), (w) => (why.push(w), resolve())))
    await timed
    const ac2 = new AbortController()
    watchForStop({ signal: ac2.signal, timeoutMs: 60_000 }, Date.now(), (w) => why.push(w))()
    ac2.abort()
    expect(why).toEqual(['aborted', 'timed out after 5 ms'])
  })
})
