import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { parseBatches, parseDurationFlag, parseLimit, resolveLimit } from '../../src/runner/options.js'

describe('run options', () => {
  it('parses N and N% limits and resolves them like Ansible', () => {
    expect(parseLimit('2', '--x')).toEqual({ kind: 'count', n: 2 })
    expect(parseLimit('25%', '--x')).toEqual({ kind: 'percent', p: 25 })
    expect(() => parseLimit('two', '--max-unavailable')).toThrow(UsageError)
    expect(() => parseLimit('150%', '--x')).toThrow(/at most 100%/)
    // 30% of 20 = 6; 10% of 5 = 0 -> a window is at least 1 host, a failure budget may be 0.
    expect(resolveLimit({ kind: 'percent', p: 30 }, 20, true)).toBe(6)
    expect(resolveLimit({ kind: 'percent', p: 10 }, 5, true)).toBe(1)
    expect(resolveLimit({ kind: 'percent', p: 10 }, 5, false)).toBe(0)
  })

  it('parses serial-style batch lists', () => {
    expect(parseBatches('1,5,20%')).toEqual([
      { kind: 'count', n: 1 },
      { kind: 'count', n: 5 },
      { kind: 'percent', p: 20 },
    ])
    expect(() => parseBatches('1,,2')).toThrow(UsageError)
    expect(() => parseBatches('0')).toThrow(/at least one host/)
  })

  it('parses duration flags with the one duration parser, naming the flag in errors', () => {
    expect(parseDurationFlag('15m', '--d')).toBe(900_000)
    expect(parseDurationFlag('1m30s', '--d')).toBe(90_000)
    expect(parseDurationFlag('500ms', '--d')).toBe(500)
    expect(() => parseDurationFlag('90', '--reboot-timeout')).toThrow("--reboot-timeout: '90' has no unit: write 90s, 90m or 90ms")
    expect(() => parseDurationFlag('soon', '--reboot-timeout')).toThrow(/--reboot-timeout/)
    expect(() => parseDurationFlag('5m garbage', '--d')).toThrow(UsageError)
  })
})
