import { defineFact } from './define.js'

// The running kernel's build options that decide passthrough, from its own config file.
export interface KernelConfig {
  file: string // /boot/config-<kver>
  readable: boolean
  options: Record<string, string> // CONFIG_X → 'y' | 'm' | 'n' ('# CONFIG_X is not set') or its value
}

// The options host.verify reads. Vendor kernels backport (RHEL 8's 4.18 has the NVLink2 subdriver,
// upstream removed it in 5.13), so the config, not the version number, says what the kernel can do.
export const KERNEL_CONFIG_OPTIONS = ['CONFIG_PPC_POWERNV', 'CONFIG_KVM_BOOK3S_64_HV', 'CONFIG_VFIO', 'CONFIG_VFIO_PCI', 'CONFIG_VFIO_IOMMU_SPAPR_TCE', 'CONFIG_VFIO_IOMMU_TYPE1', 'CONFIG_VFIO_PCI_NVLINK2']

// `/boot/config-$(uname -r)` (every distro kernel package installs it), only the lines above.
export const kernelConfig = defineFact({
  name: 'kernel.config',
  command: ['f=/boot/config-$(uname -r)', 'if [ -r "$f" ]; then echo "@@ file $f"', `  grep -E '^(# )?(${KERNEL_CONFIG_OPTIONS.join('|')})[= ]' "$f"`, 'else echo "@@ missing $f"; fi', 'true'].join('\n'),
  parse(stdout): KernelConfig {
    let file = ''
    let readable = false
    const options: Record<string, string> = {}
    for (const raw of stdout.split('\n')) {
      const line = raw.trim()
      const head = /^@@ (file|missing) (.*)$/.exec(line)
      if (head) {
        file = head[2]
        readable = head[1] === 'file'
        continue
      }
      const set = /^(CONFIG_\w+)=(.*)$/.exec(line)
      if (set) options[set[1]] = set[2].replace(/^"(.*)"$/, '$1')
      const unset = /^# (CONFIG_\w+) is not set$/.exec(line)
      if (unset) options[unset[1]] = 'n'
    }
    return { file, readable, options }
  },
})
