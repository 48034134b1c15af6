import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseDomainXml, type DomainXml } from '../../src/facts/parse-domain-xml.js'
import { run } from '../helpers/real-tools.js'
import { ssh } from '../sim/helpers.js'
import { racksPerTest, runQuiet, type RackFixture } from './rack-helpers.js'

// pseries-correct attach on the simulated rack: every IOMMU group on a spapr-pci-host-bridge of its
// own, spare PHBs for later live attaches, NVLink2 groups only to shut-off guests. The domain XML is
// read back from the host's libvirt and checked by libvirt's own virt-xml-validate.

const rack = racksPerTest()

// gpu.attach alone: these tests are about placement, not the readiness check before it.
function attachPlaybook(f: RackFixture): string {
  const file = join(f.dir, 'attach-only.yaml')
  writeFileSync(file, 'name: attach-only\nstage:\n  - name: Attach GPUs to their VMs\n    gpu.attach: { guestAddress: pick, live: true }\n')
  return file
}

async function sh(f: RackFixture, host: string, command: string): Promise<string> {
  const r = await ssh(f.rack, host, command)
  if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

// The IOMMU group of each host PCI function, from the host's sysfs.
async function groupsOf(f: RackFixture, host: string): Promise<Map<string, string>> {
  const out = await sh(f, host, 'for d in /sys/kernel/iommu_groups/*/devices/*; do g=${d%/devices/*}; echo "${g##*/} ${d##*/}"; done')
  return new Map(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' ').reverse() as [string, string]),
  )
}

// Checks one domain XML: one PHB per IOMMU group, each hostdev on a PHB controller, and libvirt's
// schema accepts the whole document.
async function checkPhbs(f: RackFixture, host: string, xmlText: string, where: string): Promise<{ xml: DomainXml; busOfGroup: Map<string, number>; spare: number[] }> {
  const file = join(f.dir, `${host}-${where}.xml`)
  writeFileSync(file, xmlText)
  const v = await run('virt-xml-validate', [file, 'domain'])
  expect(v.code, `${where}: ${v.stdout}${v.stderr}`).toBe(0)
  const xml = parseDomainXml(xmlText)
  const groups = await groupsOf(f, host)
  const phbs = new Set((xml.controllers ?? []).filter((c) => c.model === 'pci-root' && c.modelName === 'spapr-pci-host-bridge').map((c) => c.index))
  const busOfGroup = new Map<string, number>()
  for (const h of xml.hostdevs) {
    const g = groups.get(h.source)!
    expect(h.guest, `${where} ${h.source} has a guest address`).toBeDefined()
    expect(h.guest!.bus, `${where} ${h.source} not on the default PHB`).toBeGreaterThan(0)
    expect(phbs.has(h.guest!.bus), `${where} ${h.source} sits on PHB ${h.guest!.bus}`).toBe(true)
    if (busOfGroup.has(g)) expect(h.guest!.bus, `${where}: group ${g} on one PHB`).toBe(busOfGroup.get(g))
    busOfGroup.set(g, h.guest!.bus)
  }
  const buses = [...busOfGroup.values()]
  expect(new Set(buses).size, `${where}: one PHB per IOMMU group`).toBe(buses.length)
  const used = new Set(xml.pciAddresses.map((a) => a.bus))
  return { xml, busOfGroup, spare: [...phbs].filter((p) => p > 0 && !used.has(p)) }
}

describe('attach on pseries guests', () => {
  it('a 4-GPU NVLink host and a 4xT4 PCIe host: one PHB per IOMMU group, spare PHBs, valid XML', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: ac922\nrules:\n  - { match: "*-02", profile: pcie }\n', { hosts: 2 })
    const [nv, t4] = f.rack.hosts.map((h) => h.name) as [string, string]
    const r = await runQuiet(f.spec({ playbook: attachPlaybook(f), output: 'plain' }))
    expect(r.exitCode, r.output).toBe(0)
    expect(r.outcomes).toEqual({ [nv]: 'changed', [t4]: 'changed' })

    // ac922: vm1 and vm2 each get one compound NVLink group (2 GPUs + 6 NPU bridges) on PHB 1.
    for (const vm of ['vm1', 'vm2']) {
      const { xml, busOfGroup, spare } = await checkPhbs(f, nv, await sh(f, nv, `virsh dumpxml --inactive ${vm}`), `${nv}-${vm}`)
      expect(xml.hostdevs).toHaveLength(8)
      expect(busOfGroup.size).toBe(1)
      expect(spare.length).toBeGreaterThanOrEqual(1)
    }
    // pcie: vm1 gets the 4 T4s, each its own group, on PHBs 1-4, and one spare.
    const { xml, busOfGroup, spare } = await checkPhbs(f, t4, await sh(f, t4, 'virsh dumpxml --inactive vm1'), `${t4}-vm1`)
    expect(xml.hostdevs.map((h) => h.source).sort()).toEqual(['0003:01:00.0', '0031:01:00.0', '0032:01:00.0', '0033:01:00.0'])
    expect([...busOfGroup.values()].sort()).toEqual([1, 2, 3, 4])
    expect(spare).toEqual([5])

    // The guests start with their groups (the simulator's libvirt checks group viability), and a
    // second attach changes nothing.
    for (const [h, vm] of [
      [nv, 'vm1'],
      [nv, 'vm2'],
      [t4, 'vm1'],
    ] as const)
      await sh(f, h, `virsh start ${vm}`)
    const again = await runQuiet(f.spec({ playbook: attachPlaybook(f), output: 'plain' }))
    expect(again.outcomes, again.output).toEqual({ [nv]: 'ok', [t4]: 'ok' })
  })

  it('a running guest gets a group live on a spare PHB; an NVLink2 group is refused for a running guest', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: pcie\nrules:\n  - { match: "*-02", profile: ac922 }\n', { hosts: 2 })
    const [t4, nv] = f.rack.hosts.map((h) => h.name) as [string, string]
    const vms = (n: number) => [`{"gpufleet_vms": [{"domain": "vm1", "count": ${n}}]}`]
    // Shut off: two T4 groups on PHBs 1 and 2, spare PHB 3 in the definition; then the guest starts.
    const first = await runQuiet(f.spec({ playbook: attachPlaybook(f), output: 'plain', limit: t4, extraVars: vms(2) }))
    expect(first.exitCode, first.output).toBe(0)
    await sh(f, t4, 'virsh start vm1')
    // Running: the third group goes live onto the spare PHB the guest was started with.
    const live = await runQuiet(f.spec({ playbook: attachPlaybook(f), output: 'plain', limit: t4, extraVars: vms(3) }))
    expect(live.exitCode, live.output).toBe(0)
    expect(live.output).toMatch(/on PHB 3 \(spare\)/)
    expect((await sh(f, t4, 'virsh domstate vm1')).trim()).toBe('running')
    const liveXml = await checkPhbs(f, t4, await sh(f, t4, 'virsh dumpxml vm1'), `${t4}-live`)
    expect(liveXml.xml.hostdevs).toHaveLength(3)
    expect([...liveXml.busOfGroup.values()].sort()).toEqual([1, 2, 3])
    const config = await checkPhbs(f, t4, await sh(f, t4, 'virsh dumpxml --inactive vm1'), `${t4}-config`)
    expect([...config.busOfGroup.values()].sort()).toEqual([1, 2, 3])
    // A new spare PHB is in the definition for after the next start.
    expect(config.spare).toEqual([4])
    const status = await f.rack.status(t4)
    expect(status.hostdevs.filter((h) => h.domain === 'vm1').length).toBeGreaterThanOrEqual(3)
    expect((await sh(f, t4, 'readlink /sys/bus/pci/devices/0032:01:00.0/driver')).trim()).toMatch(/vfio-pci$/)

    // NVLink2 (V100 SXM2 + NPU bridges) to a running guest: refused, saying why, nothing attached.
    await sh(f, nv, 'virsh start vm1')
    const refused = await runQuiet(f.spec({ playbook: attachPlaybook(f), output: 'plain', limit: nv, extraVars: vms(2) }))
    expect(refused.exitCode).toBe(1)
    expect(refused.output).toMatch(/NVLink2 is set up when the guest's PHB is reset/)
    expect(parseDomainXml(await sh(f, nv, 'virsh dumpxml --inactive vm1')).hostdevs).toEqual([])
  })
})
