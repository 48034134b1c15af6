import type { Fact } from './define.js'
import { cpuInfo } from './cpu-info.js'
import { hostname } from './host-hostname.js'
import { bootId } from './kernel-boot-id.js'
import { kernelCmdline } from './kernel-cmdline.js'
import { kernelModules } from './kernel-modules.js'
import { kernelRelease } from './kernel-release.js'
import { bootConfig } from './boot-config.js'
import { dracutConfig } from './dracut-config.js'
import { gpufleetBackups } from './gpufleet-backups.js'
import { initramfsStatus } from './initramfs-status.js'
import { iommuGroups } from './iommu-groups.js'
import { kernelConfig } from './kernel-config.js'
import { kvmStatus } from './kvm-status.js'
import { libvirtDomains } from './libvirt-domains.js'
import { libvirtGuests } from './libvirt-guests.js'
import { modprobeConfig } from './modprobe-config.js'
import { pciDevices } from './pci-devices.js'
import { rebootSentinel } from './reboot-sentinel.js'
import { smtState } from './cpu-smt.js'
import { smtUnit } from './smt-unit.js'
import { vfioStatus } from './vfio-status.js'

// Every fact by its name ('boot.config'): for `gpufleet facts`, fixtures and the runner's lookups.
export const facts: Record<string, Fact<any>> = Object.fromEntries(
  [hostname, kernelRelease, bootId, kernelCmdline, cpuInfo, kernelModules, bootConfig, smtState, smtUnit, modprobeConfig, initramfsStatus, dracutConfig, pciDevices, iommuGroups, vfioStatus, kvmStatus, kernelConfig, libvirtDomains, libvirtGuests, rebootSentinel, gpufleetBackups].map((f) => [
    f.name,
    f as Fact<any>,
  ]),
)
