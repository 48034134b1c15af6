import type { EventOf, FleetEvent, FleetEventKind } from '../events.js'
import { createVerboseFormatter } from './verbose.js'
import { HYPERVISOR_FORMAT } from './hypervisor-lines.js'
import { escapeControls } from '../terminal-text.js'

// The plain renderer: one timestamped line per event that matters, prefixed by host, never a
// spinner. The default when stdout is not a TTY (CI logs). Output lines of commands are left to
// the JSONL stream and the reports; failures carry their stderr tail in the message.

// What a formatter may know beyond its event: -v, and which hosts already had their failure printed
// (a failure is printed once, by its step; the host's end then does not repeat it).
export interface PlainContext {
  verbose: boolean
  reported: Set<string>
}

type Formatter<K extends FleetEventKind> = (e: EventOf<K>, c: PlainContext) => string | undefined

const short = (id: string) => id.slice(0, 8)
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`

// Every kind must be listed: adding an event kind without deciding how it prints is a compile error.
const FORMAT: { [K in FleetEventKind]: Formatter<K> } = {
  'run-started': (e) => `run ${e.runId}: ${e.playbook} on ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'}${e.check ? ' (check mode: nothing will be changed)' : ''}${e.resumed ? ' (resumed)' : ''}`,
  'phase-started': (e) => (e.phase === 'stage' ? 'stage: every host in parallel' : 'roll: rebooting hosts through the window, verifying the rest'),
  'connect-retry': (e) => `connect failed (${e.reason}), retry ${e.attempt} in ${secs(e.delayMs)}`,
  'host-connected': (e) => `connected (${e.durationMs} ms)`,
  'host-unreachable': (e, c) => (c.reported.add(e.host), `UNREACHABLE (${e.reason}): ${e.message}`),
  'facts-gathered': (e) => `facts gathered (${e.durationMs} ms)`,
  'task-started': () => undefined,
  'lock-acquired': (e) => `lock taken, expires ${new Date(e.expiresAt).toISOString()}${e.takenOver ? ` (expired lock of run ${e.takenOver} taken over)` : ''}`,
  'lock-released': () => 'lock released',
  'task-noop': (e) => `ok       ${e.task}: ${e.reason}`,
  // The plan itself is printed grouped at the end (render/plan.ts); -v shows each host's steps here.
  // --diff (an event still carrying its diff) shows it under the line, as ansible-playbook --diff does.
  'task-planned': (e, c) =>
    [
      `would change ${e.task}: ${e.reason}${e.reboots ? ' (reboots)' : ''}`,
      ...(e.diff
        ? e.diff
            .replace(/\n$/, '')
            .split('\n')
            .map((l) => `    ${l}`)
        : []),
      ...(c.verbose ? e.steps.map((s) => `    step: ${s}`) : []),
    ].join('\n'),
  'step-started': (e) => `...      ${e.task}: ${e.step}`,
  'command-output': () => undefined,
  'step-finished': () => undefined, // a failed step is printed once, by task-failed
  'task-changed': (e) => `changed  ${e.task}: ${e.reason} (${secs(e.durationMs)})`,
  'task-failed': (e, c) => {
    c.reported.add(e.host)
    if (!e.step) return `FAILED   ${e.task}: ${e.message}`
    const how = e.exitCode === undefined ? '' : e.exitCode === null ? ' (killed)' : ` (exit ${e.exitCode})`
    const tail = e.stderrTail ?? []
    // Not a command's failure (a reboot that never came back, a timeout): its message says why.
    const why = e.exitCode === undefined ? `: ${e.message.split('\n')[0]}` : ''
    return [`FAILED   ${e.task}: step '${e.step}'${how}${why}`, ...tail.map((l) => `    ${l}`)].join('\n')
  },
  'slot-waiting': (e) => `waiting for a slot: ${e.reason}`,
  'slot-acquired': (e) => `slot acquired (${e.down}/${e.allowed} down${e.rack ? `, rack ${e.rack}` : ''})`,
  'reboot-issued': (e) => `reboot issued (boot_id ${short(e.bootIdBefore)})`,
  'host-down': () => 'down',
  'host-up': (e) => `up after ${secs(e.waitedMs)} (new boot_id ${short(e.bootIdAfter)})`,
  'reboot-skipped': (e) => `reboot skipped: ${e.reason}`,
  'slot-released': () => undefined,
  'host-finished': (e, c) => `finished: ${e.outcome}${e.message && !c.reported.has(e.host) ? ` (${e.message})` : ''}`,
  'budget-exhausted': (e) => (e.scope === 'fleet' ? `failure budget exceeded: ${e.failed} failed, --max-fail allows ${e.allowed}; no new reboots start` : `${e.scope} paused after ${e.failed} failure${e.failed === 1 ? '' : 's'} (--rack-fail-stop)`),
  interrupted: (e) => (e.second ? 'second interrupt: aborting now' : 'interrupt: starting nothing new, letting in-flight steps finish (Ctrl-C again to abort)'),
  'run-finished': (e) => {
    const counts = e.counts
      ? Object.entries(e.counts)
          .filter(([, n]) => n > 0)
          .map(([o, n]) => `${n} ${o}`)
      : []
    return `run ${e.runId} finished in ${secs(e.durationMs)}${counts.length ? `: ${counts.join(', ')}` : ''}`
  },
  ...HYPERVISOR_FORMAT,
}

// Formats one event, or undefined for events the plain output leaves out.
export function formatPlain(event: FleetEvent, hostWidth = 0, context: PlainContext = { verbose: false, reported: new Set() }): string | undefined {
  const text = (FORMAT[event.kind] as Formatter<FleetEventKind>)(event as never, context)
  return text === undefined ? undefined : withPrefix(event, text, hostWidth)
}

// Text under an event's time and host column; continuation lines indented to match.
function withPrefix(event: FleetEvent, text: string, hostWidth: number): string {
  const time = new Date(event.t).toISOString().slice(11, 23)
  const who = 'host' in event ? event.host : '-'
  const prefix = `${time} ${who.padEnd(hostWidth)} `
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? prefix + line : ' '.repeat(prefix.length) + line))
    .join('\n')
}

// A renderer writing plain lines; hosts are padded to the longest name for aligned columns.
// `showDiffs: false` leaves check-mode diffs out (they stay in events and reports: --diff shows them);
// `verbosity` 1 adds each command run (and each planned step), 2 also its output (-v, -vv).
export function createPlainRenderer(write: (text: string) => void, hosts: string[] = [], options: { showDiffs?: boolean; verbosity?: number } = {}): (event: FleetEvent) => void {
  const width = Math.min(32, Math.max(1, ...hosts.map((h) => h.length)))
  const context: PlainContext = { verbose: (options.verbosity ?? 0) > 0, reported: new Set() }
  const verbose = options.verbosity ? createVerboseFormatter(options.verbosity) : undefined
  return (event) => {
    if (event.kind === 'run-started') context.reported.clear()
    const shown = options.showDiffs === false && event.kind === 'task-planned' && event.diff !== undefined ? { ...event, diff: undefined } : event
    const line = formatPlain(shown, width, context)
    // Remote output and inventory names are in these lines: no control character reaches the terminal.
    if (line !== undefined) write(escapeControls(line) + '\n')
    const extra = verbose?.(event)
    if (extra !== undefined) write(escapeControls(withPrefix(event, extra, width)) + '\n')
  }
}
