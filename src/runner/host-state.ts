import type { HostOutcome } from '../events.js'
import type { InventoryHost } from '../inventory/types.js'
import type { PlanContext } from '../tasks/define.js'
import type { Transport } from '../transport/types.js'
import type { ConnectFn, ConnectRetryOptions } from './connect-retry.js'
import type { Emit } from './emit.js'
import type { HostFacts } from './host-facts.js'
import { HostFailure } from './host-failure.js'
import type { HypervisorOptions, HypervisorTiming } from './hypervisor-options.js'
import type { JournalHostState, JournalRecord } from './journal.js'
import type { LockOwner } from './lock.js'
import type { RedfishClient } from './redfish.js'
import type { RebootWaitOptions } from './reboot-wait.js'
import type { RunnablePlaybook } from './types.js'

// The state one host's run shares between its parts (connect+gather, lock, resume, task apply,
// reboot, error mapping), each in its own file; HostRun (run-host.ts) sequences them.

// Journal input: the host fills in `t`.
export type JournalInput = JournalRecord extends infer R ? (R extends { t: number } ? Omit<R, 't'> : never) : never

// What every host of a run shares.
export interface HostRunShared {
  runId: string
  playbook: RunnablePlaybook
  check: boolean
  connect: ConnectFn
  emit: Emit
  journal: (record: JournalInput) => void // no-op in check mode
  connectRetry: ConnectRetryOptions
  commandTimeoutMs: number
  gatherTimeoutMs: number
  rebootTimeoutMs?: number // --reboot-timeout: overrides every reboot step's own timeout
  rebootWait?: Partial<RebootWaitOptions> // test knobs (poll, stability)
  hypervisor: HypervisorOptions // drain, reboot blockers, BMC recovery
  hypervisorTiming: HypervisorTiming
  lock: { ttlMs: number; controller: string; pid: number }
  stop: AbortSignal // first Ctrl-C: start nothing new
  abort: AbortSignal // second Ctrl-C: cancel in-flight commands
  now: () => number // the one clock of the runner (tests inject theirs)
}

// How long a reboot may take when neither --reboot-timeout nor the step says: a full POWER IPL.
export const DEFAULT_REBOOT_TIMEOUT_MS = 15 * 60_000

// Everything that changes while one host runs.
export interface HostState {
  readonly host: InventoryHost
  readonly shared: HostRunShared
  readonly previous: JournalHostState | undefined
  readonly facts: HostFacts
  transport: Transport | undefined
  outcome: HostOutcome | undefined
  message: string | undefined
  earlier: PlanContext['earlier'] // this host's plans so far, in order
  changed: boolean
  lockOwner: LockOwner | undefined
  rebootDone: boolean // this run's reboot already happened (journal + boot_id), resume must not repeat it
  stepsThisSession: number
  stillDown: boolean // a reboot took it away and it never came back: it stays unavailable
  stable: Promise<string | undefined> | undefined // the stability window after this run's reboot, running beside verify
  drained: string[] // guests this run shut down before the reboot, in their order
  bmc: { client: RedfishClient; systemPath: string } | undefined
  blockers: { checks: number; since?: number; retryInMs?: number } // reboot blockers seen held in the slot
}

export function conn(s: HostState): Transport {
  if (!s.transport) throw new HostFailure('no connection', 'unreachable')
  return s.transport
}

// The journal shows this run already rebooted the host and nothing changed on it since.
export function skipReboot(s: HostState): boolean {
  return s.rebootDone && s.stepsThisSession === 0
}

export { HostFailure }
