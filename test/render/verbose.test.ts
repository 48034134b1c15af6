import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { createPlainRenderer } from '../../src/render/plain.js'

const T = Date.UTC(2026, 0, 1, 12, 0, 0)
const events: FleetEvent[] = [
  { t: T, kind: 'step-started', host: 'p9-01', task: 'cpu.smt', step: 'set SMT off' },
  { t: T, kind: 'command-output', host: 'p9-01', task: 'cpu.smt', stream: 'stdout', line: 'SMT is off' },
  { t: T, kind: 'command-output', host: 'p9-01', task: 'cpu.smt', stream: 'stderr', line: 'warning: x' },
  { t: T, kind: 'step-finished', host: 'p9-01', task: 'cpu.smt', step: 'set SMT off', command: 'ppc64_cpu --smt=off\nsystemctl enable smt-off', exitCode: 0, durationMs: 5 },
  { t: T, kind: 'task-planned', host: 'p9-01', task: 'kernel.arg', reason: 'missing', steps: ['grubby'], diff: '-a\n+a b\n' },
]

// Continuation lines sit under the first line's text: time (12) + space + host (5) + space + 4.
const PAD = ' '.repeat(23)

function render(options: { showDiffs?: boolean; verbosity?: number }): string {
  let out = ''
  const r = createPlainRenderer((t) => (out += t), ['p9-01'], options)
  for (const e of events) r(e)
  return out
}

describe('-v, -vv and --diff in the plain output', () => {
  it('default: no commands, no output, diffs shown (the renderer default)', () => {
    const out = render({})
    expect(out).not.toContain('ppc64_cpu')
    expect(out).toContain('+a b')
  })

  it('--diff off hides diffs; -v adds the commands under the step', () => {
    const out = render({ showDiffs: false, verbosity: 1 })
    expect(out).not.toContain('+a b')
    expect(out).toContain(`12:00:00.000 p9-01     $ ppc64_cpu --smt=off\n${PAD}> systemctl enable smt-off\n`)
    expect(out).not.toContain('SMT is off')
  })

  it('-vv adds each command output line under its command', () => {
    expect(render({ verbosity: 2 })).toContain(`p9-01     $ ppc64_cpu --smt=off\n${PAD}> systemctl enable smt-off\n${PAD}| SMT is off\n${PAD}! warning: x\n`)
  })
})
