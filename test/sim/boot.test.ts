// Reboot semantics and the boot rules: the seed guide by hand reproduces the real-world outcomes.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { bootOutcome, ssh, waitUp } from './helpers.js'

let rack: Rack
let dir: string

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-boot-'))
  const spec = path.join(dir, 'spec.yaml')
  // 01-03: s822lc (the guide's host), 04-06: ac922
  fs.writeFileSync(spec, 'hosts: 6\nprofile: ac922\nrules:\n  - match: "p9-r1-0[1-3]"\n    profile: s822lc\n')
  rack = await startRack({ dir: path.join(dir, 'rack'), spec, rebootTimeMs: 300 })
})
afterAll(async () => {
  await rack?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

const run = async (host: string, cmd: string) => (await ssh(rack, host, cmd)).stdout

async function reboot(host: string): Promise<{ code: number | null; stderr: string }> {
  const r = await ssh(rack, host, 'reboot')
  await waitUp(rack, host)
  return r
}

describe('a reboot is a reboot', () => {
  it('drops the asking session, refuses connections while down, returns with a new boot_id', async () => {
    const host = 'p9-r1-04'
    const before = (await run(host, 'cat /proc/sys/kernel/random/boot_id')).trim()
    expect(before).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    const other = ssh(rack, host, 'sleep 30; echo survived')
    await new Promise((r) => setTimeout(r, 300))
    const r = await ssh(rack, host, 'reboot')
    expect(r.code).toBe(255) // ssh: connection closed by remote host
    expect((await other).stdout).not.toContain('survived')
    const down = await ssh(rack, host, 'true', { timeoutMs: 5000 })
    expect(down.code).toBe(255)
    expect(down.stderr).toMatch(/Connection refused/)
    await waitUp(rack, host)
    const after = (await run(host, 'cat /proc/sys/kernel/random/boot_id')).trim()
    expect(after).not.toBe(before)
    const st = await rack.status(host)
    expect(st).toMatchObject({ state: 'up', bootCount: 2, bootId: after })
    const ev = rack.events().filter((e) => e.host === host && (e.kind === 'down' || e.kind === 'up'))
    expect(ev.map((e) => e.kind)).toEqual(['up', 'down', 'up'])
    expect(ev[2]!.t - ev[1]!.t).toBeGreaterThanOrEqual(300)
    const lines = fs
      .readFileSync(path.join(rack.dir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.filter((e) => e.host === host && e.kind === 'down')).toHaveLength(1)
  })

  it('a detached `(sleep 1; reboot) &` lets the command exit first; systemctl reboot and shutdown -r now work', async () => {
    const host = 'p9-r1-05'
    const r = await ssh(rack, host, '(sleep 1; reboot) >/dev/null 2>&1 & echo scheduled')
    expect(r).toMatchObject({ code: 0, stdout: 'scheduled\n' })
    await new Promise((res) => setTimeout(res, 1200))
    await waitUp(rack, host)
    expect((await rack.status(host)).bootCount).toBe(2)
    await ssh(rack, host, 'systemctl reboot')
    await waitUp(rack, host)
    await ssh(rack, host, 'shutdown -r now')
    await waitUp(rack, host)
    expect((await rack.status(host)).bootCount).toBe(4)
    // /run is cleared by a reboot (gpufleet's sentinel lives there)
    await ssh(rack, host, 'mkdir -p /run/gpufleet && echo kernel-args > /run/gpufleet/reboot-required')
    await reboot(host)
    expect((await ssh(rack, host, 'test -e /run/gpufleet/reboot-required')).code).toBe(1)
  })
})

describe('the seed guide by hand (s822lc)', () => {
  const prepare = (host: string, { blacklist, rebuild }: { blacklist: boolean; rebuild: boolean }) =>
    run(
      host,
      [
        'grubby --update-kernel=ALL --args=vfio-pci.disable_idle_d3=1',
        'ppc64_cpu --smt=off',
        blacklist ? 'printf "blacklist nouveau\\nblacklist lbm-nouveau\\noptions nouveau modeset=0\\nalias nouveau off\\n" > /etc/modprobe.d/blacklist-nouveau.conf' : 'true',
        'cp /boot/initramfs-4.14.0-49.10.1.el7a.ppc64le.img /boot/initramfs-4.14.0-49.10.1.el7a.ppc64le-bak.img',
        rebuild ? 'dracut -fv --omit-drivers nouveau 2>/dev/null' : 'true',
        'cat /proc/cmdline; ppc64_cpu --smt; lsmod | grep -c ^nouveau',
      ].join('; '),
    )

  it('kernel arg live only after reboot; SMT back on after reboot; nouveau gone when blacklisted in both', async () => {
    const host = 'p9-r1-01'
    const before = await prepare(host, { blacklist: true, rebuild: true })
    expect(before).toBe('root=/dev/mapper/centos-root ro crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet LANG=en_US.UTF-8\nSMT is off\n1\n')
    await reboot(host)
    const after = await run(host, 'cat /proc/cmdline; ppc64_cpu --smt; lsmod | grep nouveau; lsmod | grep nvidia; lspci -nnk -s 0002:01:00.0 | grep -c "in use"')
    expect(after).toBe('root=/dev/mapper/centos-root ro crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet LANG=en_US.UTF-8 vfio-pci.disable_idle_d3=1\nSMT=8\n0\n')
    const st = await rack.status(host)
    expect(st.gpuDrivers).toEqual({ '0002:01:00.0': null, '000a:01:00.0': null })
  })

  it('nouveau stays loaded when only /etc/modprobe.d blacklists it (initramfs not rebuilt)', async () => {
    const host = 'p9-r1-02'
    await prepare(host, { blacklist: true, rebuild: false })
    await reboot(host)
    expect(await run(host, 'lsmod | grep -c ^nouveau')).toBe('1\n')
  })

  it('nouveau stays loaded when only the initramfs omits it', async () => {
    const host = 'p9-r1-03'
    await prepare(host, { blacklist: false, rebuild: true })
    await reboot(host)
    expect(await run(host, 'lsmod | grep -c ^nouveau')).toBe('1\n')
    // persisting SMT off with an enabled unit survives the reboot
    await ssh(rack, host, 'cat > /etc/systemd/system/smt-off.service && systemctl enable smt-off.service 2>/dev/null', {
      input: '[Unit]\nDescription=SMT off\n[Service]\nType=oneshot\nExecStart=/usr/sbin/ppc64_cpu --smt=off\n[Install]\nWantedBy=multi-user.target\n',
    })
    await reboot(host)
    expect(await run(host, 'ppc64_cpu --smt; grep -c ^processor /proc/cpuinfo')).toBe('SMT is off\n20\n')
  })
})

describe('boot rules (ac922, BLS)', () => {
  it('next_entry boots once, then saved_entry again', async () => {
    const host = 'p9-r1-06'
    await run(host, 'grub2-reboot 1')
    await reboot(host)
    expect(await run(host, 'uname -r; grub2-editenv - list | grep ^next_entry')).toBe('4.18.0-240.el8.ppc64le\nnext_entry=\n')
    await reboot(host)
    expect(await run(host, 'uname -r')).toBe('4.18.0-305.el8.ppc64le\n')
    // set-default by BLS id, and a module's kernel-cmdline option reaches sysfs
    await run(host, 'grubby --set-default=/boot/vmlinuz-4.18.0-240.el8.ppc64le; grubby --update-kernel=/boot/vmlinuz-4.18.0-240.el8.ppc64le --args=vfio-pci.disable_idle_d3=1')
    await reboot(host)
    expect(await run(host, 'uname -r; cat /proc/cmdline; modprobe vfio-pci; cat /sys/module/vfio_pci/parameters/disable_idle_d3')).toBe('4.18.0-240.el8.ppc64le\nroot=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap vfio-pci.disable_idle_d3=1\nY\n')
  })

  it('a missing initramfs bricks the host until `repair`', async () => {
    const host = 'p9-r1-06'
    await run(host, 'rm /boot/initramfs-4.18.0-240.el8.ppc64le.img')
    const mark = rack.events().length
    await ssh(rack, host, 'reboot')
    expect(await bootOutcome(rack, host, mark)).toMatchObject({ kind: 'bricked', detail: expect.stringMatching(/cannot load initrd/) })
    const st = await rack.status(host)
    expect(st.state).toBe('bricked')
    expect(st.bricked).toMatch(/cannot load initrd/)
    expect((await ssh(rack, host, 'true', { timeoutMs: 3000 })).code).toBe(255)
    expect(rack.events().some((e) => e.host === host && e.kind === 'bricked')).toBe(true)
    await rack.repair(host)
    await waitUp(rack, host)
    expect(await run(host, 'uname -r; test -s /boot/initramfs-4.18.0-240.el8.ppc64le.img && echo restored')).toBe('4.18.0-240.el8.ppc64le\nrestored\n')
  })

  it('a truncated initramfs or a default entry pointing at a missing kernel bricks too', async () => {
    const host = 'p9-r1-04'
    await run(host, 'head -c 100 /boot/initramfs-4.18.0-305.el8.ppc64le.img > /tmp/t && cat /tmp/t > /boot/initramfs-4.18.0-305.el8.ppc64le.img; lsinitrd >/dev/null 2>&1; echo $?')
    let mark = rack.events().length
    await ssh(rack, host, 'reboot')
    expect((await bootOutcome(rack, host, mark)).kind).toBe('bricked')
    expect((await rack.status(host)).state).toBe('bricked')
    await rack.repair(host)
    await waitUp(rack, host)
    await run(host, 'mv /boot/vmlinuz-4.18.0-305.el8.ppc64le /root/')
    mark = rack.events().length
    await ssh(rack, host, 'reboot')
    expect((await bootOutcome(rack, host, mark)).kind).toBe('bricked')
    expect((await rack.status(host)).bricked).toMatch(/cannot load kernel/)
    await rack.repair(host)
    await waitUp(rack, host)
  })
})

describe('a trial entry (grubby --add-kernel --copy-default + grub2-reboot)', () => {
  it('boots once with the new args, then the saved default again', async () => {
    const host = 'p9-r1-05'
    const K = '4.18.0-305.el8.ppc64le'
    await run(
      host,
      `cp /boot/vmlinuz-${K} /boot/vmlinuz-${K}-trial; grubby --add-kernel=/boot/vmlinuz-${K}-trial --initrd=/boot/initramfs-${K}.img --title=trial --copy-default --args=vfio-pci.disable_idle_d3=1; grub2-reboot "$(grubby --info=/boot/vmlinuz-${K}-trial | sed -n 's/^id="\\(.*\\)"$/\\1/p')"`,
    )
    await reboot(host)
    expect(await run(host, 'cat /proc/cmdline')).toBe('root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap vfio-pci.disable_idle_d3=1\n')
    expect((await rack.status(host)).bootEntry).toBe('trial')
    await reboot(host)
    expect(await run(host, 'cat /proc/cmdline')).toBe('root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap\n')
  })
})
