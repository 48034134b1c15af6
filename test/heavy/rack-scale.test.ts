import { describe, expect, it } from 'vitest'
import type { HostOutcome } from '../../src/events.js'
import { racksPerTest, runQuiet } from '../runner/rack-helpers.js'
import { readHostFile } from '../matrix/host-state.js'

// Fault matrix, heavy row (only collected with GPUFLEET_HEAVY=1, which .ci/run sets; see
// vitest.config.ts): a large simulated rack with ~5% of hosts carrying a random fault. Every host
// ends verified or failed with a reason, and no host is left with a pending reboot (staged changes
// not yet booted, per the host's own /run/gpufleet/reboot-required) that the report does not name.
// GPUFLEET_HEAVY_HOSTS sets the size (default 500; docs/reliability.md has the measured time).

const N = Number(process.env.GPUFLEET_HEAVY_HOSTS ?? 500)
const rack = racksPerTest()

// A small deterministic PRNG (mulberry32): the same faults on every run, so a failure reproduces.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FAULTS = ['{ unreachable: refused }', '{ authRefused: true }', '{ neverComesBack: true }', '{ dracutNoSpace: true }', '{ dropConnection: { onExec: 4, afterMs: 50 } }', '{ hangsAfterReboot: true }', '{ rebootTime: 3s }', '{ bootFreeKiB: 0 }']

describe(`fault matrix at scale: ${N} simulated hosts, 5% random faults`, () => {
  it('every host ends verified or failed with a reason; none left with a pending reboot it was not told about', async () => {
    const random = prng(12)
    const names = Array.from({ length: N }, (_, i) => `p9-r${Math.floor(i / 8) + 1}-${String((i % 8) + 1).padStart(2, '0')}`)
    const faulty = new Map<string, string>()
    while (faulty.size < Math.round(N * 0.05)) faulty.set(names[Math.floor(random() * N)]!, FAULTS[Math.floor(random() * FAULTS.length)]!)
    const spec = `hostsPerRack: 8\nprofile: pcie\nrules:\n${[...faulty].map(([h, fault]) => `  - { match: ${h}, ${fault.slice(2, -2)} }`).join('\n')}\n`
    const f = await rack(spec, { hosts: N, rebootTimeMs: 500 })
    expect(f.rack.hosts.map((h) => h.name)).toEqual(names)
    const started = Date.now()
    const r = await runQuiet(f.spec({ forks: 100, rebootTimeoutMs: 120_000, commandTimeoutMs: 600_000, roll: { maxUnavailable: { kind: 'percent', p: 10 }, maxFail: { kind: 'percent', p: 100 } } }))
    const seconds = Math.round((Date.now() - started) / 1000)
    const counts: Partial<Record<HostOutcome, number>> = {}
    for (const o of Object.values(r.outcomes)) counts[o] = (counts[o] ?? 0) + 1
    process.stderr.write(`[heavy] ${N} hosts, ${faulty.size} faulty: run ${seconds}s, ${JSON.stringify(counts)}\n`)
    for (const h of names) {
      const outcome = r.outcomes[h]!
      const summary = r.summary.hosts[h]!
      if (outcome === 'changed' || outcome === 'ok') {
        expect(summary.tasks.find((t) => t.task === 'host.verify')?.status, h).toBe('noop')
      } else {
        expect(['failed', 'unreachable'], `${h}: ${outcome}`).toContain(outcome)
        expect(summary.message ?? summary.unreachable?.message, `${h} failed without a reason`).toBeTruthy()
      }
      // The host's own record: reboot-required lines written during this boot = a pending reboot.
      const status = await f.rack.status(h)
      const bootId = status.bootId
      const pending = bootId ? (readHostFile(f.rack, h, '/run/gpufleet/reboot-required') ?? '').split('\n').some((l) => l.startsWith(`${bootId} `)) : false
      if (pending) {
        // told: the host is reported failed with a reason, and the changes it staged are listed
        expect(['failed', 'unreachable'], `${h} has a pending reboot but is ${outcome}`).toContain(outcome)
        expect(
          summary.tasks.some((t) => t.status === 'changed'),
          `${h}: pending reboot, no staged change reported`,
        ).toBe(true)
      }
      if (!faulty.has(h)) expect(['changed'], `${h} (no fault): ${summary.message ?? ''}`).toContain(outcome)
    }
  }, 1_800_000)
})
