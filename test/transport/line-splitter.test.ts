import { describe, expect, it } from 'vitest'
import { lineSplitter } from '../../src/transport/line-splitter.js'

describe('lineSplitter', () => {
  it('cuts chunks into lines, joins a UTF-8 character split across chunks, drops CR and keeps the last partial line', () => {
    const lines: string[] = []
    const s = lineSplitter('stdout', (stream, line) => lines.push(`${stream}:${line}`))
    const text = Buffer.from('a\r\nbé\nc')
    s.push(text.subarray(0, 5)) // ends inside é
    s.push(text.subarray(5))
    s.end()
    expect(lines).toEqual(['stdout:a', 'stdout:bé', 'stdout:c'])
  })

  it('masks the become password on stderr, and on stdout only when it is long enough', () => {
    const lines: string[] = []
    const onLine = (stream: string, line: string) => lines.push(`${stream}:${line}`)
    const err = lineSplitter('stderr', onLine, 'root')
    err.push('bad root\n')
    const out = lineSplitter('stdout', onLine, 'root')
    out.push('root=/dev/sda\n')
    const longOut = lineSplitter('stdout', onLine, 'correct-horse')
    longOut.push('echo correct-horse\n')
    expect(lines).toEqual(['stderr:bad ********', 'stdout:root=/dev/sda', 'stdout:echo ********'])
  })
})
