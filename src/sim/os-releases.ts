// What the el9 and ubuntu profiles install: os-release text, kernels (newest first) and the
// kernels a later update installs. Titles and versions as RHEL 9.3 and Ubuntu 22.04 ppc64el name them.
import type { KernelEntry } from './profiles.js'

// The OS part of a profile.
export interface OsRelease {
  osRelease: string
  releaseFile: { path: string; text: string }
  grubCmdlineLinux: string
  root: string
  kernels: KernelEntry[]
  updateKernels: KernelEntry[]
}

const el9Title = (kver: string) => `Red Hat Enterprise Linux (${kver}) 9.3 (Plow)`

// RHEL 9.3: BLS entries with literal options, /etc/kernel/cmdline (kernel-install reads it).
export const el9Release: OsRelease = {
  osRelease: `NAME="Red Hat Enterprise Linux"
VERSION="9.3 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/9"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
`,
  releaseFile: { path: 'etc/redhat-release', text: 'Red Hat Enterprise Linux release 9.3 (Plow)\n' },
  grubCmdlineLinux: 'crashkernel=1G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap',
  root: '/dev/mapper/rhel-root',
  kernels: ['5.14.0-362.8.1.el9_3.ppc64le', '5.14.0-284.11.1.el9_2.ppc64le'].map((kver) => ({ kver, title: el9Title(kver) })),
  updateKernels: [{ kver: '5.14.0-362.13.1.el9_3.ppc64le', title: el9Title('5.14.0-362.13.1.el9_3.ppc64le') }],
}

// Ubuntu 22.04 ppc64el: grub.cfg from update-grub, initramfs-tools, /boot/vmlinux-<kver>.
export const ubuntuRelease: OsRelease = {
  osRelease: `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=jammy
`,
  releaseFile: { path: 'etc/lsb-release', text: 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"\n' },
  grubCmdlineLinux: '',
  root: 'UUID=800c95d4-65ea-41c6-af9a-8dad6213a597',
  kernels: ['5.15.0-91-generic', '5.15.0-88-generic'].map((kver) => ({ kver, title: `Ubuntu, with Linux ${kver}` })),
  updateKernels: [{ kver: '5.15.0-94-generic', title: 'Ubuntu, with Linux 5.15.0-94-generic' }],
}
