import { setMaxListeners } from 'node:events'
import type { HostOutcome } from '../events.js'
import { NO_RACK } from '../inventory/rack-by.js'
import type { InventoryHost } from '../inventory/types.js'
import type { ConnectRetryOptions, ConnectFn } from './connect-retry.js'
import type { Emit } from './emit.js'
import { fanOut } from '../fan-out.js'
import { DEFAULT_HYPERVISOR, DEFAULT_HYPERVISOR_TIMING, type HypervisorOptions, type HypervisorTiming } from './hypervisor-options.js'
import type { JournalHostState } from './journal.js'
import type { RollOptions } from './options.js'
import { resolveLimit } from './options.js'
import { RebootEstimate, type RebootWaitOptions } from './reboot-wait.js'
import type { HostRunShared } from './host-state.js'
import { HostRun, type JournalInput } from './run-host.js'
import { rollHosts, type RollHost, type RollPolicy } from './roll.js'
import type { RunnablePlaybook } from './types.js'

// A whole run over a fleet: stage every host at full fan-out, then roll the hosts that must reboot
// through the window, verify the others, release locks. Pure orchestration over injected effects
// (connect, journal, clock), so tests drive it with a fake fleet.

export interface FleetRunInput {
  runId: string
  playbook: RunnablePlaybook
  hosts: InventoryHost[]
  check: boolean
  forks: number
  roll: RollOptions
  connect: ConnectFn
  emit: Emit
  journal?: (record: JournalInput) => void
  previous?: Map<string, JournalHostState> // resume: the journal of this run so far
  connectRetry: ConnectRetryOptions
  commandTimeoutMs: number
  gatherTimeoutMs?: number
  rebootTimeoutMs?: number
  rebootWait?: Partial<RebootWaitOptions>
  hypervisor?: HypervisorOptions // default: refuse to reboot hosts with running guests
  hypervisorTiming?: Partial<HypervisorTiming>
  lock: { ttlMs: number; controller: string; pid: number }
  stop: AbortSignal
  abort: AbortSignal
  now?: () => number
}

export interface FleetRunResult {
  outcomes: Record<string, HostOutcome>
  messages: Record<string, string>
  rebooted: string[] // hosts that took a rolling slot (check mode: would reboot)
}

// The failure domain of a host: its rack (gpufleet_rack, or as --rack-by said: see
// inventory/rack-by.ts), else the one domain every unracked host shares. Never a guess from the
// host's groups (its first group is often `power9` or `gpu_hosts`, which would make --per-rack lie).
export function failureDomain(host: InventoryHost): string {
  return host.rack ?? NO_RACK
}

// Resolves the user's limits against this run's host count.
export function resolvePolicy(roll: RollOptions, total: number): RollPolicy {
  return {
    maxUnavailable: resolveLimit(roll.maxUnavailable, total, true),
    ...(roll.perRack !== undefined ? { perRack: roll.perRack } : {}),
    ...(roll.batches ? { batchSizes: roll.batches.map((b) => resolveLimit(b, total, true)) } : {}),
    ...(roll.maxFail !== undefined ? { maxFail: resolveLimit(roll.maxFail, total, false) } : {}),
    rackFailStop: roll.rackFailStop,
  }
}

// Runs the playbook on the hosts; never throws for a host's failure (that is its outcome).
export async function runFleet(input: FleetRunInput): Promise<FleetRunResult> {
  const emit = input.emit
  // Every in-flight command of every host listens on these two signals; hundreds is expected.
  setMaxListeners(0, input.stop, input.abort)
  const shared = hostRunShared(input) // one object for all hosts: they share its reboot estimate
  const runs = input.hosts.map((h) => new HostRun(h, shared, input.previous?.get(h.name)))

  // Stage: every host at full fan-out. The barrier before rolling is deliberate: the failure budget
  // sees every staging failure (a dracut that failed on a third of the rack) before the first reboot.
  emit({ kind: 'phase-started', phase: 'stage' })
  await stageAll(runs, input)

  // Roll: hosts that must reboot queue for slots; the rest run their roll tasks (verify) first,
  // with no slot (nothing goes down). Their plans are pure over facts already gathered, so this is
  // quick, and it lets the failure budget count their failures before the first reboot starts.
  emit({ kind: 'phase-started', phase: 'roll' })
  const policy = resolvePolicy(input.roll, input.hosts.length)
  const live = runs.filter((r) => r.outcome === undefined)
  const slotted = new Set(live.filter((r) => r.needsSlot()))
  // --drain refuse: a host whose guests run is not rebooted and never queues for a slot.
  for (const r of [...slotted]) {
    const guests = r.drainRefusal()
    if (guests) {
      r.refuseForDrain(guests)
      slotted.delete(r)
    }
  }
  const byName = new Map(runs.map((r) => [r.host.name, r]))
  await fanOut(
    live.filter((r) => !slotted.has(r)),
    input.forks,
    async (r) => {
      await r.roll(false)
      if (r.rolled || r.outcome !== undefined) await r.finish()
    },
    input.stop,
  )
  const rolled = await rollSlotted([...slotted], byName, input, policy, priorFailures(runs))
  for (const [name, res] of rolled) if (res.result === 'not-started') byName.get(name)!.notStarted(res.reason ?? 'not started')
  for (const r of live) if (r.outcome === undefined && !r.rolled) r.notStarted('interrupted before its roll tasks')

  const outcomes: Record<string, HostOutcome> = {}
  const messages: Record<string, string> = {}
  await fanOut(runs, input.forks, async (r) => {
    outcomes[r.host.name] = await r.finish()
    if (r.message) messages[r.host.name] = r.message
  })
  return { outcomes, messages, rebooted: [...slotted].map((r) => r.host.name) }
}

// What every host's run shares: the run's identity, effects, limits and signals.
function hostRunShared(input: FleetRunInput): HostRunShared {
  return {
    runId: input.runId,
    playbook: input.playbook,
    check: input.check,
    connect: input.connect,
    emit: input.emit,
    journal: input.check ? () => undefined : (input.journal ?? (() => undefined)),
    connectRetry: input.connectRetry,
    commandTimeoutMs: input.commandTimeoutMs,
    gatherTimeoutMs: input.gatherTimeoutMs ?? 120_000,
    ...(input.rebootTimeoutMs !== undefined ? { rebootTimeoutMs: input.rebootTimeoutMs } : {}),
    // One reboot-time estimate per run: the first hosts back tell the probes when to look closely.
    rebootWait: { estimate: new RebootEstimate(), ...input.rebootWait },
    hypervisor: input.hypervisor ?? DEFAULT_HYPERVISOR,
    hypervisorTiming: { ...DEFAULT_HYPERVISOR_TIMING, ...input.hypervisorTiming },
    lock: input.lock,
    stop: input.stop,
    abort: input.abort,
    now: input.now ?? Date.now,
  }
}

// Stages every host at full fan-out. A host that fails here is finished at once (its end reaches
// the renderers now, not at run end).
async function stageAll(runs: HostRun[], input: FleetRunInput): Promise<void> {
  await fanOut(
    runs,
    input.forks,
    async (r) => {
      await r.stage()
      if (r.outcome !== undefined) await r.finish()
    },
    input.stop,
  )
  for (const r of runs) if (r.outcome === undefined && !r.staged) r.notStarted('interrupted before staging')
}

// The failures so far (staging, unslotted roll tasks), in all and per failure domain: the
// failure budget starts from them.
function priorFailures(runs: HostRun[]): { total: number; byDomain: Map<string, number> } {
  const prior = { total: 0, byDomain: new Map<string, number>() }
  for (const r of runs) {
    if (!r.failed) continue
    prior.total++
    const d = failureDomain(r.host)
    prior.byDomain.set(d, (prior.byDomain.get(d) ?? 0) + 1)
  }
  return prior
}

// Rolls the hosts that must reboot through the window (check mode: no window, each shows its plans).
async function rollSlotted(slotted: HostRun[], byName: Map<string, HostRun>, input: FleetRunInput, policy: RollPolicy, prior: { total: number; byDomain: Map<string, number> }): Promise<Awaited<ReturnType<typeof rollHosts>>> {
  if (input.check) {
    // Check mode: nothing goes down, so no window; every host just shows its plans.
    await fanOut(slotted, input.forks, async (r) => {
      await r.roll(true)
      await r.finish()
    })
    return new Map()
  }
  const queue: RollHost[] = slotted.map((r) => ({ name: r.host.name, domain: failureDomain(r.host) }))
  return rollHosts(queue, {
    policy,
    prior,
    emit: input.emit,
    stop: input.stop,
    unit: async (h) => {
      const r = byName.get(h.name)!
      await r.roll(true)
      const retryInMs = r.takeRetry()
      if (retryInMs !== undefined) return { retryInMs } // a reboot blocker holds: the slot goes back
      const result = r.outcome === 'blocked' || r.outcome === 'needs-drain' ? 'blocked' : r.stillDown ? 'lost' : r.outcome === 'failed' || r.outcome === 'unreachable' ? r.outcome : 'ok'
      // Verified (and stable): the slot goes to the next host now. The lock release (one exec) and
      // the end report run meanwhile; the run awaits every finish() before it returns.
      void r.finish().catch(() => undefined)
      return result
    },
  })
}
