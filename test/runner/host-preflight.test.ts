// The runner's preflight (src/runner/host-preflight.ts): a task that refuses a host does so right
// after the gather, before a task listed ahead of it changes anything; the other hosts go on.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineTask, noop } from '../../src/tasks/define.js'
import type { RunnablePlaybook } from '../../src/runner/types.js'
import { fakeFleets, fakePlaybook, fakeState, runFake } from './fake-fleet.js'

const fleet = fakeFleets()

// Refuses a host carrying /fake/broken, in preflight and (as kernel.arg does) in its plan.
const guard = defineTask<Record<string, never>, { s: { staged: boolean; live: boolean; broken: boolean } }>({
  name: 'fake.guard',
  summary: 'refuse a broken host before any change',
  phase: 'stage',
  facts: { s: fakeState },
  args: z.object({}) as never,
  preflight: (_a, { s }) => (s.broken ? { kind: 'fail', reason: 'refused before any change: host is broken', evidence: { broken: true } } : undefined),
  plan: (_a, { s }) => (s.broken ? { kind: 'fail', reason: 'refused before any change: host is broken' } : noop('fine')),
})

// The change first, the refusing task after it.
const guardLast: RunnablePlaybook = { ...fakePlaybook, stage: [...fakePlaybook.stage, { title: 'guard', task: guard, args: {} }] }

describe('preflight', () => {
  it('fails a refused host before a task listed ahead of the refusing one changes it; the others are prepared', async () => {
    const f = fleet({ a1: { rebootMs: 20, broken: true }, a2: { rebootMs: 20 } })
    const { result, events } = await runFake(f, { playbook: guardLast })
    expect(result.outcomes.a1).toBe('failed')
    expect(result.messages.a1).toBe('guard: refused before any change: host is broken')
    const a1 = events.filter((e) => 'host' in e && e.host === 'a1' && e.kind.startsWith('task-'))
    expect(a1.map((e) => [e.kind, 'task' in e ? e.task : ''])).toEqual([
      ['task-started', 'fake.guard'],
      ['task-failed', 'fake.guard'],
    ])
    expect(existsSync(join(f.hosts.get('a1')!.root, 'fake/staged'))).toBe(false)
    expect(f.records.filter((r) => r.host === 'a1' && r.kind === 'exec')).toHaveLength(1) // the gather alone
    expect(result.outcomes.a2).toBe('changed')
    expect(existsSync(join(f.hosts.get('a2')!.root, 'fake/staged'))).toBe(true)
  })
})
