import type { BootConfig } from '../facts/boot-config.js'

// Title suffix of trial entries (the guide appended ' - testing' to its copy).
export const TRIAL_SUFFIX = ' - gpufleet'

// Files a boot-config edit may touch: all are backed up before the first change (boot.restore
// puts back the orig/ copies). EL9's /etc/kernel/cmdline only when the host has one.
export function bootConfigFiles(boot: BootConfig): string[] {
  const files = ['/etc/default/grub']
  if (boot.grubCfgPath) files.push(boot.grubCfgPath)
  files.push(boot.grubenvPath)
  if (boot.platform.kernelCmdline) files.push('/etc/kernel/cmdline')
  // Trial entries are gpufleet's own files: a backup of one is not an "original".
  for (const e of boot.entries) if (e.file && !e.title.endsWith(TRIAL_SUFFIX)) files.push(e.file)
  return [...new Set(files)]
}
