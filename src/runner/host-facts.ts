import { ConnectError, FactParseError, FleetError, formatCommandFailure } from '../errors.js'
import type { Fact } from '../facts/define.js'
import { buildGatherScript, parseFact, splitGatherOutput, type ParsedFact } from '../facts/gather.js'
import { bootId as bootIdFact } from '../facts/kernel-boot-id.js'
import { libvirtGuests as libvirtGuestsFact } from '../facts/libvirt-guests.js'
import { factKeysRead, type PlanContext, type Task } from '../tasks/define.js'
import { connectWithRetry } from './connect-retry.js'
import { conn, type HostState } from './host-state.js'
import { lockFact, rebootMarkerFact } from './lock.js'
import type { RunnablePlaybook, RunnableTask } from './types.js'

// A host's facts: gathered in full in one exec when the host is reached (and again after a
// reboot, for verify), then kept current by the targeted re-reads that end each task's own exec.

// The runner's own facts, gathered with the playbook's: boot_id (journal, reboot proof), the fleet
// lock (so checking it costs no exec) and the reboot marker (resume).
const RUNNER_FACTS: Array<Fact<unknown>> = [bootIdFact, lockFact, rebootMarkerFact]

// Every fact some task of the playbook reads on this host, once, plus the runner's own. Facts no
// task reads are never gathered. A playbook that can reboot also reads the host's guests (for the
// drain).
export function playbookFacts(playbook: RunnablePlaybook, host: PlanContext['host']): Array<Fact<unknown>> {
  const byName = new Map<string, Fact<unknown>>()
  for (const pt of [...playbook.stage, ...playbook.roll]) {
    const read = factKeysRead(pt.task, pt.args, host)
    for (const [key, fact] of Object.entries(pt.task.facts as Record<string, Fact<unknown>>)) if (read.has(key)) byName.set(fact.name, fact)
  }
  for (const fact of RUNNER_FACTS) byName.set(fact.name, fact)
  if (playbook.roll.some((pt) => pt.task.name === 'host.reboot')) byName.set(libvirtGuestsFact.name, libvirtGuestsFact as Fact<unknown>)
  return [...byName.values()]
}

export class HostFacts {
  readonly all: Array<Fact<unknown>>
  readonly script: string
  private readonly parsed = new Map<string, ParsedFact>()
  private readonly reads = new Map<RunnableTask, Set<string>>() // per task: its args and this host never change

  constructor(
    playbook: RunnablePlaybook,
    private readonly host: PlanContext['host'],
  ) {
    this.all = playbookFacts(playbook, host)
    this.script = buildGatherScript(this.all)
  }

  get<T>(fact: Fact<T>): T {
    const entry = this.parsed.get(fact.name)
    if (!entry) throw new FactParseError(fact.name, '', 'not gathered')
    if (!entry.ok) throw entry.error
    return entry.value as T
  }

  entry(name: string): ParsedFact | undefined {
    return this.parsed.get(name)
  }

  // A task's facts by its own keys (a key its plan does not read on this host is left undefined).
  forTask(pt: RunnableTask): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    let read = this.reads.get(pt)
    if (!read) this.reads.set(pt, (read = factKeysRead(pt.task, pt.args, this.host)))
    for (const [key, fact] of Object.entries(pt.task.facts as Record<string, Fact<unknown>>)) out[key] = read.has(key) ? this.get(fact) : undefined
    return out
  }

  // What a task's exec re-reads after its steps: the facts it declares it writes that this
  // playbook gathers (a fact no task reads needs no refresh); every gathered fact when undeclared.
  confirmFor(task: Task<unknown, Record<string, unknown>>): Array<Fact<unknown>> {
    if (!task.writes) return this.all
    const names = new Set(task.writes.map((f) => f.name))
    return this.all.filter((f) => names.has(f.name))
  }

  // Parses a gather script's stdout for these facts (all of them when full) and returns them as
  // shown in events: the value, or the parse error.
  absorb(stdout: string, facts: Array<Fact<unknown>>, full: boolean): Record<string, unknown> {
    const raw = splitGatherOutput(stdout)
    if (full) this.parsed.clear()
    for (const fact of facts) this.parsed.set(fact.name, parseFact(fact, raw[fact.name]))
    return this.shown()
  }

  // Check mode: later tasks plan against the facts an earlier change predicts, by the task's keys.
  predicted(pt: RunnableTask, values: Record<string, unknown>): void {
    const facts = pt.task.facts as Record<string, Fact<unknown>>
    for (const [key, value] of Object.entries(values)) if (facts[key] && value !== undefined) this.parsed.set(facts[key].name, { ok: true, value })
  }

  shown(): Record<string, unknown> {
    const shown: Record<string, unknown> = {}
    for (const [name, entry] of this.parsed) shown[name] = entry.ok ? entry.value : { error: entry.error.message }
    return shown
  }
}

// The one exec that reads every fact; retried once on a dropped connection (it is read-only).
export async function gatherAll(s: HostState): Promise<void> {
  const started = s.shared.now()
  let stdout: string
  try {
    stdout = await execGather(s)
  } catch (error) {
    if (!(error instanceof ConnectError) || s.shared.abort.aborted) throw error
    await s.transport?.close().catch(() => undefined)
    s.transport = await connectWithRetry(s.shared.connect, s.host, s.shared.connectRetry, s.shared.emit, s.shared.abort)
    stdout = await execGather(s)
  }
  const facts = s.facts.absorb(stdout, s.facts.all, true)
  s.shared.emit({ kind: 'facts-gathered', host: s.host.name, durationMs: s.shared.now() - started, facts })
}

async function execGather(s: HostState): Promise<string> {
  const r = await conn(s).exec(s.facts.script, { become: s.host.become, timeoutMs: s.shared.gatherTimeoutMs, signal: s.shared.abort })
  if (r.exitCode !== 0) throw new FleetError(formatCommandFailure(s.host.name, r, 'gathering facts', { command: false, tailLines: 3, oneLine: true }))
  return r.stdout
}
