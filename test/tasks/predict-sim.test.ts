import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Fact } from '../../src/facts/define.js'
import { buildGatherScript, parseFacts, splitGatherOutput } from '../../src/facts/gather.js'
import { batchScript, stepPart, type BatchStep } from '../../src/runner/step-batch.js'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { cpuSmt } from '../../src/tasks/cpu-smt.js'
import type { Task } from '../../src/tasks/define.js'
import { modprobeBlacklist } from '../../src/tasks/modprobe-blacklist.js'
import { ssh } from '../sim/helpers.js'

// A task's predicted facts against the real thing: on a simulated host of each profile, gather the
// task's facts, plan, predict, apply the plan's steps in one exec (the runner's own batch script),
// gather again: the prediction equals the re-gathered facts (modification times aside: a pure
// function cannot know the clock).

let rack: Rack
let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpufleet-predict-'))
  const spec = join(dir, 'spec.yaml')
  writeFileSync(spec, 'hostsPerRack: 3\nprofile: ac922\nrules:\n  - match: "*-02"\n    profile: s822lc\n  - match: "*-03"\n    profile: pcie\n')
  rack = await startRack({ hosts: 3, spec, dir: join(dir, 'rack'), rebootTimeMs: 500 })
}, 120_000)
afterAll(async () => {
  await rack?.stop()
  rmSync(dir, { recursive: true, force: true })
})

type AnyTask = Task<any, Record<string, unknown>>

async function gather(host: string, task: AnyTask): Promise<Record<string, unknown>> {
  const facts = task.facts as Record<string, Fact<unknown>>
  const r = await ssh(rack, host, buildGatherScript(Object.values(facts)), { timeoutMs: 120_000 })
  expect(r.code).toBe(0)
  return parseFacts(facts, splitGatherOutput(r.stdout))
}

const noTimes = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (/mtime$/i.test(k) ? undefined : x)))

// Plans one task on the host, applies it, and compares what it predicted with a fresh gather.
async function checkPrediction(host: string, task: AnyTask, input: unknown): Promise<string[]> {
  const args = task.args.parse(input)
  const before = await gather(host, task)
  const plan = task.plan(args, before, { host: { name: host, vars: {}, assignments: [] }, earlier: [] })
  expect(plan.kind, `${host} ${task.name} ${JSON.stringify(input)}: ${plan.reason}`).toBe('change')
  if (plan.kind !== 'change') return []
  const predicted = task.predict!(args, before, plan)
  // ppc64_cpu offlines 96 of an AC922's 128 threads one by one: minutes on a loaded 2-core box.
  const r = await ssh(rack, host, batchScript((plan.steps as BatchStep[]).map(stepPart)), { timeoutMs: 300_000 })
  expect(r.code, r.stderr).toBe(0)
  const after = await gather(host, task)
  for (const key of Object.keys(predicted)) expect(noTimes(predicted[key]), `${host} ${task.name} ${key}`).toEqual(noTimes(after[key]))
  return Object.keys(predicted).sort()
}

describe('predicted facts equal the re-gathered facts after applying', () => {
  for (const [i, profile] of ['ac922', 's822lc', 'pcie'].entries()) {
    it(`${profile}: cpu.smt off then 2, modprobe.blacklist present then absent`, async () => {
      const host = rack.hosts[i]!.name
      expect(await checkPrediction(host, cpuSmt as AnyTask, { state: 'off' })).toEqual(['cpu', 'smt', 'unit'])
      expect(await checkPrediction(host, modprobeBlacklist as AnyTask, {})).toEqual(['modprobe'])
      expect(await checkPrediction(host, cpuSmt as AnyTask, { state: 2 })).toEqual(['cpu', 'smt', 'unit'])
      expect(await checkPrediction(host, modprobeBlacklist as AnyTask, { state: 'absent' })).toEqual(['modprobe'])
    }, 600_000)
  }
})
