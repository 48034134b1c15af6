import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { createEventBus } from '../../src/runner/emit.js'
import { cutBatches, rollHosts, type RollHost, type RollPolicy, type UnitResult } from '../../src/runner/roll.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// Drives rollHosts with units that "reboot" for a given time and records the concurrency seen.
async function simulate(hosts: Array<RollHost & { ms: number; result?: UnitResult }>, policy: RollPolicy, options: { prior?: number; stop?: AbortSignal } = {}) {
  const events: FleetEvent[] = []
  const down = new Set<string>()
  let maxDown = 0
  let maxPerRack = 0
  const started: string[] = []
  const t0 = Date.now()
  const results = await rollHosts(hosts, {
    policy,
    prior: { total: options.prior ?? 0, byDomain: new Map() },
    emit: createEventBus([(e) => events.push(e)]),
    ...(options.stop ? { stop: options.stop } : {}),
    unit: async (h) => {
      const spec = hosts.find((x) => x.name === h.name)!
      started.push(h.name)
      down.add(h.name)
      maxDown = Math.max(maxDown, down.size)
      const perRack = [...down].filter((n) => hosts.find((x) => x.name === n)!.domain === h.domain).length
      maxPerRack = Math.max(maxPerRack, perRack)
      await sleep(spec.ms)
      down.delete(h.name)
      return spec.result ?? 'changed'
    },
  })
  return { results, events, maxDown, maxPerRack, started, wallMs: Date.now() - t0 }
}

const rackOf = (i: number) => `r${(i % 3) + 1}`

describe('rollHosts', () => {
  it('never exceeds --max-unavailable or --per-rack, and fills the window', async () => {
    const hosts = Array.from({ length: 12 }, (_, i) => ({ name: `h${i}`, domain: rackOf(i), ms: 10 + ((i * 7) % 5) * 5 }))
    const { results, maxDown, maxPerRack } = await simulate(hosts, { maxUnavailable: 2, perRack: 1, rackFailStop: false })
    expect(maxDown).toBe(2)
    expect(maxPerRack).toBe(1)
    expect([...results.values()].every((r) => r.result === 'changed')).toBe(true)
  })

  it('lets a host of another rack pass a host whose rack is full', async () => {
    // a1 holds rack a; a2 must wait, but b1 behind it starts at once.
    const hosts = [
      { name: 'a1', domain: 'a', ms: 60 },
      { name: 'a2', domain: 'a', ms: 10 },
      { name: 'b1', domain: 'b', ms: 10 },
    ]
    const { started, events } = await simulate(hosts, { maxUnavailable: 2, perRack: 1, rackFailStop: false })
    expect(started).toEqual(['a1', 'b1', 'a2'])
    expect(events.find((e) => e.kind === 'slot-waiting' && e.host === 'a2')).toMatchObject({ reason: expect.stringMatching(/rack a has 1 of 1/) })
  })

  it('slot refill beats batch barriers when reboot times differ', async () => {
    // One slow host per window-sized batch: batches wait for it every time, refill does not.
    const hosts = Array.from({ length: 8 }, (_, i) => ({ name: `h${i}`, domain: 'r', ms: i % 2 === 0 ? 120 : 20 }))
    const refill = await simulate(hosts, { maxUnavailable: 2, rackFailStop: false })
    const batched = await simulate(hosts, { maxUnavailable: 2, batchSizes: [2], rackFailStop: false })
    expect(refill.maxDown).toBe(2)
    expect(batched.maxDown).toBe(2)
    // Batches: 4 × 120 ms = 480 ms at least. Refill: the fast hosts share the second slot.
    expect(batched.wallMs).toBeGreaterThanOrEqual(470)
    expect(refill.wallMs).toBeLessThan(batched.wallMs * 0.9)
  })

  it('keeps a host that never came back in the window (it is still down)', async () => {
    const hosts = [
      { name: 'l1', domain: 'a', ms: 5, result: 'lost' as const },
      { name: 'h2', domain: 'b', ms: 5 },
      { name: 'h3', domain: 'a', ms: 5 },
      { name: 'h4', domain: 'b', ms: 5 },
    ]
    const { results, started } = await simulate(hosts, { maxUnavailable: 2, perRack: 1, rackFailStop: false })
    // l1 holds one of the two slots and rack a's only slot for the rest of the run.
    expect(started).toEqual(['l1', 'h2', 'h4'])
    expect(results.get('h3')).toMatchObject({ result: 'not-started', reason: expect.stringMatching(/never came back/) })
  })

  it('honours Ansible-style batches with the last size repeating', () => {
    expect(cutBatches([1, 2, 3, 4, 5, 6, 7, 8], [1, 3])).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]])
    expect(cutBatches([1, 2], undefined)).toEqual([[1, 2]])
  })

  it('stops starting new units once failures exceed --max-fail; in-flight ones finish', async () => {
    const hosts = [
      { name: 'f1', domain: 'r', ms: 10, result: 'failed' as const },
      { name: 'f2', domain: 'r', ms: 30, result: 'failed' as const },
      { name: 'ok1', domain: 'r', ms: 50 },
      { name: 'n1', domain: 'r', ms: 60 },
      { name: 'n2', domain: 'r', ms: 10 },
    ]
    const { results, events, started } = await simulate(hosts, { maxUnavailable: 3, maxFail: 1, rackFailStop: false })
    // f1 fails (1, not exceeded): n1 starts in its place. f2 fails (2 > 1): nothing new starts.
    expect(started).toEqual(['f1', 'f2', 'ok1', 'n1'])
    expect(results.get('ok1')?.result).toBe('changed')
    expect(results.get('n2')).toMatchObject({ result: 'not-started', reason: expect.stringMatching(/failure budget exceeded/) })
    expect(events.filter((e) => e.kind === 'budget-exhausted')).toHaveLength(1)
  })

  it('counts staging failures against the budget before the first reboot', async () => {
    const hosts = [{ name: 'x', domain: 'r', ms: 5 }]
    const { results, started } = await simulate(hosts, { maxUnavailable: 1, maxFail: 0, rackFailStop: false }, { prior: 1 })
    expect(started).toEqual([])
    expect(results.get('x')?.result).toBe('not-started')
  })

  it('pauses only the failed rack with --rack-fail-stop', async () => {
    const hosts = [
      { name: 'a1', domain: 'a', ms: 5, result: 'failed' as const },
      { name: 'b1', domain: 'b', ms: 5 },
      { name: 'a2', domain: 'a', ms: 5 },
      { name: 'b2', domain: 'b', ms: 5 },
    ]
    const { results, events } = await simulate(hosts, { maxUnavailable: 1, rackFailStop: true })
    expect(results.get('a2')).toMatchObject({ result: 'not-started', reason: expect.stringMatching(/rack a is paused/) })
    expect(results.get('b1')?.result).toBe('changed')
    expect(results.get('b2')?.result).toBe('changed')
    expect(events.find((e) => e.kind === 'budget-exhausted')).toMatchObject({ scope: 'rack a' })
  })

  it('starts nothing new after a stop (first Ctrl-C) and lets in-flight units finish', async () => {
    const stop = new AbortController()
    const hosts = Array.from({ length: 4 }, (_, i) => ({ name: `h${i}`, domain: 'r', ms: 40 }))
    setTimeout(() => stop.abort(), 10)
    const { results, started } = await simulate(hosts, { maxUnavailable: 2, rackFailStop: false }, { stop: stop.signal })
    expect(started).toEqual(['h0', 'h1'])
    expect(results.get('h0')?.result).toBe('changed')
    expect(results.get('h2')).toMatchObject({ result: 'not-started', reason: 'interrupted before its turn' })
  })
})

describe('rollHosts with units that ask to be retried (reboot blockers)', () => {
  it('frees the slot at once, lets the queue move, and runs the held host again after its wait', async () => {
    const events: FleetEvent[] = []
    const order: string[] = []
    let heldChecks = 0
    const results = await rollHosts(
      ['held', 'b', 'c'].map((name) => ({ name, domain: 'r' })),
      {
        policy: { maxUnavailable: 1, rackFailStop: false },
        prior: { total: 0, byDomain: new Map() },
        emit: createEventBus([(e) => events.push(e)]),
        unit: async (h) => {
          order.push(h.name)
          if (h.name === 'held' && ++heldChecks < 3) return { retryInMs: 40 }
          await sleep(20)
          return 'changed'
        },
      },
    )
    expect(Object.fromEntries([...results].map(([n, r]) => [n, r.result]))).toEqual({ held: 'changed', b: 'changed', c: 'changed' })
    // The held host's checks never kept the others out of the one slot.
    expect(order.slice(0, 3)).toEqual(['held', 'b', 'c'])
    expect(order.filter((n) => n === 'held')).toHaveLength(3)
    const acquired = events.filter((e) => e.kind === 'slot-acquired').map((e) => (e as { host: string }).host)
    expect(acquired.filter((h) => h === 'held')).toHaveLength(3)
  })

  it('a blocked result is not a failure for the budget', async () => {
    const events: FleetEvent[] = []
    const results = await rollHosts(
      [
        { name: 'x', domain: 'r' },
        { name: 'y', domain: 'r' },
      ],
      {
        policy: { maxUnavailable: 1, maxFail: 0, rackFailStop: false },
        prior: { total: 0, byDomain: new Map() },
        emit: createEventBus([(e) => events.push(e)]),
        unit: async (h) => (h.name === 'x' ? 'blocked' : 'changed'),
      },
    )
    expect(results.get('x')?.result).toBe('blocked')
    expect(results.get('y')?.result).toBe('changed')
    expect(events.some((e) => e.kind === 'budget-exhausted')).toBe(false)
  })
})
