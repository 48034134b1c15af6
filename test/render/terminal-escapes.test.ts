import { describe, expect, it, vi } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { createListrRenderer } from '../../src/render/listr.js'
import { createPlainRenderer } from '../../src/render/plain.js'
import { formatPlan } from '../../src/render/plan.js'
import { formatRecap } from '../../src/render/recap.js'
import { formatMarkdown } from '../../src/report/markdown.js'
import { summarize } from '../../src/report/summarize.js'
import { escapeControls } from '../../src/terminal-text.js'

// A hostile host answers with terminal control sequences: an OSC window-title change, clear
// screen, a full reset (ESC c), a CR that overwrites the line, an 8-bit CSI. None may reach the
// terminal raw, through any renderer.
const OSC_TITLE = '\x1b]0;pwned\x07'
const CLEAR = '\x1b[2J\x1b[H'
const RESET = '\x1bc'
const EVIL = `${OSC_TITLE}${CLEAR}disk full${RESET}\rfake line\x9b2J`
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/

const T = Date.UTC(2026, 10, 26, 3, 0, 0)
function events(check: boolean): FleetEvent[] {
  return [
    { t: T, kind: 'run-started', runId: 'r1', playbook: 'prep', hosts: ['p9-01'], check, options: {}, racks: { 'p9-01': `r${CLEAR}1` } },
    { t: T + 1, kind: 'phase-started', phase: 'stage' },
    { t: T + 2, kind: 'host-connected', host: 'p9-01', durationMs: 1 },
    { t: T + 3, kind: 'task-started', host: 'p9-01', task: 'kernel.arg', title: 'Add arg', phase: 'stage' },
    ...(check
      ? ([{ t: T + 4, kind: 'task-planned', host: 'p9-01', task: 'kernel.arg', reason: `argument ${EVIL} missing`, steps: [`grubby ${EVIL}`], reboots: true, diff: `-a\n+b${EVIL}\n` }] as FleetEvent[])
      : ([
          { t: T + 4, kind: 'step-started', host: 'p9-01', task: 'kernel.arg', step: 'grubby' },
          { t: T + 5, kind: 'command-output', host: 'p9-01', task: 'kernel.arg', stream: 'stderr', line: EVIL },
          { t: T + 6, kind: 'step-finished', host: 'p9-01', task: 'kernel.arg', step: 'grubby', command: `grubby ${EVIL}`, exitCode: 1, durationMs: 1 },
          { t: T + 7, kind: 'task-failed', host: 'p9-01', task: 'kernel.arg', message: `[p9-01] grubby failed: ${EVIL}`, step: 'grubby', exitCode: 1, stderrTail: [EVIL] },
        ] as FleetEvent[])),
    { t: T + 8, kind: 'host-finished', host: 'p9-01', outcome: check ? 'changed' : 'failed', ...(check ? {} : { message: `grubby: ${EVIL}` }) },
    { t: T + 9, kind: 'run-finished', runId: 'r1', durationMs: 9, outcomes: { 'p9-01': check ? 'changed' : 'failed' }, counts: { ok: 0, changed: check ? 1 : 0, failed: check ? 0 : 1, unreachable: 0, skipped: 0, 'not-started': 0, 'needs-drain': 0, blocked: 0 } },
  ] as FleetEvent[]
}

describe('remote text on the terminal', () => {
  it('the one helper turns control characters into visible text, keeping lines and tabs', () => {
    expect(escapeControls(`a\tb\n${OSC_TITLE}\r\x9b`)).toBe('a\tb\n\\x1b]0;pwned\\x07\\x0d\\x9b')
  })

  it('plain output (with -vv: commands and their output) shows the text but no control character', () => {
    for (const check of [false, true]) {
      const out: string[] = []
      const render = createPlainRenderer((t) => void out.push(t), ['p9-01'], { verbosity: 2, showDiffs: true })
      for (const e of events(check)) render(e)
      const text = out.join('')
      expect(text).toContain('disk full')
      expect(text).toContain('\\x1b]0;pwned\\x07')
      expect(text).not.toMatch(RAW)
    }
  })

  it('the recap, the plan and the markdown report carry no control character', () => {
    const failed = summarize(events(false))
    const planned = summarize(events(true))
    for (const text of [formatRecap(failed, '/runs/r1'), formatPlan(planned, { verbose: true }), formatMarkdown(failed, { runDir: '/runs/r1' }), formatMarkdown(planned)]) {
      expect(text).toContain('disk full')
      expect(text).not.toMatch(RAW)
    }
  })

  it('the live view paints remote text escaped', async () => {
    const written: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as never)
    try {
      const view = createListrRenderer(Object.assign(Object.create(process.stdout), { columns: 200, rows: 40, isTTY: true }) as NodeJS.WriteStream)
      for (const e of events(false)) view.onEvent(e)
      await view.done()
    } finally {
      spy.mockRestore()
    }
    const text = written.join('')
    expect(text).toContain('disk full')
    // listr2 draws with its own CSI sequences; none of the hostile ones may be among them.
    for (const hostile of [OSC_TITLE, '\x1b[2J', RESET, '\r', '\x9b']) expect(text).not.toContain(hostile)
  })
})
