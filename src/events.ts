// The runner's one event stream. Renderers (plain, jsonl, listr) and reports consume only this.
// Every event carries `t` (ms since the Unix epoch) and, except run-level ones, `host`.
// The JSONL form is documented in docs/events.md and exported by `gpufleet schema --events`.

// Bumped when a field changes meaning or goes away (adding kinds or optional fields does not).
export const EVENTS_SCHEMA_VERSION = 1

// needs-drain: guests run and --drain refuse kept it from rebooting; blocked: a reboot blocker still
// held when its limit ran out. Neither host was touched by the roll.
export type HostOutcome = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped' | 'not-started' | 'needs-drain' | 'blocked'

// What happens to a hypervisor around its reboot: guests drained and restored, reboot blockers,
// BMC (Redfish) actions. Formatted by src/render/hypervisor-lines.ts.
export type HypervisorEvent =
  | { kind: 'drain-needed'; host: string; guests: string[] } // --drain refuse: not rebooted
  | { kind: 'guest-shutdown'; host: string; guest: string; hostdevs: number } // ACPI shutdown requested
  | { kind: 'guest-stopped'; host: string; guest: string; durationMs: number }
  | { kind: 'guest-destroyed'; host: string; guest: string; reason: string } // --drain-force
  | { kind: 'drain-failed'; host: string; running: string[]; timeoutMs: number }
  | { kind: 'libvirt-guests-note'; host: string; onShutdown: string; shutdownTimeoutS?: number; message: string }
  | { kind: 'blocker-held'; host: string; command: string; exitCode: number | null; attempt: number; retryInMs?: number; output?: string }
  | { kind: 'blocker-cleared'; host: string; attempts: number; waitedMs: number }
  | { kind: 'host-blocked'; host: string; command: string; attempts: number; waitedMs: number }
  | { kind: 'bmc-action'; host: string; action: 'check' | 'power-cycle' | 'power-on' | 'recovered' | 'failed'; url: string; powerState?: string; message?: string }
  | { kind: 'guest-started'; host: string; guest: string; how: 'started' | 'autostart'; durationMs: number }
  | { kind: 'guest-start-failed'; host: string; guest: string; message: string }

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
  | HypervisorEvent
)

export type FleetEventKind = FleetEvent['kind']
export type EventOf<K extends FleetEventKind> = Extract<FleetEvent, { kind: K }>
