import { checkPrivateDir, isOwnPrivateEntry } from '../private-dir.js'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import { EVENTS_SCHEMA_VERSION, type HostOutcome } from '../events.js'
import { EXIT } from '../exit-codes.js'
import { applyConnectionDefaults, type ConnectionDefaults } from '../inventory/connection-defaults.js'
import { loadExtraVars } from '../inventory/extra-vars.js'
import { requireFleetVars } from '../inventory/fleet-vars.js'
import { loadInventory } from '../inventory/load.js'
import { assignRacks, DEFAULT_RACK_BY, rackWarnings, type RackBy } from '../inventory/rack-by.js'
import type { VaultOptions } from '../inventory/vault-secrets.js'
import { selectHosts } from '../inventory/select.js'
import type { InventoryHost } from '../inventory/types.js'
import { loadPlaybook } from '../playbook/load.js'
import { readEvents } from '../report/read-events.js'
import { emptyCounts, summarize, type RunSummary } from '../report/summarize.js'
import { DEFAULT_CONNECT_RETRY, type ConnectFn } from '../runner/connect-retry.js'
import { isUnfinished, listRuns, newRunId, readJournal, readRunFile, RunFileError } from '../runner/journal.js'
import { parseSavedRunSpec } from './saved-run-spec.js'
import type { RollOptions } from '../runner/options.js'
import { installInterruptHandler } from '../runner/interrupt.js'
import { bmcConfig } from '../runner/bmc-config.js'
import { DEFAULT_HYPERVISOR, type DrainMode, type HypervisorOptions, type HypervisorTiming } from '../runner/hypervisor-options.js'
import { accessSync, constants as fsConstants } from 'node:fs'
import { failureDomain, runFleet, type FleetRunInput } from '../runner/run-fleet.js'
import { defaultRunsDir } from '../runner/runs-dir.js'
import type { RunnablePlaybook } from '../runner/types.js'
import { publicOptions } from './public-options.js'
import { reportRun, runExitCode } from './report-run.js'
import { runConnect } from './run-connect.js'
import { openRunOutputs } from './run-outputs.js'
import { runRenderer } from './run-renderer.js'

// The glue between the CLI and the runner: load and validate everything (inventory, playbook,
// --limit) before any connection, pick or resume the run directory, wire events to the renderer,
// the run's events.jsonl and the reports, handle Ctrl-C, and turn outcomes into an exit code.

// Everything a run needs, as parsed from flags; saved to <run dir>/options.json (no secrets).
export interface RunSpec {
  playbook: string
  inventory: string // absolute
  limit?: string
  rackBy?: RackBy // where failure domains come from (--rack-by); default var:gpufleet_rack
  check: boolean
  forks: number
  knownHosts?: string
  acceptNewHostKeys: boolean
  askBecomePass: boolean
  output: 'tty' | 'plain' | 'jsonl'
  reportDir?: string
  roll: RollOptions
  rebootTimeoutMs?: number
  stabilityMs?: number
  commandTimeoutMs: number
  lockTtlMs: number
  runsDir: string // absolute; runs live in <runsDir>/<run id>/
  connection?: ConnectionDefaults // -u, --private-key, -b and host_key_checking (flags > ANSIBLE_* > ansible.cfg)
  extraVars?: string[] // -e arguments in order (@files absolute); saved with secret-named values redacted
  verbosity?: number // -v: plain output shows each command run; -vv also its output
  diff?: boolean // --diff: plain output shows check-mode file diffs
  vault?: VaultOptions // where vault passwords come from (paths only, never a password)
  // Hypervisor safety (undefined: the playbook's value, else the default)
  drain?: DrainMode
  drainTimeoutMs?: number
  drainForce?: boolean
  rebootBlockers?: string[] // added to the playbook's reboot_blockers
  blockerTimeoutMs?: number
  bmcRecover?: boolean
  bmcCaFile?: string // absolute
}

// Where output goes; tests capture it.
export interface RunIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  isTTY: boolean
  // Test/embedding hooks: connect differently (a fake fleet), or shrink reboot polling.
  connect?: ConnectFn
  rebootWait?: { pollMinMs?: number; pollMaxMs?: number; probeEveryMs?: number }
  hypervisorTiming?: Partial<HypervisorTiming> // drain/restore polling, blocker backoff
  installSignals?: boolean
  becomePassword?: string // embedding: the sudo password instead of prompting (--ask-become-pass)
}

export interface RunResult {
  exitCode: number
  runId: string
  runDir: string
  summary: RunSummary
  outcomes: Record<string, HostOutcome>
}

// Loads and validates the inputs; throws InventoryError/PlaybookError/UsageError before connecting.
export async function loadInputs(spec: Pick<RunSpec, 'inventory' | 'playbook' | 'limit' | 'connection' | 'extraVars' | 'rackBy' | 'vault' | 'bmcRecover' | 'bmcCaFile'>): Promise<{ hosts: InventoryHost[]; playbook: RunnablePlaybook }> {
  const inventory = await loadInventory(spec.inventory, { ...(spec.vault ? { vault: spec.vault } : {}), ...(spec.extraVars?.length ? { extraVars: await loadExtraVars(spec.extraVars) } : {}) })
  const selected = applyConnectionDefaults(selectHosts(inventory, spec.limit), spec.connection ?? {})
  // gpufleet_* vars are checked on the selected hosts only; a var gpufleet does not own never is.
  requireFleetVars(selected)
  const hosts = assignRacks(inventory, selected, spec.rackBy)
  const playbook = await loadPlaybook(spec.playbook)
  if (hosts.length === 0) throw new UsageError(`no hosts in ${spec.inventory}${spec.limit ? ` match --limit ${spec.limit}` : ''}`)
  checkBmcInputs(hosts, spec)
  return { hosts, playbook }
}

// gpufleet_bmc vars are well-formed; with --bmc-recover, the CA file and every password file are
// readable now, not at the moment a hung host needs them.
function checkBmcInputs(hosts: InventoryHost[], spec: Pick<RunSpec, 'bmcRecover' | 'bmcCaFile'>): void {
  const readable = (file: string, what: string) => {
    try {
      accessSync(file, fsConstants.R_OK)
    } catch {
      throw new UsageError(`${what}: cannot read ${file}`)
    }
  }
  if (spec.bmcCaFile) readable(spec.bmcCaFile, '--bmc-ca-file')
  for (const h of hosts) {
    const cfg = bmcConfig(h)
    if (cfg && spec.bmcRecover) readable(cfg.passwordFile, `${h.source ?? h.name}: host '${h.name}': gpufleet_bmc.password_file`)
  }
}

// The run's hypervisor options: flags over the playbook's defaults over gpufleet's.
export function hypervisorOptions(spec: RunSpec, playbook: RunnablePlaybook): HypervisorOptions {
  return {
    drain: spec.drain ?? playbook.drain ?? DEFAULT_HYPERVISOR.drain,
    drainTimeoutMs: spec.drainTimeoutMs ?? playbook.drainTimeoutMs ?? DEFAULT_HYPERVISOR.drainTimeoutMs,
    drainForce: spec.drainForce ?? DEFAULT_HYPERVISOR.drainForce,
    rebootBlockers: [...(playbook.rebootBlockers ?? []), ...(spec.rebootBlockers ?? [])],
    blockerTimeoutMs: spec.blockerTimeoutMs ?? DEFAULT_HYPERVISOR.blockerTimeoutMs,
    bmcRecover: spec.bmcRecover ?? DEFAULT_HYPERVISOR.bmcRecover,
    ...(spec.bmcCaFile ? { bmcCaFile: spec.bmcCaFile } : {}),
  }
}

// Finds an unfinished run of the same playbook, inventory and --limit (the controller died): a
// re-run of the same command continues it, so its journal and host locks carry over.
// A run whose options.json is unreadable (empty, truncated, not ours) is reported and skipped.
export function findUnfinishedRun(spec: RunSpec, warn: (text: string) => void = () => {}): string | undefined {
  for (const id of listRuns(spec.runsDir)) {
    const dir = join(spec.runsDir, id)
    let saved: RunSpec | undefined
    try {
      saved = readRunFile<RunSpec>(dir, 'options.json')
    } catch (error) {
      if (!(error instanceof RunFileError)) throw error
      warn(`warning: skipping run ${id}: ${error.message}\n`)
      continue
    }
    if (!saved || saved.check) continue
    if (saved.playbook !== spec.playbook || saved.inventory !== spec.inventory || (saved.limit ?? '') !== (spec.limit ?? '')) continue
    if (isUnfinished(readJournal(dir))) return id
  }
  return undefined
}

// Runs (or resumes) a playbook run end to end and returns its exit code.
export async function executeRun(spec: RunSpec, io: RunIo, resumeId?: string): Promise<RunResult> {
  const { hosts, playbook } = await loadInputs(spec)
  // Local directories another user could write are refused before any connection.
  checkPrivateDir(spec.runsDir, '--run-dir')
  if (spec.reportDir) checkPrivateDir(spec.reportDir, '--report-dir')
  const { runId, adopted } = pickRun(spec, io, hosts, resumeId)
  // A check run is kept like any run (its plan, reports, events), so it can be read back later.
  const runDir = join(spec.runsDir, runId)
  const connect = await runConnect(spec, io)
  const { renderer, tty } = runRenderer(
    spec,
    io,
    hosts.map((h) => h.name),
  )
  const out = openRunOutputs(spec, runDir, renderer)
  const { emit, journalAppend } = out

  const resumeHint = `gpufleet resume ${runId}${spec.runsDir !== defaultRunsDir() ? ` --run-dir ${spec.runsDir}` : ''}`
  const interrupt = installInterruptHandler(emit, io.installSignals !== false)
  // The second Ctrl-C: stop waiting for in-flight work and return at once (src/cli.ts then exits).
  // The journal is already consistent (fsynced before every effect); say how to finish.
  const aborted = new Promise<'aborted'>((settle) => interrupt.abort.addEventListener('abort', () => settle('aborted'), { once: true }))
  const started = Date.now()
  journalAppend?.({ kind: 'run-started', runId, pid: process.pid, controller: hostname(), resumed: Boolean(adopted) })
  emit({
    kind: 'run-started',
    runId,
    playbook: playbook.name,
    hosts: hosts.map((h) => h.name),
    check: spec.check,
    options: publicOptions(spec),
    racks: Object.fromEntries(hosts.map((h) => [h.name, failureDomain(h)])),
    ...(adopted ? { resumed: true } : {}),
    schemaVersion: EVENTS_SCHEMA_VERSION,
  })
  let outcomes: Record<string, HostOutcome> = {}
  try {
    const fleet = runFleet(fleetInput(spec, io, { runId, playbook, hosts, connect, emit, journalAppend, previous: out.previous, interrupt }))
    const result = await Promise.race([fleet, aborted])
    if (result === 'aborted') {
      // Whatever the abandoned work still does, it must not surface as an unhandled rejection.
      fleet.catch(() => undefined)
      if (!spec.check) io.stderr(`aborted; hosts may hold this run's lock until it expires. Finish the run with: ${resumeHint}\n`)
      return { exitCode: EXIT.interrupted, runId, runDir, summary: summarize(readEvents(runDir)), outcomes }
    }
    outcomes = result.outcomes
  } finally {
    interrupt.dispose()
  }
  const counts = emptyCounts()
  for (const o of Object.values(outcomes)) counts[o]++
  emit({ kind: 'run-finished', runId, durationMs: Date.now() - started, outcomes, counts })
  journalAppend?.({ kind: 'run-finished', outcomes })
  out.close()
  await tty?.done()
  const summary = reportRun(spec, io, runDir)
  return { exitCode: runExitCode(spec, outcomes, interrupt.stop.aborted), runId, runDir, summary, outcomes }
}

// The run to write: `resumeId`, else an unfinished run of the same command (adopted), else a new one.
function pickRun(spec: RunSpec, io: RunIo, hosts: InventoryHost[], resumeId: string | undefined): { runId: string; adopted: string | undefined } {
  const adopted = resumeId ?? (spec.check ? undefined : findUnfinishedRun(spec, io.stderr))
  const runId = adopted ?? newRunId()
  const rackUse = spec.roll.perRack !== undefined ? `--per-rack ${spec.roll.perRack}` : spec.roll.rackFailStop ? '--rack-fail-stop' : undefined
  if (rackUse) for (const warning of rackWarnings(hosts, spec.rackBy ?? DEFAULT_RACK_BY, rackUse)) io.stderr(`${warning}\n`)
  if (adopted && !resumeId) io.stderr(`note: continuing unfinished run ${adopted} (same playbook, inventory and --limit); its journal says what already happened\n`)
  return { runId, adopted }
}

// runFleet's input from the flags, the embedder's hooks and this run's wiring.
function fleetInput(
  spec: RunSpec,
  io: RunIo,
  run: Pick<FleetRunInput, 'runId' | 'playbook' | 'hosts' | 'connect' | 'emit'> & { journalAppend: FleetRunInput['journal']; previous: FleetRunInput['previous']; interrupt: Pick<ReturnType<typeof installInterruptHandler>, 'stop' | 'abort'> },
): FleetRunInput {
  const { runId, playbook, hosts, connect, emit, journalAppend, previous, interrupt } = run
  return {
    runId,
    playbook,
    hosts,
    check: spec.check,
    forks: spec.forks,
    roll: spec.roll,
    connect,
    emit,
    ...(journalAppend ? { journal: journalAppend } : {}),
    ...(previous ? { previous } : {}),
    connectRetry: DEFAULT_CONNECT_RETRY,
    commandTimeoutMs: spec.commandTimeoutMs,
    ...(spec.rebootTimeoutMs !== undefined ? { rebootTimeoutMs: spec.rebootTimeoutMs } : {}),
    rebootWait: { ...io.rebootWait, ...(spec.stabilityMs !== undefined ? { stabilityMs: spec.stabilityMs } : {}) },
    hypervisor: hypervisorOptions(spec, playbook),
    ...(io.hypervisorTiming ? { hypervisorTiming: io.hypervisorTiming } : {}),
    lock: { ttlMs: spec.lockTtlMs, controller: hostname(), pid: process.pid },
    stop: interrupt.stop,
    abort: interrupt.abort,
  }
}

// Loads a saved run's spec for `gpufleet resume <id>`.
// Only a run directory of ours is resumed, and its options are checked like flags (saved-run-spec.ts).
export function loadRunSpec(runsDir: string, runId: string): RunSpec {
  checkPrivateDir(runsDir, '--run-dir')
  const dir = join(runsDir, runId)
  const spec = /^[\w-][\w.-]*$/.test(runId) && isOwnPrivateEntry(dir) ? readRunFile<unknown>(dir, 'options.json') : undefined
  if (!spec) throw new UsageError(`no run ${runId} of yours in ${runsDir} (runs there: ${listRuns(runsDir).slice(0, 5).join(', ') || 'none'})`)
  return parseSavedRunSpec(spec, join(dir, 'options.json'))
}
