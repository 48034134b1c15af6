import { FactParseError } from '../errors.js'
import type { Fact } from './define.js'

// Builds the one shell script that gathers every fact a playbook needs in a single exec, and splits
// its output back per fact. Each fact runs in its own subshell with stderr dropped, between marker
// lines that carry its exit code, so one missing tool cannot hide the others.

const MARK = '@@gpufleet-fact@@'

export function buildGatherScript(facts: Array<Fact<unknown>>): string {
  const seen = new Set<string>()
  const parts: string[] = ['export LC_ALL=C']
  for (const fact of facts) {
    if (seen.has(fact.name)) continue
    seen.add(fact.name)
    // Fact names are code constants ('kernel.cmdline'), never user input, so no quoting is needed;
    // we still refuse anything but [a-z0-9._-] to keep the marker parse unambiguous.
    if (!/^[a-z0-9._-]+$/.test(fact.name)) throw new Error(`bad fact name ${fact.name}`)
    parts.push(`echo '${MARK} begin ${fact.name}'`, `( ${fact.command}\n) </dev/null 2>/dev/null`, `__gpufleet_rc=$?; echo; echo "${MARK} end ${fact.name} $__gpufleet_rc"`)
  }
  return parts.join('\n') + '\n'
}

export interface RawFact {
  stdout: string
  exitCode: number
}

// Splits the gather script's stdout into each fact's raw output and exit code.
export function splitGatherOutput(stdout: string): Record<string, RawFact> {
  const out: Record<string, RawFact> = {}
  let current: string | null = null
  let lines: string[] = []
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${MARK} begin `)) {
      current = line.slice(`${MARK} begin `.length).trim()
      lines = []
    } else if (current !== null && line.startsWith(`${MARK} end ${current} `)) {
      // We printed one extra newline before the end marker so that output without a final
      // newline still ends its own line; drop exactly that one empty line.
      if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
      const text = lines.join('\n')
      out[current] = { stdout: text === '' ? '' : text + '\n', exitCode: Number(line.split(' ').pop()) }
      current = null
    } else if (current !== null) {
      lines.push(line)
    }
  }
  return out
}

// One fact's parse result: its value, or the FactParseError naming it.
export type ParsedFact = { ok: true; value: unknown } | { ok: false; error: FactParseError }

// Parses one fact from the split output. A fact the script did not report (connection dropped
// mid-script) or whose parser throws becomes a FactParseError naming that fact.
export function parseFact(fact: Fact<unknown>, raw: RawFact | undefined): ParsedFact {
  if (!raw) return { ok: false, error: new FactParseError(fact.name, '', 'no output (the gather script did not reach it)') }
  try {
    return { ok: true, value: fact.parse(raw.stdout, raw.exitCode) }
  } catch (error) {
    return { ok: false, error: error instanceof FactParseError ? error : new FactParseError(fact.name, raw.stdout, error instanceof Error ? error.message : String(error)) }
  }
}

// Parses every requested fact from the split output; throws the first fact's FactParseError.
export function parseFacts<T extends Record<string, unknown>>(facts: { [K in keyof T]: Fact<T[K]> }, raw: Record<string, RawFact>): T {
  const result = {} as T
  for (const key of Object.keys(facts) as Array<keyof T>) {
    const parsed = parseFact(facts[key] as Fact<unknown>, raw[facts[key].name])
    if (!parsed.ok) throw parsed.error
    result[key] = parsed.value as T[keyof T]
  }
  return result
}
