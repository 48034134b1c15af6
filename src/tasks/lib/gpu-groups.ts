import { z } from 'zod'
import { iommuGroups, type IommuGroups } from '../../facts/iommu-groups.js'
import { libvirtDomains, type LibvirtDomain, type LibvirtDomains } from '../../facts/libvirt-domains.js'
import { isNvidiaGpu, pciDevices, type PciDevice } from '../../facts/pci-devices.js'
import type { GpuAssignment } from '../../inventory/types.js'

// The facts gpu.attach and gpu.detach read, by key (gathered in the one fact exec).
export interface GpuFacts extends Record<string, unknown> {
  pci: PciDevice[]
  iommu: IommuGroups
  libvirt: LibvirtDomains
}

// The fact of each GpuFacts key.
export const gpuFacts = { pci: pciDevices, iommu: iommuGroups, libvirt: libvirtDomains }

// A host PCI address as a playbook may give it: dddd:bb:ss.f (domain optional).
export const pciAddressSchema = z.string().regex(/^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/, 'a PCI address dddd:bb:ss.f')

// A libvirt domain name: libvirt itself refuses '/' and newlines in names; control characters
// are refused too so a name stays one line in virsh output, reports and logs.
export const domainNameSchema = z
  .string()
  .min(1)
  .regex(/^[^/\x00-\x1f\x7f]+$/, 'a libvirt domain name (no / or control characters)')

// What a domain has now: whether it runs, and the host PCI functions in its persistent and live XML.
export function domainHostdevs(dom: LibvirtDomain): { running: boolean; inConfig: Set<string>; inLive: Set<string> } {
  return {
    running: dom.state === 'running' || dom.state === 'paused',
    inConfig: new Set(dom.config.hostdevs.map((h) => h.source)),
    inLive: new Set((dom.live?.hostdevs ?? []).map((h) => h.source)),
  }
}

// An IOMMU group holding GPUs: the unit of assignment (a group cannot be split between domains).
export interface GpuGroup {
  group: string
  gpus: string[] // NVIDIA GPU addresses in the group
  members: string[] // everything to pass through: GPUs, their other functions, NVLink (NPU) bridges
  foreign: string[] // members that are neither NVIDIA functions nor NVLink bridges (a NIC, an HBA): described
  nvlink2: boolean // V100 SXM2 GPUs with their NVLink2 bridges: set up at PHB reset, so never hot-plugged
}

// The NVLink (NPU) bridge function of POWER8/POWER9: IBM 1014:04ea, class 0680.
export function isNvlinkBridge(d: PciDevice): boolean {
  return d.vendorId === '1014' && d.deviceId === '04ea'
}

// Tesla V100 SXM2 16GB and 32GB (GV100GL): the GPUs whose NVLink2 links the POWER9 NPU exposes.
export const V100_SXM2_IDS = ['1db1', '1db5']

// PCI-to-PCI bridges (class 0604) stay with the host; NPU bridges (1014:04ea, class 0680) are passed.
function passable(d: PciDevice | undefined): boolean {
  return !d || d.classId !== '0604'
}

// A group member gpufleet may hand to a guest: any NVIDIA function (the GPU, its audio/USB
// functions) or an NVLink bridge. Anything else in the group is a host device (a NIC, an HBA)
// that passthrough would silently take away from the host.
function foreignMember(addr: string, d: PciDevice | undefined): string | undefined {
  if (!d) return `${addr} (not listed by lspci)`
  if (d.vendorId === '10de' || isNvlinkBridge(d)) return undefined
  return `${addr} ${d.className} [${d.vendorId}:${d.deviceId}] ${d.description}${d.driver ? ` (driver ${d.driver})` : ''}`
}

// Groups that contain at least one NVIDIA GPU, in GPU address order. Throws for a GPU without group.
export function gpuGroups(pci: PciDevice[], iommu: IommuGroups): GpuGroup[] {
  const out = new Map<string, GpuGroup>()
  for (const g of pci.filter(isNvidiaGpu).sort((a, b) => a.address.localeCompare(b.address))) {
    const n = iommu.byDevice[g.address]
    if (n === undefined) throw new Error(`GPU ${g.address} has no IOMMU group (is the IOMMU enabled?)`)
    let grp = out.get(n)
    if (!grp) {
      const members = (iommu.groups[n] ?? []).filter((a) => passable(pci.find((p) => p.address === a)))
      const foreign = members.flatMap(
        (a) =>
          foreignMember(
            a,
            pci.find((p) => p.address === a),
          ) ?? [],
      )
      const devs = members.map((a) => pci.find((p) => p.address === a))
      const nvlink2 = devs.some((d) => d && isNvlinkBridge(d)) && devs.some((d) => d && isNvidiaGpu(d) && V100_SXM2_IDS.includes(d.deviceId))
      grp = { group: n, gpus: [], members, foreign, nvlink2 }
      out.set(n, grp)
    }
    grp.gpus.push(g.address)
  }
  return [...out.values()]
}

// Which domain each host PCI address is given to, from persistent and live XML.
export function hostdevOwners(domains: LibvirtDomain[]): Map<string, Set<string>> {
  const owners = new Map<string, Set<string>>()
  for (const d of domains) {
    for (const h of [...d.config.hostdevs, ...(d.live?.hostdevs ?? [])]) {
      if (!owners.has(h.source)) owners.set(h.source, new Set())
      owners.get(h.source)!.add(d.name)
    }
  }
  return owners
}

// Which groups each domain gets, or why the assignment cannot be met.
export type Allocation = { ok: true; byDomain: Map<string, GpuGroup[]>; notes: string[] } | { ok: false; reason: string; evidence: Record<string, unknown> }

// Decides which whole groups go to which domain: groups already (partly) attached stay with their
// domain, explicit addresses pull in their whole group, counts are filled from free groups in
// address order without ever splitting one.
export function allocateGroups(assignments: GpuAssignment[], groups: GpuGroup[], domains: LibvirtDomain[]): Allocation {
  const owners = hostdevOwners(domains)
  const owner = new Map<string, string>()
  const notes: string[] = []
  const fail = (reason: string, evidence: Record<string, unknown> = {}): Allocation => ({ ok: false, reason, evidence })
  for (const g of groups) {
    const who = new Set(g.members.flatMap((m) => [...(owners.get(m) ?? [])]))
    if (who.size > 1) return fail(`IOMMU group ${g.group} is already split between domains ${[...who].join(', ')}`, { group: g })
    if (who.size === 1) owner.set(g.group, [...who][0])
  }
  const names = new Set(domains.map((d) => d.name))
  for (const a of assignments) if (!names.has(a.domain)) return fail(`libvirt domain '${a.domain}' is not defined on this host`, { defined: [...names] })
  for (const a of assignments) {
    for (const raw of a.addresses ?? []) {
      const addr = raw.toLowerCase()
      const g = groups.find((x) => x.members.includes(addr))
      if (!g) return fail(`GPU ${raw} for '${a.domain}' is not present (or not an NVIDIA GPU's group member)`, { groups })
      const cur = owner.get(g.group)
      if (cur && cur !== a.domain) return fail(`giving ${raw} to '${a.domain}' would split IOMMU group ${g.group} (${g.members.join(', ')}), which goes to '${cur}'`, { group: g })
      if (!cur && !g.gpus.every((x) => (a.addresses ?? []).map((y) => y.toLowerCase()).includes(x))) {
        notes.push(`IOMMU group ${g.group} goes whole to '${a.domain}': ${g.gpus.join(', ')}`)
      }
      owner.set(g.group, a.domain)
    }
  }
  for (const a of assignments) {
    if (a.count === undefined) continue
    const have = groups.filter((g) => owner.get(g.group) === a.domain).reduce((n, g) => n + g.gpus.length, 0)
    let need = a.count - have
    if (need < 0) notes.push(`'${a.domain}' already has ${have} GPU(s), more than its count ${a.count}; nothing is detached`)
    for (const g of groups) {
      if (need <= 0) break
      if (owner.has(g.group) || g.gpus.length > need) continue
      owner.set(g.group, a.domain)
      need -= g.gpus.length
    }
    if (need > 0) {
      const free = groups.filter((g) => !owner.has(g.group)).map((g) => `group ${g.group}: ${g.gpus.length} GPU(s)`)
      return fail(`cannot give '${a.domain}' ${a.count} GPU(s) as whole IOMMU groups (${have} already; free: ${free.join(', ') || 'none'})`, { groups })
    }
  }
  const byDomain = new Map<string, GpuGroup[]>()
  for (const a of assignments)
    byDomain.set(
      a.domain,
      groups.filter((g) => owner.get(g.group) === a.domain),
    )
  return { ok: true, byDomain, notes }
}
