import { describe, expect, it } from 'vitest'
import { parseDomainXml } from '../../src/facts/parse-domain-xml.js'

const hostdev = (bus: string, guestSlot: string) => `
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source>
        <address domain='0x0004' bus='${bus}' slot='0x00' function='0x0'/>
      </source>
      <address type='pci' domain='0x0000' bus='0x00' slot='${guestSlot}' function='0x0'/>
    </hostdev>`

describe('parseDomainXml', () => {
  it('counts only <devices>/<hostdev> as attached, not one inside <metadata>', () => {
    const xml = `<domain type='kvm'>
  <name>vm1</name>
  <metadata>
    <app:inventory xmlns:app='http://example.com/app'>${hostdev('0x05', '0x09')}
    </app:inventory>
    <metadata xmlns='http://example.com/nested'>
      <note/>
    </metadata>${hostdev('0x06', '0x0a')}
  </metadata>
  <devices>
    <controller type='pci' index='0' model='pci-root'/>${hostdev('0x04', '0x07')}
  </devices>
</domain>
`
    const parsed = parseDomainXml(xml)
    expect(parsed.name).toBe('vm1')
    expect(parsed.hostdevs).toEqual([{ source: '0004:04:00.0', managed: true, guest: { domain: 0, bus: 0, slot: 7, function: 0 } }])
    // Guest slots taken: only the real device's, not the ones named in metadata.
    expect(parsed.pciAddresses.map((a) => a.slot)).toEqual([7])
  })

  it('a self-closing <metadata/> hides nothing', () => {
    const parsed = parseDomainXml(`<domain type='kvm'><name>vm2</name><metadata/><devices>${hostdev('0x04', '0x07')}</devices></domain>`)
    expect(parsed.hostdevs.map((h) => h.source)).toEqual(['0004:04:00.0'])
  })
})
