// Issue 9 item 1, the refused combinations, end to end: ONE simulated rack with a host per
// combination gpufleet cannot edit safely, each presenting it the way a real host does (spec knobs,
// src/sim/host-platform.ts), and a stock host beside them. Over real SSH:
//   - `prep` fails each refused host in preflight with a message naming what was found, exits 1,
//     and changes nothing on it: its boot files, modprobe/dracut config, units, gpufleet state, CPU
//     online files (SMT) are byte for byte the same, it did not reboot, and gpufleet ran nothing on
//     it after the one gather exec;
//   - the stock host in the same run is prepared (one host failing never stops the others);
//   - `prep-trial` (mode: trial) on a host whose NVRAM says petitboot,write? false is refused the
//     same way, while `prep` (persistent) prepares that host and prep-trial one with write? true:
//     the refusal is the trial's, and petitboot's, alone;
//   - the refusal is a preflight: a playbook that turns SMT off BEFORE kernel.arg still changes
//     nothing on a refused host (the runner asks every task's preflight before the first task).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runQuiet, startTestRack, stopTestRack, type RackFixture } from '../runner/rack-helpers.js'
import { changedPaths, downsOf, execsOf, snapshot } from '../matrix/host-state.js'
import { ssh } from '../sim/helpers.js'

const ARG = 'vfio-pci.disable_idle_d3=1'
const SPEC = `hosts: 9
hostsPerRack: 9
profile: ac922
rules:
  - { match: "*-02", missingTools: [grubby] }
  - { match: "*-03", profile: el9, missingTools: [grubby] }
  - { match: "*-04", secureBoot: true }
  - { match: "*-05", lockdown: integrity }
  - { match: "*-06", osRelease: sles15 }
  - { match: "*-07", osRelease: debian12 }
  - { match: "*-08", petitbootWrite: false }
  - { match: "*-09", petitbootWrite: true }
`
const STOCK = 'p9-r1-01'
const NO_TRIAL = 'p9-r1-08'
const TRIAL_OK = 'p9-r1-09'
// Host -> what its refusal must name.
const REFUSED: Record<string, RegExp[]> = {
  'p9-r1-02': [/Red Hat Enterprise Linux 8.4 \(Ootpa\) with 2 BLS entries/, /grubby is not installed/],
  'p9-r1-03': [/Red Hat Enterprise Linux 9.3 \(Plow\) with 2 BLS entries/, /grubby is not installed/],
  'p9-r1-04': [/petitboot \(PowerNV\)/, /OS secure boot enforced \(\/proc\/device-tree\/ibm,secureboot\/os-secureboot-enforcing\)/],
  'p9-r1-05': [/petitboot \(PowerNV\)/, /kernel lockdown \[integrity\]/],
  'p9-r1-06': [/unsupported OS SUSE Linux Enterprise Server 15 SP5/],
  'p9-r1-07': [/unsupported OS Debian GNU\/Linux 12 \(bookworm\)/],
}
// Everything a run may change on a host, besides the trees host-state.ts watches.
const ROOTS = ['/boot', '/etc/default', '/etc/kernel', '/etc/modprobe.d', '/etc/dracut.conf.d', '/etc/systemd/system', '/etc/libvirt/qemu', '/var/lib/gpufleet', '/sys/devices/system/cpu']

let f: RackFixture
const run = (playbook: string, limit?: string) => runQuiet(f.spec({ playbook, stabilityMs: 200, ...(limit ? { limit } : {}), roll: { maxUnavailable: { kind: 'count', n: 9 } } }))
type Result = Awaited<ReturnType<typeof run>>
const task = (r: Result, host: string, name: string) => r.summary.hosts[host]!.tasks.find((t) => t.task === name)

// The host's own state: its files (sha256 per path), SMT and boot count, and the kernel it runs.
async function hostState(host: string) {
  const st = await f.rack.status(host)
  return { files: snapshot(f.rack, host, ROOTS), smt: st.smt, bootCount: st.bootCount, bootId: st.bootId, cmdline: st.cmdline, modules: st.modules }
}

async function expectRefused(r: Result, host: string, before: Awaited<ReturnType<typeof hostState>>, execsBefore: number, patterns: RegExp[]) {
  const h = r.summary.hosts[host]!
  expect(h.outcome, host).toBe('failed')
  const ka = task(r, host, 'kernel.arg')!
  expect(ka.status, host).toBe('failed')
  expect(ka.reason, host).toMatch(/^refused before any change: /)
  for (const p of patterns) expect(ka.reason, host).toMatch(p)
  expect(h.message, host).toContain(ka.reason!)
  // Nothing after the refusal ran: no other task started, no step, no lock, no reboot.
  expect(
    h.tasks.map((t) => t.task),
    host,
  ).toEqual(['kernel.arg'])
  expect(execsOf(f.rack, host).length - execsBefore, `${host}: execs after the gather`).toBe(1)
  const after = await hostState(host)
  expect(changedPaths(before.files, after.files), host).toEqual([])
  expect(after.files.size, host).toBe(before.files.size)
  expect({ ...after, files: undefined }, host).toEqual({ ...before, files: undefined })
}

beforeAll(async () => {
  f = await startTestRack(SPEC, { hosts: 9, rebootTimeMs: 400 })
}, 180_000)

afterAll(() => stopTestRack(f))

describe.sequential('combinations gpufleet refuses in preflight, on one rack', () => {
  it('each host presents its combination where the boot facts read it', async () => {
    const out = async (host: string, command: string) => (await ssh(f.rack, host, command)).stdout
    expect(await out('p9-r1-01', 'command -v grubby')).toBe('/usr/sbin/grubby\n')
    for (const host of ['p9-r1-02', 'p9-r1-03']) {
      expect((await ssh(f.rack, host, 'command -v grubby')).code, host).not.toBe(0)
      expect(await out(host, 'ls /boot/loader/entries | wc -l'), host).toBe('2\n')
      expect(await out(host, 'command -v dracut grub2-editenv'), host).toMatch(/dracut\n.*grub2-editenv\n/)
    }
    expect(await out('p9-r1-04', 'test -e /proc/device-tree/ibm,secureboot/os-secureboot-enforcing && echo enforcing')).toBe('enforcing\n')
    expect((await ssh(f.rack, 'p9-r1-01', 'test -e /proc/device-tree/ibm,secureboot/os-secureboot-enforcing')).code).not.toBe(0)
    expect(await out('p9-r1-05', 'cat /sys/kernel/security/lockdown')).toBe('none [integrity] confidentiality\n')
    expect(await out('p9-r1-06', '. /etc/os-release; echo "$ID $VERSION_ID"; ls /etc/redhat-release 2>&1 >/dev/null | wc -l')).toBe('sles 15.5\n1\n')
    expect(await out('p9-r1-07', '. /etc/os-release; echo "$ID $VERSION_ID"; cat /etc/debian_version')).toBe('debian 12\n12.5\n')
    expect(await out(NO_TRIAL, "nvram --print-config='petitboot,write?'")).toBe('false\n')
    expect(await out(TRIAL_OK, "nvram --print-config='petitboot,write?'")).toBe('true\n')
    expect(await out(STOCK, "nvram --print-config='petitboot,write?'")).toBe('')
  })

  it('prep-trial refuses the host whose NVRAM forbids petitboot to write grubenv, changes nothing there, and prepares the one that allows it', async () => {
    const before = await hostState(NO_TRIAL)
    const execs = execsOf(f.rack, NO_TRIAL).length
    const r = await run('prep-trial', `${NO_TRIAL},${TRIAL_OK}`)
    expect(r.exitCode, r.output).toBe(1)
    await expectRefused(r, NO_TRIAL, before, execs, [/mode: trial/, /NVRAM petitboot,write\? is false/, /\/boot\/grub2\/grubenv/])
    expect(downsOf(f.rack, NO_TRIAL)).toBe(0)
    expect(r.summary.hosts[TRIAL_OK]!.outcome, r.summary.hosts[TRIAL_OK]!.message).toBe('changed')
    expect(task(r, TRIAL_OK, 'boot.promote')!.status).toBe('changed')
    expect((await f.rack.status(TRIAL_OK)).cmdline!.split(/\s+/)).toContain(ARG)
  }, 300_000)

  it('a refusal comes before any task of the playbook: SMT is not turned off first by a task listed before kernel.arg', async () => {
    const host = 'p9-r1-05'
    const playbook = join(f.dir, 'smt-first.yaml')
    writeFileSync(playbook, 'name: smt-first\nstage:\n  - cpu.smt: { state: off }\n  - kernel.arg: { present: [vfio-pci.disable_idle_d3=1] }\nroll:\n  - host.reboot: {}\n')
    const before = await hostState(host)
    expect(before.smt).not.toBe('SMT is off')
    const execs = execsOf(f.rack, host).length
    const r = await run(playbook, host)
    expect(r.exitCode, r.output).toBe(1)
    await expectRefused(r, host, before, execs, REFUSED[host]!)
  }, 300_000)

  it('prep refuses every unsupported combination before any change, exit 1, and prepares the others in the same run', async () => {
    const refused = Object.keys(REFUSED)
    const before = new Map<string, Awaited<ReturnType<typeof hostState>>>()
    const execs = new Map<string, number>()
    for (const host of refused) {
      before.set(host, await hostState(host))
      execs.set(host, execsOf(f.rack, host).length)
    }
    const r = await run('prep')
    expect(r.exitCode, r.output).toBe(1)
    for (const host of refused) {
      await expectRefused(r, host, before.get(host)!, execs.get(host)!, REFUSED[host]!)
      expect(downsOf(f.rack, host), host).toBe(0)
    }
    // The stock host, and the petitboot,write? false one (a persistent edit needs no one-time
    // entry), are prepared: verified after one reboot.
    for (const host of [STOCK, NO_TRIAL]) {
      expect(r.summary.hosts[host]!.outcome, `${host}: ${r.summary.hosts[host]!.message ?? ''}`).toBe('changed')
      expect(task(r, host, 'host.verify')!.status, host).toBe('noop')
      expect(downsOf(f.rack, host), host).toBe(1)
      const st = await f.rack.status(host)
      expect(st.cmdline!.split(/\s+/), host).toContain(ARG)
      expect(st.modules, host).not.toContain('nouveau')
    }
  }, 900_000)
})
