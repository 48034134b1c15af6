// The emulated tools over real SSH, checked against the formats in shared/docs/power9-domain.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { runLocal, ssh } from './helpers.js'

let rack: Rack
let dir: string
const AC = 'p9-r1-01' // ac922: POWER9, RHEL 8 BLS, 4x V100 SXM2
const LC = 'p9-r1-02' // s822lc: POWER8, CentOS 7.5 legacy grub.cfg, 2x P100
const PCIE = 'p9-r1-03' // pcie: POWER9, one GPU per IOMMU group

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-tools-'))
  const spec = path.join(dir, 'spec.yaml')
  // vm1 runs (autostart), as on a host whose guests are in use
  fs.writeFileSync(spec, 'hosts: 3\nrules:\n  - match: "*"\n    guests: { vm1: { running: true, autostart: true } }\n  - match: p9-r1-02\n    profile: s822lc\n  - match: p9-r1-03\n    profile: pcie\n')
  rack = await startRack({ dir: path.join(dir, 'rack'), spec, rebootTimeMs: 200 })
})
afterAll(async () => {
  await rack?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

const run = async (host: string, cmd: string, user?: string) => {
  const r = await ssh(rack, host, cmd, user ? { user } : {})
  return r
}

describe("the issue's smoke command over plain OpenSSH", () => {
  it('prints realistic output', async () => {
    const r = await run(AC, 'ppc64_cpu --smt; lspci -nn | grep -i nvidia; lsmod | head -3; cat /proc/cmdline; virsh list --all')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        'SMT=4',
        '0004:04:00.0 3D controller [0302]: NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB] [10de:1db1] (rev a1)',
        '0004:05:00.0 3D controller [0302]: NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB] [10de:1db1] (rev a1)',
        '0035:03:00.0 3D controller [0302]: NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB] [10de:1db1] (rev a1)',
        '0035:04:00.0 3D controller [0302]: NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB] [10de:1db1] (rev a1)',
        'Module                  Size  Used by',
        'nouveau              2686976  0',
        'i2c_algo_bit           65536  1 nouveau',
        'root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap',
        ' Id   Name   State',
        '-----------------------',
        ' 1    vm1    running',
        ' -    vm2    shut off',
        '',
        '',
      ].join('\n'),
    )
  })

  it("runs a real shell in the host's own tree", async () => {
    const r = await run(LC, 'hostname; cat /etc/centos-release; uname -r; uname -m; test -d /etc/modprobe.d && echo modprobe.d; sha256sum /etc/hostname | cut -c1-8; echo $PATH')
    expect(r.stdout.split('\n').slice(0, 5)).toEqual(['p9-r1-02', 'CentOS Linux release 7.5.1804 (AltArch)', '4.14.0-49.10.1.el7a.ppc64le', 'ppc64le', 'modprobe.d'])
    // writes stay inside the host
    await run(LC, 'echo hello > /etc/only-on-lc')
    expect((await run(AC, 'cat /etc/only-on-lc')).code).not.toBe(0)
    expect(fs.existsSync('/etc/only-on-lc')).toBe(false)
  })

  it('pipes stdin to the command and returns its exit code', async () => {
    const r = await ssh(rack, AC, 'sha256sum; exit 7', { input: 'abc' })
    expect(r.code).toBe(7)
    expect(r.stdout).toContain('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('gives admin sudo (NOPASSWD by default) and no root powers without it', async () => {
    const r = await run(AC, 'id -un; touch /etc/x 2>&1; sudo -n id -u', 'admin')
    expect(r.stdout).toBe("admin\ntouch: cannot touch '/etc/x': Permission denied\n0\n")
  })
})

describe('ppc64_cpu', () => {
  it('queries, sets (silently) and rejects bad values like powerpc-utils', async () => {
    const r = await run(PCIE, 'ppc64_cpu --smt; ppc64_cpu --smt=off; echo "rc=$?"; ppc64_cpu --smt; ppc64_cpu -n --smt; ppc64_cpu --smt=2; ppc64_cpu --smt; ppc64_cpu --smt=9; echo "rc=$?"; ppc64_cpu --smt=on; ppc64_cpu --smt; ppc64_cpu --threads-per-core; grep -c ^processor /proc/cpuinfo')
    expect(r.stdout).toBe('SMT=4\nrc=0\nSMT is off\nSMT=1\nSMT=2\nSMT=9 is not valid\nrc=255\nSMT=4\nThreads per core: 4\n80\n')
  })

  it('prints one line per thread count when cores differ', async () => {
    const r = await run(PCIE, 'for c in 1 2 3 5 6 7; do echo 0 > /sys/devices/system/cpu/cpu$c/online; done; ppc64_cpu --smt; ppc64_cpu --smt=on')
    expect(r.stdout).toBe('SMT=1: 0-1\nSMT=4: 2-19\n')
  })

  it('reports POWER8 as SMT=8', async () => {
    expect((await run(LC, 'ppc64_cpu --smt; grep -m1 ^cpu /proc/cpuinfo; grep ^platform /proc/cpuinfo')).stdout).toBe('SMT=8\ncpu\t\t: POWER8NVL (raw), altivec supported\nplatform\t: PowerNV\n')
  })
})

describe('lspci', () => {
  it('prints -nn, plain, -n, -d, -s and -k like pciutils', async () => {
    const r = await run(AC, 'lspci -nn -s 0006:00:00.0; lspci -s 0004:04:00.0; lspci -n -s 0004:04:00.0; lspci -D -d 10de: | wc -l; lspci -d 1014:04ea | wc -l; lspci -nnk -s 0035:04:00.0; lspci -k -s 0003:01:00.0')
    expect(r.stdout).toBe(
      [
        '0006:00:00.0 Bridge [0680]: IBM Device [1014:04ea] (rev 01)',
        '0004:04:00.0 3D controller: NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB] (rev a1)',
        '0004:04:00.0 0302: 10de:1db1 (rev a1)',
        '4',
        '12',
        '0035:04:00.0 3D controller [0302]: NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB] [10de:1db1] (rev a1)',
        '\tSubsystem: NVIDIA Corporation Device [10de:1212]',
        '\tKernel driver in use: nouveau',
        '\tKernel modules: nouveau',
        '0003:01:00.0 Ethernet controller: Broadcom Inc. and subsidiaries NetXtreme BCM5719 Gigabit Ethernet PCIe (rev 01)',
        '\tSubsystem: Broadcom Inc. and subsidiaries Device 1981',
        '\tKernel driver in use: tg3',
        '\tKernel modules: tg3',
        '',
      ].join('\n'),
    )
  })

  it("matches the guide's P100 lines", async () => {
    expect((await run(LC, 'lspci -nn | grep -i nvidia')).stdout).toBe('0002:01:00.0 3D controller [0302]: NVIDIA Corporation GP100GL [Tesla P100 SXM2 16GB] [10de:15f9] (rev a1)\n000a:01:00.0 3D controller [0302]: NVIDIA Corporation GP100GL [Tesla P100 SXM2 16GB] [10de:15f9] (rev a1)\n')
  })

  it('exposes IOMMU groups and drivers in sysfs (compound groups on the AC922)', async () => {
    const r = await run(AC, 'ls /sys/kernel/iommu_groups/5/devices | tr "\\n" " "; echo; readlink /sys/bus/pci/devices/0035:03:00.0/iommu_group; basename $(readlink /sys/bus/pci/devices/0004:04:00.0/driver); cat /sys/bus/pci/devices/0004:04:00.0/vendor')
    expect(r.stdout).toBe('0004:04:00.0 0004:05:00.0 0006:00:00.0 0006:00:00.1 0006:00:00.2 0006:00:01.0 0006:00:01.1 0006:00:01.2 \n../../../kernel/iommu_groups/10\nnouveau\n0x10de\n')
  })
})

describe('lsmod / modprobe / rmmod', () => {
  it('formats like kmod and follows modprobe.d rules', async () => {
    const r = await run(
      PCIE,
      [
        'lsmod | grep -E "^(vfio|nouveau) "',
        'modprobe vfio-pci disable_idle_d3=1; echo rc=$?',
        'cat /sys/module/vfio_pci/parameters/disable_idle_d3',
        'lsmod | grep -E "^vfio "',
        'rmmod vfio; echo rc=$?',
        'modprobe -r vfio_pci; lsmod | grep -c vfio',
        'modprobe -r nouveau; echo rc=$?',
        'lspci -k -s 0003:01:00.0 | grep -c "in use"',
        'echo "blacklist nouveau" > /etc/modprobe.d/bl.conf; modprobe nouveau; echo rc=$?',
        'lspci -k -s 0003:01:00.0 | grep "in use"',
        'modprobe -r nouveau; echo "install nouveau /bin/false" >> /etc/modprobe.d/bl.conf; modprobe nouveau; echo rc=$?',
        'modprobe nosuchmod; echo rc=$?',
        'rm /etc/modprobe.d/bl.conf; modprobe nouveau',
      ].join('; '),
    )
    expect(r.stdout).toBe(['nouveau              2686976  0', 'rc=0', 'Y', 'vfio                  131072  2 vfio_iommu_spapr_tce,vfio_pci', 'rc=1', '0', 'rc=0', '0', 'rc=0', '\tKernel driver in use: nouveau', 'rc=1', 'rc=1', ''].join('\n'))
    expect(r.stderr).toContain('rmmod: ERROR: Module vfio is in use by: vfio_iommu_spapr_tce vfio_pci')
    expect(r.stderr).toContain("modprobe: ERROR: Error running install command '/bin/false' for module nouveau: retcode 1")
    expect(r.stderr).toContain('modprobe: FATAL: Module nosuchmod not found in directory /lib/modules/4.18.0-305.el8.ppc64le')
  })
})

describe('dracut / lsinitrd', () => {
  it('targets the running kernel, refuses to overwrite without -f, prints the success line', async () => {
    const r = await run(AC, 'dracut; echo rc=$?; dracut -f -v --omit-drivers nouveau 2>&1 | tail -1; lsinitrd | grep -c nouveau.ko; lsinitrd | grep -c nouveau; lsinitrd -k 4.18.0-240.el8.ppc64le | grep -c nouveau.ko; lsinitrd | sed -n 1p; lsinitrd | grep Arguments')
    expect(r.stderr).toBe('Will not override existing initramfs (/boot/initramfs-4.18.0-305.el8.ppc64le.img) without --force\n')
    expect(r.stdout).toBe(
      [
        'rc=1',
        "*** Creating initramfs image file '/boot/initramfs-4.18.0-305.el8.ppc64le.img' done ***",
        '0',
        '1', // the Arguments line still names nouveau, as with the real lsinitrd
        '1',
        'Image: /boot/initramfs-4.18.0-305.el8.ppc64le.img: 19M',
        "Arguments:  -f -v --omit-drivers 'nouveau'", // dracut stores each option with a leading space
        '',
      ].join('\n'),
    )
  })

  it('takes an explicit image and kernel version and embeds /etc/modprobe.d', async () => {
    const r = await run(
      AC,
      'echo "blacklist nouveau" > /etc/modprobe.d/blacklist-nouveau.conf; dracut -f /boot/initramfs-4.18.0-240.el8.ppc64le.img 4.18.0-240.el8.ppc64le; lsinitrd /boot/initramfs-4.18.0-240.el8.ppc64le.img | grep modprobe.d/; lsinitrd -f /etc/modprobe.d/blacklist-nouveau.conf /boot/initramfs-4.18.0-240.el8.ppc64le.img; dracut -f /tmp/x.img 9.9.9; echo rc=$?; rm /etc/modprobe.d/blacklist-nouveau.conf',
    )
    expect(r.stdout).toMatch(/^-rw-r--r-- +1 root +root +18 \w+ +\d+ \d\d:\d\d etc\/modprobe.d\/blacklist-nouveau.conf\nblacklist nouveau\nrc=1\n$/)
    expect(r.stderr).toContain('Cannot find module directory /lib/modules/9.9.9/')
  })
})

describe('grubby / grub2-*', () => {
  it('EL8 BLS: --info quotes values and shows id; --update-kernel=ALL edits kernelopts', async () => {
    const r = await run(PCIE, 'grubby --info=DEFAULT; grubby --default-kernel; grubby --update-kernel=ALL --args="vfio-pci.disable_idle_d3=1"; grubby --info=0 | grep ^args; grub2-editenv - list | grep kernelopts; cat /proc/cmdline')
    const id = /id="([0-9a-f]{32})-4\.18\.0-305/.exec(r.stdout)?.[1]
    expect(r.stdout).toBe(
      [
        'index=0',
        'kernel="/boot/vmlinuz-4.18.0-305.el8.ppc64le"',
        'args="ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap $tuned_params"',
        'root="/dev/mapper/rhel-root"',
        'initrd="/boot/initramfs-4.18.0-305.el8.ppc64le.img $tuned_initrd"',
        'title="Red Hat Enterprise Linux (4.18.0-305.el8.ppc64le) 8.4 (Ootpa)"',
        `id="${id}-4.18.0-305.el8.ppc64le"`,
        '/boot/vmlinuz-4.18.0-305.el8.ppc64le',
        'args="ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap vfio-pci.disable_idle_d3=1 $tuned_params"',
        'kernelopts=root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap vfio-pci.disable_idle_d3=1 ',
        'root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap',
        '',
      ].join('\n'),
    )
    // grub2-mkconfig rebuilds kernelopts from /etc/default/grub: the grubby-only arg is gone
    const m = await run(PCIE, 'grub2-mkconfig -o /boot/grub2/grub.cfg; grub2-editenv - list | grep kernelopts; grubby --remove-args=rhgb --update-kernel=ALL')
    expect(m.stdout).toBe('kernelopts=root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap \n')
    expect(m.stderr).toBe('Generating grub configuration file ...\ndone\n')
  })

  it("EL7 legacy: --info bare values, the guide's menuentry, grub2-mkconfig drops grubby-only args", async () => {
    const r = await run(LC, 'grubby --info=/boot/vmlinuz-4.14.0-49.10.1.el7a.ppc64le; grep -c "^menuentry" /boot/grub2/grub.cfg; grep -m1 "hint-ieee1275" /boot/grub2/grub.cfg | grep -c pciex@3fffe40500000')
    expect(r.stdout).toBe(
      [
        'index=0',
        'kernel=/boot/vmlinuz-4.14.0-49.10.1.el7a.ppc64le',
        'args="ro crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet LANG=en_US.UTF-8"',
        'root=/dev/mapper/centos-root',
        'initrd=/boot/initramfs-4.14.0-49.10.1.el7a.ppc64le.img',
        'title=CentOS Linux (4.14.0-49.10.1.el7a.ppc64le) 7 (AltArch)',
        '2',
        '1',
        '',
      ].join('\n'),
    )
    const u = await run(
      LC,
      'cp /boot/grub2/grub.cfg /root/grub.cfg.orig; grubby --update-kernel=ALL --args=vfio-pci.disable_idle_d3=1; grep -c "disable_idle_d3" /boot/grub2/grub.cfg; grub2-mkconfig -o /boot/grub2/grub.cfg 2>/dev/null; grep -c "disable_idle_d3" /boot/grub2/grub.cfg; grep -c LANG= /boot/grub2/grub.cfg; sed -i "s/LANG=en_US.UTF-8/LANG=en_US.UTF-8 vfio-pci.disable_idle_d3=1/" /root/grub.cfg.orig; cp /root/grub.cfg.orig /boot/grub2/grub.cfg',
    )
    expect(u.stdout).toBe('2\n0\n0\n')
  })

  it('grub2-set-default / grub2-reboot / grub2-editenv edit grubenv', async () => {
    const r = await run(LC, 'grub2-reboot 1; grub2-editenv - list; grub2-editenv - unset next_entry; grub2-set-default "CentOS Linux (4.14.0-49.el7a.ppc64le) 7 (AltArch)"; grubby --default-index; grub2-set-default 0; grubby --default-kernel; wc -c < /boot/grub2/grubenv')
    expect(r.stdout).toBe('saved_entry=CentOS Linux (4.14.0-49.10.1.el7a.ppc64le) 7 (AltArch)\nnext_entry=1\n1\n/boot/vmlinuz-4.14.0-49.10.1.el7a.ppc64le\n1024\n')
  })
})

describe('systemctl', () => {
  it('enables and disables units with the real symlinks and messages', async () => {
    const unit = '[Unit]\nDescription=SMT off\n\n[Service]\nType=oneshot\nExecStart=/usr/sbin/ppc64_cpu --smt=off\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n'
    const r = await ssh(
      rack,
      LC,
      'cat > /etc/systemd/system/smt-off.service; systemctl daemon-reload; systemctl is-enabled smt-off; systemctl enable smt-off.service; readlink /etc/systemd/system/multi-user.target.wants/smt-off.service; systemctl is-enabled smt-off; systemctl start smt-off; ppc64_cpu --smt; systemctl is-active smt-off; systemctl disable smt-off; systemctl is-enabled smt-off; systemctl stop smt-off; ppc64_cpu --smt=on; systemctl is-enabled nope',
      { input: unit },
    )
    expect(r.stdout).toBe('disabled\n/etc/systemd/system/smt-off.service\nenabled\nSMT is off\nactive\ndisabled\n')
    expect(r.stderr).toBe('Created symlink /etc/systemd/system/multi-user.target.wants/smt-off.service → /etc/systemd/system/smt-off.service.\nRemoved /etc/systemd/system/multi-user.target.wants/smt-off.service.\nFailed to get unit file state for nope.service: No such file or directory\n')
  })
})

describe('virsh', () => {
  const hostdev = (addr: string, slot?: string) => {
    const [d, b, sf] = addr.split(':') as [string, string, string]
    const [s, f] = sf.split('.') as [string, string]
    return `<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x${d}' bus='0x${b}' slot='0x${s}' function='0x${f}'/>\n  </source>\n${slot ? `  <address type='pci' domain='0x0000' bus='0x00' slot='${slot}' function='0x0'/>\n` : ''}</hostdev>\n`
  }

  it('attaches with --config, refuses a used guest slot and a duplicate, reports libvirt texts', async () => {
    await ssh(rack, LC, 'cat > /root/gpu1.xml', { input: hostdev('0002:01:00.0', '0x06') })
    await ssh(rack, LC, 'cat > /root/gpu2.xml', { input: hostdev('000a:01:00.0') })
    const r = await run(
      LC,
      'virsh attach-device vm2 /root/gpu1.xml --config; echo rc=$?; virsh attach-device vm1 /root/gpu1.xml --config; virsh attach-device vm1 /root/gpu1.xml --config; virsh attach-device vm1 /root/gpu2.xml --config; virsh dumpxml --inactive vm1 | grep -c "<hostdev"; virsh dumpxml vm1 | grep -c "<hostdev"; virsh domstate vm1',
    )
    expect(r.stdout).toBe('rc=1\nDevice attached successfully\n\nDevice attached successfully\n\n2\n0\nrunning\n\n')
    expect(r.stderr).toBe('error: Failed to attach device from /root/gpu1.xml\nerror: XML error: Attempted double use of PCI Address 0000:00:06.0\nerror: Failed to attach device from /root/gpu1.xml\nerror: Requested operation is not valid: device is already in the domain configuration\n')
    const s = await run(LC, 'virsh destroy vm1; virsh start vm1; lspci -k -s 0002:01:00.0 | grep "in use"; virsh dumpxml vm1 | grep -o "slot=.0x0[67]." | sort | tr "\\n" " "')
    expect(s.stdout).toBe("Domain vm1 destroyed\n\nDomain vm1 started\n\n\tKernel driver in use: vfio-pci\nslot='0x06' slot='0x07' ")
    const n = await run(LC, 'virsh nodedev-list --cap pci | grep -c pci_; virsh nodedev-detach pci_000a_01_00_0; virsh destroy vm1 >/dev/null; virsh nodedev-reattach pci_0002_01_00_0; lspci -k -s 0002:01:00.0 | grep "in use"')
    expect(n.stdout).toBe('14\nerror\n'.replace('error\n', '') + 'Device pci_0002_01_00_0 re-attached\n\n\tKernel driver in use: nouveau\n')
    expect(n.stderr).toContain('error: Failed to detach device pci_000a_01_00_0\nerror: Requested operation is not valid: PCI device 000a:01:00.0 is in use by driver QEMU, domain vm1')
  })

  it('refuses to start a guest whose compound IOMMU group is not viable', async () => {
    await ssh(rack, AC, 'cat > /root/gpu.xml', { input: hostdev('0004:04:00.0') })
    const r = await run(AC, 'virsh attach-device vm2 /root/gpu.xml --config >/dev/null; virsh start vm2; echo rc=$?')
    expect(r.stdout).toBe('rc=1\n')
    expect(r.stderr).toMatch(/^error: Failed to start domain vm2\nerror: internal error: qemu unexpectedly closed the monitor: .* vfio 0004:04:00.0: group 5 is not viable\nPlease ensure all devices within the iommu_group are bound to their vfio bus driver.\n$/)
  })
})

describe('sftp and interactive shells', () => {
  it('serves sftp with the real sftp-server inside the host', async () => {
    const h = rack.hosts.find((x) => x.name === AC)!
    const local = path.join(dir, 'up.txt')
    fs.writeFileSync(local, 'via sftp\n')
    const r = await runLocal('sftp', ['-b', '-', '-i', rack.clientKeyFile, '-o', `UserKnownHostsFile=${rack.knownHostsFile}`, '-o', 'BatchMode=yes', '-P', String(h.port), `root@${h.address}`], `put ${local} /root/up.txt\nget /etc/redhat-release ${path.join(dir, 'rel.txt')}\n`)
    expect(r.code).toBe(0)
    expect(fs.readFileSync(path.join(dir, 'rel.txt'), 'utf8')).toBe('Red Hat Enterprise Linux release 8.4 (Ootpa)\n')
    expect((await run(AC, 'cat /root/up.txt')).stdout).toBe('via sftp\n')
  })

  it('runs a login shell that reads commands from stdin', async () => {
    const h = rack.hosts.find((x) => x.name === AC)!
    const r = await runLocal('ssh', ['-T', '-i', rack.clientKeyFile, '-o', `UserKnownHostsFile=${rack.knownHostsFile}`, '-o', 'BatchMode=yes', '-p', String(h.port), `root@${h.address}`], 'uname -r\nexit 3\n')
    expect(r.code).toBe(3)
    expect(r.stdout).toContain('4.18.0-305.el8.ppc64le\n')
  })
})
