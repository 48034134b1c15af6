// Issue 9 items 1–2 end to end: ONE simulated rack with an EL7 (s822lc), EL8 (ac922), EL9 and
// Ubuntu host, each booting through its own stack, over real SSH. Checked against the hosts' own
// files and the simulator's record:
//   1. prep takes every host to verified with one reboot each; a second prep changes nothing;
//   2. rollback restores every boot file and initramfs byte for byte;
//   3. prep again, then a kernel update (the distro's hooks: new entry, new initramfs) boots
//      prepared: the new entry carries the argument, its initramfs has no nouveau, verify passes
//      on the new kernel, and prep reports nothing left to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SimHostStatus } from '../../src/sim/rack.js'
import { runQuiet, startTestRack, stopTestRack, type RackFixture } from '../runner/rack-helpers.js'
import { ssh } from '../sim/helpers.js'

const ARG = 'vfio-pci.disable_idle_d3=1'
const SPEC = `hosts: 4
hostsPerRack: 4
profile: ac922
rules:
  - { match: "*-01", profile: s822lc }
  - { match: "*-03", profile: el9 }
  - { match: "*-04", profile: ubuntu }
`
let f: RackFixture
let names: string[]
const original = new Map<string, Map<string, string>>()

async function sh(host: string, command: string): Promise<string> {
  const r = await ssh(f.rack, host, command)
  if (r.code !== 0) throw new Error(`${host}: \`${command.slice(0, 80)}\` exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

// Every file a boot stack reads, by content: /etc/default/grub, /etc/kernel/cmdline, grub.cfg and
// grubenv (EL and Ubuntu paths), BLS entries, and the initramfs images by sha256.
async function bootFiles(host: string): Promise<Map<string, string>> {
  const out = await sh(
    host,
    `for f in /etc/default/grub /etc/kernel/cmdline /boot/grub2/grub.cfg /boot/grub2/grubenv /boot/grub/grub.cfg /boot/grub/grubenv /boot/loader/entries/*.conf /etc/modprobe.d/*.conf /etc/dracut.conf.d/*.conf; do [ -f "$f" ] && printf '%s %s\\n' "$f" "$(base64 -w0 < "$f")"; done
     for f in /boot/initramfs-* /boot/initrd.img-*; do [ -f "$f" ] && printf '%s sha256:%s\\n' "$f" "$(sha256sum < "$f" | cut -d ' ' -f 1)"; done; true`,
  )
  const files = new Map<string, string>()
  for (const line of out.trim().split('\n')) {
    const sp = line.indexOf(' ')
    const value = line.slice(sp + 1)
    files.set(line.slice(0, sp), value.startsWith('sha256:') ? value : Buffer.from(value, 'base64').toString('utf8'))
  }
  return files
}

const downs = (host: string, from = 0) =>
  f.rack
    .events()
    .slice(from)
    .filter((e) => e.host === host && e.kind === 'down')
const run = (playbook: string) => runQuiet(f.spec({ playbook, stabilityMs: 200, roll: { maxUnavailable: { kind: 'count', n: 4 } } }))
const statuses = (r: Awaited<ReturnType<typeof run>>, host: string) => Object.fromEntries(r.summary.hosts[host]!.tasks.map((t) => [t.task, t.status]))
const reasons = (r: Awaited<ReturnType<typeof run>>, host: string) => Object.fromEntries(r.summary.hosts[host]!.tasks.map((t) => [t.task, t.reason ?? '']))
const initrdOf = (st: SimHostStatus) => (st.profile === 'ubuntu' ? `/boot/initrd.img-${st.kernel}` : `/boot/initramfs-${st.kernel}.img`)
const lister = (st: SimHostStatus) => (st.profile === 'ubuntu' ? 'lsinitramfs' : 'lsinitrd')

async function expectPrepared(host: string): Promise<SimHostStatus> {
  const st = await f.rack.status(host)
  expect(st.state, host).toBe('up')
  expect(st.cmdline!.split(/\s+/), host).toContain(ARG)
  expect(st.modules, host).not.toContain('nouveau')
  expect(
    Object.values(st.gpuDrivers).some((d) => d === 'nouveau'),
    host,
  ).toBe(false)
  return st
}

beforeAll(async () => {
  f = await startTestRack(SPEC, { hosts: 4, rebootTimeMs: 400 })
  names = f.rack.hosts.map((h) => h.name)
  expect(Object.fromEntries(f.rack.hosts.map((h) => [h.name, h.profile]))).toEqual({ 'p9-r1-01': 's822lc', 'p9-r1-02': 'ac922', 'p9-r1-03': 'el9', 'p9-r1-04': 'ubuntu' })
  for (const host of names) original.set(host, await bootFiles(host))
}, 180_000)

afterAll(() => stopTestRack(f))

describe.sequential('every boot stack on one rack: EL7, EL8 BLS, EL9, Ubuntu', () => {
  it('each host boots its own stack: grub.cfg + grubby, BLS + kernelopts, BLS + /etc/kernel/cmdline, update-grub + initramfs-tools', async () => {
    expect(await sh('p9-r1-01', 'command -v grubby dracut')).toMatch(/grubby\n.*dracut/)
    expect(await sh('p9-r1-02', 'grub2-editenv - list')).toMatch(/^kernelopts=/m)
    expect(await sh('p9-r1-03', 'cat /etc/kernel/cmdline')).toMatch(/^root=\/dev\/mapper\/rhel-root ro /)
    expect(await sh('p9-r1-03', 'grub2-editenv - list')).not.toMatch(/^kernelopts=/m)
    expect(await sh('p9-r1-04', 'command -v update-grub update-initramfs lsinitramfs grub-reboot')).toMatch(/update-grub/)
    expect((await ssh(f.rack, 'p9-r1-04', 'command -v dracut || command -v grubby')).code).not.toBe(0)
    for (const host of names) {
      const st = await f.rack.status(host)
      expect(st.modules, host).toContain('nouveau')
      expect(await sh(host, `${lister(st)} ${initrdOf(st)}`), host).toMatch(/nouveau\.ko/)
    }
  })

  it('prep: every host verified with one reboot; a second prep changes nothing', async () => {
    const r = await run('prep')
    expect(r.exitCode, r.output).toBe(0)
    for (const host of names) {
      expect(r.summary.hosts[host]!.outcome, host).toBe('changed')
      expect(statuses(r, host), host).toMatchObject({ 'kernel.arg': 'changed', 'initramfs.rebuild': 'changed', 'host.reboot': 'changed', 'host.verify': 'noop' })
      expect(downs(host), host).toHaveLength(1)
      const st = await expectPrepared(host)
      expect(await sh(host, `${lister(st)} ${initrdOf(st)}`), host).toMatch(/etc\/modprobe\.d\/blacklist-nouveau\.conf/)
    }
    // Where each stack keeps the argument for later kernels.
    expect(await sh('p9-r1-02', 'grub2-editenv - list')).toMatch(new RegExp(`^kernelopts=.* ${ARG} $`, 'm'))
    expect((await sh('p9-r1-03', 'cat /etc/kernel/cmdline')).trim().split(' ')).toContain(ARG)
    expect(await sh('p9-r1-03', 'grep -h ^options /boot/loader/entries/*.conf')).toMatch(new RegExp(`^(options .*${ARG}.*\\n){2}$`))
    expect(await sh('p9-r1-04', 'grep ^GRUB_CMDLINE_LINUX= /etc/default/grub')).toBe(`GRUB_CMDLINE_LINUX="${ARG}"\n`)
    expect((await sh('p9-r1-04', "grep -c 'linux\t/boot/vmlinux-' /boot/grub/grub.cfg")).trim()).toBe((await sh('p9-r1-04', `grep -c 'linux\t/boot/vmlinux-.* ${ARG}' /boot/grub/grub.cfg`)).trim())

    const mark = f.rack.events().length
    const again = await run('prep')
    expect(again.exitCode, again.output).toBe(0)
    for (const host of names) {
      expect(again.summary.hosts[host]!.outcome, `${host}: ${JSON.stringify(reasons(again, host))}`).toBe('ok')
      expect(downs(host, mark), host).toHaveLength(0)
    }
  }, 900_000)

  it('rollback restores every host byte for byte', async () => {
    const r = await run('rollback')
    expect(r.exitCode, r.output).toBe(0)
    for (const host of names) {
      const now = await bootFiles(host)
      const before = original.get(host)!
      expect([...now.keys()].sort(), host).toEqual([...before.keys()].sort())
      for (const [file, content] of before) expect(now.get(file), `${host}:${file}`).toBe(content)
      const st = await f.rack.status(host)
      expect(st.cmdline!.split(/\s+/), host).not.toContain(ARG)
    }
  }, 900_000)

  it('a kernel installed after prep boots prepared; verify passes on it and prep has nothing left to do', async () => {
    const p = await run('prep')
    expect(p.exitCode, p.output).toBe(0)
    const kvers = new Map<string, string>()
    for (const host of names) kvers.set(host, await f.rack.installKernel(host))
    for (const host of names) {
      const kver = kvers.get(host)!
      const ubuntu = host === 'p9-r1-04'
      const image = ubuntu ? `/boot/initrd.img-${kver}` : `/boot/initramfs-${kver}.img`
      // The distro's hook built the new image with the host's config: nouveau blacklisted (and omitted by dracut).
      const listing = await sh(host, `${ubuntu ? 'lsinitramfs' : 'lsinitrd'} ${image}`)
      expect(listing, host).toMatch(/etc\/modprobe\.d\/blacklist-nouveau\.conf/)
      if (!ubuntu) expect(listing, host).not.toMatch(/nouveau\.ko/)
    }
    // prep before the reboot: the new kernel boots next and needs nothing; it reports so.
    const before = await run('prep')
    expect(before.exitCode, before.output).toBe(0)
    for (const host of names) {
      const rs = reasons(before, host)
      expect(statuses(before, host)['kernel.arg'], `${host}: ${rs['kernel.arg']}`).toBe('noop')
      expect(statuses(before, host)['initramfs.rebuild'], `${host}: ${rs['initramfs.rebuild']}`).toBe('noop')
      expect(rs['initramfs.rebuild'], host).toContain(kvers.get(host)!)
    }
    // Boot the new kernel (as an admin would after the update), then verify.
    const bootIds = new Map<string, string | undefined>()
    for (const host of names) bootIds.set(host, (await f.rack.status(host)).bootId)
    for (const host of names) f.rack.powerCycle(host)
    for (const host of names) {
      const deadline = Date.now() + 30_000
      let st = await f.rack.status(host)
      while (!(st.state === 'up' && st.bootId !== bootIds.get(host) && (await ssh(f.rack, host, 'true', { timeoutMs: 5000 })).code === 0) && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 200))
        st = await f.rack.status(host)
      }
      expect(st.kernel, host).toBe(kvers.get(host))
      await expectPrepared(host)
    }
    const v = await run('verify')
    expect(v.exitCode, v.output).toBe(0)
    const after = await run('prep')
    expect(after.exitCode, after.output).toBe(0)
    for (const host of names) expect(after.summary.hosts[host]!.outcome, `${host}: ${JSON.stringify(reasons(after, host))}`).toBe('ok')
  }, 900_000)
})
