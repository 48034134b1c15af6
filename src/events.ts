// The runner's one event stream. Renderers (plain, jsonl, listr) and reports consume only this.
// Every event carries `t` (ms since the Unix epoch) and, except run-level ones, `host`.
// The JSONL form is documented in docs/events.md and exported by `gpufleet schema --events`.

// Bumped when a field changes meaning or goes away (adding kinds or optional fields does not).
export const EVENTS_SCHEMA_VERSION = 1

export type HostOutcome = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped' | 'not-started'

export type FleetEvent = { t: number } & (
  | { kind: 'run-started'; runId: string; playbook: string; hosts: string[]; check: boolean; options: Record<string, unknown>; racks?: Record<string, string>; resumed?: boolean; schemaVersion?: number }
  | { kind: 'phase-started'; phase: 'stage' | 'roll' }
  | { kind: 'connect-retry'; host: string; attempt: number; reason: string; delayMs: number }
  | { kind: 'host-connected'; host: string; durationMs: number }
  | { kind: 'host-unreachable'; host: string; reason: string; message: string }
  | { kind: 'facts-gathered'; host: string; durationMs: number; facts: Record<string, unknown> }
  | { kind: 'task-started'; host: string; task: string; title: string; phase?: 'stage' | 'roll' }
  | { kind: 'lock-acquired'; host: string; expiresAt: number; takenOver?: string }
  | { kind: 'lock-released'; host: string }
  | { kind: 'task-noop'; host: string; task: string; reason: string; notes?: string[] }
  | { kind: 'task-planned'; host: string; task: string; reason: string; steps: string[]; diff?: string; reboots?: boolean } // check mode
  | { kind: 'step-started'; host: string; task: string; step: string }
  | { kind: 'command-output'; host: string; task: string; stream: 'stdout' | 'stderr'; line: string }
  | { kind: 'step-finished'; host: string; task: string; step: string; command?: string; exitCode: number | null; durationMs: number }
  | { kind: 'task-changed'; host: string; task: string; reason: string; durationMs: number; notes?: string[] }
  | { kind: 'task-failed'; host: string; task: string; message: string; evidence?: Record<string, unknown>; step?: string; exitCode?: number | null; stderrTail?: string[] }
  | { kind: 'slot-waiting'; host: string; rack?: string; reason: string }
  | { kind: 'slot-acquired'; host: string; rack?: string; down: number; allowed: number }
  | { kind: 'reboot-issued'; host: string; bootIdBefore: string }
  | { kind: 'host-down'; host: string }
  | { kind: 'host-up'; host: string; bootIdAfter: string; waitedMs: number }
  | { kind: 'reboot-skipped'; host: string; reason: string } // resume: the journal shows this reboot already happened
  | { kind: 'slot-released'; host: string; rack?: string }
  | { kind: 'host-finished'; host: string; outcome: HostOutcome; message?: string }
  | { kind: 'budget-exhausted'; failed: number; allowed: number; scope: string }
  | { kind: 'interrupted'; second: boolean }
  | { kind: 'run-finished'; runId: string; durationMs: number; outcomes: Record<string, HostOutcome>; counts?: Record<HostOutcome, number> }
)

export type FleetEventKind = FleetEvent['kind']
export type EventOf<K extends FleetEventKind> = Extract<FleetEvent, { kind: K }>
