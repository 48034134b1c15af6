import { el9Release, ubuntuRelease } from './os-releases.js'
import { ibmBridge, npu, gpu, usb, sata, eth, V100_SXM2, T4, P100_SXM2 } from './pci-functions.js'

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
  os: 'el7' | 'el8' | 'el9' | 'ubuntu'
  osRelease: string
  releaseFile: { path: string; text: string }
  bls: boolean
  grubCmdlineLinux: string // GRUB_CMDLINE_LINUX, also the stock args (root= is added)
  root: string // root= value
  kernels: KernelEntry[] // newest first; [0] is the default
  updateKernels: KernelEntry[] // what a kernel update (`sim kernel-install`) can install, newest last
  bootImagePrefix: boolean // GRUB (pSeries) prepends BOOT_IMAGE=, petitboot does not
  devices: PciDevice[]
  baseModules: string[] // loaded at every boot, besides the GPU stack
  domains: DomainTemplate[]
  // GPU addresses per domain for the inventory's `gpufleet_vms` var (whole IOMMU groups)
  vmGpus: Record<string, string[]>
}

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
  updateKernels: [{ kver: '4.18.0-348.el8.ppc64le', title: 'Red Hat Enterprise Linux (4.18.0-348.el8.ppc64le) 8.4 (Ootpa)' }],
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

// The AC922's PCI functions: 4 V100 SXM2 in two compound NVLink groups (see profiles' doc).
const ac922Devices = (): PciDevice[] => [
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
]

// An AC922 (8335-GTH) without its OS: the el9 and ubuntu profiles run on it.
const ac922Hardware = (): Omit<Profile, 'name' | 'os' | 'osRelease' | 'releaseFile' | 'bls' | 'grubCmdlineLinux' | 'root' | 'kernels' | 'updateKernels' | 'baseModules'> => ({
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
  bootImagePrefix: false,
  devices: ac922Devices(),
  domains: [domain('vm1', 1, false), domain('vm2', 2, false)],
  vmGpus: { vm1: ['0004:04:00.0', '0004:05:00.0'], vm2: ['0035:03:00.0', '0035:04:00.0'] },
})

// The host kinds `--profile` and spec rules name.
export const profiles: Record<string, Profile> = {
  el9: { name: 'el9', ...ac922Hardware(), os: 'el9', ...el9Release, bls: true, baseModules: baseEl8 },
  ubuntu: {
    name: 'ubuntu',
    ...ac922Hardware(),
    os: 'ubuntu',
    ...ubuntuRelease,
    bls: false,
    baseModules: baseEl8.filter((m) => m !== 'xfs' && m !== 'libcrc32c'),
  },
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
    devices: ac922Devices(),
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
    updateKernels: [{ kver: '4.14.0-115.el7a.ppc64le', title: 'CentOS Linux (4.14.0-115.el7a.ppc64le) 7 (AltArch)' }],
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
