import { EVENTS_SCHEMA_VERSION, type FleetEventKind } from '../events.js'

// The JSON Schema of the event stream (`--output jsonl`, <run dir>/events.jsonl), exported by
// `gpufleet schema --events` and described in docs/events.md. Every kind is listed, so a new event
// kind does not compile until it is documented here. A field type is a JSON type name, `T[]`, an
// enum `a|b`, or `number|null`; a trailing `?` marks an optional field.

type Field = string
const HOST: Record<string, Field> = { host: 'string' }
const OUTCOME = 'ok|changed|failed|unreachable|skipped|not-started|needs-drain|blocked'

export const EVENT_FIELDS: { [K in FleetEventKind]: { doc: string; fields: Record<string, Field> } } = {
  'run-started': { doc: 'first event of a run or of a resumed part', fields: { runId: 'string', playbook: 'string', hosts: 'string[]', check: 'boolean', options: 'object', racks: 'object?', resumed: 'boolean?', schemaVersion: 'integer?' } },
  'phase-started': { doc: 'stage (every host in parallel) or roll (through the window)', fields: { phase: 'stage|roll' } },
  'connect-retry': { doc: 'a connection attempt failed and will be retried', fields: { ...HOST, attempt: 'integer', reason: 'string', delayMs: 'number' } },
  'host-connected': { doc: 'SSH session open', fields: { ...HOST, durationMs: 'number' } },
  'host-unreachable': { doc: 'the host could not be reached (after retries)', fields: { ...HOST, reason: 'string', message: 'string' } },
  'facts-gathered': { doc: 'every fact read in one exec', fields: { ...HOST, durationMs: 'number', facts: 'object' } },
  'task-started': { doc: 'a task begins planning on a host', fields: { ...HOST, task: 'string', title: 'string', phase: 'stage|roll?' } },
  'lock-acquired': { doc: "the fleet lock was taken before the host's first change", fields: { ...HOST, expiresAt: 'number', takenOver: 'string?' } },
  'lock-released': { doc: 'the fleet lock was released', fields: { ...HOST } },
  'task-noop': { doc: 'nothing to do: the host is already as wanted', fields: { ...HOST, task: 'string', reason: 'string', notes: 'string[]?' } },
  'task-planned': { doc: 'check mode: what the task would change', fields: { ...HOST, task: 'string', reason: 'string', steps: 'string[]', diff: 'string?', reboots: 'boolean?' } },
  'step-started': { doc: 'a step with a side effect begins', fields: { ...HOST, task: 'string', step: 'string' } },
  'command-output': { doc: "one line of a running step's output", fields: { ...HOST, task: 'string', stream: 'stdout|stderr', line: 'string' } },
  'step-finished': { doc: 'a step ended (exitCode null: killed)', fields: { ...HOST, task: 'string', step: 'string', command: 'string?', exitCode: 'number|null', durationMs: 'number' } },
  'task-changed': { doc: 'the task changed the host', fields: { ...HOST, task: 'string', reason: 'string', durationMs: 'number', notes: 'string[]?' } },
  'task-failed': { doc: 'the task failed; step, exit code and stderr tail when a step failed', fields: { ...HOST, task: 'string', message: 'string', evidence: 'object?', step: 'string?', exitCode: 'number|null?', stderrTail: 'string[]?' } },
  'slot-waiting': { doc: 'the host waits for a place in the rolling window, and why', fields: { ...HOST, rack: 'string?', reason: 'string' } },
  'slot-acquired': { doc: 'the host took a place in the window', fields: { ...HOST, rack: 'string?', down: 'integer', allowed: 'integer' } },
  'reboot-issued': { doc: 'reboot command sent', fields: { ...HOST, bootIdBefore: 'string' } },
  'host-down': { doc: 'the host went away', fields: { ...HOST } },
  'host-up': { doc: 'the host is back with a new boot_id', fields: { ...HOST, bootIdAfter: 'string', waitedMs: 'number' } },
  'reboot-skipped': { doc: 'resume: the journal shows this reboot already happened', fields: { ...HOST, reason: 'string' } },
  'slot-released': { doc: 'the place in the window is free again', fields: { ...HOST, rack: 'string?' } },
  'host-finished': { doc: "the host's part of the run ended (emitted when it ends)", fields: { ...HOST, outcome: OUTCOME, message: 'string?' } },
  'budget-exhausted': { doc: 'the failure budget (or a rack) stopped new reboots', fields: { failed: 'integer', allowed: 'integer', scope: 'string' } },
  interrupted: { doc: 'Ctrl-C (second: abort in-flight work)', fields: { second: 'boolean' } },
  'run-finished': { doc: 'last event: outcome per host and the counts', fields: { runId: 'string', durationMs: 'number', outcomes: 'object', counts: 'object?' } },
  'drain-needed': { doc: '--drain refuse: the host runs guests, so it is not rebooted (its changes stay pending)', fields: { ...HOST, guests: 'string[]' } },
  'guest-shutdown': { doc: 'ACPI shutdown (virsh shutdown) asked of a running guest before the reboot', fields: { ...HOST, guest: 'string', hostdevs: 'integer' } },
  'guest-stopped': { doc: 'a drained guest reached shut off', fields: { ...HOST, guest: 'string', durationMs: 'number' } },
  'guest-destroyed': { doc: '--drain-force: a guest still running at the drain timeout was destroyed', fields: { ...HOST, guest: 'string', reason: 'string' } },
  'drain-failed': { doc: 'guests still running at the drain timeout: the host fails, not rebooted', fields: { ...HOST, running: 'string[]', timeoutMs: 'number' } },
  'libvirt-guests-note': { doc: 'libvirt-guests.service would suspend guests at shutdown (VFIO guests cannot be saved)', fields: { ...HOST, onShutdown: 'string', shutdownTimeoutS: 'number?', message: 'string' } },
  'blocker-held': { doc: 'a reboot blocker exited non-zero: the host waits (retryInMs) and gives its slot back', fields: { ...HOST, command: 'string', exitCode: 'number|null', attempt: 'integer', retryInMs: 'number?', output: 'string?' } },
  'blocker-cleared': { doc: "the host's reboot blockers all passed", fields: { ...HOST, attempts: 'integer', waitedMs: 'number' } },
  'host-blocked': { doc: 'a reboot blocker held past its limit: the host is reported blocked', fields: { ...HOST, command: 'string', attempts: 'integer', waitedMs: 'number' } },
  'bmc-action': { doc: "an action on the host's BMC (Redfish): check, power-cycle, power-on, recovered, failed", fields: { ...HOST, action: 'check|power-cycle|power-on|recovered|failed', url: 'string', powerState: 'string?', message: 'string?' } },
  'guest-started': { doc: 'a guest that ran before the drain runs again (started, or by autostart)', fields: { ...HOST, guest: 'string', how: 'started|autostart', durationMs: 'number' } },
  'guest-start-failed': { doc: "a drained guest did not start again: libvirt's message", fields: { ...HOST, guest: 'string', message: 'string' } },
}

function fieldSchema(type: string): Record<string, unknown> {
  if (type.endsWith('[]')) return { type: 'array', items: fieldSchema(type.slice(0, -2)) }
  if (type === 'number|null') return { type: ['number', 'null'] }
  if (type.includes('|')) return { type: 'string', enum: type.split('|') }
  return { type }
}

// The schema: one object per line, `kind` selects the variant.
export function eventsJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `gpufleet event stream, schema version ${EVENTS_SCHEMA_VERSION}`,
    description: 'One JSON object per line. `t` is ms since the Unix epoch. Adding kinds or optional fields does not change the version; consumers must ignore unknown kinds and fields.',
    oneOf: Object.entries(EVENT_FIELDS).map(([kind, { doc, fields }]) => {
      const properties: Record<string, unknown> = { t: { type: 'number' }, kind: { const: kind } }
      const required = ['t', 'kind']
      for (const [name, raw] of Object.entries(fields)) {
        const optional = raw.endsWith('?')
        properties[name] = fieldSchema(optional ? raw.slice(0, -1) : raw)
        if (!optional) required.push(name)
      }
      return { title: kind, description: doc, type: 'object', properties, required }
    }),
  }
}

// docs/events.md's table, generated so it cannot drift.
export function eventsMarkdownTable(): string {
  const rows = Object.entries(EVENT_FIELDS).map(
    ([kind, { doc, fields }]) =>
      `| \`${kind}\` | ${doc} | ${Object.entries(fields)
        .map(([n, t]) => `\`${n}\`${t.endsWith('?') ? '?' : ''}: ${t.replace(/\?$/, '').replace(/\|/g, ' \\| ')}`)
        .join(', ')} |`,
  )
  return ['| kind | when | fields (besides `t`, `kind`) |', '| --- | --- | --- |', ...rows].join('\n') + '\n'
}
