import { execa } from 'execa'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { racksPerTest, runQuiet } from '../runner/rack-helpers.js'
import { CLI, sleep, cliArgs, parseEvents, startUntil, DRACUT_SCRIPT, countExecs } from './cli-driver.js'
import { brokenImages, downsOf, hostPath, snapshot } from './host-state.js'

// Fault matrix (docs/reliability.md): the controller killed during verify, and Ctrl-C during dracut.
// Each row checks the hosts' own state (images, reboots, execs) from the simulator.

const rack = racksPerTest()

describe('fault matrix: controller killed during verify or interrupted during dracut', () => {
  it('SIGKILL during verify: resume verifies without rebooting again', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: pcie\n', { hosts: 2, rebootTimeMs: 1000 })
    const { child, runId, hit } = await startUntil(cliArgs(f), (e) => e.kind === 'task-started' && e.task === 'host.verify')
    child.kill('SIGKILL')
    await child
    expect(hit).toBe(true)
    const resumed = await execa('node', [CLI, 'resume', runId, '--run-dir', join(f.dir, 'runs'), '--output', 'jsonl'], { reject: false })
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    const ev = parseEvents(resumed.stdout)
    for (const h of f.rack.hosts) {
      expect(downsOf(f.rack, h.name), h.name).toBe(1)
      expect((await f.rack.status(h.name)).bootCount).toBe(2)
      expect(
        ev.filter((e) => e.kind === 'task-noop' && e.host === h.name && e.task === 'host.verify'),
        h.name,
      ).toHaveLength(1)
    }
  }, 600_000)

  it('Ctrl-C (twice) during dracut: the image is rebuilt or left as it was, never truncated; nothing rebooted', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: ac922\n', { hosts: 2 })
    // dracut takes 4 s on these hosts (read by the emulated dracut at run time)
    for (const h of f.rack.hosts) writeFileSync(hostPath(f.rack, h.name, '/var/lib/sim-hw/dracut-time-ms'), '4000\n')
    const child = execa('node', [CLI, ...cliArgs(f)], { reject: false })
    for (const t0 = Date.now(); Date.now() - t0 < 120_000 && !f.rack.hosts.some((h) => countExecs(f.rack, h.name, DRACUT_SCRIPT) > 0);) await sleep(100)
    await sleep(800)
    child.kill('SIGINT')
    await sleep(800)
    child.kill('SIGINT')
    const done = await child
    expect(done.exitCode).toBe(130)
    // let a dracut still running on a host finish (it ignores the hang-up)
    await sleep(5000)
    for (const h of f.rack.hosts) {
      expect(brokenImages(f.rack, h.name), h.name).toEqual([])
      expect(downsOf(f.rack, h.name), h.name).toBe(0)
      expect([...snapshot(f.rack, h.name, ['/boot']).keys()].filter((p) => /\.tmp$|gpufleet-restore/.test(p))).toEqual([])
    }
    // and a new run finishes the rack
    const again = await runQuiet(f.spec())
    expect(Object.values(again.outcomes).every((o) => o === 'changed')).toBe(true)
  }, 600_000)
})
