// Builds the read-only layers every simulated host's root is an overlay of:
//   layers/usr        emulated tools + /usr/lib/modules/<kver> + unit files, overlaid on the real /usr
//   layers/<profile>  the stock install of one profile: /etc (from the real /etc, trimmed and
//                     re-branded), /boot, /sys, /var/lib/libvirt, hardware state under /var/lib/sim-hw
// and seeds a host's own upper directory with what differs per host (hostname, machine-id, BLS ids).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BLS_BODY, GRUB_HEADER, LEGACY_CLOSE, LEGACY_OPEN, MENUENTRY_TEMPLATE, renderBlsEntry, renderGrubCfg, renderGrubenv, stockArgs, BOOT_UUID, ROOT_UUID } from './boot-config.js'
import { renderDomainXml } from './domain-xml.js'
import { loadOrder, writeCpuState, writeModulesAndDrivers } from './boot.js'
import { renderInitramfs } from './initramfs.js'
import { initramfsModules, moduleCatalog } from './module-catalog.js'
import { profiles, type Profile } from './profiles.js'
import { grubDir, initrdFile, kernelFile, type OsFamily } from './os-layout.js'
import { buildEtc } from './layer-etc.js'
import { ADMIN_UID, symlink, write } from './layer-files.js'
import { UBUNTU_ENTRY_TEMPLATE, UBUNTU_FOOTER, UBUNTU_HEADER } from './ubuntu-grub-cfg.js'
import { renderKernelConfig } from './kernel-config.js'

export { ADMIN_UID } from './layer-files.js'

// <package root>/sim-tools, found from this file (src/sim or dist/sim).
export function simToolsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return path.resolve(here, '..', '..', 'sim-tools')
}

// The shared /usr layer: sim-tools/usr copied (not linked: the host cannot see outside its root),
// plus a module tree per simulated kernel.
export function buildUsrLayer(layerDir: string): void {
  fs.rmSync(layerDir, { recursive: true, force: true })
  fs.mkdirSync(layerDir, { recursive: true })
  execFileSync('cp', ['-a', path.join(simToolsDir(), 'usr') + '/.', layerDir])
  // Installed kernels and the ones a kernel update (`sim kernel-install`) brings.
  const kvers = new Set(Object.values(profiles).flatMap((p) => [...p.kernels, ...p.updateKernels].map((k) => k.kver)))
  for (const kver of kvers) {
    const base = path.join(layerDir, 'lib', 'modules', kver)
    const dep: string[] = []
    const sim: string[] = []
    for (const [name, info] of Object.entries(moduleCatalog)) {
      write(path.join(base, info.path), '')
      dep.push(`${info.path}: ${info.deps.map((d) => moduleCatalog[d]!.path).join(' ')}`.trimEnd())
      const params = Object.entries(info.params ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
      sim.push([name, info.size, info.deps.join(',') || '-', params || '-'].join('\t'))
    }
    write(path.join(base, 'modules.dep'), dep.join('\n') + '\n')
    // name size deps params: what the emulated modprobe/lsmod need beyond modules.dep
    write(path.join(base, 'modules.sim'), sim.join('\n') + '\n')
  }
  write(path.join(layerDir, 'lib/gpufleet-sim/initramfs-modules'), initramfsModules.join(' ') + '\n')
  // grub2-mkconfig's pieces, so the emulated one writes byte-identical files
  write(path.join(layerDir, 'lib/gpufleet-sim/grub-header.cfg'), GRUB_HEADER)
  write(path.join(layerDir, 'lib/gpufleet-sim/grub-bls-body.cfg'), BLS_BODY)
  write(path.join(layerDir, 'lib/gpufleet-sim/grub-legacy-open.cfg'), LEGACY_OPEN)
  write(path.join(layerDir, 'lib/gpufleet-sim/grub-legacy-close.cfg'), LEGACY_CLOSE)
  write(path.join(layerDir, 'lib/gpufleet-sim/menuentry.tmpl'), MENUENTRY_TEMPLATE)
  write(path.join(layerDir, 'lib/gpufleet-sim/ubuntu-header.cfg'), UBUNTU_HEADER)
  write(path.join(layerDir, 'lib/gpufleet-sim/ubuntu-entry.tmpl'), UBUNTU_ENTRY_TEMPLATE)
  write(path.join(layerDir, 'lib/gpufleet-sim/ubuntu-footer.cfg'), UBUNTU_FOOTER)
  const units: Record<string, string> = {
    'libvirtd.service': '[Unit]\nDescription=Virtualization daemon\n\n[Service]\nType=notify\nExecStart=/usr/sbin/libvirtd $LIBVIRTD_ARGS\n\n[Install]\nWantedBy=multi-user.target\n',
    'sshd.service': '[Unit]\nDescription=OpenSSH server daemon\n\n[Service]\nType=notify\nExecStart=/usr/sbin/sshd -D $OPTIONS\n\n[Install]\nWantedBy=multi-user.target\n',
    'kdump.service': '[Unit]\nDescription=Crash recovery kernel arming\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/kdumpctl start\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n',
  }
  for (const [name, text] of Object.entries(units)) write(path.join(layerDir, 'lib', 'systemd', 'system', name), text)
}

// The tools only one OS family has (sim-tools/os/<family>/usr): EL's dracut, lsinitrd, grubby and
// grub2-*; Ubuntu's initramfs-tools and grub-* (so `command -v dracut` fails on Ubuntu, as it does).
export function buildOsUsrLayer(layerDir: string, family: OsFamily): void {
  fs.rmSync(layerDir, { recursive: true, force: true })
  fs.mkdirSync(layerDir, { recursive: true })
  execFileSync('cp', ['-a', path.join(simToolsDir(), 'os', family, 'usr') + '/.', layerDir])
  // The real /usr underneath may have the other family's tools (this machine's Debian dracut,
  // grub-*): an overlay whiteout (a 0/0 character device) in this layer hides each one.
  const own = new Set(['bin', 'sbin'].flatMap((d) => (fs.existsSync(path.join(layerDir, d)) ? fs.readdirSync(path.join(layerDir, d)) : [])))
  for (const name of BOOT_TOOLS) {
    if (own.has(name)) continue
    for (const d of ['bin', 'sbin']) {
      fs.mkdirSync(path.join(layerDir, d), { recursive: true })
      execFileSync('mknod', [path.join(layerDir, d, name), 'c', '0', '0'])
    }
  }
}

// Boot and initramfs tools of either family (and of the machine the simulator runs on).
const BOOT_TOOLS = [
  'dracut',
  'lsinitrd',
  'grubby',
  'grub2-editenv',
  'grub2-mkconfig',
  'grub2-reboot',
  'grub2-set-default',
  'update-grub',
  'update-grub2',
  'grub-mkconfig',
  'grub-editenv',
  'grub-reboot',
  'grub-set-default',
  'update-initramfs',
  'lsinitramfs',
  'mkinitramfs',
  'unmkinitramfs',
  'kernel-install',
  'new-kernel-pkg',
]

const pciDir = (addr: string) => `devices/pci${addr.slice(0, 4)}:00/${addr}`

// The stock install of one profile.
export function buildProfileLayer(layerDir: string, p: Profile): void {
  fs.rmSync(layerDir, { recursive: true, force: true })
  fs.mkdirSync(layerDir, { recursive: true })
  buildSkeleton(layerDir)
  buildEtc(layerDir, p)
  buildBoot(layerDir, p)
  buildSys(layerDir, p)
  buildProc(layerDir)
  // the state a first boot starts from: all threads online, base modules loaded, non-GPU drivers bound
  writeCpuState(layerDir, p, p.threadsPerCore, false)
  writeModulesAndDrivers(layerDir, p, loadOrder(p.baseModules), [], {}, false)
  writeHardwareDescription(layerDir, p)
  buildLibvirt(layerDir, p)
}

// The directories and links every root has; the homes of root and admin.
function buildSkeleton(layerDir: string): void {
  const at = (rel: string) => path.join(layerDir, rel)
  for (const l of ['bin', 'sbin', 'lib', 'lib64']) symlink(`usr/${l}`, at(l))
  for (const d of ['usr', 'dev', 'proc', 'run', 'mnt', 'opt', 'srv', 'media', 'var/log', 'var/cache', 'var/lib/libvirt/images', 'var/lib/libvirt/qemu', 'var/lib/sim-hw/kproc', 'var/lib/sim-hw/ctl', 'run/libvirt/qemu']) fs.mkdirSync(at(d), { recursive: true })
  for (const d of ['tmp', 'var/tmp']) {
    fs.mkdirSync(at(d), { recursive: true })
    fs.chmodSync(at(d), 0o1777)
  }
  fs.mkdirSync(at('root'), { recursive: true })
  fs.chmodSync(at('root'), 0o550)
  fs.mkdirSync(at('home/admin/.ssh'), { recursive: true })
  execFileSync('chown', ['-R', `${ADMIN_UID}:${ADMIN_UID}`, at('home/admin')])
}

// /boot: kernels, System.map, config, stock initramfs images, grub.cfg and grubenv.
function buildBoot(layerDir: string, p: Profile): void {
  const at = (rel: string) => path.join(layerDir, rel)
  for (const k of p.kernels) {
    write(at(kernelFile(p, k.kver)), `SIMKERNEL ${k.kver}\n`, 0o755)
    write(at(`boot/System.map-${k.kver}`), `c000000000000000 T _stext\n`)
    write(at(`boot/config-${k.kver}`), renderKernelConfig(k.kver))
    write(at(initrdFile(p, k.kver)), renderInitramfs({ kver: k.kver, args: ` --kver '${k.kver}'`, modules: initramfsModules, files: {} }), 0o600)
  }
  write(
    at(`${grubDir(p)}/grub.cfg`),
    renderGrubCfg(
      p,
      p.kernels.map((k) => ({ title: k.title, kver: k.kver, args: stockArgs(p) })),
    ),
    p.os === 'ubuntu' ? 0o444 : 0o600,
  )
  // Ubuntu: grub-editenv create (at install) and recordfail's save_env at every boot.
  if (p.os === 'ubuntu') write(at('boot/grub/grubenv'), renderGrubenv({ recordfail: '1' }), 0o644)
  else if (!p.bls) write(at('boot/grub2/grubenv'), renderGrubenv({ saved_entry: p.kernels[0]!.title }), 0o600)
  if (p.bls) fs.mkdirSync(at('boot/loader/entries'), { recursive: true })
}

// /sys: PCI devices, IOMMU groups, drivers, CPUs (drivers/modules are bound by the boot rules).
function buildSys(layerDir: string, p: Profile): void {
  const at = (rel: string) => path.join(layerDir, rel)
  for (const d of p.devices) {
    const dir = pciDir(d.address)
    write(at(`sys/${dir}/vendor`), `0x${d.vendorId}\n`)
    write(at(`sys/${dir}/device`), `0x${d.deviceId}\n`)
    write(at(`sys/${dir}/class`), `0x${d.classCode}${d.progIf}\n`)
    write(at(`sys/${dir}/subsystem_vendor`), `0x${d.subsystemVendorId}\n`)
    write(at(`sys/${dir}/subsystem_device`), `0x${d.subsystemId}\n`)
    write(at(`sys/${dir}/revision`), `0x${d.rev ?? '00'}\n`)
    write(at(`sys/${dir}/driver_override`), '(null)\n')
    symlink(`../../../kernel/iommu_groups/${d.iommuGroup}`, at(`sys/${dir}/iommu_group`))
    symlink(`../../../${dir}`, at(`sys/bus/pci/devices/${d.address}`))
    symlink(`../../../../${dir}`, at(`sys/kernel/iommu_groups/${d.iommuGroup}/devices/${d.address}`))
    write(at(`sys/kernel/iommu_groups/${d.iommuGroup}/type`), 'DMA\n')
  }
  for (const drv of ['nouveau', 'vfio-pci', 'pcieport', 'ahci', 'tg3', 'xhci_hcd']) fs.mkdirSync(at(`sys/bus/pci/drivers/${drv}`), { recursive: true })
  fs.mkdirSync(at('sys/module'), { recursive: true })
  const threads = p.cores * p.threadsPerCore
  for (let c = 0; c < threads; c++) write(at(`sys/devices/system/cpu/cpu${c}/online`), '1\n')
  write(at('sys/devices/system/cpu/present'), `0-${threads - 1}\n`)
  write(at('sys/devices/system/cpu/possible'), `0-${threads - 1}\n`)
}

// The hardware description the emulated tools read (/var/lib/sim-hw).
function writeHardwareDescription(layerDir: string, p: Profile): void {
  const at = (rel: string) => path.join(layerDir, rel)
  write(
    at('var/lib/sim-hw/profile.env'),
    [
      `PROFILE=${p.name}`,
      `CPU_GEN=${p.cpu}`,
      `CPU_LINE='${p.cpuLine}'`,
      `CPU_CLOCK=${p.clock}`,
      `CPU_REVISION='${p.revision}'`,
      `PLATFORM=${p.platform}`,
      `MODEL=${p.model}`,
      `MACHINE='${p.machine}'`,
      `MMU=${p.cpu === 'POWER9' ? 'Radix' : 'Hash'}`,
      `TIMEBASE=${p.timebase}`,
      `CORES=${p.cores}`,
      `THREADS_PER_CORE=${p.threadsPerCore}`,
      `OS=${p.os}`,
      `BLS=${p.bls ? 1 : 0}`,
      `ROOT_DEV=${p.root}`,
      `ROOT_UUID=${ROOT_UUID}`,
      `BOOT_UUID=${BOOT_UUID}`,
      `BOOT_IMAGE_PREFIX=${p.bootImagePrefix ? 1 : 0}`,
      '',
    ].join('\n'),
  )
  // address class progif className vendorId vendorName deviceId deviceName rev ssv ssd modules
  write(
    at('var/lib/sim-hw/pci.tsv'),
    p.devices
      .slice()
      .sort((a, b) => a.address.localeCompare(b.address))
      .map((d) => [d.address, d.classCode, d.progIf, d.className, d.vendorId, d.vendorName, d.deviceId, d.deviceName, d.rev ?? '', d.subsystemVendorId, d.subsystemId, d.modules ?? ''].join('\t'))
      .join('\n') + '\n',
  )
}

// libvirt: the domains of the profile, defined (autostart links where set).
function buildLibvirt(layerDir: string, p: Profile): void {
  const at = (rel: string) => path.join(layerDir, rel)
  p.domains.forEach((d, i) => {
    write(at(`etc/libvirt/qemu/${d.name}.xml`), renderDomainXml(p, d, i + 1), 0o600)
    if (d.autostart) symlink(`/etc/libvirt/qemu/${d.name}.xml`, at(`etc/libvirt/qemu/autostart/${d.name}.xml`))
  })
  write(at('var/lib/libvirt/images/.keep'), '')
}

// What a host's upper directory starts with: identity files and its BLS entries / grubenv.
export interface HostSeed {
  name: string
  address: string
  machineId: string
  profile: Profile
  sudoNoPassword: boolean
  adminPasswordHash?: string
  profileLayer: string // layers/<profile>, for files copied then changed
}

// Writes a host's own files into its (not yet mounted) upper directory.
export function seedHostUpper(upper: string, seed: HostSeed): void {
  const at = (rel: string) => path.join(upper, rel)
  const p = seed.profile
  write(at('etc/hostname'), `${seed.name}\n`)
  write(at('etc/machine-id'), `${seed.machineId}\n`, 0o444)
  write(at('etc/hosts'), `127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n${seed.address} ${seed.name}\n`)
  write(at('etc/sudoers.d/90-admin'), `admin ALL=(ALL) ${seed.sudoNoPassword ? 'NOPASSWD: ' : ''}ALL\n`, 0o440)
  if (seed.adminPasswordHash) {
    // the profile layer's shadow, with admin's password set
    const lines = fs
      .readFileSync(path.join(seed.profileLayer, 'etc/shadow'), 'utf8')
      .split('\n')
      .map((l) => (l.startsWith('admin:') ? `admin:${seed.adminPasswordHash}:20228:0:99999:7:::` : l))
    write(at('etc/shadow'), lines.join('\n'), 0o640)
  }
  if (p.bls) {
    const el9 = p.os === 'el9'
    for (const k of p.kernels) write(at(`boot/loader/entries/${seed.machineId}-${k.kver}.conf`), el9 ? renderBlsEntry(k.title, k.kver, stockArgs(p)) : renderBlsEntry(k.title, k.kver).replace(/^id .*$/m, `id ${seed.machineId}-${k.kver}`), 0o644)
    // EL9 has no kernelopts: each entry carries its options.
    const env: Record<string, string> = { saved_entry: `${seed.machineId}-${p.kernels[0]!.kver}`, ...(el9 ? {} : { kernelopts: `${stockArgs(p)} ` }), boot_success: '0' }
    write(at('boot/grub2/grubenv'), renderGrubenv(env), 0o600)
  }
}

// Files the simulated kernel owns; everything else in /proc is the real procfs.
const SYNTHETIC_PROC = new Set(['cmdline', 'cpuinfo', 'modules', 'version', 'sys', 'config.gz', 'kallsyms', 'kmsg', 'kcore', 'sysrq-trigger'])
const KPROC = '/var/lib/sim-hw/kproc'

// The host's /proc: a plain directory whose kernel-owned files (cmdline, cpuinfo, modules, boot_id,
// osrelease, version) the boot rules write, with symlinks into a real procfs mounted at
// /var/lib/sim-hw/kproc for the rest (self, mounts, meminfo, ...). A real procfs cannot be used
// directly: a kernel built without modules has no /proc/modules to bind over. See README.md.
function buildProc(layerDir: string): void {
  const proc = path.join(layerDir, 'proc')
  for (const f of ['cmdline', 'cpuinfo', 'modules', 'version']) write(path.join(proc, f), '', 0o444)
  write(path.join(proc, 'sys/kernel/random/boot_id'), '', 0o444)
  write(path.join(proc, 'sys/kernel/osrelease'), '', 0o444)
  for (const e of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(e) || SYNTHETIC_PROC.has(e)) continue
    symlink(`${KPROC}/${e}`, path.join(proc, e))
  }
  for (const e of fs.readdirSync('/proc/sys')) if (e !== 'kernel') symlink(`${KPROC}/sys/${e}`, path.join(proc, 'sys', e))
  for (const e of fs.readdirSync('/proc/sys/kernel')) if (e !== 'random' && e !== 'osrelease') symlink(`${KPROC}/sys/kernel/${e}`, path.join(proc, 'sys/kernel', e))
  for (const e of fs.readdirSync('/proc/sys/kernel/random')) if (e !== 'boot_id') symlink(`${KPROC}/sys/kernel/random/${e}`, path.join(proc, 'sys/kernel/random', e))
}

// What a host's /dev has besides the real /dev it is overlaid on: the KVM device node (misc 10:232),
// which the kvm module creates on a PowerNV host and host.verify requires. The host's /dev is a
// read-only overlay of this layer over the real /dev (device nodes still read and write).
export function buildDevLayer(layerDir: string): void {
  fs.mkdirSync(layerDir, { recursive: true })
  const kvm = path.join(layerDir, 'kvm')
  if (!fs.existsSync(kvm)) execFileSync('mknod', ['-m', '0666', kvm, 'c', '10', '232'])
}
