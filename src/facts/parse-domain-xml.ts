// The parts of a libvirt domain XML the GPU tasks need. libvirt writes its own XML in one regular
// shape (attributes in single quotes, one element per line), so a small reader suffices.

// A PCI address as libvirt writes it: (domain, bus, slot, function).
export interface PciTuple {
  domain: number
  bus: number
  slot: number
  function: number
}

// A <hostdev type=pci>: the host function and, if set, its guest address.
export interface DomainHostdev {
  source: string // host PCI address 'dddd:bb:ss.f'
  managed: boolean
  guest?: PciTuple // <address type='pci'> outside <source>
}

// A <controller type='pci'>: its index (what a device's address `bus=` names) and model; a pseries
// PHB is `pci-root` with <model name='spapr-pci-host-bridge'/> and <target index='N'/>.
export interface PciController {
  index: number
  model: string // 'pci-root', 'pci-bridge', 'pcie-root', ...
  modelName?: string // <model name='...'/>: 'spapr-pci-host-bridge'
  targetIndex?: number // <target index='N'/>: the PHB's index (the guest's PCI domain)
}

// What the GPU tasks read from one domain XML.
export interface DomainXml {
  name?: string
  machine?: string // <type machine='pseries-rhel8.4.0'>
  cpuModel?: string // <cpu><model>power8</model></cpu>: a POWER8-compat guest
  hostdevs: DomainHostdev[] // PCI subsystem hostdevs only
  pciAddresses: PciTuple[] // every <address type='pci'> in the XML: devices, controllers, hostdevs
  controllers?: PciController[] // every <controller type='pci'>
}

// Parses a domain XML; throws on text that is not a <domain> document.
export function parseDomainXml(xml: string): DomainXml {
  if (!/<domain[\s>]/.test(xml)) throw new Error('not a libvirt domain XML')
  const name = /<name>([^<]*)<\/name>/.exec(xml)?.[1]
  const hostdevs: DomainHostdev[] = []
  // Only the domain's own <devices> count: <metadata> holds other applications' XML, which may
  // well contain a <hostdev> that is attached to nothing.
  const own = withoutMetadata(xml)
  for (const m of devicesOf(own).matchAll(/<hostdev\b([^>]*)>([\s\S]*?)<\/hostdev>/g)) {
    const attrs = attributes(m[1])
    if (attrs.mode !== 'subsystem' || attrs.type !== 'pci') continue
    const body = m[2]
    const src = /<source\b[^>]*>([\s\S]*?)<\/source>/.exec(body)
    const srcAddr = src ? /<address\b([^>]*)\/?>/.exec(src[1]) : null
    if (!srcAddr) continue
    const outside = src ? body.replace(src[0], '') : body
    const guestAttrs = [...outside.matchAll(/<address\b([^>]*)\/?>/g)].map((a) => attributes(a[1])).find((a) => a.type === 'pci')
    hostdevs.push({
      source: formatHostAddress(tuple(attributes(srcAddr[1]))),
      managed: attrs.managed === 'yes',
      ...(guestAttrs ? { guest: tuple(guestAttrs) } : {}),
    })
  }
  const pciAddresses = [...own.matchAll(/<address\b([^>]*)\/?>/g)]
    .map((a) => attributes(a[1]))
    .filter((a) => a.type === 'pci')
    .map(tuple)
  const controllers: PciController[] = []
  // A controller is either `<controller .../>` or `<controller ...>body</controller>`.
  for (const m of own.matchAll(/<controller\b([^>]*?)(?:\/>|>([\s\S]*?)<\/controller>)/g)) {
    const attrs = attributes(m[1])
    if (attrs.type !== 'pci' || !/^\d+$/.test(attrs.index ?? '')) continue
    const body = m[2] ?? ''
    const modelName = /<model\s+name=['"]([^'"]*)['"]/.exec(body)?.[1]
    const target = /<target\b[^>]*\sindex=['"](\d+)['"]/.exec(body)?.[1]
    controllers.push({ index: Number(attrs.index), model: attrs.model ?? '', ...(modelName ? { modelName } : {}), ...(target !== undefined ? { targetIndex: Number(target) } : {}) })
  }
  const machine = /<type\b[^>]*\smachine=['"]([^'"]*)['"]/.exec(xml)?.[1]
  const cpuModel = /<cpu\b[^>]*>[\s\S]*?<model\b[^>]*>([^<]+)<\/model>[\s\S]*?<\/cpu>/.exec(xml)?.[1]?.trim()
  return { ...(name !== undefined ? { name: unescapeXml(name) } : {}), ...(machine ? { machine } : {}), ...(cpuModel ? { cpuModel } : {}), hostdevs, pciAddresses, controllers }
}

// A pseries guest (sPAPR): its PCI host bridges are spapr-pci-host-bridge controllers.
export function isPseries(x: DomainXml): boolean {
  return /^pseries/.test(x.machine ?? '') || (x.controllers ?? []).some((c) => c.modelName === 'spapr-pci-host-bridge')
}

// The XML without its <metadata> elements (nested ones included).
function withoutMetadata(xml: string): string {
  let out = ''
  let depth = 0
  let from = 0
  for (const m of xml.matchAll(/<(\/?)metadata\b[^>]*?(\/?)>/g)) {
    const [tag, close, selfClosing] = [m[0], m[1] === '/', m[2] === '/']
    if (depth === 0) out += xml.slice(from, m.index)
    if (selfClosing) {
      // nothing inside
    } else if (close) depth = Math.max(0, depth - 1)
    else depth++
    from = m.index + tag.length
  }
  return depth === 0 ? out + xml.slice(from) : out
}

// The content of the domain's <devices> element ('' when it has none).
function devicesOf(xml: string): string {
  const start = /<devices\b[^>]*>/.exec(xml)
  if (!start) return ''
  const end = xml.lastIndexOf('</devices>')
  return end > start.index ? xml.slice(start.index + start[0].length, end) : ''
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/([\w:-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")/g)) out[m[1]] = m[2] ?? m[3] ?? ''
  return out
}

function tuple(a: Record<string, string>): PciTuple {
  const n = (v: string | undefined) => (v === undefined ? 0 : Number.parseInt(v, v.startsWith('0x') ? 16 : 10))
  return { domain: n(a.domain), bus: n(a.bus), slot: n(a.slot), function: n(a.function) }
}

// 'dddd:bb:ss.f' as lspci -D prints it.
export function formatHostAddress(t: PciTuple): string {
  const h = (v: number, w: number) => v.toString(16).padStart(w, '0')
  return `${h(t.domain, 4)}:${h(t.bus, 2)}:${h(t.slot, 2)}.${t.function.toString(16)}`
}

// Parses 'dddd:bb:ss.f' (domain optional, as lspci without -D prints it).
export function parseHostAddress(text: string): PciTuple | undefined {
  const m = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(text.trim())
  if (!m) return undefined
  return { domain: Number.parseInt(m[1] ?? '0', 16), bus: Number.parseInt(m[2], 16), slot: Number.parseInt(m[3], 16), function: Number(m[4]) }
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}
