import { z } from 'zod'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

// '15m', '30s', '1h', '500ms', or a bare number of milliseconds.
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim())
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 30s, 15m, 1h)`)
  return Math.round(Number(m[1]) * UNITS[m[2]])
}

// Zod schema for a duration arg: accepts '15m'/'30s' or milliseconds, yields milliseconds.
export const durationSchema = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration like 30s, 15m or 1h')])
  .transform((v) => parseDuration(v))
