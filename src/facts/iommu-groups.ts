import { defineFact } from './define.js'

// IOMMU groups both ways: members per group and the group of each device.
export interface IommuGroups {
  groups: Record<string, string[]> // group number → member PCI addresses, sorted
  byDevice: Record<string, string> // PCI address → group number
}

// /sys/kernel/iommu_groups/<N>/devices/<addr>: on POWER a group is a PE; NVLink GPUs of one socket
// and their NPU bridges share one compound group.
export const iommuGroups = defineFact({
  name: 'iommu.groups',
  command: 'for d in /sys/kernel/iommu_groups/*/devices/*; do [ -e "$d" ] || continue; g=${d%/devices/*}; echo "${g##*/} ${d##*/}"; done; true',
  parse(stdout): IommuGroups {
    const groups: Record<string, string[]> = {}
    const byDevice: Record<string, string> = {}
    for (const line of stdout.split('\n')) {
      const m = /^(\d+) (\S+)$/.exec(line.trim())
      if (!m) continue
      const addr = m[2].toLowerCase()
      ;(groups[m[1]] ??= []).push(addr)
      byDevice[addr] = m[1]
    }
    for (const g of Object.values(groups)) g.sort()
    return { groups, byDevice }
  },
})
