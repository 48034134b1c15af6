import { quote } from '../shell.js'
import type { Profile } from './profiles.js'

// `host already prepared`: the seed guide's staging done before first boot (kernel arg in the boot
// config and /etc/default/grub, nouveau blacklisted in modprobe.d and the initramfs, SMT unit on POWER8).
// Runs inside the host with its own (emulated) tools before the first boot.
export function prepareScript(p: Profile): string {
  const kver = p.kernels[0]!.kver
  const lines = [
    'set -e',
    'grubby --update-kernel=ALL --args=vfio-pci.disable_idle_d3=1',
    `sed -i 's/^GRUB_CMDLINE_LINUX="\\(.*\\)"$/GRUB_CMDLINE_LINUX="\\1 vfio-pci.disable_idle_d3=1"/' /etc/default/grub`,
    "printf 'blacklist nouveau\\noptions nouveau modeset=0\\n' > /etc/modprobe.d/blacklist-nouveau.conf",
    `dracut -f --omit-drivers nouveau ${quote(`/boot/initramfs-${kver}.img`)} ${quote(kver)}`,
  ]
  if (p.cpu === 'POWER8') {
    lines.push(
      "printf '[Unit]\\nDescription=Turn SMT off for KVM\\nBefore=libvirtd.service\\n\\n[Service]\\nType=oneshot\\nExecStart=/usr/sbin/ppc64_cpu --smt=off\\nRemainAfterExit=yes\\n\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/smt-off.service",
      'systemctl enable smt-off.service 2>/dev/null',
    )
  }
  return lines.join('\n')
}
