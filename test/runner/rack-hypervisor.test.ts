import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { LOCK_DIR } from '../../src/runner/lock.js'
import { ssh, waitUp } from '../sim/helpers.js'
import { racksPerTest, runQuiet, type RackFixture } from './rack-helpers.js'

// Hypervisor-safe reboots on the simulated rack: drain, restore, reboot blockers, BMC recovery.
// What happened to hosts and guests is read from the simulator's own record (down, guest-killed,
// bmc), never from the runner's events.

const rack = racksPerTest()

// A staged kernel argument only: the roll is what these tests are about, not dracut's time.
const QUICK = join(process.cwd(), 'test/fixtures/playbooks/reboot-with-arg.yaml')
const QUICK_TRIAL = join(process.cwd(), 'test/fixtures/playbooks/reboot-with-arg-trial.yaml')
const FAST = { guestPollMs: 200, blockerMinMs: 1000, blockerMaxMs: 2000, restoreTimeoutMs: 20_000, bmcPowerOnTimeoutMs: 10_000 }
const name = (f: RackFixture, i: number) => f.rack.hosts[i]!.name
const downs = (f: RackFixture, host: string, from = 0) =>
  f.rack
    .events()
    .slice(from)
    .filter((e) => e.host === host && e.kind === 'down')
const killed = (f: RackFixture) => f.rack.events().filter((e) => e.kind === 'guest-killed')
const running = async (f: RackFixture, host: string) => (await ssh(f.rack, host, 'virsh list --state-running --name')).stdout.split('\n').filter(Boolean)
const events = (output: string): FleetEvent[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as FleetEvent)

describe('draining guests around the reboot', () => {
  it('refuses hosts with running guests by default; --drain shutdown reboots them and brings exactly those guests back', async () => {
    // Guests on half the hosts: host 1 runs vm1 (autostart) and web, host 2 runs vm1.
    const f = await rack(
      [
        'hostsPerRack: 4',
        'profile: pcie',
        'rules:',
        '  - match: "*-r1-01"',
        '    guests: { vm1: { running: true, autostart: true, acpi: 1s }, web: { running: true, acpi: 500ms } }',
        '    libvirtGuests: { onShutdown: suspend, shutdownTimeout: 300 }',
        '  - match: "*-r1-02"',
        '    guests: { vm1: { running: true, acpi: 300ms } }',
        '',
      ].join('\n'),
      { hosts: 4 },
    )
    const [h1, h2, h3, h4] = [0, 1, 2, 3].map((i) => name(f, i)) as [string, string, string, string]
    const before = { [h1]: await running(f, h1), [h2]: await running(f, h2) }
    expect(before).toEqual({ [h1]: ['vm1', 'web'], [h2]: ['vm1'] })

    const first = await runQuiet(f.spec({ output: 'plain', roll: { maxUnavailable: { kind: 'count', n: 2 } } }), undefined, { hypervisorTiming: FAST })
    expect(first.outcomes).toEqual({ [h1]: 'needs-drain', [h2]: 'needs-drain', [h3]: 'changed', [h4]: 'changed' })
    expect(first.exitCode).toBe(1)
    expect(first.summary.hosts[h1]!.message).toMatch(/needs drain: guests vm1, web running; not rebooted/)
    expect(first.summary.hosts[h1]!.hypervisor?.drainNeeded).toEqual(['vm1', 'web'])
    expect(first.output).toMatch(new RegExp(`${h2} +NEEDS DRAIN: guests running: vm1;`))
    expect(downs(f, h1)).toEqual([])
    expect(downs(f, h2)).toEqual([])
    expect(downs(f, h3)).toHaveLength(1)
    expect(killed(f)).toEqual([])

    const mark = f.rack.events().length
    const second = await runQuiet(f.spec({ drain: 'shutdown', output: 'plain', roll: { maxUnavailable: { kind: 'count', n: 2 } } }), undefined, { hypervisorTiming: FAST })
    expect(second.outcomes).toEqual({ [h1]: 'changed', [h2]: 'changed', [h3]: 'ok', [h4]: 'ok' })
    for (const h of [h1, h2]) {
      expect(downs(f, h, mark)).toHaveLength(1)
      expect(second.summary.hosts[h]!.tasks.find((t) => t.task === 'host.verify')?.status).toBe('noop')
    }
    // Every guest that ran before runs again, and the simulator saw none die.
    expect({ [h1]: await running(f, h1), [h2]: await running(f, h2) }).toEqual(before)
    expect(killed(f)).toEqual([])
    const hv = second.summary.hosts[h1]!.hypervisor!
    expect(hv.drained.map((d) => d.guest)).toEqual(['vm1', 'web'])
    expect(hv.drained.every((d) => d.stoppedAfterMs !== undefined && !d.destroyed)).toBe(true)
    // Previous order; vm1 came back through libvirt's autostart and was not started twice.
    expect(hv.restored).toEqual([
      { guest: 'vm1', how: 'autostart', durationMs: 0 },
      { guest: 'web', how: 'started', durationMs: expect.any(Number) },
    ])
    expect(
      f.rack
        .events()
        .slice(mark)
        .filter((e) => e.host === h1 && e.kind === 'exec' && /virsh start/.test(e.detail ?? ''))
        .map((e) => e.detail),
    ).toEqual(['virsh start web'])
    expect(hv.libvirtGuests).toMatch(/ON_SHUTDOWN=suspend .*SHUTDOWN_TIMEOUT=300s/)
    expect(second.output).toMatch(new RegExp(`${h1} +restore: guest web running after`))
    expect(second.output).toMatch(new RegExp(`${h1} +changed .*\\[drained vm1,web; restored vm1,web\\]`))
  }, 900_000)

  it('a guest that ignores ACPI fails its host without a reboot; with --drain-force it is destroyed and recorded', async () => {
    const f = await rack('hostsPerRack: 3\nprofile: pcie\nrules:\n  - match: "*-r1-01"\n    guests: { vm1: { running: true, acpi: ignore } }\n', { hosts: 3 })
    const [h1, h2, h3] = [0, 1, 2].map((i) => name(f, i)) as [string, string, string]
    const spec = { playbook: QUICK, drain: 'shutdown' as const, drainTimeoutMs: 2000, roll: { maxUnavailable: { kind: 'count' as const, n: 3 } } }
    const first = await runQuiet(f.spec(spec), undefined, { hypervisorTiming: FAST })
    expect(first.outcomes).toEqual({ [h1]: 'failed', [h2]: 'changed', [h3]: 'changed' })
    expect(first.summary.hosts[h1]!.message).toMatch(/guest vm1 still running 2s after virsh shutdown \(ACPI\); not rebooted, guests left as they are \(--drain-force destroys them\)/)
    expect(first.summary.hosts[h1]!.hypervisor?.drainFailed).toEqual({ running: ['vm1'], timeoutMs: 2000 })
    expect(downs(f, h1)).toEqual([])
    expect(await running(f, h1)).toEqual(['vm1'])

    const second = await runQuiet(f.spec({ ...spec, drainForce: true }), undefined, { hypervisorTiming: FAST })
    expect(second.outcomes[h1]).toBe('changed')
    expect(second.summary.hosts[h1]!.hypervisor!.drained).toEqual([{ guest: 'vm1', hostdevs: 0, destroyed: 'still running 2s after virsh shutdown' }])
    expect(events(second.output).some((e) => e.kind === 'guest-destroyed' && e.host === h1 && e.guest === 'vm1')).toBe(true)
    // Destroyed by the drain, before the reboot: the simulator saw no guest die with its host.
    expect(killed(f)).toEqual([])
    expect(downs(f, h1)).toHaveLength(1)
    expect(await running(f, h1)).toEqual(['vm1'])
  }, 900_000)
  it("a drained guest that fails to start again fails its host with libvirt's message", async () => {
    // web holds GPU 0003:01:00.0; vm1 (autostart, stopped now) has the same GPU in its config, so
    // libvirt's autostart gives it to vm1 at boot and web cannot have it back.
    const f = await rack('hostsPerRack: 2\nprofile: pcie\nrules:\n  - match: "*-r1-01"\n    guests: { vm1: { autostart: true }, web: { running: true } }\n', { hosts: 2 })
    const [h1, h2] = [0, 1].map((i) => name(f, i)) as [string, string]
    const gpu = "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0003' bus='0x01' slot='0x00' function='0x0'/>\n  </source>\n</hostdev>\n"
    await ssh(f.rack, h1, 'cat > /root/gpu.xml', { input: gpu })
    const setup = await ssh(f.rack, h1, 'set -e; virsh destroy vm1; virsh attach-device vm1 /root/gpu.xml --config; virsh attach-device web /root/gpu.xml --config; virsh destroy web; virsh start web')
    expect(setup.code, setup.stderr).toBe(0)
    expect(await running(f, h1)).toEqual(['web'])
    const r = await runQuiet(f.spec({ playbook: QUICK, drain: 'shutdown', roll: { maxUnavailable: { kind: 'count', n: 2 } } }), undefined, { hypervisorTiming: FAST })
    expect(r.outcomes).toEqual({ [h1]: 'failed', [h2]: 'changed' })
    expect(r.summary.hosts[h1]!.message).toBe('restore: guest web did not start: error: Failed to start domain web error: Requested operation is not valid: PCI device 0003:01:00.0 is in use by driver QEMU, domain vm1')
    expect(r.summary.hosts[h1]!.tasks.find((t) => t.task === 'host.verify')?.status).toBe('noop') // it verified; only the guest failed
    expect(r.summary.hosts[h1]!.hypervisor!.restored).toEqual([{ guest: 'web', how: 'failed', message: expect.stringContaining('in use by driver QEMU, domain vm1') }])
    expect(killed(f)).toEqual([])
  }, 900_000)
})

describe('reboot blockers', () => {
  it('a blocker holding 20 s delays only its host; the window keeps moving, then a blocker that never clears reports the host blocked', async () => {
    const f = await rack('hostsPerRack: 4\nprofile: pcie\n', { hosts: 4, rebootTimeMs: 500 })
    const [h1, h2, h3, h4] = [0, 1, 2, 3].map((i) => name(f, i)) as [string, string, string, string]
    // Holds for the seconds in /root/hold, counted from its first check; hosts without the file pass.
    const blocker = 'test ! -e /root/hold || { test -e /root/held-since || date +%s > /root/held-since; test "$(date +%s)" -ge $(( $(cat /root/held-since) + $(cat /root/hold) )); }'
    await ssh(f.rack, h1, 'echo 20 > /root/hold')
    await ssh(f.rack, h4, 'echo 99999999 > /root/hold')
    const r = await runQuiet(f.spec({ playbook: QUICK, rebootBlockers: [blocker], blockerTimeoutMs: 120_000, limit: `${h1}:${h2}:${h3}`, roll: { maxUnavailable: { kind: 'count', n: 1 } } }), undefined, { hypervisorTiming: FAST })
    expect(r.outcomes).toEqual({ [h1]: 'changed', [h2]: 'changed', [h3]: 'changed' })
    const heldSince = Number((await ssh(f.rack, h1, 'cat /root/held-since')).stdout.trim()) * 1000
    // From the simulator: h1 went down only once its 20 s were over, and with one slot, h2 rebooted
    // while h1 was held (had h1 kept the slot, nobody could have).
    const d1 = downs(f, h1)[0]!.t
    expect(d1).toBeGreaterThanOrEqual(heldSince + 19_000)
    expect(downs(f, h2)[0]!.t).toBeGreaterThan(heldSince)
    expect(downs(f, h2)[0]!.t).toBeLessThan(d1)
    const held = events(r.output).filter((e) => e.kind === 'blocker-held' && e.host === h1)
    expect(held.length).toBeGreaterThanOrEqual(1)
    expect(held.every((e) => e.kind === 'blocker-held' && e.retryInMs !== undefined && e.command === blocker)).toBe(true)
    expect(r.summary.hosts[h1]!.hypervisor?.blockerCleared?.waitedMs).toBeGreaterThan(15_000)

    const b = await runQuiet(f.spec({ playbook: QUICK, rebootBlockers: [blocker], blockerTimeoutMs: 3000, limit: h4 }), undefined, { hypervisorTiming: FAST })
    expect(b.outcomes).toEqual({ [h4]: 'blocked' })
    expect(b.summary.hosts[h4]!.message).toMatch(/^blocked: reboot blocker .* still held \(exit 1\) after \d+ checks/)
    expect(downs(f, h4)).toEqual([])
  }, 900_000)
})

describe('BMC recovery (Redfish)', () => {
  it('recovers a host hung after its reboot with one power cycle (--bmc-recover), leaves it failed without; a wrong BMC password fails only its host and is never shown', async () => {
    const f = await rack('hostsPerRack: 4\nprofile: pcie\nrules:\n  - match: "*-r1-0[12]"\n    hangsAfterReboot: true\n  - match: "*-r1-03"\n    bmcPassword: the-bmc-wants-this\n', { hosts: 4, rebootTimeMs: 500 })
    const [h1, h2, h3, h4] = [0, 1, 2, 3].map((i) => name(f, i)) as [string, string, string, string]
    const password = readFileSync(f.rack.bmcPasswordFile, 'utf8').trim()

    const without = await runQuiet(f.spec({ playbook: QUICK, rebootTimeoutMs: 10_000, limit: h1 }), undefined, { hypervisorTiming: FAST })
    expect(without.outcomes).toEqual({ [h1]: 'failed' })
    expect(without.summary.hosts[h1]!.message).toMatch(/did not come back within 10s after the reboot .*; it has a BMC \(gpufleet_bmc\): --bmc-recover would power-cycle it once/)
    expect(f.rack.events().filter((e) => e.kind === 'bmc')).toEqual([])

    const reportDir = join(f.dir, 'reports')
    const mark = f.rack.events().length
    const r = await runQuiet(f.spec({ playbook: QUICK, rebootTimeoutMs: 10_000, bmcRecover: true, bmcCaFile: f.rack.bmcCaFile, limit: `${h2}:${h3}:${h4}`, reportDir, output: 'plain', roll: { maxUnavailable: { kind: 'count', n: 3 } } }), undefined, { hypervisorTiming: FAST })
    expect(r.outcomes).toEqual({ [h2]: 'changed', [h3]: 'failed', [h4]: 'changed' })
    const bmc = (h: string) =>
      f.rack
        .events()
        .slice(mark)
        .filter((e) => e.host === h && e.kind === 'bmc')
        .map((e) => e.detail)
    expect(bmc(h2).filter((d) => d === 'ComputerSystem.Reset ForceRestart')).toHaveLength(1)
    expect(bmc(h4).filter((d) => d === 'ComputerSystem.Reset ForceRestart')).toHaveLength(0)
    expect(r.summary.hosts[h2]!.hypervisor!.bmc.map((a) => a.action)).toEqual(['check', 'power-cycle', 'power-on', 'recovered'])
    expect(r.summary.hosts[h2]!.tasks.find((t) => t.task === 'host.verify')?.status).toBe('noop')
    expect(r.output).toMatch(new RegExp(`${h2} +bmc: power-cycling through https://`))
    // The wrong password: refused by the BMC before any reboot, only that host.
    expect(r.summary.hosts[h3]!.message).toMatch(/not rebooted: --bmc-recover is on but the BMC check failed: BMC https:\/\/.*HTTP 401: credentials of user 'root' refused/)
    expect(downs(f, h3, mark)).toEqual([])
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]))
    for (const text of [r.output, without.output, ...[...files(r.runDir!), ...files(reportDir)].map((p) => readFileSync(p, 'utf8'))]) {
      expect(text).not.toContain(password)
      expect(text).not.toContain(Buffer.from(`root:${password}`).toString('base64'))
    }

    // mode: trial: the boot that hung used up the one-time entry, so the power cycle boots the
    // known-good default; the report says so, verify fails and nothing is promoted.
    // The operator power-cycles h1 and clears the lock its failed run left (as that message says).
    f.rack.powerCycle(h1)
    await waitUp(f.rack, h1, 60_000)
    await ssh(f.rack, h1, `rm -rf ${LOCK_DIR}`)
    const trial = await runQuiet(f.spec({ playbook: QUICK_TRIAL, rebootTimeoutMs: 10_000, bmcRecover: true, bmcCaFile: f.rack.bmcCaFile, limit: h1 }), undefined, { hypervisorTiming: FAST })
    expect(trial.outcomes).toEqual({ [h1]: 'failed' })
    const recovered = trial.summary.hosts[h1]!.hypervisor!.bmc.find((a) => a.action === 'recovered')
    expect(recovered?.message).toMatch(/mode: trial: it came back on its known-good \(default\) entry/)
    expect(trial.summary.hosts[h1]!.tasks.find((t) => t.task === 'host.verify')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/not in \/proc\/cmdline: gpufleet\.trial=1/) })
    expect(trial.summary.hosts[h1]!.tasks.some((t) => t.task === 'boot.promote')).toBe(false)
  }, 900_000)
})
