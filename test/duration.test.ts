import { describe, expect, it } from 'vitest'
import { DURATION_PATTERN, durationProblem, formatDurationMs, parseDuration } from '../src/duration.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    [' 2h ', 7_200_000],
    ['1h2m3s4ms', 3_723_004],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
    expect(new RegExp(DURATION_PATTERN).test(text.trim())).toBe(true)
  })

  it('refuses a bare number and says a unit is required', () => {
    expect(() => parseDuration('15')).toThrow(/'15' has no unit: write 15s, 15m or 15ms/)
    expect(new RegExp(DURATION_PATTERN).test('15')).toBe(false)
  })

  it.each(['', 'abc', '15 m', '30s1m', '1m1m', '-5s', '5d', 's'])('refuses %j', (text) => {
    expect(durationProblem(text)).not.toBeNull()
    expect(() => parseDuration(text)).toThrow()
    expect(new RegExp(DURATION_PATTERN).test(text)).toBe(false)
  })

  it('formats milliseconds back to the same text', () => {
    for (const ms of [500, 90_000, 5_400_000, 3_723_004]) expect(parseDuration(formatDurationMs(ms))).toBe(ms)
    expect(formatDurationMs(90_000)).toBe('1m30s')
    expect(formatDurationMs(0)).toBe('0s')
  })
})
