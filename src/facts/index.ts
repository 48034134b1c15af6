import type { Fact } from './define.js'
import { bootConfig } from './boot-config.js'
import { dracutConfig } from './dracut-config.js'
import { gpufleetBackups } from './gpufleet-backups.js'
import { hostBasics } from './host-basics.js'
import { initramfsStatus } from './initramfs-status.js'
import { iommuGroups } from './iommu-groups.js'
import { kernelConfig } from './kernel-config.js'
import { kvmStatus } from './kvm-status.js'
import { libvirtDomains } from './libvirt-domains.js'
import { libvirtGuests } from './libvirt-guests.js'
import { modprobeConfig } from './modprobe-config.js'
import { pciDevices } from './pci-devices.js'
import { rebootSentinel } from './reboot-sentinel.js'
import { smtState } from './smt-state.js'
import { smtUnit } from './smt-unit.js'
import { vfioStatus } from './vfio-status.js'

// Every fact by its name ('boot.config'): for `gpufleet facts`, fixtures and the runner's lookups.
export const facts: Record<string, Fact<any>> = Object.fromEntries(
  [
    ...Object.values(hostBasics),
    bootConfig,
    smtState,
    smtUnit,
    modprobeConfig,
    initramfsStatus,
    dracutConfig,
    pciDevices,
    iommuGroups,
    vfioStatus,
    kvmStatus,
    kernelConfig,
    libvirtDomains,
    libvirtGuests,
    rebootSentinel,
    gpufleetBackups,
  ].map((f) => [f.name, f as Fact<any>]),
)
