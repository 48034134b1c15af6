import { execa } from 'execa'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import stringWidth from 'string-width'
import { afterAll, describe, expect, it } from 'vitest'
import { REFRESH_MS } from '../../src/render/listr.js'
import { firstPart } from '../report/resumed-run.js'

// The live TTY view under a real pseudo-terminal (util-linux `script`): a child process replays a
// recorded event stream into the built renderer with the stream's own timing, and notes the wall
// time at which it handed over the failure. The terminal output, read as it arrives, must show the
// host as failed within one refresh of that event (while its host-finished is still 1.5 s away).

const dir = mkdtempSync(join(tmpdir(), 'gpufleet-tty-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const RENDERER = join(process.cwd(), 'dist', 'render', 'listr.js')

const CHILD = `
import { readFileSync, writeFileSync } from 'node:fs'
import { createListrRenderer } from ${JSON.stringify(RENDERER)}
const [eventsFile, markFile] = process.argv.slice(2)
const events = JSON.parse(readFileSync(eventsFile, 'utf8'))
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)))
const view = createListrRenderer()
const t0 = Date.now() + 500
for (const e of events) {
  await sleep(t0 + (e.t - events[0].t) - Date.now())
  // The hand-over time is taken before onEvent: the renderer may draw synchronously inside it.
  const handedAt = Date.now()
  view.onEvent({ ...e, t: handedAt })
  if (e.kind === 'task-failed') {
    writeFileSync(markFile, String(handedAt))
    await sleep(1500)
  }
}
await view.done()
`

// Runs the replay under a pseudo-terminal of the given size; returns output chunks with arrival times.
async function replay(cols: number, env: Record<string, string> = {}) {
  const child = join(dir, 'child.mjs')
  const eventsFile = join(dir, 'events.json')
  const mark = join(dir, `mark-${cols}`)
  writeFileSync(child, CHILD)
  writeFileSync(eventsFile, JSON.stringify(firstPart))
  const p = execa('script', ['-qfec', `stty cols ${cols} rows 30; exec node ${child} ${eventsFile} ${mark}`, '/dev/null'], {
    env: { TERM: 'xterm-256color', ...env },
    extendEnv: true,
    buffer: false,
    stdin: 'ignore',
  })
  const chunks: Array<{ at: number; text: string }> = []
  p.stdout!.on('data', (b: Buffer) => chunks.push({ at: Date.now(), text: b.toString() }))
  const done = await p
  return { chunks, exitCode: done.exitCode, failedAt: existsSync(mark) ? Number(readFileSync(mark, 'utf8')) : NaN }
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b\][^\x07]*\x07/g, '')

describe('live view under a pseudo-terminal', () => {
  it('shows a failure within one refresh of its event, in colour, lines within the terminal width', async () => {
    expect(existsSync(RENDERER), 'run `npm run build` first').toBe(true)
    const { chunks, exitCode, failedAt } = await replay(100, { FORCE_COLOR: '1' })
    expect(exitCode).toBe(0)
    let seen = ''
    let shownAt = NaN
    for (const c of chunks) {
      seen += c.text
      if (/h3\s+r2\s+failed/.test(plain(seen).split('\n').slice(-40).join('\n'))) {
        shownAt = c.at
        break
      }
    }
    expect(Number.isFinite(failedAt)).toBe(true)
    expect(shownAt - failedAt).toBeGreaterThanOrEqual(0)
    expect(shownAt - failedAt).toBeLessThanOrEqual(REFRESH_MS)
    const all = chunks.map((c) => c.text).join('')
    // The failing step and its last stderr line, the counts with the failure, the per-task counts.
    expect(plain(all)).toMatch(/h3\s+r2\s+failed\s+initramfs\.rebuild\s+\d+s\s+exit 1: no space left on device/)
    expect(plain(all)).toMatch(/3 hosts: 0 ok, \d changed, 1 failed/)
    expect(plain(all)).toMatch(/initramfs\.rebuild: 2 changed, 1 failed/)
    expect(all).toMatch(/\x1b\[31m/) // red: a failure
    for (const line of plain(all).split(/\r?\n|\r/)) expect(stringWidth(line), line).toBeLessThanOrEqual(100)
  }, 60_000)

  it('honours NO_COLOR and a narrow terminal', async () => {
    const { chunks, exitCode } = await replay(60, { NO_COLOR: '1' })
    expect(exitCode).toBe(0)
    const all = chunks.map((c) => c.text).join('')
    expect(all).not.toMatch(/\x1b\[3[0-7]m/)
    expect(plain(all)).toMatch(/h3\s+r2\s+failed/)
    for (const line of plain(all).split(/\r?\n|\r/)) expect(stringWidth(line), line).toBeLessThanOrEqual(60)
  }, 60_000)
})
