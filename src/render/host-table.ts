import type { FleetEvent, HostOutcome } from '../events.js'
import { formatHypervisor, isHypervisorEvent } from './hypervisor-lines.js'

// The live view's model: per-host state folded from events, and a frame of lines for a terminal
// of a given width. Finished ok/changed hosts collapse into counts; active and failed hosts stay
// visible, so hundreds of hosts remain readable. Pure (the clock is passed in), so it is tested
// without a terminal; render/listr.ts only paints the frames.

type HostState = 'connecting' | 'staging' | 'waiting for slot' | 'rebooting' | 'verifying' | 'ok' | 'changed' | 'draining' | 'held by blocker' | 'restoring guests' | HostOutcome

interface Row {
  host: string
  rack: string
  state: HostState
  task?: string
  since: number
  last?: string
  changed: boolean
}

export class HostTable {
  private rows = new Map<string, Row>()
  private allowed = 0
  private runId = ''
  private playbook = ''
  private check = false
  private started = 0
  private finished = false
  private notes: string[] = []

  // Folds one event into the table.
  apply(e: FleetEvent): void {
    if (e.kind === 'run-started') {
      this.runId = e.runId
      this.playbook = e.playbook
      this.check = e.check
      this.started = e.t
      for (const h of e.hosts) this.rows.set(h, { host: h, rack: e.racks?.[h] ?? '', state: 'connecting', since: e.t, changed: false })
      return
    }
    if (e.kind === 'budget-exhausted') this.notes.push(e.scope === 'fleet' ? `failure budget exceeded (${e.failed} > ${e.allowed}): no new reboots` : `${e.scope} paused after a failure`)
    if (e.kind === 'interrupted') this.notes.push(e.second ? 'aborting' : 'interrupted: finishing in-flight work (Ctrl-C again to abort)')
    if (e.kind === 'run-finished') this.finished = true
    if (!('host' in e)) return
    const row = this.rows.get(e.host)
    if (!row) return
    const set = (state: HostState) => {
      if (row.state !== state) row.since = e.t
      row.state = state
    }
    if (isHypervisorEvent(e)) {
      row.last = formatHypervisor(e)
      if (e.kind === 'guest-shutdown') set('draining')
      if (e.kind === 'blocker-held' && e.retryInMs !== undefined) set('held by blocker')
      if (e.kind === 'guest-started') set('restoring guests')
      return
    }
    switch (e.kind) {
      case 'facts-gathered':
        if (row.state === 'connecting') set('staging')
        break
      case 'task-started':
        row.task = e.task
        if (e.phase === 'roll' && row.state !== 'rebooting') set('verifying')
        break
      case 'command-output':
        row.last = e.line
        break
      case 'task-changed':
      case 'task-planned':
        row.changed = true
        break
      case 'task-failed':
        row.last = e.message
        break
      case 'slot-waiting':
        set('waiting for slot')
        row.last = e.reason
        break
      case 'slot-acquired':
        this.allowed = e.allowed
        set('rebooting')
        break
      case 'reboot-issued':
        set('rebooting')
        row.last = 'reboot issued'
        break
      case 'host-down':
        row.last = 'down'
        break
      case 'host-up':
        row.last = `up after ${(e.waitedMs / 1000).toFixed(0)}s`
        set('verifying')
        break
      case 'host-unreachable':
        row.last = e.message
        break
      case 'host-finished':
        set(e.outcome === 'ok' && row.changed ? 'changed' : e.outcome)
        if (e.message) row.last = e.message
        break
    }
  }

  // One frame: a header (counts, window), then active and failed hosts, each cut to `width`.
  frame(now: number, width: number): string[] {
    const rows = [...this.rows.values()]
    const count = (...states: HostState[]) => rows.filter((r) => states.includes(r.state)).length
    const rebooting = rows.filter((r) => r.state === 'rebooting')
    const perRack = new Map<string, number>()
    for (const r of rebooting) perRack.set(r.rack, (perRack.get(r.rack) ?? 0) + 1)
    const header = [
      `${this.check ? 'check ' : ''}${this.playbook} ${this.runId}  ${elapsed(now - this.started)}`,
      `${rows.length} hosts: ${count('ok')} ok, ${count('changed')} ${this.check ? 'would change' : 'changed'}, ${count('failed')} failed, ${count('unreachable')} unreachable, ${count('not-started')} not started, ${rows.length - count('ok', 'changed', 'failed', 'unreachable', 'not-started', 'skipped', 'needs-drain', 'blocked')} active`,
      `window: ${rebooting.length}/${this.allowed || '-'} down${perRack.size ? ` (${[...perRack].map(([r, n]) => `${r}:${n}`).join(' ')})` : ''}, ${count('waiting for slot')} waiting for a slot`,
      ...this.notes,
    ]
    const visible = rows.filter((r) => !['ok', 'changed', 'waiting for slot', 'not-started'].includes(r.state))
    const hostW = Math.min(24, Math.max(4, ...visible.map((r) => r.host.length)))
    const rackW = Math.min(8, Math.max(0, ...visible.map((r) => r.rack.length)))
    const lines = visible.map((r) => `${r.host.padEnd(hostW)} ${r.rack.padEnd(rackW)} ${r.state.padEnd(16)} ${(r.task ?? '').padEnd(18)} ${elapsed(now - r.since).padStart(6)}  ${r.last ?? ''}`)
    return [...header, ...lines].map((l) => cut(l, width))
  }

  get done(): boolean {
    return this.finished
  }
}

function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

function cut(line: string, width: number): string {
  const flat = line.replace(/[\r\n\t]/g, ' ')
  return flat.length > width ? flat.slice(0, Math.max(1, width - 1)) + '…' : flat
}
