import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineFact } from '../../src/facts/define.js'
import type { RunnablePlaybook } from '../../src/runner/types.js'
import { change, defineTask, noop } from '../../src/tasks/define.js'
import { stepGroups } from '../../src/runner/task-run.js'
import { fakeFleets, runFake } from './fake-fleet.js'

// A changed task is one exec that ends by re-reading the facts it writes; the next task plans
// against them without a full re-gather. Check mode uses the task's prediction instead.

const fleet = fakeFleets()

const files = defineFact({ name: 'fake.files', command: 'ls /fake/ 2>/dev/null; true', parse: (out) => out.split('\n').filter(Boolean) })
const other = defineFact({ name: 'fake.other', command: 'echo other-fact', parse: (out) => out.trim() })

// Writes /fake/a in two steps; declares it writes fake.files and predicts the listing.
const makeA = defineTask<Record<string, never>, { files: string[]; other: string }>({
  name: 'fake.make-a',
  summary: 'make /fake/a',
  phase: 'stage',
  facts: { files, other },
  args: z.object({}) as never,
  writes: [files],
  plan: (_a, f) =>
    f.files.includes('a')
      ? noop('a exists')
      : change('no a', [
          { kind: 'run', description: 'make a', command: 'touch /fake/a' },
          { kind: 'write', description: 'write b', path: '/fake/b', content: 'b\n', mode: '0644' },
        ]),
  predict: (_a, f) => ({ files: [...new Set([...f.files, 'a', 'b'])].sort() }),
})

// Changes only when /fake/a is missing: it sees makeA's change (re-read, or predicted in check mode).
const needsA = defineTask<Record<string, never>, { files: string[] }>({
  name: 'fake.needs-a',
  summary: 'needs /fake/a',
  phase: 'stage',
  facts: { files },
  args: z.object({}) as never,
  writes: [files],
  plan: (_a, f) => (f.files.includes('a') && f.files.includes('b') ? noop('a and b are there') : change('a missing', [{ kind: 'run', description: 'late a', command: 'touch /fake/a' }])),
})

const playbook: RunnablePlaybook = {
  name: 'fake-confirm',
  stage: [
    { title: 'a', task: makeA, args: {} },
    { title: 'needs a', task: needsA, args: {} },
  ],
  roll: [],
}

describe('task apply', () => {
  it('applies a changed task in one exec that re-reads only the facts it writes; the next task sees them', async () => {
    const f = fleet({ h1: {} })
    const { result, events, journal } = await runFake(f, { playbook })
    expect(result.outcomes).toEqual({ h1: 'changed' })
    const execs = f.records.filter((r) => r.kind === 'exec').map((r) => r.detail ?? '')
    // The gather, then makeA's one exec (lock, both steps, confirm); needsA is a no-op; the unlock.
    expect(execs).toHaveLength(3)
    expect(execs[0]).toContain('@@gpufleet-fact@@ begin')
    expect(execs[1]).toContain('@@gpufleet-step@@ begin 0')
    expect(events.filter((e) => e.kind === 'task-noop').map((e) => e.task)).toEqual(['fake.needs-a'])
    expect(events.filter((e) => e.kind === 'step-finished').map((e) => [e.step, e.exitCode])).toEqual([
      ['make a', 0],
      ['write b', 0],
    ])
    // Each step has its journal record, written before the exec; the lock's comes first.
    expect(journal.filter((r) => ['lock', 'task', 'step'].includes(r.kind)).map((r) => r.kind)).toEqual(['lock', 'task', 'step', 'step'])
    // The confirm re-read fake.files and nothing else; the other fact keeps its gathered value.
    const gathered = events.filter((e) => e.kind === 'facts-gathered')
    expect(gathered).toHaveLength(2)
    expect(gathered[1]!.facts['fake.files']).toEqual(['a', 'b'])
    expect(gathered[1]!.facts['fake.other']).toBe('other-fact')
    expect(events.filter((e) => e.kind === 'lock-acquired')).toHaveLength(1)
  })

  it("check mode plans later tasks against an earlier change's predicted facts, with one exec", async () => {
    const f = fleet({ h1: {} })
    const { events } = await runFake(f, { playbook, check: true })
    expect(f.records.filter((r) => r.kind === 'exec')).toHaveLength(1)
    expect(events.filter((e) => e.kind === 'task-planned').map((e) => e.task)).toEqual(['fake.make-a'])
    expect(events.filter((e) => e.kind === 'task-noop').map((e) => [e.task, e.reason])).toEqual([['fake.needs-a', 'a and b are there']])
  })

  it('an observe-only plan (verify loading a module to read it) runs and reports ok; check mode shows it as ok and runs nothing', async () => {
    const observe = defineTask<Record<string, never>, { files: string[] }>({
      ...needsA,
      name: 'fake.observe',
      writes: [],
      plan: () => change('load a module to read its parameter', [{ kind: 'run', description: 'observe', command: 'touch /fake/observed' }], { observeOnly: true }),
    })
    const pb: RunnablePlaybook = { name: 'x', stage: [{ title: 'observe', task: observe, args: {} }], roll: [] }
    const checked = fleet({ h1: {} })
    const c = await runFake(checked, { playbook: pb, check: true })
    expect(c.result.outcomes).toEqual({ h1: 'ok' })
    expect(c.events.filter((e) => e.kind === 'task-planned')).toEqual([])
    expect(c.events.find((e) => e.kind === 'task-noop')).toMatchObject({ task: 'fake.observe', reason: 'would observe, changing nothing: load a module to read its parameter' })
    expect(existsSync(join(checked.hosts.get('h1')!.root, 'fake/observed'))).toBe(false)
    const ran = fleet({ h1: {} })
    const r = await runFake(ran, { playbook: pb })
    expect(r.result.outcomes).toEqual({ h1: 'ok' })
    expect(r.events.filter((e) => e.kind === 'task-changed')).toEqual([])
    expect(existsSync(join(ran.hosts.get('h1')!.root, 'fake/observed'))).toBe(true)
  })

  it('a failing step stops its exec: no later step, no confirm, the failure names the step', async () => {
    const f = fleet({ h1: {} })
    const failing = defineTask<Record<string, never>, { files: string[] }>({
      ...needsA,
      name: 'fake.fails',
      plan: () =>
        change('go', [
          { kind: 'run', description: 'breaks', command: 'echo nope >&2; exit 4' },
          { kind: 'run', description: 'never runs', command: 'touch /fake/never' },
        ]),
    })
    const { result, events } = await runFake(f, { playbook: { name: 'x', stage: [{ title: 'fails', task: failing, args: {} }], roll: [] } })
    expect(result.outcomes).toEqual({ h1: 'failed' })
    expect(events.find((e) => e.kind === 'task-failed')).toMatchObject({ step: 'breaks', exitCode: 4, stderrTail: ['nope'] })
    expect(result.messages.h1).toMatch(/^fails: \[h1\] breaks failed with exit code 4/)
    expect(f.records.filter((r) => r.kind === 'exec')).toHaveLength(3) // the gather, both steps in one script, the unlock...
    expect(existsSync(join(f.hosts.get('h1')!.root, 'fake/never'))).toBe(false) // ...where the second never ran
    expect(events.some((e) => e.kind === 'step-started' && e.step === 'never runs')).toBe(false)
    expect(events.filter((e) => e.kind === 'facts-gathered')).toHaveLength(1)
  })
})

describe('stepGroups', () => {
  const run = (d: string) => ({ kind: 'run' as const, description: d, command: 'true' })
  const reboot = { kind: 'reboot' as const, description: 'reboot', timeoutMs: 1, stabilityMs: 0 }
  it('groups contiguous run/write steps; a reboot stands alone; a task budget makes every step its own exec', () => {
    expect(stepGroups([run('a'), run('b'), reboot, run('c')], false)).toEqual([[run('a'), run('b')], reboot, [run('c')]])
    expect(stepGroups([run('a'), run('b'), reboot, run('c')], true)).toEqual([[run('a')], [run('b')], reboot, [run('c')]])
  })
})
