import { execa, type ResultPromise } from 'execa'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import type { Rack } from '../../src/sim/rack.js'
import { racksPerTest, runQuiet, type RackFixture } from '../runner/rack-helpers.js'
import { brokenImages, changedPaths, downsOf, execsOf, hostPath, readHostFile, snapshot } from './host-state.js'

// Fault matrix (docs/reliability.md): the controller killed during verify, and Ctrl-C during dracut.
// Each row checks the hosts' own state (images, reboots, execs) from the simulator.

const CLI = join(process.cwd(), 'dist', 'cli.js')
const rack = racksPerTest()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const cliArgs = (f: RackFixture) => ['run', 'prep', '-i', f.rack.inventoryFile, '--known-hosts', f.rack.knownHostsFile, '--max-unavailable', '2', '--reboot-stability', '0.2s', '--reboot-timeout', '60s', '--run-dir', join(f.dir, 'runs'), '--output', 'jsonl']
const parseEvents = (out: string): FleetEvent[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as FleetEvent)

// Starts the CLI and calls `on` for each event; resolves when `on` returns true (or the child ends).
async function startUntil(args: string[], on: (e: FleetEvent) => boolean): Promise<{ child: ResultPromise; runId: string; hit: boolean }> {
  const child = execa('node', [CLI, ...args], { reject: false, buffer: false })
  let runId = ''
  let hit = false
  await new Promise<void>((resolve) => {
    let buf = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (!line.startsWith('{') || hit) continue
        const e = JSON.parse(line) as FleetEvent
        if (e.kind === 'run-started') runId = e.runId
        if (on(e)) {
          hit = true
          resolve()
        }
      }
    })
    void child.then(() => resolve())
  })
  return { child, runId, hit }
}

// Every execution of a command on a host, per the simulator (a step applied twice shows twice).
// The initramfs rebuild script (the record keeps a command's first 200 characters).
const DRACUT_SCRIPT = /^set -u\ntrap '' HUP PIPE\nimg=/
const countExecs = (r: Rack, host: string, re: RegExp) => execsOf(r, host).filter((e) => re.test(e.detail ?? '')).length

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
