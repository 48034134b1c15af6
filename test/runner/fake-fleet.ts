import { afterEach } from 'vitest'
import { execa } from 'execa'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { ConnectError } from '../../src/errors.js'
import { defineFact } from '../../src/facts/define.js'
import type { InventoryHost } from '../../src/inventory/types.js'
import { change, defineTask, noop } from '../../src/tasks/define.js'
import { createLocalTransport } from '../../src/transport/local.js'
import type { CommandResult, ExecOptions, Transport } from '../../src/transport/types.js'
import type { FleetEvent } from '../../src/events.js'
import { createEventBus } from '../../src/runner/emit.js'
import type { JournalRecord } from '../../src/runner/journal.js'
import { runFleet, type FleetRunInput } from '../../src/runner/run-fleet.js'
import type { RunnablePlaybook } from '../../src/runner/types.js'

// A fake fleet for runner tests: each host is a temp directory standing in for its filesystem, and
// every command runs in a real `sh` with the absolute paths the runner uses rewritten into that
// directory — so the lock's mkdir, the gather script and the steps really execute. Only reboots
// are modelled: connections drop, the host is down for rebootMs, then boots with a new boot_id,
// an empty /run, and whatever was staged made live.

export interface FakeHostOptions {
  rebootMs?: number
  neverReturns?: boolean
  unreachable?: boolean
  staged?: boolean // already staged
  live?: boolean // already live (prepared)
  rack?: string
  broken?: boolean // verify fails (no reboot needed)
  rebootDuringExec?: number // the Nth exec is cut by a reboot (one issued earlier landing now)
  ignoresReboot?: boolean // the reboot command "succeeds" but nothing happens
  hostKeyChangesOnReboot?: boolean
}

export interface FakeRecord {
  t: number
  host: string
  kind: 'connect' | 'exec' | 'down' | 'up'
  detail?: string
}

export class FakeHost {
  readonly root: string
  up = true
  bootCount = 1
  readonly transports = new Set<FakeTransport>()
  constructor(
    readonly name: string,
    readonly fleet: FakeFleet,
    readonly options: FakeHostOptions,
  ) {
    this.root = mkdtempSync(join(tmpdir(), `gpufleet-fake-${name}-`))
    for (const d of ['proc', 'run', 'var/lib', 'fake']) mkdirSync(join(this.root, d), { recursive: true })
    this.newBoot()
    if (options.staged || options.live) writeFileSync(join(this.root, 'fake/staged'), '1\n')
    if (options.live) writeFileSync(join(this.root, 'fake/live'), '1\n')
    if (options.broken) writeFileSync(join(this.root, 'fake/broken'), '1\n')
    if (options.unreachable) this.up = false
  }

  get bootId(): string {
    return readFileSync(join(this.root, 'proc/boot_id'), 'utf8').trim()
  }

  private newBoot(): void {
    writeFileSync(join(this.root, 'proc/boot_id'), randomUUID() + '\n')
    rmSync(join(this.root, 'run'), { recursive: true, force: true })
    mkdirSync(join(this.root, 'run'), { recursive: true })
  }

  // Rewrites the absolute paths the runner and the fake tasks use into this host's directory.
  rewrite(command: string): string {
    return command
      .replaceAll('/proc/sys/kernel/random/boot_id', join(this.root, 'proc/boot_id'))
      .replaceAll('/var/lib/gpufleet', join(this.root, 'var/lib/gpufleet'))
      .replaceAll('/run/gpufleet', join(this.root, 'run/gpufleet'))
      .replaceAll('/fake/', join(this.root, 'fake') + '/')
  }

  keyChanged = false

  reboot(): void {
    if (this.options.ignoresReboot) return
    setTimeout(() => {
      this.up = false
      this.fleet.record(this.name, 'down')
      for (const t of this.transports) t.drop()
      if (this.options.neverReturns) return
      setTimeout(() => {
        if (existsSync(join(this.root, 'fake/staged'))) writeFileSync(join(this.root, 'fake/live'), '1\n')
        this.newBoot()
        this.bootCount++
        if (this.options.hostKeyChangesOnReboot) this.keyChanged = true
        this.up = true
        this.fleet.record(this.name, 'up')
      }, this.options.rebootMs ?? 50)
    }, 5)
  }
}

export class FakeTransport implements Transport {
  private open = true
  constructor(readonly fakeHost: FakeHost) {
    fakeHost.transports.add(this)
  }
  get host(): string {
    return this.fakeHost.name
  }
  get connected(): boolean {
    return this.open
  }
  drop(): void {
    this.open = false
  }
  async exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
    if (!this.open || !this.fakeHost.up) throw new ConnectError(this.host, 'unreachable', 'connection lost')
    this.fakeHost.fleet.record(this.host, 'exec', command.split('\n').find((l) => !l.startsWith('export')) ?? command)
    const started = Date.now()
    if (this.fakeHost.fleet.count(this.host, 'exec') === this.fakeHost.options.rebootDuringExec) {
      this.fakeHost.reboot()
      await new Promise((r) => setTimeout(r, 20))
      throw new ConnectError(this.host, 'unreachable', 'connection lost mid-command')
    }
    if (command.includes('systemctl reboot')) {
      const marker = command.slice(0, command.indexOf('&& nohup'))
      await execa('sh', ['-c', this.fakeHost.rewrite(marker)], { reject: false })
      this.fakeHost.reboot()
      return { command, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: Date.now() - started }
    }
    // The host's commands run for real in its temp root, through the local transport, so timeouts,
    // aborts and streamed lines behave exactly as gpufleet's own transports do.
    const r = await createLocalTransport(this.host).exec(this.fakeHost.rewrite(command), options)
    if (!this.open) throw new ConnectError(this.host, 'unreachable', 'connection lost mid-command')
    return { ...r, command }
  }
  async writeFile(path: string, content: string | Buffer): Promise<void> {
    if (!this.open) throw new ConnectError(this.host, 'unreachable', 'connection lost')
    this.fakeHost.fleet.record(this.host, 'exec', `write ${path}`)
    const target = this.fakeHost.rewrite(path)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, content)
  }
  async close(): Promise<void> {
    this.open = false
    this.fakeHost.transports.delete(this)
  }
}

export class FakeFleet {
  readonly hosts = new Map<string, FakeHost>()
  readonly records: FakeRecord[] = []
  constructor(spec: Record<string, FakeHostOptions>) {
    for (const [name, options] of Object.entries(spec)) this.hosts.set(name, new FakeHost(name, this, options))
  }
  record(host: string, kind: FakeRecord['kind'], detail?: string): void {
    this.records.push({ t: Date.now(), host, kind, ...(detail !== undefined ? { detail } : {}) })
  }
  connect = async (host: InventoryHost): Promise<Transport> => {
    const h = this.hosts.get(host.name)
    if (!h) throw new Error(`no fake host ${host.name}`)
    this.record(host.name, 'connect')
    if (!h.up) throw new ConnectError(host.name, 'unreachable', 'connect ECONNREFUSED')
    if (h.keyChanged) throw new ConnectError(host.name, 'hostkey-changed', 'REMOTE HOST IDENTIFICATION HAS CHANGED')
    return new FakeTransport(h)
  }
  inventory(): InventoryHost[] {
    return [...this.hosts.values()].map((h) => ({
      name: h.name,
      groups: ['all', h.options.rack ?? 'r1'],
      vars: {},
      connection: 'ssh',
      ssh: { hostname: h.name, hostnameFromInventory: false, identityFiles: [] },
      become: false,
      becomeUser: 'root',
      rack: h.options.rack ?? 'r1', // as maxDown() counts it
      assignments: [],
    }))
  }
  count(host: string, kind: FakeRecord['kind']): number {
    return this.records.filter((r) => r.host === host && r.kind === kind).length
  }
  // The most hosts down at once, fleet-wide and per rack, from the fake's own record.
  maxDown(): { total: number; perRack: number } {
    const down = new Set<string>()
    let total = 0
    let perRack = 0
    for (const r of this.records) {
      if (r.kind === 'down') down.add(r.host)
      if (r.kind === 'up') down.delete(r.host)
      total = Math.max(total, down.size)
      const racks = new Map<string, number>()
      for (const h of down) {
        const rack = this.hosts.get(h)!.options.rack ?? 'r1'
        racks.set(rack, (racks.get(rack) ?? 0) + 1)
      }
      for (const n of racks.values()) perRack = Math.max(perRack, n)
    }
    return { total, perRack }
  }
  cleanup(): void {
    for (const h of this.hosts.values()) rmSync(h.root, { recursive: true, force: true })
  }
}

// Fact: the fake host's state, from two marker files.
export const fakeState = defineFact({
  name: 'fake.state',
  command: 'test -e /fake/staged && echo staged; test -e /fake/live && echo live; test -e /fake/broken && echo broken; true',
  parse: (stdout) => ({ staged: stdout.includes('staged'), live: stdout.includes('live'), broken: stdout.includes('broken') }),
})

type FakeFacts = { s: { staged: boolean; live: boolean; broken: boolean } }

export const fakeStage = defineTask<Record<string, never>, FakeFacts>({
  name: 'fake.stage',
  summary: 'stage the change',
  phase: 'stage',
  facts: { s: fakeState },
  args: z.object({}) as never,
  plan: (_a, { s }) => (s.staged ? noop('already staged') : change('not staged', [{ kind: 'run', description: 'stage', command: 'touch /fake/staged' }], { rebootPending: true })),
})

export const fakeReboot = defineTask<Record<string, never>, FakeFacts>({
  name: 'fake.reboot',
  summary: 'reboot when staged but not live',
  phase: 'roll',
  facts: { s: fakeState },
  args: z.object({}) as never,
  plan: (_a, { s }, ctx) => {
    const staging = ctx.earlier.some((e) => e.plan.kind === 'change' && e.plan.rebootPending)
    return (s.staged || staging) && !s.live ? change('staged change not live', [{ kind: 'reboot', description: 'reboot', timeoutMs: 5000, stabilityMs: 0 }]) : noop('nothing pending')
  },
})

export const fakeVerify = defineTask<Record<string, never>, FakeFacts>({
  name: 'fake.verify',
  summary: 'the change is live',
  phase: 'roll',
  facts: { s: fakeState },
  args: z.object({}) as never,
  plan: (_a, { s }) => (s.broken ? { kind: 'fail', reason: 'host is broken', evidence: { broken: true } } : s.live ? noop('live', ['evidence: /fake/live present']) : { kind: 'fail', reason: 'change not live', evidence: { live: false } }),
})

export const fakePlaybook: RunnablePlaybook = {
  name: 'fake-prep',
  stage: [{ title: 'stage', task: fakeStage, args: {} }],
  roll: [
    { title: 'reboot', task: fakeReboot, args: {} },
    { title: 'verify', task: fakeVerify, args: {} },
  ],
}

// Registers cleanup of every fleet the returned factory makes after each test of the calling file.
export function fakeFleets(): (spec: Record<string, FakeHostOptions>) => FakeFleet {
  let fleets: FakeFleet[] = []
  afterEach(() => {
    for (const f of fleets) f.cleanup()
    fleets = []
  })
  return (spec) => {
    const f = new FakeFleet(spec)
    fleets.push(f)
    return f
  }
}

// Runs a playbook over a fake fleet with fast polling, collecting events and journal records.
// `extra` replaces any runFleet input (roll limits, playbook, clock...).
export async function runFake(f: FakeFleet, extra: Partial<FleetRunInput> = {}) {
  const events: FleetEvent[] = []
  const journal: JournalRecord[] = []
  const started = Date.now()
  const result = await runFleet({
    runId: 'run-1',
    playbook: fakePlaybook,
    hosts: f.inventory(),
    check: false,
    forks: 10,
    roll: { maxUnavailable: { kind: 'count', n: 2 }, rackFailStop: false },
    connect: f.connect,
    emit: createEventBus([(e) => events.push(e)]),
    journal: (r) => journal.push({ t: Date.now(), ...r } as JournalRecord),
    connectRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    commandTimeoutMs: 10_000,
    rebootWait: { pollMinMs: 10, pollMaxMs: 40, probeEveryMs: 50, stabilityMs: 0 },
    lock: { ttlMs: 60_000, controller: 'test', pid: 1 },
    stop: new AbortController().signal,
    abort: new AbortController().signal,
    ...extra,
  })
  return { result, events, journal, wallMs: Date.now() - started }
}
