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
  // One pass over each source, then shell builtins per module: a fork per module and source made
  // this fact cost more host CPU than the rest of the gather together. modinfo (which also knows
  // aliases) is asked only about a module the files do not list.
  command: [
    'read -r k < /proc/sys/kernel/osrelease 2>/dev/null || k=$(uname -r)',
    'mods=" "; while read -r n _; do mods="$mods$n "; done < /proc/modules 2>/dev/null',
    `builtin=$(grep -oE '/vfio[-_a-z0-9]*\\.ko' "/lib/modules/$k/modules.builtin" 2>/dev/null)`,
    `dep=$(grep -oE '^[^:]*/vfio[-_a-z0-9]*\\.ko' "/lib/modules/$k/modules.dep" 2>/dev/null)`,
    // Module files may spell the name with dashes (vfio_pci lives in vfio-pci.ko): f is a glob.
    `for p in ${VFIO_MODULES.map((m) => `'${m} ${m.replace(/_/g, '[-_]')}'`).join(' ')}; do`,
    '  m=${p% *}; f=${p#* }',
    '  if [ -d "/sys/module/$m/sections" ]; then s=loaded',
    '  else case "$mods" in *" $m "*) s=loaded ;; *)',
    '    case "$builtin" in *"/"$f.ko*) s=builtin ;; *)',
    '      case "$dep" in *"/"$f.ko*) s=available ;; *) if modinfo -n "$m" >/dev/null 2>&1; then s=available; else s=missing; fi ;; esac ;;',
    '    esac ;;',
    '  esac; fi',
    '  echo "$m $s"',
    'done',
    'd=; read -r d < /sys/module/vfio_pci/parameters/disable_idle_d3 2>/dev/null',
    'echo "disable_idle_d3 $d"',
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
