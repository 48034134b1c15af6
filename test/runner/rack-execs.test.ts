import { describe, expect, it } from 'vitest'
import { racksPerTest, runQuiet } from './rack-helpers.js'

// What a host costs, counted from the simulator's own record of every exec it served (never from
// the runner's events): a first `prep` is one gather, one exec per task that changed something,
// the reboot, verify's gather and the unlock; a re-run on the prepared rack is one connection and
// one exec per host.

const rack = racksPerTest()

type Kind = 'gather' | 'change' | 'unlock' | 'boot-id' | 'other'
// The simulator records the head of each command: the unlock is known by its removal mutex.
const kindOf = (command: string): Kind =>
  command.includes('@@gpufleet-fact@@') && !command.includes('@@gpufleet-step@@')
    ? 'gather'
    : command.startsWith("echo '@@gpufleet-step@@ begin 0'")
      ? 'change'
      : command.includes('/var/lib/gpufleet/lock.removing.')
        ? 'unlock'
        : command.trim() === 'cat /proc/sys/kernel/random/boot_id'
          ? 'boot-id'
          : 'other'

describe('execs per host on the simulated rack', () => {
  it('first prep: 1 gather + 1 exec per changed task, then reboot and verify; no-op: 1 connect + 1 exec', async () => {
    // Three profiles (three boot stacks and SMT widths) and a host whose guide steps were done by
    // hand before gpufleet saw it, so hosts differ in how many tasks change.
    const spec = 'hostsPerRack: 4\nprofile: ac922\nrules:\n  - match: "*-02"\n    profile: s822lc\n  - match: "*-03"\n    profile: pcie\n  - match: "*-04"\n    prepared: true\n'
    const f = await rack(spec, { hosts: 4, rebootTimeMs: 500 })
    const first = await runQuiet(f.spec({ roll: { maxUnavailable: { kind: 'count', n: 4 } } }))
    expect(Object.values(first.outcomes).every((o) => o === 'changed')).toBe(true)
    const record = f.rack.events()
    const changedCounts = new Set<number>()
    for (const h of f.rack.hosts) {
      const tasks = first.summary.hosts[h.name]!.tasks
      const changed = tasks.filter((t) => t.phase === 'stage' && t.status === 'changed').length
      changedCounts.add(changed)
      expect(tasks.find((t) => t.task === 'host.reboot')?.status).toBe('changed')
      const execs = record.filter((e) => e.host === h.name && e.kind === 'exec').map((e) => kindOf(e.detail ?? ''))
      const stage = execs.slice(0, 1 + changed)
      expect(stage, h.name).toEqual(['gather', ...Array(changed).fill('change')])
      // Then: the reboot wait's own execs (issuing the reboot, boot-id probes), verify's gather (the
      // only full gather after the stage), verify's load of vfio_pci to read disable_idle_d3 (an
      // observation, one exec), the stability window's closing boot-id check (it runs in parallel
      // with verify, so it may come anywhere after the gather), and the unlock, last.
      const rest = execs.slice(1 + changed)
      const all = `${h.name}: ${execs.join(' ')}`
      const g = rest.indexOf('gather')
      expect(
        rest.filter((k) => k === 'gather'),
        all,
      ).toEqual(['gather'])
      expect(g, all).toBeGreaterThanOrEqual(1) // the reboot is issued before verify gathers
      expect(
        rest.slice(0, g).every((k) => k === 'other' || k === 'boot-id'),
        all,
      ).toBe(true)
      expect(rest.at(-1), all).toBe('unlock')
      expect(
        rest.slice(g + 1, -1).filter((k) => k !== 'boot-id'),
        all,
      ).toEqual(['change'])
      expect(record.filter((e) => e.host === h.name && e.kind === 'down')).toHaveLength(1)
    }
    // The hosts really differ (the prepared one changes fewer tasks), so the count is per host.
    expect(changedCounts.size).toBeGreaterThan(1)

    const mark = record.length
    const second = await runQuiet(f.spec({ roll: { maxUnavailable: { kind: 'count', n: 4 } } }))
    expect(Object.values(second.outcomes).every((o) => o === 'ok')).toBe(true)
    const after = f.rack.events().slice(mark)
    for (const h of f.rack.hosts) {
      expect(
        after.filter((e) => e.host === h.name && e.kind === 'connect'),
        h.name,
      ).toHaveLength(1)
      expect(
        after.filter((e) => e.host === h.name && e.kind === 'exec').map((e) => kindOf(e.detail ?? '')),
        h.name,
      ).toEqual(['gather'])
    }
  }, 300_000)
})
