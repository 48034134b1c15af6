import { bootConfig, type BootConfig } from '../../facts/boot-config.js'
import { kernelCmdline, type CmdlineFact } from '../../facts/kernel-cmdline.js'
import { kernelModules, type LoadedModule } from '../../facts/kernel-modules.js'
import { initramfsStatus, type InitramfsStatus } from '../../facts/initramfs-status.js'
import { modprobeConfig, type ModprobeConfig } from '../../facts/modprobe-config.js'
import { rebootSentinel, type RebootSentinel } from '../../facts/reboot-sentinel.js'
import { smtState, type SmtState } from '../../facts/cpu-smt.js'
import { smtUnit, type SmtUnit } from '../../facts/smt-unit.js'
import type { PlanContext } from '../define.js'
import { isNvidiaGpu, pciDevices, type PciDevice } from '../../facts/pci-devices.js'

// Everything that can show a staged change is not live yet.
export interface PendingFacts {
  sentinel: RebootSentinel
  cmdline: CmdlineFact
  boot: BootConfig
  modules: Record<string, LoadedModule>
  modprobe: ModprobeConfig
  initramfs: InitramfsStatus
  smt: SmtState
  smtUnit: SmtUnit
  pci: PciDevice[]
}

// The fact of each PendingFacts key, for a task that decides on a reboot.
export const pendingFacts = {
  sentinel: rebootSentinel,
  cmdline: kernelCmdline,
  boot: bootConfig,
  modules: kernelModules,
  modprobe: modprobeConfig,
  initramfs: initramfsStatus,
  smt: smtState,
  smtUnit: smtUnit,
  pci: pciDevices,
}

// Why this host needs a reboot: the sentinel's reasons, earlier plans in this run that said so, and
// what the facts show staged but not live. Each reason is one line for the report.
export function pendingReboot(f: PendingFacts, ctx: PlanContext): string[] {
  const reasons: string[] = []
  for (const r of f.sentinel.reasons) reasons.push(`sentinel: ${r}`)
  if (f.sentinel.present && f.sentinel.reasons.length === 0) reasons.push('sentinel /run/gpufleet/reboot-required exists')
  for (const e of ctx.earlier) if (e.plan.kind === 'change' && e.plan.rebootPending) reasons.push(`${e.task}: ${e.plan.reason}`)
  const next = f.boot.next
  if (next) {
    // root=/BOOT_IMAGE=/initrd= are spelled differently by grubby, GRUB and petitboot; comparing
    // them could reboot a host forever over a formatting difference.
    const missing = next.args.filter((a) => !/^(root|BOOT_IMAGE|initrd)=/.test(a) && !f.cmdline.args.includes(a))
    if (missing.length) reasons.push(`next boot entry '${next.title}' has arguments not live in /proc/cmdline: ${missing.join(' ')}`)
  }
  const blocked = new Set([...f.modprobe.blacklisted, ...f.modprobe.installDisabled])
  // A GPU a host driver still drives (nouveau, or nvidia) while modprobe.d already keeps that driver
  // out: the host was prepared but not rebooted (or the driver came from an old initramfs). The next
  // boot leaves the GPU free, so this is a reason to reboot, not a verify failure for the admin.
  const gpuDriver = (d: PciDevice) => (d.driver ?? '').replace(/-/g, '_')
  const boundGpus = f.pci.filter((d) => isNvidiaGpu(d) && d.driver && d.driver !== 'vfio-pci' && (blocked.has(gpuDriver(d)) || (gpuDriver(d).startsWith('nvidia') && blocked.has('nvidia'))))
  if (boundGpus.length) reasons.push(`GPU(s) bound to ${[...new Set(boundGpus.map((d) => d.driver))].join(', ')}, which modprobe.d keeps out: ${boundGpus.map((d) => d.address).join(', ')}`)
  const loaded = Object.keys(f.modules).filter((m) => blocked.has(m))
  if (loaded.length) reasons.push(`blacklisted module(s) loaded: ${loaded.join(', ')}`)
  if (next?.initrd && f.initramfs.bootId) {
    const img = f.initramfs.images.find((i) => i.path === next.initrd)
    if (img?.builtInBootId === f.initramfs.bootId) reasons.push(`${img.path} was rebuilt during this boot`)
  }
  const wanted = /--smt=(\S+)/.exec(f.smtUnit.content ?? '')?.[1]
  if (f.smtUnit.enabled && wanted && f.smt.available && f.smt.capable && !smtMatches(f.smt, wanted)) {
    reasons.push(`gpufleet-smt.service wants SMT ${wanted} but it is ${f.smt.output || f.smt.mode}`)
  }
  return [...new Set(reasons)]
}

// Whether the live SMT state is what `ppc64_cpu --smt=<value>` sets.
export function smtMatches(smt: SmtState, value: string): boolean {
  if (value === 'off' || value === '1') return smt.mode === 'off'
  if (value === 'on') return smt.mode === 'uniform' && (smt.threads ?? 0) > 1
  return smt.mode === 'uniform' && smt.threads === Number(value)
}
