import { defineFact } from './define.js'

// One PCI function as `lspci -Dnnk` describes it.
export interface PciDevice {
  address: string // 'dddd:bb:ss.f', lower-case hex
  className: string // '3D controller'
  classId: string // '0302'
  description: string // 'NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB]'
  vendorId: string // '10de'
  deviceId: string // '1db1'
  rev?: string
  driver?: string // "Kernel driver in use"
  modules: string[] // "Kernel modules"
}

// `lspci -Dnnk`: -D forces the PCI domain (POWER has many), -nn adds [class] and [vendor:device],
// -k the bound driver.
export const pciDevices = defineFact({
  name: 'pci.devices',
  command: 'lspci -Dnnk',
  parse(stdout, exitCode): PciDevice[] {
    if (exitCode === 127) throw new Error('lspci is not installed (pciutils)')
    const devices: PciDevice[] = []
    let cur: PciDevice | null = null
    for (const raw of stdout.split('\n')) {
      const line = raw.replace(/\r$/, '')
      if (line.trim() === '') continue
      if (/^\s/.test(line)) {
        if (!cur) continue
        const m = /^\s+([^:]+):\s*(.*)$/.exec(line)
        if (!m) continue
        if (m[1] === 'Kernel driver in use') cur.driver = m[2].trim()
        else if (m[1] === 'Kernel modules')
          cur.modules = m[2]
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        continue
      }
      const m = /^([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]) (.+?) \[([0-9a-fA-F]{4})\]: (.*)$/.exec(line)
      if (!m) throw new Error(`unexpected lspci line: ${line}`)
      const rest = m[4]
      const ids = [...rest.matchAll(/\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/g)].pop()
      const rev = /\(rev ([0-9a-fA-F]+)\)/.exec(rest)?.[1]
      cur = {
        address: m[1].toLowerCase(),
        className: m[2],
        classId: m[3].toLowerCase(),
        description: ids ? rest.slice(0, ids.index).trim() : rest.trim(),
        vendorId: ids ? ids[1].toLowerCase() : '',
        deviceId: ids ? ids[2].toLowerCase() : '',
        ...(rev ? { rev } : {}),
        modules: [],
      }
      devices.push(cur)
    }
    return devices
  },
})

// NVIDIA display/3D controllers (class 03xx), not their audio or USB functions.
export function isNvidiaGpu(d: PciDevice): boolean {
  return d.vendorId === '10de' && d.classId.startsWith('03')
}
