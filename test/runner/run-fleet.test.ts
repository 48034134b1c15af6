import { describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FleetEvent } from '../../src/events.js'
import { createEventBus } from '../../src/runner/emit.js'
import { hostStates } from '../../src/runner/journal.js'
import { LOCK_DIR } from '../../src/runner/lock.js'
import type { RollOptions } from '../../src/runner/options.js'
import type { FleetRunInput } from '../../src/runner/run-fleet.js'
import { fakeFleets, runFake, type FakeFleet, type FakeHostOptions } from './fake-fleet.js'

const fleet = fakeFleets()

async function run(f: FakeFleet, extra: Partial<Omit<FleetRunInput, 'roll'>> & { roll?: Partial<RollOptions> } = {}) {
  const { roll, ...rest } = extra
  return runFake(f, { roll: { maxUnavailable: { kind: 'count', n: 2 }, rackFailStop: false, ...roll }, ...rest })
}

const six = (o: FakeHostOptions = {}) => ({
  a1: { rack: 'a', ...o },
  a2: { rack: 'a', ...o },
  a3: { rack: 'a', ...o },
  b1: { rack: 'b', ...o },
  b2: { rack: 'b', ...o },
  b3: { rack: 'b', ...o },
})

describe('runFleet on a fake fleet', () => {
  it('stages, rolls within the window and per-rack limit, then a re-run is one connect + one exec per host', async () => {
    const f = fleet(six({ rebootMs: 60 }))
    const first = await run(f, { roll: { perRack: 1 } })
    expect(Object.values(first.result.outcomes)).toEqual(Array(6).fill('changed'))
    for (const h of f.hosts.values()) expect(h.bootCount).toBe(2)
    const max = f.maxDown()
    expect(max.total).toBeLessThanOrEqual(2)
    expect(max.perRack).toBeLessThanOrEqual(1)
    expect(max.total).toBe(2) // the window was used, not serialised
    // No lock is left behind.
    expect(first.events.filter((e) => e.kind === 'lock-released')).toHaveLength(6)

    f.records.length = 0
    const second = await run(f, { roll: { perRack: 1 } })
    expect(Object.values(second.result.outcomes)).toEqual(Array(6).fill('ok'))
    for (const name of f.hosts.keys()) {
      expect(f.count(name, 'connect')).toBe(1)
      expect(f.count(name, 'exec')).toBe(1)
    }
    expect(second.events.some((e) => e.kind === 'reboot-issued' || e.kind === 'lock-acquired')).toBe(false)
    expect(second.journal.filter((r) => r.kind === 'step' || r.kind === 'reboot')).toEqual([])
  })

  it('reports a host that never comes back as failed while the rest finish', async () => {
    const f = fleet({ ...six({ rebootMs: 30 }), a2: { rack: 'a', neverReturns: true } })
    const { result } = await run(f, { rebootTimeoutMs: 400 })
    expect(result.outcomes.a2).toBe('failed')
    expect(result.messages.a2).toMatch(/did not come back/)
    for (const h of ['a1', 'a3', 'b1', 'b2', 'b3']) expect(result.outcomes[h]).toBe('changed')
    // The lost host keeps its place in the window: never more than 2 down, by the fake's own record.
    expect(f.maxDown().total).toBeLessThanOrEqual(2)
  })

  it("emits each host's end when that host ends, not at the end of the run", async () => {
    // v1 fails verify (no reboot), u1 is unreachable, r1 and r2 reboot one at a time.
    const f = fleet({ v1: { live: true, broken: true }, u1: { unreachable: true }, r1: { rebootMs: 150 }, r2: { rebootMs: 150 } })
    const { events } = await run(f, { roll: { maxUnavailable: { kind: 'count', n: 1 } } })
    const at = (kind: string, host: string) => events.findIndex((e) => e.kind === kind && 'host' in e && e.host === host)
    const firstReboot = Math.min(at('reboot-issued', 'r1'), at('reboot-issued', 'r2'))
    const secondReboot = Math.max(at('reboot-issued', 'r1'), at('reboot-issued', 'r2'))
    const firstHost = at('reboot-issued', 'r1') < at('reboot-issued', 'r2') ? 'r1' : 'r2'
    // Failures are final before any reboot starts; the first rebooted host ends before the second reboots.
    expect(at('host-finished', 'u1')).toBeLessThan(firstReboot)
    expect(at('host-finished', 'v1')).toBeLessThan(firstReboot)
    expect(at('host-finished', firstHost)).toBeLessThan(secondReboot)
    expect(events.filter((e) => e.kind === 'host-finished')).toHaveLength(4)
  })

  it('reports an unreachable host separately and still rolls the others', async () => {
    const f = fleet({ ...six({ rebootMs: 20 }), b2: { rack: 'b', unreachable: true } })
    const { result, events } = await run(f)
    expect(result.outcomes.b2).toBe('unreachable')
    expect(events.some((e) => e.kind === 'host-unreachable' && e.host === 'b2')).toBe(true)
    expect(Object.entries(result.outcomes).filter(([, o]) => o === 'changed')).toHaveLength(5)
  })

  it('stops starting reboots once failures exceed --max-fail and reports the rest as not-started', async () => {
    const f = fleet({
      h1: { neverReturns: true },
      h2: { rebootMs: 20 },
      h3: { neverReturns: true },
      h4: { rebootMs: 20 },
      h5: { rebootMs: 20 },
    })
    const { result, events } = await run(f, { roll: { maxUnavailable: { kind: 'count', n: 2 }, maxFail: { kind: 'count', n: 1 } }, rebootTimeoutMs: 300 })
    expect(result.outcomes).toMatchObject({ h1: 'failed', h2: 'changed', h3: 'failed', h4: 'not-started', h5: 'not-started' })
    expect(events.find((e) => e.kind === 'budget-exhausted')).toMatchObject({ failed: 2, allowed: 1, scope: 'fleet' })
    for (const h of ['h4', 'h5']) expect(f.hosts.get(h)!.bootCount).toBe(1)
    // Staged but not rebooted: the message says why.
    expect(result.messages.h4).toMatch(/failure budget/)
  })

  it('counts a verify failure on a host that needs no reboot against the budget before any reboot', async () => {
    const f = fleet({ v1: { live: true, broken: true }, v2: {}, v3: {} })
    const { result, events } = await run(f, { roll: { maxFail: { kind: 'count', n: 0 } } })
    expect(result.outcomes).toEqual({ v1: 'failed', v2: 'not-started', v3: 'not-started' })
    expect(events.find((e) => e.kind === 'task-failed')).toMatchObject({ host: 'v1', message: 'host is broken', evidence: { broken: true } })
    for (const h of f.hosts.values()) expect(h.bootCount).toBe(1)
  })

  it('refuses a host locked by another live run and takes over an expired lock', async () => {
    const f = fleet({ x1: {}, x2: {} })
    const lock = (name: string, expiresAt: number) => {
      const dir = f.hosts.get(name)!.root + LOCK_DIR
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'owner'), JSON.stringify({ runId: 'other-run', controller: 'ctl2', pid: 42, playbook: 'prep', expiresAt }) + '\n')
    }
    lock('x1', Date.now() + 3_600_000)
    lock('x2', Date.now() - 1000)
    const { result, events } = await run(f)
    expect(result.outcomes.x1).toBe('failed')
    expect(result.messages.x1).toMatch(/locked by run other-run .*controller ctl2 pid 42.* until /)
    expect(f.hosts.get('x1')!.bootCount).toBe(1)
    expect(result.outcomes.x2).toBe('changed')
    expect(events.find((e) => e.kind === 'lock-acquired' && e.host === 'x2')).toMatchObject({ takenOver: 'other-run' })
  })

  it('check mode gathers and plans but changes nothing', async () => {
    const f = fleet({ c1: {}, c2: { live: true } })
    const { result, events } = await run(f, { check: true })
    expect(result.outcomes).toEqual({ c1: 'changed', c2: 'ok' })
    expect(result.rebooted).toEqual(['c1'])
    const planned = events.filter((e) => e.kind === 'task-planned').map((e) => (e as { task: string }).task)
    expect(planned).toEqual(['fake.stage', 'fake.reboot'])
    expect(f.hosts.get('c1')!.bootCount).toBe(1)
    // One connect and one exec (the gather) per host: check mode never touches anything else.
    for (const name of ['c1', 'c2']) expect(f.count(name, 'exec')).toBe(1)
  })

  it('resume does not reboot a host whose journaled reboot already happened', async () => {
    const f = fleet({ r1: { rebootMs: 20 }, r2: { rebootMs: 20 } })
    // The first controller staged both, journaled r1's reboot and died; r1 did reboot.
    const r1 = f.hosts.get('r1')!
    const before = r1.bootId
    writeFileSync(r1.root + '/fake/staged', '1\n')
    writeFileSync(f.hosts.get('r2')!.root + '/fake/staged', '1\n')
    r1.reboot()
    await new Promise((r) => setTimeout(r, 80))
    expect(r1.bootId).not.toBe(before)
    const previous = hostStates([
      { t: 1, kind: 'step', host: 'r1', task: 'fake.stage', step: 'stage' },
      { t: 2, kind: 'reboot', host: 'r1', bootIdBefore: before },
    ])
    const { result } = await run(f, { previous })
    expect(result.outcomes).toEqual({ r1: 'changed', r2: 'changed' })
    expect(r1.bootCount).toBe(2) // once, by the first controller
    expect(f.hosts.get('r2')!.bootCount).toBe(2)
  })

  it('resume waits for a reboot that was issued but has not happened yet, instead of issuing another', async () => {
    const f = fleet({ w1: { rebootMs: 30 } })
    const w1 = f.hosts.get('w1')!
    writeFileSync(w1.root + '/fake/staged', '1\n')
    mkdirSync(w1.root + '/run/gpufleet', { recursive: true })
    writeFileSync(w1.root + '/run/gpufleet/reboot-issued', 'run-1\n')
    const before = w1.bootId
    const previous = hostStates([{ t: 1, kind: 'reboot', host: 'w1', bootIdBefore: before }])
    // The reboot the dead controller issued lands a moment after the new controller connects.
    setTimeout(() => w1.reboot(), 60)
    const { result } = await run(f, { previous })
    expect(result.outcomes.w1).toBe('changed')
    expect(w1.bootCount).toBe(2)
  })

  it('resume waits when the journaled reboot lands in the middle of the first gather', async () => {
    const f = fleet({ g1: { rebootMs: 30, staged: true, rebootDuringExec: 1 } })
    const g1 = f.hosts.get('g1')!
    mkdirSync(g1.root + '/run/gpufleet', { recursive: true })
    writeFileSync(g1.root + '/run/gpufleet/reboot-issued', 'run-1\n')
    const previous = hostStates([{ t: 1, kind: 'reboot', host: 'g1', bootIdBefore: g1.bootId }])
    const { result, events } = await run(f, { previous })
    expect(result.outcomes.g1).toBe('changed')
    expect(g1.bootCount).toBe(2)
    expect(events.filter((e) => e.kind === 'reboot-issued')).toEqual([])
  })

  it('first Ctrl-C: in-flight reboots finish, nothing new starts, the rest is not-started', async () => {
    const f = fleet({ i1: { rebootMs: 80 }, i2: { rebootMs: 80 }, i3: { rebootMs: 80 } })
    const stop = new AbortController()
    const events: FleetEvent[] = []
    const { result } = await run(f, {
      roll: { maxUnavailable: { kind: 'count', n: 1 } },
      stop: stop.signal,
      emit: createEventBus([
        (e) => {
          events.push(e)
          if (e.kind === 'reboot-issued') stop.abort()
        },
      ]),
    })
    expect(result.outcomes).toEqual({ i1: 'changed', i2: 'not-started', i3: 'not-started' })
    expect(f.hosts.get('i1')!.bootCount).toBe(2)
    expect(f.hosts.get('i2')!.bootCount).toBe(1)
    expect(events.filter((e) => e.kind === 'host-up')).toHaveLength(1)
  })

  it('first Ctrl-C during staging starts no new host', async () => {
    const f = fleet({ s1: {}, s2: {}, s3: {} })
    const stop = new AbortController()
    const { result } = await run(f, {
      forks: 1,
      stop: stop.signal,
      emit: createEventBus([(e) => e.kind === 'host-connected' && stop.abort()]),
    })
    expect(result.outcomes.s2).toBe('not-started')
    expect(result.outcomes.s3).toBe('not-started')
    expect(f.count('s2', 'connect') + f.count('s3', 'connect')).toBe(0)
    for (const h of f.hosts.values()) expect(h.bootCount).toBe(1)
  })
})
