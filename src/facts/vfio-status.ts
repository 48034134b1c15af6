import { defineFact } from './define.js'

// loaded (in /proc/modules), builtin, available (a .ko exists), or missing.
export type ModuleAvailability = 'loaded' | 'builtin' | 'available' | 'missing'

// Availability of each vfio module and the live disable_idle_d3 parameter.
export interface VfioStatus {
  modules: Record<string, ModuleAvailability>
  disableIdleD3?: string // /sys/module/vfio_pci/parameters/disable_idle_d3: 'Y' or 'N' when loaded
}

// Names differ across kernels (vfio_spapr_eeh folded into vfio_iommu_spapr_tce in 6.2, vfio_pci_core
// split out in 5.15), so every candidate is probed and the verify task decides what is required.
export const VFIO_MODULES = ['vfio', 'vfio_pci', 'vfio_pci_core', 'vfio_iommu_spapr_tce', 'vfio_spapr_eeh', 'vfio_iommu_type1']

// Probes each vfio module name without loading anything.
export const vfioStatus = defineFact({
  name: 'vfio.status',
  command: [
    'k=$(uname -r)',
    `for m in ${VFIO_MODULES.join(' ')}; do`,
    // Module files may spell the name with dashes (vfio_pci lives in vfio-pci.ko).
    '  f=$(printf "%s" "$m" | sed "s/_/[-_]/g")',
    '  if [ -d "/sys/module/$m/sections" ] || grep -q "^$m " /proc/modules 2>/dev/null; then s=loaded',
    '  elif grep -q "/$f\\.ko" "/lib/modules/$k/modules.builtin" 2>/dev/null; then s=builtin',
    '  elif modinfo -n "$m" >/dev/null 2>&1 || grep -q "/$f\\.ko" "/lib/modules/$k/modules.dep" 2>/dev/null; then s=available',
    '  else s=missing; fi',
    '  echo "$m $s"',
    'done',
    'echo "disable_idle_d3 $(cat /sys/module/vfio_pci/parameters/disable_idle_d3 2>/dev/null)"',
  ].join('\n'),
  parse(stdout): VfioStatus {
    const modules: Record<string, ModuleAvailability> = {}
    let disableIdleD3: string | undefined
    for (const line of stdout.split('\n')) {
      const [name, value] = line.trim().split(/\s+/)
      if (!name) continue
      if (name === 'disable_idle_d3') {
        if (value) disableIdleD3 = value
      } else if (value === 'loaded' || value === 'builtin' || value === 'available' || value === 'missing') {
        modules[name] = value
      }
    }
    return { modules, ...(disableIdleD3 ? { disableIdleD3 } : {}) }
  },
})
