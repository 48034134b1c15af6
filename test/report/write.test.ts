import { describe, expect, it } from 'vitest'
import { hostReportName } from '../../src/report/write.js'

describe("a host's report file name", () => {
  it('keeps a plain host name as it is', () => {
    expect(hostReportName('p9-a01.gpu.example.com')).toBe('p9-a01.gpu.example.com.json')
    expect(hostReportName('a_b')).toBe('a_b.json')
  })

  it('gives hosts whose names differ only in unsafe characters distinct files inside hosts/', () => {
    const names = ['a/b', 'a_b', 'a b', 'a\u001bb', '../a_b', '..']
    const files = names.map(hostReportName)
    expect(new Set(files).size).toBe(names.length)
    for (const f of files) expect(f).toMatch(/^[A-Za-z0-9._~-]+\.json$/)
    expect(hostReportName('a/b')).toMatch(/^a_b~[0-9a-f]{8}\.json$/)
  })
})
