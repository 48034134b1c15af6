import type { DomainXml, PciTuple } from '../../facts/parse-domain-xml.js'

// pseries guests: each IOMMU group goes on a spapr-pci-host-bridge (PHB) of its own. QEMU's EEH
// recovery works per PHB with one VFIO group behind it, and the guest sees each PHB as its own PCI
// domain (libvirt docs/pci-addresses.rst). A device's address names its PHB by `bus=` = the
// controller's `index` (domain stays 0x0000 in the XML). PHBs cannot be hot-plugged, so a running
// guest takes a group live only on a spare PHB it was started with.

// A PHB controller to add to a domain's definition (--config only).
export interface NewPhb {
  index: number // controller index: what `bus=` of the devices on it names
  target: number // <target index>: the PHB number the guest sees as its PCI domain
}

// libvirt's own formatting of a PHB controller.
export function phbXml(p: NewPhb): string {
  return [`<controller type='pci' index='${p.index}' model='pci-root'>`, "  <model name='spapr-pci-host-bridge'/>", `  <target index='${p.target}'/>`, '</controller>'].join('\n')
}

// The PHB indexes of a domain XML (index 0, the default PHB, holds the guest's own devices).
function phbIndexes(x: DomainXml): number[] {
  return (x.controllers ?? []).filter((c) => c.model === 'pci-root' && c.modelName === 'spapr-pci-host-bridge').map((c) => c.index)
}

// PHBs (other than 0) no device of the XML sits on: where a whole group can go.
export function sparePhbs(x: DomainXml): number[] {
  const busy = new Set(x.pciAddresses.filter((a) => a.domain === 0).map((a) => a.bus))
  return phbIndexes(x)
    .filter((i) => i > 0 && !busy.has(i))
    .sort((a, b) => a - b)
}

// Hands out PHBs for the groups of one domain, in order, and the controllers to add.
export class PhbAllocator {
  readonly added: NewPhb[] = []
  private readonly configSpare: number[]
  private readonly liveSpare: Set<number>
  private nextIndex: number
  private nextTarget: number

  constructor(config: DomainXml, live: DomainXml | undefined) {
    this.configSpare = sparePhbs(config)
    this.liveSpare = new Set(live ? sparePhbs(live) : [])
    const ctl = config.controllers ?? []
    this.nextIndex = Math.max(0, ...ctl.map((c) => c.index)) + 1
    this.nextTarget = Math.max(0, ...ctl.flatMap((c) => (c.targetIndex === undefined ? [] : [c.targetIndex]))) + 1
  }

  // A PHB for one group: `live` asks for one the running guest has too (undefined: none spare).
  take(live: boolean): number | undefined {
    const i = this.configSpare.findIndex((n) => !live || this.liveSpare.has(n))
    if (i >= 0) {
      const n = this.configSpare.splice(i, 1)[0]
      this.liveSpare.delete(n)
      return n
    }
    if (live) return undefined
    return this.add()
  }

  // Adds PHBs to the definition until `spares` stay free for live attaches after the next start.
  keepSpares(spares: number): void {
    while (this.configSpare.length < spares) this.configSpare.push(this.add())
  }

  private add(): number {
    const p = { index: this.nextIndex++, target: this.nextTarget++ }
    this.added.push(p)
    return p.index
  }
}

// The guest addresses of a group's members on its PHB: slot 1, 2, ... function 0.
export function phbAddresses(bus: number, n: number): PciTuple[] {
  return Array.from({ length: n }, (_, i) => ({ domain: 0, bus, slot: i + 1, function: 0 }))
}
