import { z } from 'zod'
import { change, defineTask, noop, type Step } from './define.js'
import { domainHostdevs, domainNameSchema, gpuFacts, gpuGroups, pciAddressSchema, type GpuFacts, type GpuGroup } from './lib/gpu-groups.js'
import { hostdevScript, type HostdevChange } from './lib/hostdev-script.js'

// Takes GPUs (whole IOMMU groups) back from libvirt domains; managed='yes' returns them to the host.
//
//   - gpu.detach: {}                           # every GPU group from every domain
//   - gpu.detach: { domains: [vm1] }
export const gpuDetachArgs = z
  .object({
    domains: z.array(domainNameSchema).optional().describe('only these domains (default: all)'),
    addresses: z.array(pciAddressSchema).optional().describe('only the groups of these host PCI addresses (default: every GPU group)'),
    live: z.boolean().default(true).describe('also detach from running domains (--live)'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type GpuDetachArgs = z.output<typeof gpuDetachArgs>

// The gpu.detach task.
export const gpuDetach = defineTask<GpuDetachArgs, GpuFacts>({
  name: 'gpu.detach',
  summary: 'detach GPU hostdevs (whole IOMMU groups) from libvirt domains',
  phase: 'any',
  facts: gpuFacts,
  args: gpuDetachArgs,
  plan(args, { pci, iommu, libvirt }) {
    if (!libvirt.available) return noop('virsh is not installed: nothing attached')
    let groups: GpuGroup[]
    try {
      groups = gpuGroups(pci, iommu)
    } catch (error) {
      return { kind: 'fail', reason: (error as Error).message }
    }
    if (args.addresses) {
      const want = args.addresses.map((a) => a.toLowerCase())
      const unknown = want.filter((a) => !groups.some((g) => g.members.includes(a)))
      if (unknown.length) return { kind: 'fail', reason: `not a GPU group member: ${unknown.join(', ')}` }
      groups = groups.filter((g) => g.members.some((m) => want.includes(m)))
    }
    const unknownDomains = (args.domains ?? []).filter((d) => !libvirt.domains.some((x) => x.name === d))
    if (unknownDomains.length) return { kind: 'fail', reason: `libvirt domain(s) not defined: ${unknownDomains.join(', ')}` }
    const steps: Step[] = []
    const did: string[] = []
    for (const dom of libvirt.domains) {
      if (args.domains && !args.domains.includes(dom.name)) continue
      const { running, inConfig, inLive } = domainHostdevs(dom)
      for (const g of groups) {
        const changes: HostdevChange[] = g.members.map((m) => ({ source: m, config: inConfig.has(m), live: args.live && running && inLive.has(m) })).filter((c) => c.config || c.live)
        if (changes.length === 0) continue
        steps.push({ kind: 'run', description: `detach IOMMU group ${g.group} from '${dom.name}'`, command: hostdevScript('detach', dom.name, changes), timeoutMs: 5 * 60_000 })
        did.push(`group ${g.group} (${g.gpus.join(', ')}) from '${dom.name}'`)
      }
    }
    if (steps.length === 0) return noop('no GPU attached to the selected domains')
    return change(`detach ${did.join('; ')}`, steps)
  },
})
