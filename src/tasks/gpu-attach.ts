import { z } from 'zod'
import { change, defineTask, noop, type Step } from './define.js'
import { allocateGroups, domainHostdevs, domainNameSchema, gpuFacts, gpuGroups, pciAddressSchema, type GpuFacts, type GpuGroup } from './lib/gpu-groups.js'
import { pickGuestAddresses } from './lib/hostdev-xml.js'
import { hostdevScript, type HostdevChange } from './lib/hostdev-script.js'

// Gives GPUs to libvirt domains as <hostdev managed='yes'>, per the inventory's `gpufleet_vms` var: a whole
// IOMMU group (NVLink bridges included) to one domain, never split.
//
//   - gpu.attach: {}                          # gpufleet_vms from the inventory
//   - gpu.attach: { guestAddress: libvirt }   # let libvirt place them (pseries: one PHB per group)
const assignmentSchema = z
  .object({
    domain: domainNameSchema,
    addresses: z.array(pciAddressSchema).optional(),
    count: z.number().int().min(1).optional(),
  })
  .strict()

// Args schema: checked when the playbook loads, exported by `gpufleet schema`.
export const gpuAttachArgs = z
  .object({
    vms: z.array(assignmentSchema).optional().describe("GPU→VM assignments; default: the host's `gpufleet_vms` inventory var"),
    guestAddress: z.enum(['pick', 'libvirt']).default('pick').describe('pick: a free slot on guest bus 0; libvirt: omit the address and read back what libvirt chose'),
    live: z.boolean().default(true).describe('also attach to running domains (--live), not only their definition (--config)'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type GpuAttachArgs = z.output<typeof gpuAttachArgs>

// The gpu.attach task.
export const gpuAttach = defineTask<GpuAttachArgs, GpuFacts>({
  name: 'gpu.attach',
  summary: 'attach GPUs (whole IOMMU groups, NVLink bridges included) to libvirt domains as managed hostdevs',
  phase: 'any',
  facts: gpuFacts,
  args: gpuAttachArgs,
  plan(args, { pci, iommu, libvirt }, ctx) {
    const assignments = args.vms ?? ctx.host.assignments
    if (assignments.length === 0) return noop('no GPU assignments (`gpufleet_vms` var) for this host')
    if (!libvirt.available) return { kind: 'fail', reason: 'virsh is not installed' }
    let groups: GpuGroup[]
    try {
      groups = gpuGroups(pci, iommu)
    } catch (error) {
      return { kind: 'fail', reason: (error as Error).message }
    }
    const alloc = allocateGroups(assignments, groups, libvirt.domains)
    if (!alloc.ok) return { kind: 'fail', reason: alloc.reason, evidence: alloc.evidence }
    const steps: Step[] = []
    const done: string[] = []
    const did: string[] = []
    for (const [name, owned] of alloc.byDomain) {
      const dom = libvirt.domains.find((d) => d.name === name)!
      const { running, inConfig, inLive } = domainHostdevs(dom)
      const used = [...dom.config.pciAddresses, ...(dom.live?.pciAddresses ?? [])]
      for (const g of owned) {
        const changes: HostdevChange[] = g.members
          .map((m) => ({ source: m, config: !inConfig.has(m), live: args.live && running && !inLive.has(m) }))
          .filter((c) => c.config || c.live)
        if (changes.length === 0) {
          done.push(`group ${g.group} (${g.gpus.join(', ')}) on '${name}'`)
          continue
        }
        if (args.guestAddress === 'pick') {
          // A device already in the config keeps its address for the live attach.
          const fresh = changes.filter((c) => c.config)
          const picked = pickGuestAddresses(used, fresh.length)
          if (!picked) return { kind: 'fail', reason: `no free guest PCI slot on bus 0 of '${name}' for ${fresh.length} device(s)`, evidence: { used } }
          fresh.forEach((c, i) => {
            c.guest = picked[i]
            used.push(picked[i])
          })
          for (const c of changes.filter((x) => !x.config)) c.guest = dom.config.hostdevs.find((h) => h.source === c.source)?.guest
        }
        steps.push({
          kind: 'run',
          description: `attach IOMMU group ${g.group} (${g.members.join(', ')}) to '${name}'${running ? ' (running)' : ''}`,
          command: hostdevScript('attach', name, changes),
          timeoutMs: 5 * 60_000,
        })
        did.push(`group ${g.group} (${g.gpus.join(', ')}${g.members.length > g.gpus.length ? ` + ${g.members.length - g.gpus.length} more` : ''}) → '${name}'`)
      }
    }
    const notes = [...alloc.notes, ...(done.length ? [`already attached: ${done.join('; ')}`] : [])]
    if (steps.length === 0) return noop(`GPUs already attached: ${done.join('; ') || 'none assigned'}`, alloc.notes.length ? alloc.notes : undefined)
    return change(`attach ${did.join('; ')}`, steps, notes.length ? { notes } : {})
  },
})
