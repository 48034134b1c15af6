// The simulator's emulated tools against the real Debian tools on equivalent state, so the two
// cannot drift together: lspci (the same devices, given to the real lspci as a config-space dump),
// lsinitrd (the line shapes of a real dracut 059 listing captured in test/fixtures/real/dracut),
// grub2-editenv (the same edits by the real grub-editenv) and virsh dumpxml (the sim's domain
// XML round-tripped through libvirt's test driver). See test/fixtures/real/README.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initramfsStatus } from '../../src/facts/initramfs-status.js'
import { parseDomainXml } from '../../src/facts/parse-domain-xml.js'
import { pciDevices } from '../../src/facts/pci-devices.js'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { profiles } from '../../src/sim/profiles.js'
import { configSpaceDump } from '../helpers/pci-dump.js'
import { pathWith, run, runOk } from '../helpers/real-tools.js'
import { ssh } from './helpers.js'

let rack: Rack
let dir: string
const HOSTS = { 'p9-r1-01': 'ac922', 'p9-r1-02': 's822lc', 'p9-r1-03': 'pcie' } as const
const AC = 'p9-r1-01'
const REAL = path.join(import.meta.dirname, '../fixtures/real')
const env = () => ({ ...process.env, PATH: pathWith() })

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-real-formats-'))
  const spec = path.join(dir, 'spec.yaml')
  fs.writeFileSync(spec, 'hosts: 3\nrules:\n  - match: p9-r1-02\n    profile: s822lc\n  - match: p9-r1-03\n    profile: pcie\n')
  rack = await startRack({ dir: path.join(dir, 'rack'), spec, rebootTimeMs: 200 })
})
afterAll(async () => {
  await rack?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

const sim = async (host: string, cmd: string) => {
  const r = await ssh(rack, host, cmd)
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
}

// Debian's pci.ids is newer than the hwdata of the EL7/EL8 hosts whose lspci lines the simulator
// copies (power9-domain.md): a function those hosts show as "Device" (e.g. IBM 1014:04c1) may
// have a name here, and so may a subsystem id (10de:1212) the sim shows as "Device". Those names
// are put back to what the sim shows; every other byte must match.
function asOlderPciIds(real: string, devices: (typeof profiles)[string]['devices'], nn: string): string {
  const names = new Map<string, string>()
  for (const d of devices.filter((x) => x.deviceName === 'Device')) {
    const line = nn.split('\n').find((l) => l.startsWith(d.address + ' '))
    const m = line && new RegExp(`: ${d.vendorName} (.*) \\[${d.vendorId}:${d.deviceId}\\]`).exec(line)
    if (m && m[1] !== 'Device') names.set(d.address, m[1])
  }
  let cur: (typeof devices)[number] | undefined
  return real
    .split('\n')
    .map((l) => {
      if (!l.startsWith('\t')) {
        cur = devices.find((x) => l.startsWith(x.address + ' '))
        const name = cur && names.get(cur.address)
        if (cur && name) l = l.replace(`${cur.vendorName} ${name} [`, `${cur.vendorName} Device [`).replace(`${cur.vendorName} ${name}`, `${cur.vendorName} Device ${cur.deviceId}`)
        return l
      }
      // A subsystem id other than the device's own: pci.ids may name it, the sim does not.
      if (cur && l.startsWith('\tSubsystem: ') && (cur.subsystemVendorId !== cur.vendorId || cur.subsystemId !== cur.deviceId)) {
        if (l.endsWith(`[${cur.subsystemVendorId}:${cur.subsystemId}]`)) return `\tSubsystem: ${cur.vendorName} Device [${cur.subsystemVendorId}:${cur.subsystemId}]`
        if (!/^\tSubsystem: [0-9a-f]{4}:[0-9a-f]{4}$/.test(l)) return `\tSubsystem: ${cur.vendorName} Device ${cur.subsystemId}`
      }
      return l
    })
    .join('\n')
}

describe('lspci: the sim prints what pciutils prints for the same devices', () => {
  for (const [host, profile] of Object.entries(HOSTS)) {
    it(`${host} (${profile})`, async () => {
      const devices = [...profiles[profile].devices].sort((a, b) => a.address.localeCompare(b.address))
      const dump = path.join(dir, `${profile}.dump`)
      fs.writeFileSync(dump, configSpaceDump(devices))
      const lspci = (...flags: string[]) => runOk('lspci', ['-F', dump, ...flags], { env: env() })
      const nn = await lspci('-nn')
      for (const flags of [['-nn'], ['-Dnn'], ['-n'], [], ['-Dnnk'], ['-k']]) {
        const real = asOlderPciIds(await lspci(...flags), devices, nn)
        let emulated = await sim(host, `lspci ${flags.join(' ')}`)
        // -k: the real tool cannot know drivers from a dump: compare without the driver lines.
        if (flags.some((f) => f.includes('k'))) emulated = emulated.split('\n').filter((l) => !/^\tKernel (driver in use|modules):/.test(l)).join('\n')
        expect(emulated, `lspci ${flags.join(' ')}`).toBe(real)
        if (flags[0] === '-Dnnk') expect(pciDevices.parse(emulated, 0)).toEqual(pciDevices.parse(real, 0))
      }
    })
  }
})
