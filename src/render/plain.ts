import type { EventOf, FleetEvent, FleetEventKind } from '../events.js'
import { HYPERVISOR_FORMAT } from './hypervisor-lines.js'

// The plain renderer: one timestamped line per event that matters, prefixed by host, never a
// spinner. The default when stdout is not a TTY (CI logs). Output lines of commands are left to
// the JSONL stream and the reports; failures carry their stderr tail in the message.

type Formatter<K extends FleetEventKind> = (e: EventOf<K>) => string | undefined

const short = (id: string) => id.slice(0, 8)
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`

// Every kind must be listed: adding an event kind without deciding how it prints is a compile error.
const FORMAT: { [K in FleetEventKind]: Formatter<K> } = {
  'run-started': (e) => `run ${e.runId}: ${e.playbook} on ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'}${e.check ? ' (check mode: nothing will be changed)' : ''}${e.resumed ? ' (resumed)' : ''}`,
  'phase-started': (e) => (e.phase === 'stage' ? 'stage: every host in parallel' : 'roll: rebooting hosts through the window, verifying the rest'),
  'connect-retry': (e) => `connect failed (${e.reason}), retry ${e.attempt} in ${secs(e.delayMs)}`,
  'host-connected': (e) => `connected (${e.durationMs} ms)`,
  'host-unreachable': (e) => `UNREACHABLE (${e.reason}): ${e.message}`,
  'facts-gathered': (e) => `facts gathered (${e.durationMs} ms)`,
  'task-started': () => undefined,
  'lock-acquired': (e) => `lock taken, expires ${new Date(e.expiresAt).toISOString()}${e.takenOver ? ` (expired lock of run ${e.takenOver} taken over)` : ''}`,
  'lock-released': () => 'lock released',
  'task-noop': (e) => `ok       ${e.task}: ${e.reason}`,
  'task-planned': (e) =>
    [`would change ${e.task}: ${e.reason}`, ...e.steps.map((s) => `    step: ${s}`), ...(e.diff ? e.diff.replace(/\n$/, '').split('\n').map((l) => `    ${l}`) : [])].join('\n'),
  'step-started': (e) => `...      ${e.task}: ${e.step}`,
  'command-output': () => undefined,
  'step-finished': (e) => (e.exitCode !== 0 && e.exitCode !== null ? `exit ${e.exitCode} ${e.task}: ${e.step} (${secs(e.durationMs)})` : undefined),
  'task-changed': (e) => `changed  ${e.task}: ${e.reason} (${secs(e.durationMs)})`,
  'task-failed': (e) => `FAILED   ${e.task}: ${e.message}`,
  'slot-waiting': (e) => `waiting for a slot: ${e.reason}`,
  'slot-acquired': (e) => `slot acquired (${e.down}/${e.allowed} down${e.rack ? `, rack ${e.rack}` : ''})`,
  'reboot-issued': (e) => `reboot issued (boot_id ${short(e.bootIdBefore)})`,
  'host-down': () => 'down',
  'host-up': (e) => `up after ${secs(e.waitedMs)} (new boot_id ${short(e.bootIdAfter)})`,
  'reboot-skipped': (e) => `reboot skipped: ${e.reason}`,
  'slot-released': () => undefined,
  'host-finished': (e) => `finished: ${e.outcome}${e.message ? ` (${e.message})` : ''}`,
  'budget-exhausted': (e) =>
    e.scope === 'fleet'
      ? `failure budget exceeded: ${e.failed} failed, --max-fail allows ${e.allowed}; no new reboots start`
      : `${e.scope} paused after ${e.failed} failure${e.failed === 1 ? '' : 's'} (--rack-fail-stop)`,
  interrupted: (e) => (e.second ? 'second interrupt: aborting now' : 'interrupt: starting nothing new, letting in-flight steps finish (Ctrl-C again to abort)'),
  'run-finished': (e) => `run ${e.runId} finished in ${secs(e.durationMs)}`,
  ...HYPERVISOR_FORMAT,
}

// Formats one event, or undefined for events the plain output leaves out.
export function formatPlain(event: FleetEvent, hostWidth = 0): string | undefined {
  const text = (FORMAT[event.kind] as Formatter<FleetEventKind>)(event as never)
  if (text === undefined) return undefined
  const time = new Date(event.t).toISOString().slice(11, 23)
  const who = 'host' in event ? event.host : '-'
  const prefix = `${time} ${who.padEnd(hostWidth)} `
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? prefix + line : ' '.repeat(prefix.length) + line))
    .join('\n')
}

// A renderer writing plain lines; hosts are padded to the longest name for aligned columns.
export function createPlainRenderer(write: (text: string) => void, hosts: string[] = []): (event: FleetEvent) => void {
  const width = Math.min(32, Math.max(1, ...hosts.map((h) => h.length)))
  return (event) => {
    const line = formatPlain(event, width)
    if (line !== undefined) write(line + '\n')
  }
}
