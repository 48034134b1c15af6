import { quote } from '../shell.js'
import type { Step } from '../tasks/define.js'
import { atomicWriteScript } from '../transport/atomic-write.js'

// Several steps (and optionally the fleet lock before them and a targeted fact re-read after them)
// in ONE exec. Each part runs in its own subshell between marker lines on stdout and stderr that
// carry its index and exit code, so the runner can tell which step printed what, which one failed,
// and where the confirming fact output starts. A part whose exit code is not allowed stops the
// script: nothing after a failed step runs, exactly as with one exec per step.

export type BatchStep = Exclude<Step, { kind: 'reboot' }>

const MARK = '@@gpufleet-step@@'
const CONFIRM = '@@gpufleet-confirm@@'

// One part of the script: a step, or the runner's own lock command.
export interface BatchPart {
  script: string
  okExitCodes: number[]
}

// The shell text of one step: a write pipes its content (quoted) into the same atomic write the
// transports use; a step with stdin gets it the same way; any other step reads /dev/null.
export function stepScript(step: BatchStep): string {
  if (step.kind === 'write') {
    const options = { mode: step.mode, ...(step.owner ? { owner: step.owner } : {}) }
    return `printf '%s' ${quote(step.content)} | (\n${atomicWriteScript(step.path, options)}\n)`
  }
  if (step.stdin !== undefined) return `printf '%s' ${quote(step.stdin)} | (\n${step.command}\n)`
  return `(\n${step.command}\n) </dev/null`
}

export function stepPart(step: BatchStep): BatchPart {
  return { script: stepScript(step), okExitCodes: step.kind === 'run' ? (step.okExitCodes ?? [0]) : [0] }
}

// The whole script: every part in order, then (when every part passed) the confirm text, which is
// a gather script for the facts the steps changed.
export function batchScript(parts: BatchPart[], confirm?: string): string {
  const lines: string[] = []
  parts.forEach((part, i) => {
    const ok = part.okExitCodes.map((c) => String(Math.trunc(c))).join(' ')
    lines.push(`echo '${MARK} begin ${i}'; echo '${MARK} begin ${i}' >&2`, part.script, `__gf_rc=$?; echo; echo "${MARK} end ${i} $__gf_rc"; echo >&2; echo "${MARK} end ${i} $__gf_rc" >&2`, `case " ${ok} " in *" $__gf_rc "*) ;; *) exit "$__gf_rc" ;; esac`)
  })
  if (confirm !== undefined) lines.push(`echo '${CONFIRM}'`, confirm)
  return lines.join('\n') + '\n'
}

// What one part did: its exit code (null when it began but never ended: killed or cut off) and
// its own stdout and stderr.
export interface PartResult {
  exitCode: number | null
  stdout: string
  stderr: string
}

export interface BatchOutput {
  parts: PartResult[] // only the parts that began, in order
  confirm?: string // the confirm's stdout, when every part passed and it ran
}

// Splits the script's output back per part (and the confirm).
export function splitBatchOutput(stdout: string, stderr: string): BatchOutput {
  const out = split(stdout)
  const err = split(stderr)
  const parts = out.parts.map((p, i) => ({ exitCode: p.exitCode, stdout: p.text, stderr: err.parts[i]?.text ?? '' }))
  return { parts, ...(out.confirm !== undefined ? { confirm: out.confirm } : {}) }
}

// A marker line, if this is one: begin/end of part N (end with its exit code), or the confirm.
export function batchMarker(line: string): { kind: 'begin' | 'end'; index: number; exitCode?: number } | { kind: 'confirm' } | undefined {
  if (line === CONFIRM) return { kind: 'confirm' }
  if (!line.startsWith(MARK + ' ')) return undefined
  const m = /^(begin|end) (\d+)(?: (\d+))?$/.exec(line.slice(MARK.length + 1))
  if (!m) return undefined
  return m[1] === 'begin' ? { kind: 'begin', index: Number(m[2]) } : { kind: 'end', index: Number(m[2]), exitCode: Number(m[3]) }
}

function split(text: string): { parts: Array<{ exitCode: number | null; text: string }>; confirm?: string } {
  const parts: Array<{ exitCode: number | null; text: string; lines: string[] }> = []
  let current: (typeof parts)[number] | undefined
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const mark = batchMarker(line)
    if (mark?.kind === 'confirm') {
      finish(current)
      return { parts, confirm: lines.slice(i + 1).join('\n') }
    }
    if (mark?.kind === 'begin') {
      finish(current)
      current = { exitCode: null, text: '', lines: [] }
      parts.push(current)
    } else if (mark?.kind === 'end' && current) {
      // One newline was printed before the end marker so output without a final newline still
      // ends its own line: drop exactly that empty line.
      if (current.lines.length > 0 && current.lines[current.lines.length - 1] === '') current.lines.pop()
      current.exitCode = mark.exitCode ?? null
      finish(current)
      current = undefined
    } else if (current) {
      current.lines.push(line)
    }
  }
  finish(current)
  return { parts }
}

function finish(part: { text: string; lines: string[] } | undefined): void {
  if (!part) return
  const text = part.lines.join('\n')
  part.text = text === '' ? '' : text + '\n'
}
