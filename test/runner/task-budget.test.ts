import { describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { defineFact } from '../../src/facts/define.js'
import type { InventoryHost } from '../../src/inventory/types.js'
import type { FleetRunInput } from '../../src/runner/run-fleet.js'
import { TaskBudget } from '../../src/runner/task-budget.js'
import type { RunnablePlaybook, RunnableTask } from '../../src/runner/types.js'
import { change, defineTask, noop, type Step } from '../../src/tasks/define.js'
import type { ExecOptions, Transport } from '../../src/transport/types.js'
import { fakeFleets, fakePlaybook, fakeStage, fakeVerify, runFake, type FakeFleet } from './fake-fleet.js'

// A playbook item's `timeout:` on the fake fleet: the task's run/write steps share one budget on
// the runner's clock, a command is killed when the budget runs out, and a reboot's wait is not
// charged to it.

const fleet = fakeFleets()

// The files under the fake host's /fake/, so a task can see what its earlier runs left.
const fakeFiles = defineFact({
  name: 'fake.files',
  command: 'ls /fake/ 2>/dev/null; true',
  parse: (stdout) => stdout.split('\n').filter(Boolean),
})

// One run step per entry: it sleeps when /fake/hang-<i> exists on the host (so one host of the
// fleet can hang), then leaves /fake/slow-<i>. A reboot entry reboots in the middle of the task.
type SlowArgs = { steps: Array<{ timeoutMs?: number } | 'reboot'>; done: string }
const slowSteps = (a: SlowArgs): Step[] => [
  ...a.steps.map((s, i): Step =>
    s === 'reboot'
      ? { kind: 'reboot', description: 'reboot mid-task', timeoutMs: 5000, stabilityMs: 0 }
      : { kind: 'run', description: `slow step ${i + 1}`, command: `if test -e /fake/hang-${i + 1}; then sleep 30; fi; touch /fake/slow-${i + 1}`, ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}) },
  ),
  { kind: 'write', description: 'mark done', path: `/fake/${a.done}`, content: 'done\n', mode: '0644' },
]
const slowArgs = z.object({ steps: z.array(z.union([z.object({ timeoutMs: z.number().optional() }), z.literal('reboot')])), done: z.string() })

const slowStage = defineTask<SlowArgs, { files: string[] }>({
  name: 'fake.slow',
  summary: 'slow steps that may hang',
  phase: 'stage',
  facts: { files: fakeFiles },
  args: slowArgs as never,
  plan: (a, { files }) => (files.includes(a.done) ? noop('done') : change('not done', slowSteps(a))),
})

const slowRoll = defineTask<SlowArgs, { files: string[] }>({ ...slowStage, name: 'fake.slow-roll', phase: 'roll' })

function item(task: RunnableTask['task'], args: SlowArgs, timeoutMs?: number): RunnableTask {
  return { title: 'slow', task, args, source: 'test.yaml:3', ...(timeoutMs !== undefined ? { timeoutMs } : {}) }
}

// Every exec of every transport with the options it got; `after` runs once a command returned
// (the test's way to move the injected clock while a step "takes" time).
function recordingConnect(f: FakeFleet, after?: (host: string, command: string) => void) {
  const execs: Array<{ host: string; command: string; options: ExecOptions }> = []
  const connect = async (host: InventoryHost): Promise<Transport> => {
    const t = await f.connect(host)
    const exec = t.exec.bind(t)
    t.exec = async (command, options = {}) => {
      execs.push({ host: host.name, command, options })
      const r = await exec(command, options)
      after?.(host.name, command)
      return r
    }
    return t
  }
  return { execs, connect }
}

const run = (f: FakeFleet, playbook: RunnablePlaybook, extra: Partial<FleetRunInput> = {}) => runFake(f, { playbook, ...extra })

const stepCommand = (n: number) => (e: { command: string }) => e.command.includes(`touch /fake/slow-${n}`)

describe('TaskBudget', () => {
  it('counts down on the injected clock and hands back excluded time', () => {
    let t = 1000
    const budget = new TaskBudget('h1', 'initramfs.rebuild', 600_000, () => t)
    expect(budget.remainingMs()).toBe(600_000)
    t += 400_000
    expect(budget.remainingMs()).toBe(200_000)
    budget.exclude(300_000)
    expect(budget.remainingMs()).toBe(500_000)
    t += 600_000
    expect(budget.remainingMs()).toBe(-100_000)
    expect(budget.timedOut('rebuild initramfs for 4.18.0').message).toBe('[h1] task initramfs.rebuild timed out after 10m (step: rebuild initramfs for 4.18.0)')
    expect(budget.timedOut('check the image', false).message).toBe('[h1] task initramfs.rebuild timed out after 10m (before step: check the image)')
  })
})

describe('a playbook task timeout on the fake fleet', () => {
  it('kills a command that outlives its task timeout and fails that host while the others finish', async () => {
    const f = fleet({ a1: { rack: 'a', rebootMs: 30 }, a2: { rack: 'a', rebootMs: 30 }, b1: { rack: 'b', rebootMs: 30 } })
    writeFileSync(join(f.hosts.get('a1')!.root, 'fake/hang-1'), '1\n')
    const playbook: RunnablePlaybook = { ...fakePlaybook, stage: [item(slowStage, { steps: [{}], done: 'slow-done' }, 700), ...fakePlaybook.stage] }
    const { connect, execs } = recordingConnect(f)
    const { result, events, journal, wallMs } = await run(f, playbook, { connect })

    expect(result.outcomes).toEqual({ a1: 'failed', a2: 'changed', b1: 'changed' })
    expect(result.messages.a1).toBe('slow: [a1] task fake.slow timed out after 700ms (step: slow step 1)')
    expect(events.filter((e) => e.kind === 'task-failed').map(({ t: _t, ...e }) => e)).toEqual([{ kind: 'task-failed', host: 'a1', task: 'fake.slow', step: 'slow step 1', message: '[a1] task fake.slow timed out after 700ms (step: slow step 1)' }])
    // The 30 s sleep was killed at the budget, not waited out; the command got the budget as its timeout.
    expect(wallMs).toBeLessThan(15_000)
    const hung = execs.find((e) => e.host === 'a1' && stepCommand(1)(e))!
    expect(hung.options.timeoutMs).toBeGreaterThan(0)
    expect(hung.options.timeoutMs).toBeLessThanOrEqual(700)
    // Nothing after the hung step ran on a1: no marker, no later task, no reboot.
    expect(execs.filter((e) => e.host === 'a1').some((e) => e.command.includes('touch /fake/staged'))).toBe(false)
    expect(f.hosts.get('a1')!.bootCount).toBe(1)
    expect(journal.filter((r) => r.kind === 'step' && r.host === 'a1').map((r) => (r as { step: string }).step)).toEqual(['slow step 1'])
    // The others staged, rebooted and verified as usual.
    for (const h of ['a2', 'b1']) expect(f.hosts.get(h)!.bootCount).toBe(2)
  })

  it('leaves a task well within its budget alone: same outcome, each command keeps its own tighter timeout', async () => {
    const f = fleet({ a1: { rack: 'a', rebootMs: 30 }, b1: { rack: 'b', rebootMs: 30 } })
    const playbook: RunnablePlaybook = { ...fakePlaybook, stage: [item(slowStage, { steps: [{}, { timeoutMs: 5000 }], done: 'slow-done' }, 60_000), ...fakePlaybook.stage] }
    const { connect, execs } = recordingConnect(f)
    const { result } = await run(f, playbook, { connect })
    expect(result.outcomes).toEqual({ a1: 'changed', b1: 'changed' })
    for (const h of ['a1', 'b1']) {
      expect(execs.find((e) => e.host === h && stepCommand(1)(e))!.options.timeoutMs).toBe(10_000) // --command-timeout
      expect(execs.find((e) => e.host === h && stepCommand(2)(e))!.options.timeoutMs).toBe(5000) // the step's own
    }
  })

  it("a step's own timeout still fails it as a command failure when it is the tighter limit", async () => {
    const f = fleet({ a1: { rack: 'a' } })
    writeFileSync(join(f.hosts.get('a1')!.root, 'fake/hang-1'), '1\n')
    const playbook: RunnablePlaybook = { name: 'slow', stage: [item(slowStage, { steps: [{ timeoutMs: 300 }], done: 'slow-done' }, 60_000)], roll: [] }
    const { result } = await run(f, playbook)
    expect(result.outcomes).toEqual({ a1: 'failed' })
    expect(result.messages.a1).toMatch(/^slow: \[a1\] slow step 1 was killed by a signal: .*\ngpufleet: command timed out after 300 ms/)
    expect(result.messages.a1).not.toContain('task fake.slow timed out')
  })

  it('gives a later step only what is left of the task budget, and starts no step once it is gone', async () => {
    const f = fleet({ a1: { rack: 'a' }, b1: { rack: 'b' } })
    // Step 1 "takes" 60 s on a1 and 100 s on b1 (on the runner's clock) out of a 90 s budget.
    let skew = 0
    const { connect, execs } = recordingConnect(f, (host, command) => {
      if (command.includes('touch /fake/slow-1')) skew += host === 'a1' ? 60_000 : 100_000
    })
    const now = () => Date.now() + skew
    const steps = [{ timeoutMs: 120_000 }, { timeoutMs: 120_000 }]
    const playbook: RunnablePlaybook = { name: 'slow', stage: [item(slowStage, { steps, done: 'slow-done' }, 90_000)], roll: [] }
    // One host at a time, so each host's skew lands only between its own steps.
    const { result, journal } = await run(f, playbook, { connect, now, forks: 1 })

    const first = execs.find((e) => e.host === 'a1' && stepCommand(1)(e))!.options.timeoutMs!
    expect(first).toBeGreaterThan(89_000)
    expect(first).toBeLessThanOrEqual(90_000)
    const second = execs.find((e) => e.host === 'a1' && stepCommand(2)(e))!.options.timeoutMs!
    expect(second).toBeGreaterThan(29_000)
    expect(second).toBeLessThanOrEqual(30_000)
    expect(result.outcomes.a1).toBe('changed')

    expect(result.outcomes.b1).toBe('failed')
    expect(result.messages.b1).toBe('slow: [b1] task fake.slow timed out after 1m30s (before step: slow step 2)')
    expect(execs.some((e) => e.host === 'b1' && stepCommand(2)(e))).toBe(false)
    expect(journal.filter((r) => r.kind === 'step' && r.host === 'b1').map((r) => (r as { step: string }).step)).toEqual(['slow step 1'])
  })

  it("does not charge a reboot step's wait to the task budget", async () => {
    const f = fleet({ a1: { rack: 'a', rebootMs: 30 } })
    // The reboot "takes" an hour on the runner's clock; the task has 90 s for its own commands.
    let skew = 0
    const { connect, execs } = recordingConnect(f, (_host, command) => {
      if (command.includes('systemctl reboot')) skew += 3_600_000
    })
    const now = () => Date.now() + skew
    const playbook: RunnablePlaybook = {
      name: 'slow',
      stage: [{ title: 'stage', task: fakeStage, args: {} }],
      roll: [item(slowRoll, { steps: [{ timeoutMs: 120_000 }, 'reboot', { timeoutMs: 120_000 }], done: 'slow-done' }, 90_000), { title: 'verify', task: fakeVerify, args: {} }],
    }
    const { result } = await run(f, playbook, { connect, now, lock: { ttlMs: 24 * 3_600_000, controller: 'test', pid: 1 } })
    expect(result.messages.a1).toBeUndefined()
    expect(result.outcomes).toEqual({ a1: 'changed' })
    expect(f.hosts.get('a1')!.bootCount).toBe(2)
    const after = execs.find((e) => stepCommand(3)(e))!.options.timeoutMs!
    expect(after).toBeGreaterThan(80_000)
    expect(after).toBeLessThanOrEqual(90_000)
  })
})
