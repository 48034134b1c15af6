import { describe, expect, it } from 'vitest'
import { DURATION_PATTERN, durationProblem, formatDuration, parseDuration } from '../src/duration.js'

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
    for (const ms of [500, 90_000, 5_400_000, 3_723_004, 61_500]) expect(parseDuration(formatDuration(ms))).toBe(ms)
    expect(formatDuration(90_000)).toBe('1m30s')
    expect(formatDuration(0)).toBe('0s')
  })

  it('formats durations the way playbooks write them', () => {
    expect([250, 1500, 45_000, 60_000, 90_000, 600_000, 3_600_000, 5_400_000, 61_500].map(formatDuration)).toEqual(['250ms', '1.5s', '45s', '1m', '1m30s', '10m', '1h', '1h30m', '61.5s'])
  })
})
