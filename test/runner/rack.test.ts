import { execa } from 'execa'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import YAML from 'yaml'
import type { FleetEvent } from '../../src/events.js'
import { maxDownFromSim } from '../../src/commands/sim-record.js'
import { CLI, parseEvents as events, startUntil } from '../matrix/cli-driver.js'
import { racksPerTest, runQuiet, type RackFixture } from './rack-helpers.js'

// The runner on the simulated rack, over real SSH. Every limit is measured from the simulator's
// own record (rack.events()), never from the runner's events.

const rack = racksPerTest()

const downs = (f: RackFixture, host: string) => f.rack.events().filter((e) => e.host === host && e.kind === 'down').length

describe('runner on the simulated rack', () => {
  it('rolls within --max-unavailable 2 --per-rack 1 (per the simulator), and a second run changes nothing', async () => {
    // Three racks of two, mixed profiles: both limits bind (2 fleet-wide, 1 per rack).
    const f = await rack('hostsPerRack: 2\nprofile: ac922\nrules:\n  - match: "*-r2-*"\n    profile: pcie\n  - match: "*-r3-*"\n    profile: s822lc\n', { hosts: 6 })
    const first = await runQuiet(f.spec({ roll: { maxUnavailable: { kind: 'count', n: 2 }, perRack: 1 } }))
    expect(first.outcomes).toEqual(Object.fromEntries(f.rack.hosts.map((h) => [h.name, 'changed'])))
    const record = f.rack.events()
    const max = maxDownFromSim(record, f.rackOf)
    expect(max.total).toBeLessThanOrEqual(2)
    expect(max.perRack).toBeLessThanOrEqual(1)
    expect(max.total).toBe(2) // and the window was actually used
    for (const h of f.rack.hosts) expect(downs(f, h.name)).toBe(1)
    // Every host verified after its reboot.
    for (const h of Object.values(first.summary.hosts)) expect(h.tasks.find((t) => t.task === 'host.verify')?.status).toBe('noop')

    const mark = record.length
    const second = await runQuiet(f.spec({ roll: { maxUnavailable: { kind: 'count', n: 2 }, perRack: 1 } }))
    expect(Object.values(second.outcomes).every((o) => o === 'ok')).toBe(true)
    for (const h of Object.values(second.summary.hosts)) expect(h.tasks.every((t) => t.status === 'noop')).toBe(true)
    const after = f.rack.events().slice(mark)
    expect(after.filter((e) => e.kind === 'down')).toEqual([])
    for (const h of f.rack.hosts) {
      expect(after.filter((e) => e.host === h.name && e.kind === 'connect')).toHaveLength(1)
      expect(after.filter((e) => e.host === h.name && e.kind === 'exec')).toHaveLength(1)
    }
  }, 240_000)

  it('reports a host that never comes back as failed while the rest of the rack finishes', async () => {
    const f = await rack('hostsPerRack: 4\nprofile: pcie\nrules:\n  - match: "*-r1-02"\n    neverComesBack: true\n', { hosts: 4 })
    const r = await runQuiet(f.spec({ rebootTimeoutMs: 4000, roll: { maxUnavailable: { kind: 'count', n: 2 } } }))
    const lost = f.rack.hosts[1]!.name
    expect(r.outcomes[lost]).toBe('failed')
    expect(r.summary.hosts[lost]!.message).toMatch(/did not come back/)
    for (const h of f.rack.hosts) if (h.name !== lost) expect(r.outcomes[h.name]).toBe('changed')
    expect(r.exitCode).toBe(1)
    // The lost host stays down, so it keeps its place in the window: still never more than 2 down.
    expect(maxDownFromSim(f.rack.events(), f.rackOf).total).toBeLessThanOrEqual(2)
  }, 240_000)

  it('--max-fail 1 stops new reboots after the second failure; in-flight ones finish', async () => {
    const f = await rack('hostsPerRack: 8\nprofile: pcie\nrules:\n  - match: "*-r1-0[12]"\n    neverComesBack: true\n', { hosts: 8, rebootTimeMs: 1000 })
    // A normal reboot takes ~3 s here (boot included), well inside the 8 s timeout the lost hosts hit.
    const r = await runQuiet(f.spec({ rebootTimeoutMs: 8000, roll: { maxUnavailable: { kind: 'count', n: 3 }, maxFail: { kind: 'count', n: 1 } } }))
    const ev = events(r.output)
    const exhausted = ev.find((e) => e.kind === 'budget-exhausted')
    expect(exhausted).toMatchObject({ failed: 2, allowed: 1, scope: 'fleet' })
    const issuedAfter = ev.filter((e) => e.kind === 'reboot-issued' && e.t > exhausted!.t)
    expect(issuedAfter).toEqual([])
    const notStarted = Object.entries(r.outcomes)
      .filter(([, o]) => o === 'not-started')
      .map(([h]) => h)
    expect(notStarted.length).toBeGreaterThan(0)
    for (const h of notStarted) expect(downs(f, h)).toBe(0) // from the simulator's record
    expect(r.summary.counts.failed).toBe(2)
  }, 240_000)

  it('slot refill beats batch barriers when reboot times differ per host', async () => {
    // Hosts 1 and 3 reboot slowly, 2 and 4 quickly. Batches of 2 wait for a slow host twice.
    const spec = 'hostsPerRack: 4\nprofile: pcie\nrules:\n  - match: "*-r1-0[13]"\n    rebootTime: 4s\n'
    const a = await rack(spec, { hosts: 4, rebootTimeMs: 500 })
    const refill = await runQuiet(a.spec({ roll: { maxUnavailable: { kind: 'count', n: 2 } } }))
    const b = await rack(spec, { hosts: 4, rebootTimeMs: 500 })
    const batched = await runQuiet(b.spec({ roll: { maxUnavailable: { kind: 'count', n: 2 }, batches: [{ kind: 'count', n: 2 }] } }))
    expect(Object.values(refill.outcomes).every((o) => o === 'changed')).toBe(true)
    expect(Object.values(batched.outcomes).every((o) => o === 'changed')).toBe(true)
    // Structure, not wall time (timings belong in the benchmark): with refill the third host takes the
    // slot a fast host freed while the first slow host still reboots; with barriers it waits for both.
    const order = (r: typeof refill) =>
      Object.values(r.summary.hosts)
        .map((h) => h.slot!)
        .sort((x, y) => x.acquiredAt! - y.acquiredAt!)
    const [r1, r2, r3] = order(refill)
    expect(r3!.acquiredAt!).toBeLessThan(Math.max(r1!.releasedAt!, r2!.releasedAt!))
    const [b1, b2, b3] = order(batched)
    expect(b3!.acquiredAt!).toBeGreaterThanOrEqual(Math.max(b1!.releasedAt!, b2!.releasedAt!))
  }, 240_000)

  it('after a SIGKILL of the controller mid-roll, resume reboots no host twice and ends with every host verified', async () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true)
    const f = await rack('hostsPerRack: 3\nprofile: pcie\n', { hosts: 6, rebootTimeMs: 1500 })
    const runDir = join(f.dir, 'runs')
    const args = ['run', 'prep', '-i', f.rack.inventoryFile, '--known-hosts', f.rack.knownHostsFile, '--max-unavailable', '2', '--reboot-stability', '0.2s', '--reboot-timeout', '30s', '--run-dir', runDir, '--output', 'jsonl']
    let issued = 0
    // Kill it while the third reboot is in flight: hosts done, down, and not yet started.
    const { child, runId } = await startUntil(args, (e) => e.kind === 'reboot-issued' && ++issued === 3)
    child.kill('SIGKILL')
    await child
    expect(issued).toBe(3)
    expect(runId).not.toBe('')

    const resumed = await execa('node', [CLI, 'resume', runId, '--run-dir', runDir, '--output', 'jsonl'], { reject: false })
    const ev = events(resumed.stdout)
    const finished = ev.find((e) => e.kind === 'run-finished')
    expect(finished, resumed.stderr).toBeDefined()
    expect(resumed.exitCode).toBe(0)
    // Give a reboot the killed controller had issued time to be recorded.
    for (const h of f.rack.hosts) expect(downs(f, h.name)).toBe(1)
    for (const h of f.rack.hosts) {
      const verify = ev.filter((e) => e.kind === 'task-noop' && e.host === h.name && e.task === 'host.verify')
      expect(verify, h.name).toHaveLength(1)
    }
    expect(maxDownFromSim(f.rack.events(), f.rackOf).total).toBeLessThanOrEqual(2)
  }, 240_000)

  it('plan (check mode) shows what would change and which hosts would reboot, and changes nothing', async () => {
    const f = await rack('hostsPerRack: 3\nprofile: s822lc\n', { hosts: 3 })
    const r = await runQuiet(f.spec({ check: true, output: 'plain' }))
    expect(r.exitCode).toBe(3) // EXIT.wouldChange: a CI gate can tell "something would change"
    expect(Object.values(r.outcomes).every((o) => o === 'changed')).toBe(true)
    expect(r.output).toMatch(/would change kernel\.arg: /)
    // The plan in words, hosts with the same plan grouped: one group of three here.
    expect(r.output).toMatch(/^3 hosts \(.*\) would change, then reboot:$/m)
    expect(r.output).toMatch(/would reboot 3 hosts through the rolling window: /)
    expect(r.output).not.toMatch(/step: /) // the scripts only with -v
    expect(r.output).toContain('Check mode: nothing was changed on any host.')
    const record = f.rack.events()
    expect(record.filter((e) => e.kind === 'down')).toEqual([])
    for (const h of f.rack.hosts) expect(record.filter((e) => e.host === h.name && e.kind === 'exec')).toHaveLength(1)
  }, 240_000)

  it('a second run refuses hosts locked by a run in progress, naming the holder', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: pcie\n', { hosts: 2, rebootTimeMs: 3000 })
    const first = runQuiet(f.spec())
    // Wait until the first run has taken both locks (the lock command is an exec of its own).
    const lockTaken = (host: string) => f.rack.events().some((e) => e.host === host && e.kind === 'exec' && (e.detail ?? '').includes('mkdir -p /var/lib/gpufleet'))
    for (const t0 = Date.now(); Date.now() - t0 < 60_000 && !f.rack.hosts.every((h) => lockTaken(h.name));) await new Promise((r) => setTimeout(r, 200))
    const second = await runQuiet(f.spec({ runsDir: join(f.dir, 'runs-2') }))
    const firstResult = await first
    expect(Object.values(firstResult.outcomes).every((o) => o === 'changed')).toBe(true)
    for (const h of f.rack.hosts) {
      expect(second.outcomes[h.name]).toBe('failed')
      expect(second.summary.hosts[h.name]!.message).toMatch(new RegExp(`locked by run ${firstResult.runId} .* until `))
      expect(downs(f, h.name)).toBe(1) // rebooted once, by the first run only
    }
  }, 240_000)

  it('runs as a non-root user with a sudo password that never appears in any output, journal or report', async () => {
    const secret = 'hunter2-s3cret'
    const f = await rack(`hostsPerRack: 2\nprofile: pcie\nrules:\n  - match: "*"\n    sudoPassword: ${secret}\n`, { hosts: 1 })
    const inventory = join(f.dir, 'become.yaml')
    writeFileSync(inventory, readFileSync(f.rack.inventoryFile, 'utf8').replaceAll('ansible_user: root', 'ansible_user: admin\n          ansible_become: true'))
    const r = await runQuiet(f.spec({ inventory, askBecomePass: true }), undefined, { becomePassword: secret })
    expect(Object.values(r.outcomes)).toEqual(['changed'])
    expect(r.output).not.toContain(secret)
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]))
    const written = files(r.runDir!)
    expect(written.map((p) => p.slice(r.runDir!.length + 1)).sort()).toEqual(expect.arrayContaining(['events.jsonl', 'journal.jsonl', 'options.json', 'summary.json']))
    for (const file of written) expect(readFileSync(file, 'utf8'), file).not.toContain(secret)
    expect(written.map((p) => p.slice(r.runDir.length + 1))).toEqual(expect.arrayContaining(['summary.md', 'junit.xml', 'report.html', 'retry.txt']))
    // The other output modes: a verbose plan in plain text (steps shown), with its run directory.
    const plan = await runQuiet(f.spec({ inventory, askBecomePass: true, check: true, output: 'plain', verbosity: 1 }), undefined, { becomePassword: secret })
    expect(plan.output).toContain('PLAN for 1 host')
    expect(plan.output).not.toContain(secret)
    for (const file of files(plan.runDir)) expect(readFileSync(file, 'utf8'), file).not.toContain(secret)
  }, 240_000)

  it('first Ctrl-C lets the reboot in flight finish, starts nothing new and exits 130', async () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true)
    const f = await rack('hostsPerRack: 3\nprofile: pcie\n', { hosts: 3, rebootTimeMs: 1500 })
    const args = ['run', 'prep', '-i', f.rack.inventoryFile, '--max-unavailable', '1', '--reboot-stability', '0.2s', '--run-dir', join(f.dir, 'runs'), '--output', 'jsonl']
    const child = execa('node', [CLI, ...args], { reject: false })
    let sent = false
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!sent && chunk.toString().includes('"kind":"reboot-issued"')) {
        sent = true
        child.kill('SIGINT')
      }
    })
    const done = await child
    expect(done.exitCode).toBe(130)
    const ev = events(done.stdout)
    const first = ev.find((e) => e.kind === 'reboot-issued')!
    const interrupted = ev.find((e) => e.kind === 'interrupted')
    expect(interrupted).toMatchObject({ second: false })
    expect(ev.some((e) => e.kind === 'host-up' && e.host === first.host)).toBe(true)
    const finished = ev.filter((e) => e.kind === 'host-finished') as Array<Extract<FleetEvent, { kind: 'host-finished' }>>
    expect(finished.find((e) => e.host === first.host)?.outcome).toBe('changed')
    expect(finished.filter((e) => e.outcome === 'not-started')).toHaveLength(2)
    expect(f.rack.events().filter((e) => e.kind === 'down')).toHaveLength(1)
  }, 240_000)
})

describe('--rack-by group on the simulated rack', () => {
  it("--rack-by group:'rack_*' --per-rack 1: never two hosts of one rack group down (per the simulator); foreign rack/gpus/vms vars ignored", async () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true)
    const f = await rack('hostsPerRack: 2\nprofile: pcie\n', { hosts: 4, rebootTimeMs: 1000 })
    // Rewrite the rack's inventory the way an existing estate writes one: racks are groups (rack_a
    // holds the first two hosts, so without the per-rack limit both would take the two slots),
    // under hardware/role groups that come first (power9, gpu_hosts), no gpufleet_rack, and the
    // admin's own vars with shapes gpufleet's would refuse. `rack: 12` on every host would make
    // --per-rack 1 fleet-wide (one host down at a time) if it were read, and `gpus: {count: 99}`
    // would fail verify if prep read it.
    type SimInventory = { all: { vars: Record<string, unknown>; children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } }
    const sim = YAML.parse(readFileSync(f.rack.inventoryFile, 'utf8')) as SimInventory
    const hosts = Object.values(sim.all.children).flatMap((g) => Object.entries(g.hosts))
    expect(hosts).toHaveLength(4)
    const groups: Record<string, { hosts: Record<string, unknown> }> = { rack_a: { hosts: {} }, rack_b: { hosts: {} } }
    const rackOf = new Map<string, string>()
    hosts.forEach(([name, vars], i) => {
      const { gpufleet_rack: _simRack, ...rest } = vars
      const group = i < 2 ? 'rack_a' : 'rack_b'
      groups[group]!.hosts[name] = rest
      rackOf.set(name, group)
    })
    const inventory = join(f.dir, 'estate.yaml')
    const estate = {
      all: {
        vars: { ...sim.all.vars, rack: 12, gpus: { count: 99 }, vms: [{ name: 'train-1', gpus: 2 }] },
        children: { power9: { children: { gpu_hosts: { children: groups } } } },
      },
    }
    writeFileSync(inventory, YAML.stringify(estate, { version: '1.1' }))

    const listed = await execa('node', [CLI, 'inventory', '-i', inventory, '--rack-by', 'group:rack_*'], { reject: false })
    expect(listed.exitCode, listed.stderr).toBe(0)
    for (const [host, group] of rackOf)
      expect(
        listed.stdout
          .split('\n')
          .find((l) => l.startsWith(host + ' '))
          ?.split(/\s{2,}/)[3],
      ).toBe(group)

    // The flags as `gpufleet run prep --max-unavailable 2 --per-rack 1 --rack-by group:'rack_*'` parse them
    // (test/commands/run.test.ts); in-process for the test hooks' quick reboot polling.
    const r = await runQuiet(f.spec({ inventory, rackBy: { kind: 'group', glob: 'rack_*' }, roll: { maxUnavailable: { kind: 'count', n: 2 }, perRack: 1 } }))
    expect(r.outcomes).toEqual(Object.fromEntries(hosts.map(([name]) => [name, 'changed'])))
    expect(r.output).not.toContain('warning')
    // prep verified every host against gpufleet_gpus (4 expected), not the admin's `gpus: {count: 99}`.
    for (const h of Object.values(r.summary.hosts)) expect(h.tasks.find((t) => t.task === 'host.verify')?.status).toBe('noop')
    const max = maxDownFromSim(f.rack.events(), rackOf)
    expect(max.perRack).toBe(1) // never two hosts of one rack group down
    expect(max.total).toBe(2) // and the two groups really were separate failure domains
    for (const h of f.rack.hosts) expect(downs(f, h.name)).toBe(1)
  }, 240_000)
})
