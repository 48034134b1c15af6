// Hardware and OS profiles of simulated POWER hosts. Addresses, ids and names follow
// ../../../shared/docs/power9-domain.md (sections 4 and 7); everything else is a plausible filler.

// One PCI function as lspci and sysfs show it.
export interface PciDevice {
  address: string // dddd:bb:ss.f
  classCode: string // 4 hex digits, e.g. 0302
  progIf: string // 2 hex digits
  className: string // '3D controller'
  vendorId: string
  vendorName: string
  deviceId: string
  deviceName: string
  rev?: string
  subsystemVendorId: string
  subsystemId: string
  driver?: string // bound at boot (GPUs: decided by the boot rules)
  modules?: string // lspci -k "Kernel modules:"
  iommuGroup: number
  gpu?: boolean
}

// One boot entry of the stock install.
export interface KernelEntry {
  kver: string
  title: string
}

// A libvirt domain defined on the host, with the guest PCI slots its stock devices use.
export interface DomainTemplate {
  name: string
  uuid: string
  memoryKiB: number
  vcpus: number
  autostart: boolean
  running: boolean
}

// Everything the simulator needs to build a host of one kind.
export interface Profile {
  name: string
  cpu: 'POWER8' | 'POWER9'
  cpuLine: string // /proc/cpuinfo `cpu` value
  revision: string
  platform: 'PowerNV' | 'pSeries'
  model: string
  machine: string
  cores: number
  threadsPerCore: number
  clock: string
  timebase: number
  // OS
  os: 'el7' | 'el8'
  osRelease: string
  releaseFile: { path: string; text: string }
  bls: boolean
  grubCmdlineLinux: string // GRUB_CMDLINE_LINUX, also the stock args (root= is added)
  root: string // root= value
  kernels: KernelEntry[] // newest first; [0] is the default
  bootImagePrefix: boolean // GRUB (pSeries) prepends BOOT_IMAGE=, petitboot does not
  devices: PciDevice[]
  baseModules: string[] // loaded at every boot, besides the GPU stack
  domains: DomainTemplate[]
  // GPU addresses per domain for the inventory's `gpufleet_vms` var (whole IOMMU groups)
  vmGpus: Record<string, string[]>
}

const ibmBridge = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0604',
  progIf: '00',
  className: 'PCI bridge',
  vendorId: '1014',
  vendorName: 'IBM',
  deviceId: '04c1',
  deviceName: 'Device',
  subsystemVendorId: '1014',
  subsystemId: '04c1',
  driver: 'pcieport',
  iommuGroup: group,
})

const npu = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0680',
  progIf: '01',
  className: 'Bridge',
  vendorId: '1014',
  vendorName: 'IBM',
  deviceId: '04ea',
  deviceName: 'Device',
  rev: '01',
  subsystemVendorId: '1014',
  subsystemId: '04ea',
  iommuGroup: group,
})

const gpu = (address: string, deviceId: string, deviceName: string, subsystemId: string, group: number): PciDevice => ({
  address,
  classCode: '0302',
  progIf: '00',
  className: '3D controller',
  vendorId: '10de',
  vendorName: 'NVIDIA Corporation',
  deviceId,
  deviceName,
  rev: 'a1',
  subsystemVendorId: '10de',
  subsystemId,
  modules: 'nouveau',
  iommuGroup: group,
  gpu: true,
})

const usb = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0c03',
  progIf: '30',
  className: 'USB controller',
  vendorId: '104c',
  vendorName: 'Texas Instruments',
  deviceId: '8241',
  deviceName: 'TUSB73x0 SuperSpeed USB 3.0 xHCI Host Controller',
  rev: '02',
  subsystemVendorId: '104c',
  subsystemId: '8241',
  driver: 'xhci_hcd',
  modules: 'xhci_pci',
  iommuGroup: group,
})

const sata = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0106',
  progIf: '01',
  className: 'SATA controller',
  vendorId: '1b4b',
  vendorName: 'Marvell Technology Group Ltd.',
  deviceId: '9235',
  deviceName: '88SE9235 PCIe 2.0 x2 4-port SATA 6 Gb/s Controller',
  rev: '11',
  subsystemVendorId: '1b4b',
  subsystemId: '9235',
  driver: 'ahci',
  modules: 'ahci',
  iommuGroup: group,
})

const eth = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0200',
  progIf: '00',
  className: 'Ethernet controller',
  vendorId: '14e4',
  vendorName: 'Broadcom Inc. and subsidiaries',
  deviceId: '1657',
  deviceName: 'NetXtreme BCM5719 Gigabit Ethernet PCIe',
  rev: '01',
  subsystemVendorId: '14e4',
  subsystemId: '1981',
  driver: 'tg3',
  modules: 'tg3',
  iommuGroup: group,
})

const V100_SXM2 = ['1db1', 'GV100GL [Tesla V100 SXM2 16GB]', '1212'] as const
const T4 = ['1eb8', 'TU104GL [Tesla T4]', '12a2'] as const
const P100_SXM2 = ['15f9', 'GP100GL [Tesla P100 SXM2 16GB]', '116b'] as const

const baseEl8 = ['xfs', 'libcrc32c', 'sd_mod', 'sg', 'ahci', 'libahci', 'libata', 'tg3', 'xhci_pci', 'ipmi_powernv', 'ipmi_devintf', 'ipmi_msghandler', 'opal_prd', 'ibmpowernv', 'at24', 'ofpart', 'powernv_flash', 'mtd', 'kvm_hv', 'kvm', 'dm_mirror', 'dm_region_hash', 'dm_log', 'dm_mod']

const el8Release = {
  osRelease: `NAME="Red Hat Enterprise Linux"
VERSION="8.4 (Ootpa)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="8.4"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Red Hat Enterprise Linux 8.4 (Ootpa)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:8.4:GA"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/red_hat_enterprise_linux/8/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
`,
  releaseFile: { path: 'etc/redhat-release', text: 'Red Hat Enterprise Linux release 8.4 (Ootpa)\n' },
  grubCmdlineLinux: 'crashkernel=auto rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap',
  root: '/dev/mapper/rhel-root',
  kernels: [
    { kver: '4.18.0-305.el8.ppc64le', title: 'Red Hat Enterprise Linux (4.18.0-305.el8.ppc64le) 8.4 (Ootpa)' },
    { kver: '4.18.0-240.el8.ppc64le', title: 'Red Hat Enterprise Linux (4.18.0-240.el8.ppc64le) 8.3 (Ootpa)' },
  ],
}

// Stock guests are defined but stopped: a host being prepared runs no guests unless a spec says so
// (rules' `guests:`), so a default `prep` on the rack never has to drain.
export const domain = (name: string, n: number, running: boolean): DomainTemplate => ({
  name,
  uuid: `6f1c2a${n}0-3b7e-4c1d-9a55-${(0x1000 + n).toString(16).padStart(12, '0')}`,
  memoryKiB: 67108864,
  vcpus: 16,
  autostart: running,
  running,
})

// The host kinds `--profile` and spec rules name.
export const profiles: Record<string, Profile> = {
  ac922: {
    name: 'ac922',
    cpu: 'POWER9',
    cpuLine: 'POWER9, altivec supported',
    revision: '2.2 (pvr 004e 1202)',
    platform: 'PowerNV',
    model: '8335-GTH',
    machine: 'PowerNV 8335-GTH',
    cores: 32,
    threadsPerCore: 4,
    clock: '3800.000000MHz',
    timebase: 512000000,
    os: 'el8',
    ...el8Release,
    bls: true,
    bootImagePrefix: false,
    devices: [
      ibmBridge('0000:00:00.0', 0),
      usb('0000:01:00.0', 0),
      ibmBridge('0001:00:00.0', 1),
      sata('0001:01:00.0', 1),
      ibmBridge('0002:00:00.0', 2),
      ibmBridge('0003:00:00.0', 3),
      eth('0003:01:00.0', 3),
      ibmBridge('0004:00:00.0', 4),
      gpu('0004:04:00.0', ...V100_SXM2, 5),
      gpu('0004:05:00.0', ...V100_SXM2, 5),
      npu('0006:00:00.0', 5),
      npu('0006:00:00.1', 5),
      npu('0006:00:00.2', 5),
      npu('0006:00:01.0', 5),
      npu('0006:00:01.1', 5),
      npu('0006:00:01.2', 5),
      npu('0007:00:00.0', 10),
      npu('0007:00:00.1', 10),
      npu('0007:00:00.2', 10),
      npu('0007:00:01.0', 10),
      npu('0007:00:01.1', 10),
      npu('0007:00:01.2', 10),
      ibmBridge('0030:00:00.0', 6),
      ibmBridge('0033:00:00.0', 7),
      ibmBridge('0034:00:00.0', 8),
      ibmBridge('0035:00:00.0', 9),
      gpu('0035:03:00.0', ...V100_SXM2, 10),
      gpu('0035:04:00.0', ...V100_SXM2, 10),
    ],
    baseModules: baseEl8,
    domains: [domain('vm1', 1, false), domain('vm2', 2, false)],
    vmGpus: { vm1: ['0004:04:00.0', '0004:05:00.0'], vm2: ['0035:03:00.0', '0035:04:00.0'] },
  },
  s822lc: {
    name: 's822lc',
    cpu: 'POWER8',
    cpuLine: 'POWER8NVL (raw), altivec supported',
    revision: '1.0 (pvr 004c 0100)',
    platform: 'PowerNV',
    model: '8335-GTB',
    machine: 'PowerNV 8335-GTB',
    cores: 20,
    threadsPerCore: 8,
    clock: '4023.000000MHz',
    timebase: 512000000,
    os: 'el7',
    osRelease: `NAME="CentOS Linux"
VERSION="7 (AltArch)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (AltArch)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:centos:centos:7"
HOME_URL="https://www.centos.org/"
BUG_REPORT_URL="https://bugs.centos.org/"

CENTOS_MANTISBT_PROJECT="CentOS-7"
CENTOS_MANTISBT_PROJECT_VERSION="7"
REDHAT_SUPPORT_PRODUCT="centos"
REDHAT_SUPPORT_PRODUCT_VERSION="7"

`,
    releaseFile: { path: 'etc/centos-release', text: 'CentOS Linux release 7.5.1804 (AltArch)\n' },
    bls: false,
    grubCmdlineLinux: 'crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet',
    root: '/dev/mapper/centos-root',
    kernels: [
      { kver: '4.14.0-49.10.1.el7a.ppc64le', title: 'CentOS Linux (4.14.0-49.10.1.el7a.ppc64le) 7 (AltArch)' },
      { kver: '4.14.0-49.el7a.ppc64le', title: 'CentOS Linux (4.14.0-49.el7a.ppc64le) 7 (AltArch)' },
    ],
    bootImagePrefix: false,
    devices: [
      ibmBridge('0000:00:00.0', 0),
      usb('0000:01:00.0', 0),
      ibmBridge('0001:00:00.0', 1),
      sata('0001:01:00.0', 1),
      ibmBridge('0002:00:00.0', 2),
      gpu('0002:01:00.0', ...P100_SXM2, 2),
      ibmBridge('0003:00:00.0', 3),
      eth('0003:01:00.0', 3),
      npu('0004:00:00.0', 2),
      npu('0004:00:00.1', 2),
      npu('0004:00:01.0', 6),
      npu('0004:00:01.1', 6),
      ibmBridge('000a:00:00.0', 6),
      gpu('000a:01:00.0', ...P100_SXM2, 6),
    ],
    baseModules: ['xfs', 'libcrc32c', 'sd_mod', 'sg', 'ahci', 'libahci', 'libata', 'tg3', 'xhci_pci', 'ipmi_powernv', 'ipmi_devintf', 'ipmi_msghandler', 'opal_prd', 'ibmpowernv', 'kvm_hv', 'kvm', 'dm_mirror', 'dm_region_hash', 'dm_log', 'dm_mod'],
    domains: [domain('vm1', 1, false), domain('vm2', 2, false)],
    vmGpus: { vm1: ['0002:01:00.0'], vm2: ['000a:01:00.0'] },
  },
  pcie: {
    name: 'pcie',
    cpu: 'POWER9',
    cpuLine: 'POWER9, altivec supported',
    revision: '2.3 (pvr 004e 1203)',
    platform: 'PowerNV',
    model: '9006-22P',
    machine: 'PowerNV 9006-22P',
    cores: 20,
    threadsPerCore: 4,
    clock: '3300.000000MHz',
    timebase: 512000000,
    os: 'el8',
    ...el8Release,
    bls: true,
    bootImagePrefix: false,
    devices: [
      ibmBridge('0000:00:00.0', 0),
      usb('0000:01:00.0', 0),
      ibmBridge('0001:00:00.0', 1),
      sata('0001:01:00.0', 1),
      ibmBridge('0003:00:00.0', 2),
      gpu('0003:01:00.0', ...T4, 2),
      ibmBridge('0005:00:00.0', 3),
      eth('0005:01:00.0', 3),
      ibmBridge('0031:00:00.0', 5),
      gpu('0031:01:00.0', ...T4, 5),
      ibmBridge('0032:00:00.0', 6),
      gpu('0032:01:00.0', ...T4, 6),
      ibmBridge('0033:00:00.0', 4),
      gpu('0033:01:00.0', ...T4, 4),
    ],
    baseModules: baseEl8,
    domains: [domain('vm1', 1, false)],
    vmGpus: { vm1: ['0003:01:00.0', '0031:01:00.0', '0032:01:00.0', '0033:01:00.0'] },
  },
}

// The profile named `name`, or an error listing the known ones.
export function getProfile(name: string): Profile {
  const p = profiles[name]
  if (!p) throw new Error(`unknown sim profile '${name}' (known: ${Object.keys(profiles).join(', ')})`)
  return p
}

// Kernel module catalogue shared by every simulated kernel: size, dependencies, parameters.
export interface ModuleInfo {
  size: number
  deps: string[]
  params?: Record<string, string> // name -> default value as sysfs prints it
  path: string // under /lib/modules/<kver>/
}

const m = (path: string, size: number, deps: string[] = [], params?: Record<string, string>): ModuleInfo => ({ path, size, deps, ...(params ? { params } : {}) })

// Every module a simulated kernel has.
export const moduleCatalog: Record<string, ModuleInfo> = {
  nouveau: m('kernel/drivers/gpu/drm/nouveau/nouveau.ko.xz', 2686976, ['drm_kms_helper', 'ttm', 'drm', 'i2c_algo_bit'], { modeset: '-1', config: '(null)', debug: '(null)' }),
  drm_kms_helper: m('kernel/drivers/gpu/drm/drm_kms_helper.ko.xz', 262144, ['drm']),
  ttm: m('kernel/drivers/gpu/drm/ttm/ttm.ko.xz', 196608, ['drm']),
  drm: m('kernel/drivers/gpu/drm/drm.ko.xz', 720896),
  i2c_algo_bit: m('kernel/drivers/i2c/algos/i2c-algo-bit.ko.xz', 65536),
  vfio_pci: m('kernel/drivers/vfio/pci/vfio-pci.ko.xz', 131072, ['vfio_virqfd', 'vfio_iommu_spapr_tce', 'vfio', 'vfio_spapr_eeh'], { disable_idle_d3: 'N', nointxmask: 'N', disable_vga: 'N', ids: '' }),
  vfio_virqfd: m('kernel/drivers/vfio/vfio_virqfd.ko.xz', 65536),
  vfio_iommu_spapr_tce: m('kernel/drivers/vfio/vfio_iommu_spapr_tce.ko.xz', 131072, ['vfio', 'vfio_spapr_eeh']),
  vfio_spapr_eeh: m('kernel/drivers/vfio/vfio_spapr_eeh.ko.xz', 65536),
  vfio: m('kernel/drivers/vfio/vfio.ko.xz', 131072),
  xfs: m('kernel/fs/xfs/xfs.ko.xz', 1769472, ['libcrc32c']),
  libcrc32c: m('kernel/lib/libcrc32c.ko.xz', 65536),
  sd_mod: m('kernel/drivers/scsi/sd_mod.ko.xz', 131072),
  sg: m('kernel/drivers/scsi/sg.ko.xz', 131072),
  ahci: m('kernel/drivers/ata/ahci.ko.xz', 131072, ['libahci', 'libata']),
  libahci: m('kernel/drivers/ata/libahci.ko.xz', 131072, ['libata']),
  libata: m('kernel/drivers/ata/libata.ko.xz', 458752),
  tg3: m('kernel/drivers/net/ethernet/broadcom/tg3.ko.xz', 327680),
  xhci_pci: m('kernel/drivers/usb/host/xhci-pci.ko.xz', 65536),
  ipmi_powernv: m('kernel/drivers/char/ipmi/ipmi_powernv.ko.xz', 65536, ['ipmi_msghandler']),
  ipmi_devintf: m('kernel/drivers/char/ipmi/ipmi_devintf.ko.xz', 65536, ['ipmi_msghandler']),
  ipmi_msghandler: m('kernel/drivers/char/ipmi/ipmi_msghandler.ko.xz', 196608),
  opal_prd: m('kernel/arch/powerpc/platforms/powernv/opal-prd.ko.xz', 65536),
  ibmpowernv: m('kernel/drivers/hwmon/ibmpowernv.ko.xz', 65536),
  at24: m('kernel/drivers/misc/eeprom/at24.ko.xz', 65536),
  ofpart: m('kernel/drivers/mtd/parsers/ofpart.ko.xz', 65536),
  powernv_flash: m('kernel/drivers/mtd/devices/powernv_flash.ko.xz', 65536, ['mtd']),
  mtd: m('kernel/drivers/mtd/mtd.ko.xz', 131072),
  kvm_hv: m('kernel/arch/powerpc/kvm/kvm-hv.ko.xz', 327680, ['kvm']),
  kvm: m('kernel/arch/powerpc/kvm/kvm.ko.xz', 458752),
  dm_mirror: m('kernel/drivers/md/dm-mirror.ko.xz', 65536, ['dm_region_hash', 'dm_log', 'dm_mod']),
  dm_region_hash: m('kernel/drivers/md/dm-region-hash.ko.xz', 65536, ['dm_log', 'dm_mod']),
  dm_log: m('kernel/drivers/md/dm-log.ko.xz', 65536, ['dm_mod']),
  dm_mod: m('kernel/drivers/md/dm-mod.ko.xz', 262144),
}

// Modules a stock (host-only) initramfs of these hosts carries.
export const initramfsModules = ['xfs', 'libcrc32c', 'sd_mod', 'ahci', 'libahci', 'libata', 'dm_mod', 'dm_log', 'dm_region_hash', 'dm_mirror', 'nouveau', 'drm_kms_helper', 'ttm', 'drm', 'i2c_algo_bit']
