import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { executeRun, type RunIo, type RunSpec } from '../../src/commands/execute.js'
import type { RollOptions } from '../../src/runner/options.js'
import { simRunSpec } from '../../src/commands/sim-run-spec.js'

// Shared set-up for the runner's tests on the simulated rack: a rack with short reboots, and a
// RunSpec pointing at it with a short stability window.

export interface RackFixture {
  rack: Rack
  dir: string
  spec(overrides?: Partial<Omit<RunSpec, 'roll'>> & { roll?: Partial<RollOptions> }): RunSpec
  rackOf: Map<string, string>
}

// Starts a rack from a spec (YAML text) with short reboots.
export async function startTestRack(specYaml: string, options: { hosts?: number; rebootTimeMs?: number } = {}): Promise<RackFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'gpufleet-runner-rack-'))
  const specFile = join(dir, 'spec.yaml')
  writeFileSync(specFile, specYaml)
  const rack = await startRack({ hosts: options.hosts ?? 6, spec: specFile, dir: join(dir, 'rack'), rebootTimeMs: options.rebootTimeMs ?? 800 })
  return {
    rack,
    dir,
    rackOf: new Map(rack.hosts.map((h) => [h.name, h.rack])),
    spec: (overrides = {}) => simRunSpec(rack, join(dir, 'runs'), { stabilityMs: 200, rebootTimeoutMs: 20_000, commandTimeoutMs: 120_000, ...overrides }),
  }
}

// Stops a rack started by startTestRack and removes its directory (a file-wide rack's afterAll).
export async function stopTestRack(f: RackFixture | undefined): Promise<void> {
  if (!f) return
  await f.rack.stop()
  rmSync(f.dir, { recursive: true, force: true })
}

// Runs in-process with output captured.
export async function runQuiet(spec: RunSpec, resumeId?: string, extra: { becomePassword?: string; hypervisorTiming?: RunIo['hypervisorTiming'] } = {}) {
  const out: string[] = []
  const result = await executeRun(spec, { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), isTTY: false, installSignals: false, rebootWait: { pollMinMs: 100, pollMaxMs: 500, probeEveryMs: 500 }, ...extra }, resumeId)
  return { ...result, output: out.join('') }
}

// A `rack(spec)` for a test file: each rack it starts is stopped and its directory removed after
// the test that started it, so tests never share simulated hosts.
export function racksPerTest(): (specYaml: string, options?: { hosts?: number; rebootTimeMs?: number }) => Promise<RackFixture> {
  let fixtures: RackFixture[] = []
  afterEach(async () => {
    for (const f of fixtures) await stopTestRack(f)
    fixtures = []
  })
  return async (specYaml, options = {}) => {
    const f = await startTestRack(specYaml, options)
    fixtures.push(f)
    return f
  }
}
