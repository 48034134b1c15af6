// PCI functions written as an `lspci -x` config-space dump, which the real lspci reads back with
// `-F <file>` and names from its own pci.ids: how POWER GPU hosts' devices (which this machine
// does not have) go through the real tool. The functions are the simulator's profiles, so the
// real lspci and the simulator's emulated one can be compared on the same devices.
import { profiles, type PciDevice } from '../../src/sim/profiles.js'

// Every distinct function (by address) of every simulator profile, in lspci's (address) order.
export const POWER_GPU_FUNCTIONS: PciDevice[] = (() => {
  const byAddress = new Map<string, PciDevice>()
  for (const p of Object.values(profiles)) for (const d of p.devices) if (!byAddress.has(d.address)) byAddress.set(d.address, d)
  return [...byAddress.values()].sort((a, b) => a.address.localeCompare(b.address))
})()

const hex2 = (n: number) => n.toString(16).padStart(2, '0')

// The first 64 bytes of config space: ids, command/status, revision, class, header type (1 for
// PCI-to-PCI bridges, whose subsystem ids are not in the header), subsystem ids.
function configSpace(d: PciDevice): number[] {
  const b = new Array<number>(64).fill(0)
  const le16 = (at: number, hex: string) => {
    const v = parseInt(hex, 16)
    b[at] = v & 0xff
    b[at + 1] = v >> 8
  }
  le16(0x00, d.vendorId)
  le16(0x02, d.deviceId)
  le16(0x04, '0406') // memory space + bus master, SERR
  le16(0x06, '0010') // capabilities list
  b[0x08] = parseInt(d.rev ?? '00', 16)
  b[0x09] = parseInt(d.progIf, 16)
  b[0x0a] = parseInt(d.classCode.slice(2), 16)
  b[0x0b] = parseInt(d.classCode.slice(0, 2), 16)
  const bridge = d.classCode === '0604'
  b[0x0e] = bridge ? 1 : 0
  if (!bridge) {
    le16(0x2c, d.subsystemVendorId)
    le16(0x2e, d.subsystemId)
  }
  return b
}

export function configSpaceDump(devices: PciDevice[]): string {
  return devices
    .map((d) => {
      const bytes = configSpace(d)
      const rows = [0, 16, 32, 48].map(
        (o) =>
          `${hex2(o)}: ${bytes
            .slice(o, o + 16)
            .map(hex2)
            .join(' ')}`,
      )
      return `${d.address} ${d.className}: ${d.vendorName} ${d.deviceName}\n${rows.join('\n')}\n`
    })
    .join('\n')
}
