// Durations as the sim CLI takes them: `500ms`, `4s`, `2m`, `1h`, or a bare number of milliseconds.
import { UsageError } from '../errors.js'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

// Milliseconds, or a UsageError naming the bad text.
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!m) throw new UsageError(`not a duration: '${text}' (use e.g. 500ms, 4s, 2m)`)
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!)
}
