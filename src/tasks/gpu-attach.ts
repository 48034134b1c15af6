import { z } from 'zod'
import { change, defineTask, noop, type Step } from './define.js'
import { allocateGroups, domainHostdevs, domainNameSchema, gpuFacts, gpuGroups, pciAddressSchema, type GpuFacts, type GpuGroup } from './lib/gpu-groups.js'
import { pickGuestAddresses } from './lib/hostdev-xml.js'
import { hostdevScript, type HostdevChange } from './lib/hostdev-script.js'
import { isPseries } from '../facts/parse-domain-xml.js'
import { PhbAllocator, phbAddresses } from './lib/guest-phbs.js'

// Gives GPUs to libvirt domains as <hostdev managed='yes'>, per the inventory's `gpufleet_vms` var: a whole
// IOMMU group (NVLink bridges included) to one domain, never split. On a pseries guest each group gets
// a spapr-pci-host-bridge of its own (guest-phbs.ts); a running guest takes a group live only on a
// spare PHB it was started with, so every definition that gains PHBs also gains `sparePhbs` empty ones.
// NVLink2 groups (V100 SXM2 + NPU bridges) go to shut-off guests only: NVLink2 is set up at PHB reset.
// A group holding a host device that is neither an NVIDIA function nor an NVLink bridge is refused.
//
//   - gpu.attach: {}                          # gpufleet_vms from the inventory
//   - gpu.attach: { guestAddress: libvirt }   # let libvirt place them
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
    guestAddress: z.enum(['pick', 'libvirt']).default('pick').describe('pick: pseries guests get one spapr-pci-host-bridge per IOMMU group (others: a free slot on bus 0); libvirt: omit the address and read back what libvirt chose'),
    live: z.boolean().default(true).describe('also attach to running domains (--live), not only their definition (--config)'),
    sparePhbs: z.number().int().min(0).max(16).default(1).describe('empty PHBs kept in a pseries definition that gains PHBs, for later live attaches (PHBs cannot be hot-plugged)'),
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
    // One function on purpose: the refusals, then per domain the groups to add and remove, in the order the plan's steps run.
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
      const pseries = args.guestAddress === 'pick' && isPseries(dom.config)
      const phbs = new PhbAllocator(dom.config, running ? dom.live : undefined)
      let grew = false
      for (const g of owned) {
        const changes: HostdevChange[] = g.members.map((m) => ({ source: m, config: !inConfig.has(m), live: args.live && running && !inLive.has(m) })).filter((c) => c.config || c.live)
        if (changes.length === 0) {
          done.push(`group ${g.group} (${g.gpus.join(', ')}) on '${name}'`)
          continue
        }
        if (g.foreign.length) {
          return {
            kind: 'fail',
            reason: `IOMMU group ${g.group} (${g.gpus.join(', ')}) also holds ${g.foreign.join('; ')}: neither an NVIDIA GPU function nor an NVLink bridge, so passing the group through would take it from the host; move the card to another slot or detach that device from the group by hand`,
            evidence: { group: g },
          }
        }
        if (g.nvlink2 && changes.some((c) => c.live)) {
          return {
            kind: 'fail',
            reason: `IOMMU group ${g.group} (${g.gpus.join(', ')} with NVLink2 bridges) cannot be attached to running '${name}': NVLink2 is set up when the guest's PHB is reset, at guest start; shut '${name}' down and run attach again, or attach with live: false (definition only, effective at its next start)`,
            evidence: { group: g, state: dom.state },
          }
        }
        const before = phbs.added.length
        if (pseries) {
          const fresh = changes.filter((c) => c.config)
          const wantLive = fresh.some((c) => c.live)
          if (fresh.length) {
            const bus = phbs.take(wantLive)
            if (bus === undefined) {
              return {
                kind: 'fail',
                reason: `running '${name}' has no spare PHB (spapr-pci-host-bridge) for IOMMU group ${g.group}: PHBs cannot be hot-plugged; attach with live: false (a PHB is added to the definition, the GPUs come at its next start) or shut '${name}' down first`,
                evidence: { group: g },
              }
            }
            if (fresh.length > 31) return { kind: 'fail', reason: `IOMMU group ${g.group} has ${fresh.length} functions, more than the 31 slots of one PHB` }
            phbAddresses(bus, fresh.length).forEach((a, i) => (fresh[i].guest = a))
          }
          for (const c of changes.filter((x) => !x.config)) c.guest = dom.config.hostdevs.find((h) => h.source === c.source)?.guest
        } else if (args.guestAddress === 'pick') {
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
        const added = phbs.added.slice(before)
        if (pseries && changes.some((c) => c.config)) grew = true
        const where = pseries && changes[0].guest ? ` on PHB ${changes[0].guest.bus}${added.length ? ' (new)' : ' (spare)'}` : ''
        steps.push({
          kind: 'run',
          description: `attach IOMMU group ${g.group} (${g.members.join(', ')}) to '${name}'${running ? ' (running)' : ''}${where}`,
          command: hostdevScript('attach', name, changes, added),
          timeoutMs: 5 * 60_000,
        })
        did.push(`group ${g.group} (${g.gpus.join(', ')}${g.members.length > g.gpus.length ? ` + ${g.members.length - g.gpus.length} more` : ''}) → '${name}'${where}`)
      }
      if (grew) {
        const before = phbs.added.length
        phbs.keepSpares(args.sparePhbs)
        const spares = phbs.added.slice(before)
        if (spares.length) {
          steps.push({
            kind: 'run',
            description: `add ${spares.length} spare PHB(s) to '${name}' for later live attaches (index ${spares.map((p) => p.index).join(', ')})`,
            command: hostdevScript('attach', name, [], spares),
            timeoutMs: 60_000,
          })
        }
      }
    }
    const notes = [...alloc.notes, ...(done.length ? [`already attached: ${done.join('; ')}`] : [])]
    if (steps.length === 0) return noop(`GPUs already attached: ${done.join('; ') || 'none assigned'}`, alloc.notes.length ? alloc.notes : undefined)
    return change(`attach ${did.join('; ')}`, steps, notes.length ? { notes } : {})
  },
})
