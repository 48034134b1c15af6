import { parseHostAddress, type PciTuple } from '../../facts/parse-domain-xml.js'

const hex = (v: number, w: number) => '0x' + v.toString(16).padStart(w, '0')

// libvirt's own attribute formatting: domain='0x0004' bus='0x04' slot='0x00' function='0x0'.
export function addressAttrs(t: PciTuple): string {
  return `domain='${hex(t.domain, 4)}' bus='${hex(t.bus, 2)}' slot='${hex(t.slot, 2)}' function='${hex(t.function, 1)}'`
}

// <hostdev> for a host PCI function; `guest` omitted lets libvirt choose (and isolate on pseries).
export function hostdevXml(source: string, guest?: PciTuple): string {
  const src = parseHostAddress(source)
  if (!src) throw new Error(`not a PCI address: ${source}`)
  return ["<hostdev mode='subsystem' type='pci' managed='yes'>", '  <source>', `    <address ${addressAttrs(src)}/>`, '  </source>', ...(guest ? [`  <address type='pci' ${addressAttrs(guest)}/>`] : []), '</hostdev>'].join('\n')
}

// An extended regex matching the hostdev's source in `virsh dumpxml | tr -d '\n'` output.
export function sourcePattern(source: string): string {
  const src = parseHostAddress(source)!
  return `<source[^>]*>[[:space:]]*<address ${addressAttrs(src)}`
}

// Free guest slots on bus 0 of PCI domain 0: a slot is taken when any function of it is used by
// anything in the XML (devices, controllers, hostdevs), so multifunction devices are never split.
export function pickGuestAddresses(used: PciTuple[], n: number): PciTuple[] | undefined {
  const taken = new Set(used.filter((u) => u.domain === 0 && u.bus === 0).map((u) => u.slot))
  const out: PciTuple[] = []
  for (let slot = 1; slot <= 0x1f && out.length < n; slot++) if (!taken.has(slot)) out.push({ domain: 0, bus: 0, slot, function: 0 })
  return out.length === n ? out : undefined
}
