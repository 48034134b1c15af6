// The one duration format of gpufleet, for flags, playbooks, sim specs and the JSON Schema: one or more
// number+unit parts, largest unit first (`500ms`, `90s`, `15m`, `1h30m`, `1m30s`, `1.5s`). A unit is
// required: a bare number is refused with a message that says so, because `15` meant seconds in one place
// and milliseconds in two others before this parser existed.

import { z } from 'zod'

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const
type Unit = keyof typeof UNIT_MS
const ORDER: Unit[] = ['h', 'm', 's', 'ms']
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y

// The JSON Schema / zod pattern for a duration string (kept in step with parseDuration by a test).
export const DURATION_PATTERN = '^(?=\\d)(\\d+(\\.\\d+)?h)?(\\d+(\\.\\d+)?m)?(\\d+(\\.\\d+)?s)?(\\d+(\\.\\d+)?ms)?$'

// The same, for a duration that must be more than zero (a playbook item's `timeout:`): some digit is 1-9.
export const POSITIVE_DURATION_PATTERN = `^(?=.*[1-9])${DURATION_PATTERN.slice(1)}`

// A human hint used in every duration error and in `--help` texts.
export const DURATION_HINT = 'a duration with a unit, e.g. 500ms, 90s, 15m, 1h30m'

// Why a text is not a duration, or null when it is one.
export function durationProblem(text: string): string | null {
  const t = text.trim()
  if (t === '') return `empty duration (use ${DURATION_HINT})`
  if (/^\d+(\.\d+)?$/.test(t)) return `'${t}' has no unit: write ${t}s, ${t}m or ${t}ms (${DURATION_HINT})`
  let pos = 0
  let last = -1
  while (pos < t.length) {
    PART.lastIndex = pos
    const m = PART.exec(t)
    if (!m) return `'${t}' is not a duration (use ${DURATION_HINT})`
    const rank = ORDER.indexOf(m[2] as Unit)
    if (rank <= last) return `'${t}' is not a duration: units must go from largest to smallest, each once (${DURATION_HINT})`
    last = rank
    pos = PART.lastIndex
  }
  return null
}

// Milliseconds for a duration text; throws an Error whose message says what is wrong (callers wrap it in
// their own error type with the flag or file:line that held it).
export function parseDuration(text: string): number {
  const problem = durationProblem(text)
  if (problem) throw new Error(problem)
  let ms = 0
  const t = text.trim()
  PART.lastIndex = 0
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(m[1]) * UNIT_MS[m[2] as Unit]
  return Math.round(ms)
}

// A number of milliseconds as a playbook would write it, read back by parseDuration to the same
// value: 600000 → '10m', 90000 → '1m30s', 1500 → '1.5s', 250 → '250ms', 0 → '0s'.
export function formatDuration(ms: number): string {
  ms = Math.round(ms)
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  if (ms % 1000 !== 0 || ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`
  const h = Math.floor(ms / UNIT_MS.h)
  const m = Math.floor((ms % UNIT_MS.h) / UNIT_MS.m)
  const s = Math.floor((ms % UNIT_MS.m) / UNIT_MS.s)
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`
}

// A duration in a zod schema (playbook args, sim specs): a string matching DURATION_PATTERN, so the JSON
// Schema carries the pattern; a bare YAML number gets the same "has no unit" message as the parser.
// Parses to milliseconds. Callers' `.describe()` should say what the duration is for and the format.
export const durationSchema = z
  .string({ error: (issue) => (typeof issue.input === 'number' ? (durationProblem(String(issue.input)) ?? undefined) : `expected ${DURATION_HINT}`) })
  .regex(new RegExp(DURATION_PATTERN), { error: (issue) => durationProblem(String(issue.input)) ?? undefined })
  .describe(DURATION_HINT)
  .transform((text) => parseDuration(text))
