import pc from 'picocolors'
import stringWidth from 'string-width'
import type { EventOf, FleetEvent, FleetEventKind, HostOutcome } from '../events.js'
import { formatHypervisor } from './hypervisor-lines.js'

// The live view's model: per-host state folded from events, and a frame of lines for a terminal
// of a given width. Finished ok/changed hosts collapse into counts; active and failed hosts stay
// visible, so hundreds of hosts remain readable. Every event is folded the moment it arrives (a
// failed task shows as failed at once, not when the run ends). Pure (the clock is passed in), so
// it is tested without a terminal; render/listr.ts only paints the frames.

// 'needs drain' is the generic place for a host held by something outside the run (guests to
// drain, a blocker); event kinds that mean it set it through `hold` below.
export type HostState = 'connecting' | 'staging' | 'waiting for slot' | 'rebooting' | 'verifying' | 'needs drain' | 'draining' | 'held by blocker' | 'restoring guests' | HostOutcome

interface Row {
  host: string
  rack: string
  state: HostState
  task?: string
  since: number
  last?: string
  changed: boolean
}

type TaskCounts = { ok: number; changed: number; failed: number; planned: number }

const FINISHED: readonly HostState[] = ['ok', 'changed', 'failed', 'unreachable', 'not-started', 'skipped', 'needs-drain', 'blocked']
const PROBLEM: readonly HostState[] = ['failed', 'unreachable']

// Colour by state (picocolors: honours NO_COLOR and FORCE_COLOR).
type Paint = (s: string) => string
type Colors = ReturnType<typeof pc.createColors>
const STATE_COLOUR: Record<HostState, (c: Colors) => Paint> = {
  connecting: (c) => c.dim,
  staging: (c) => c.cyan,
  'waiting for slot': (c) => c.yellow,
  rebooting: (c) => c.blue,
  verifying: (c) => c.magenta,
  'needs drain': (c) => c.yellow,
  draining: (c) => c.yellow,
  'held by blocker': (c) => c.yellow,
  'restoring guests': (c) => c.cyan,
  'needs-drain': (c) => c.yellow,
  blocked: (c) => c.yellow,
  ok: (c) => c.green,
  changed: (c) => c.yellow,
  failed: (c) => c.red,
  unreachable: (c) => c.red,
  'not-started': (c) => c.dim,
  skipped: (c) => c.cyan,
}

// What each event does to the table. Every kind is listed: a new event kind is a compile error
// until it says how the live view shows it (`hold(row, e.t, 'needs drain', why)` for a host that
// waits on something outside the run).
type Fold<K extends FleetEventKind> = (table: HostTable, e: EventOf<K>, row: Row | undefined) => void
const FOLD: { [K in FleetEventKind]: Fold<K> } = {
  'run-started': (t, e) => t.start(e),
  // The roll begins: hosts done staging queue for the window until they are served.
  'phase-started': (t, e) => {
    if (e.phase === 'roll') for (const row of t.hostRows()) if (row.state === 'staging') (set(row, e.t, 'waiting for slot'), (row.last = 'queued for the rolling window'))
  },
  'connect-retry': (_t, e, row) => row && (row.last = `connect retry ${e.attempt}: ${e.reason}`),
  'host-connected': () => undefined,
  'host-unreachable': (_t, e, row) => row && (set(row, e.t, 'unreachable'), (row.last = e.message)),
  'facts-gathered': (_t, e, row) => row && row.state === 'connecting' && set(row, e.t, 'staging'),
  'task-started': (_t, e, row) => {
    if (!row) return
    row.task = e.task
    if (e.phase === 'roll' && row.state !== 'rebooting') set(row, e.t, 'verifying')
  },
  'lock-acquired': () => undefined,
  'lock-released': () => undefined,
  'task-noop': (t, e, row) => {
    t.countTask(e.task, 'ok')
    if (row) row.last = `${e.task}: ok`
  },
  'task-planned': (t, e, row) => {
    t.countTask(e.task, 'planned')
    if (row) row.changed = true
  },
  'step-started': (_t, e, row) => row && (row.last = e.step),
  'command-output': (_t, e, row) => row && (row.last = e.line),
  'step-finished': () => undefined,
  'task-changed': (t, e, row) => {
    t.countTask(e.task, 'changed')
    if (!row) return
    row.changed = true
    row.last = `${e.task}: changed`
  },
  'task-failed': (t, e, row) => {
    t.countTask(e.task, 'failed')
    if (!row) return
    // Shown as failed now; host-finished follows when its lock is released.
    set(row, e.t, 'failed')
    const tail = e.stderrTail?.[e.stderrTail.length - 1]
    // What went wrong first (exit code, last stderr line), then where: a narrow terminal keeps the why.
    const how = e.exitCode !== undefined ? `exit ${e.exitCode ?? 'killed'}` : e.message.split('\n')[0]
    row.last = e.step ? `${how}${tail ? `: ${tail}` : ''} · step: ${e.step}` : e.message
  },
  'slot-waiting': (_t, e, row) => row && (set(row, e.t, 'waiting for slot'), (row.last = e.reason)),
  'slot-acquired': (t, e, row) => {
    t.allowed = e.allowed
    if (row) (set(row, e.t, 'rebooting'), (row.last = `slot taken (${e.down}/${e.allowed} down)`))
  },
  'reboot-issued': (_t, e, row) => row && (set(row, e.t, 'rebooting'), (row.last = 'reboot issued')),
  'host-down': (_t, _e, row) => row && (row.last = 'down'),
  'host-up': (_t, e, row) => row && ((row.last = `up after ${(e.waitedMs / 1000).toFixed(0)}s`), set(row, e.t, 'verifying')),
  'reboot-skipped': (_t, e, row) => row && (row.last = e.reason),
  'slot-released': () => undefined,
  'host-finished': (_t, e, row) => {
    if (!row) return
    set(row, e.t, e.outcome === 'ok' && row.changed ? 'changed' : e.outcome)
    if (e.message && !PROBLEM.includes(row.state)) row.last = e.message
    else if (e.message && !row.last) row.last = e.message
  },
  'budget-exhausted': (t, e) => t.notes.push(e.scope === 'fleet' ? `failure budget exceeded (${e.failed} > ${e.allowed}): no new reboots` : `${e.scope} paused after a failure`),
  interrupted: (t, e) => t.notes.push(e.second ? 'aborting' : 'interrupted: finishing in-flight work (Ctrl-C again to abort)'),
  'run-finished': () => undefined,
  // Hypervisor safety (drain, blockers, BMC, guest restarts): the line says what happened.
  'drain-needed': (_t, e, row) => row && hold(row, e.t, 'needs drain', formatHypervisor(e)),
  'guest-shutdown': (_t, e, row) => row && (set(row, e.t, 'draining'), (row.last = formatHypervisor(e))),
  'guest-stopped': (_t, e, row) => row && (row.last = formatHypervisor(e)),
  'guest-destroyed': (_t, e, row) => row && (row.last = formatHypervisor(e)),
  'drain-failed': (_t, e, row) => row && (row.last = formatHypervisor(e)),
  'libvirt-guests-note': (_t, e, row) => row && (row.last = formatHypervisor(e)),
  'blocker-held': (_t, e, row) => row && (e.retryInMs !== undefined && set(row, e.t, 'held by blocker'), (row.last = formatHypervisor(e))),
  'blocker-cleared': (_t, e, row) => row && (row.last = formatHypervisor(e)),
  'host-blocked': (_t, e, row) => row && (row.last = formatHypervisor(e)),
  'bmc-action': (_t, e, row) => row && (row.last = formatHypervisor(e)),
  'guest-started': (_t, e, row) => row && (set(row, e.t, 'restoring guests'), (row.last = formatHypervisor(e))),
  'guest-start-failed': (_t, e, row) => row && (row.last = formatHypervisor(e)),
}

function set(row: Row, t: number, state: HostState): void {
  if (row.state !== state) row.since = t
  row.state = state
}

// For event kinds that hold a host on something outside the run (guests to drain, a blocker).
export function hold(row: Row, t: number, state: 'needs drain', why: string): void {
  set(row, t, state)
  row.last = why
}

export interface FrameOptions {
  colour?: boolean
  maxRows?: number // host rows at most (terminal height); the rest are summarised in one line
}

export class HostTable {
  private rows = new Map<string, Row>()
  allowed = 0
  private perRack: number | undefined
  private runId = ''
  private playbook = ''
  private check = false
  private started = 0
  notes: string[] = []
  private tasks = new Map<string, TaskCounts>()

  // Folds one event into the table.
  apply(e: FleetEvent): void {
    const row = 'host' in e ? this.rows.get(e.host) : undefined
    ;(FOLD[e.kind] as Fold<FleetEventKind>)(this, e as never, row)
  }

  start(e: EventOf<'run-started'>): void {
    this.runId = e.runId
    this.playbook = e.playbook
    this.check = e.check
    this.started = e.t
    this.tasks.clear()
    const perRack = e.options.perRack
    this.perRack = typeof perRack === 'number' ? perRack : undefined
    for (const h of e.hosts) this.rows.set(h, { host: h, rack: e.racks?.[h] ?? '', state: 'connecting', since: e.t, changed: false })
  }

  hostRows(): Iterable<Row> {
    return this.rows.values()
  }

  countTask(task: string, kind: keyof TaskCounts): void {
    const c = this.tasks.get(task) ?? { ok: 0, changed: 0, failed: 0, planned: 0 }
    c[kind]++
    this.tasks.set(task, c)
  }

  // One frame: a header (counts, window per rack, per-task counts), then failed and active hosts,
  // each cut to `width` terminal columns (wide characters measured as they display).
  frame(now: number, width: number, options: FrameOptions = {}): string[] {
    const c = pc.createColors(Boolean(options.colour))
    const rows = [...this.rows.values()]
    const count = (...states: HostState[]) => rows.filter((r) => states.includes(r.state)).length
    const rebooting = rows.filter((r) => r.state === 'rebooting')
    const perRack = new Map<string, number>()
    for (const r of rebooting) perRack.set(r.rack, (perRack.get(r.rack) ?? 0) + 1)
    const active = rows.length - count(...FINISHED)
    const counts = [
      c.green(`${count('ok')} ok`),
      c.yellow(`${count('changed')} ${this.check ? 'would change' : 'changed'}`),
      (count('failed') ? c.red : (s: string) => s)(`${count('failed')} failed`),
      (count('unreachable') ? c.red : (s: string) => s)(`${count('unreachable')} unreachable`),
      `${count('not-started')} not started`,
      c.cyan(`${active} active`),
    ]
    const racks = [...perRack].sort(([a], [b]) => a.localeCompare(b)).map(([r, n]) => `${r} ${n}/${this.perRack ?? '-'}`)
    const header = [
      c.bold(`${this.check ? 'check ' : ''}${this.playbook} ${this.runId}  ${elapsed(now - this.started)}`),
      `${rows.length} hosts: ${counts.join(', ')}`,
      `window: ${c.blue(`${rebooting.length}/${this.allowed || '-'} down`)}${racks.length ? ` (per rack: ${racks.join(', ')})` : ''}, ${count('waiting for slot')} waiting for a slot${count('needs drain') ? `, ${count('needs drain')} need drain` : ''}`,
    ]
    const taskLine = [...this.tasks].filter(([, n]) => n.changed + n.failed + n.planned > 0).map(([task, n]) => `${task}: ${[n.planned ? `${n.planned} would change` : '', n.changed ? `${n.changed} changed` : '', n.failed ? c.red(`${n.failed} failed`) : ''].filter(Boolean).join(', ')}`)
    if (taskLine.length) header.push(`tasks: ${taskLine.join('; ')}`)
    for (const n of this.notes) header.push(c.red(n))
    // Failed hosts first (what needs a human), then hosts at work, then those waiting.
    const rank = (r: Row) => (PROBLEM.includes(r.state) ? 0 : r.state === 'waiting for slot' ? 2 : 1)
    const visible = rows.filter((r) => !['ok', 'changed', 'not-started', 'skipped'].includes(r.state)).sort((a, b) => rank(a) - rank(b))
    const max = options.maxRows ?? Infinity
    const shown = visible.length > max ? visible.slice(0, Math.max(0, max - 1)) : visible
    const hostW = Math.min(24, Math.max(4, ...shown.map((r) => stringWidth(r.host))))
    const rackW = Math.min(8, Math.max(0, ...shown.map((r) => stringWidth(r.rack))))
    const taskW = Math.min(20, Math.max(4, ...shown.map((r) => stringWidth(r.task ?? ''))))
    const lines = shown.map((r) => {
      const state = STATE_COLOUR[r.state](c)(pad(r.state, 16))
      return cut(`${pad(r.host, hostW)} ${pad(r.rack, rackW)} ${state} ${pad(r.task ?? '', taskW)} ${elapsed(now - r.since).padStart(6)}  ${r.last ?? ''}`, width)
    })
    if (shown.length < visible.length) lines.push(`… ${visible.length - shown.length} more (${visible.slice(shown.length).filter((r) => r.state === 'waiting for slot').length} waiting for a slot)`)
    return [...header.map((l) => cut(l, width)), ...lines]
  }
}

function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

// Pads to a display width (wide characters count as two columns).
function pad(text: string, width: number): string {
  const w = stringWidth(text)
  return w >= width ? text : text + ' '.repeat(width - w)
}

// Cuts a line to `width` display columns, keeping ANSI colour codes whole and closing them.
export function cut(line: string, width: number): string {
  const flat = line.replace(/[\r\n\t]/g, ' ')
  if (stringWidth(flat) <= width) return flat
  let out = ''
  let used = 0
  const limit = Math.max(1, width - 1)
  // Walk escape sequences and graphemes: escapes take no columns, a grapheme takes its width.
  const segmenter = new Intl.Segmenter()
  for (const part of flat.split(/(\x1b\[[0-9;]*m)/)) {
    if (part.startsWith('\x1b[')) {
      out += part
      continue
    }
    for (const { segment } of segmenter.segment(part)) {
      const w = stringWidth(segment)
      if (used + w > limit) return out + '…' + (out.includes('\x1b[') ? '\x1b[0m' : '')
      out += segment
      used += w
    }
  }
  return out
}
