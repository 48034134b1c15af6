// Real lspci (pciutils) for the pci.devices fact: its exact command on this machine's own PCI
// devices must parse and agree with lspci's machine-readable output (-vmm), and POWER GPU hosts'
// devices, given to lspci as a config-space dump (-F), must come out as the parser expects.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isNvidiaGpu, pciDevices } from '../../src/facts/pci-devices.js'
import { configSpaceDump, POWER_GPU_FUNCTIONS } from '../helpers/pci-dump.js'
import { pathWith, runOk, sh } from '../helpers/real-tools.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpufleet-real-lspci-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const env = () => ({ ...process.env, PATH: pathWith() })

// `lspci -vmm` records: Slot, Class, Vendor, Device, Rev, Driver, with -nn's [ids].
function machineReadable(text: string): { address: string; classId: string; vendorId: string; deviceId: string; rev?: string; driver?: string }[] {
  return text
    .trim()
    .split(/\n\n+/)
    .map((block) => {
      const f = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]))
      const id = (v: string) => /\[([0-9a-f]{4})\]$/.exec(v)![1]
      return { address: f.Slot, classId: id(f.Class), vendorId: id(f.Vendor), deviceId: id(f.Device), ...(f.Rev ? { rev: f.Rev } : {}), ...(f.Driver ? { driver: f.Driver } : {}) }
    })
}

describe('lspci', () => {
  test("the fact's command on this machine parses, and finds every device lspci -vmm lists", async () => {
    const r = await sh(pciDevices.command, { env: env() })
    expect(r.code, r.stderr).toBe(0)
    const devices = pciDevices.parse(r.stdout, 0)
    const truth = machineReadable(await runOk('lspci', ['-D', '-vmm', '-nn', '-k'], { env: env() }))
    expect(truth.length).toBeGreaterThan(0)
    expect(devices.map(({ address, classId, vendorId, deviceId, rev, driver }) => ({ address, classId, vendorId, deviceId, ...(rev ? { rev } : {}), ...(driver ? { driver } : {}) }))).toEqual(truth)
  })

  test("POWER GPU hosts' functions (V100, P100, NVLink bridges, PHBs) from a config-space dump", async () => {
    const dump = join(dir, 'power.dump')
    writeFileSync(dump, configSpaceDump(POWER_GPU_FUNCTIONS))
    const out = await runOk('lspci', ['-F', dump, '-Dnnk'], { env: env() })
    const devices = pciDevices.parse(out, 0)
    expect(devices.map((d) => d.address)).toEqual(POWER_GPU_FUNCTIONS.map((f) => f.address))
    for (const [i, f] of POWER_GPU_FUNCTIONS.entries()) {
      expect(devices[i]).toMatchObject({ classId: f.classCode, className: f.className, vendorId: f.vendorId, deviceId: f.deviceId })
      expect(devices[i].rev).toBe(f.rev)
      expect(isNvidiaGpu(devices[i])).toBe(f.gpu === true)
    }
    expect(devices.find((d) => d.deviceId === '1db1')!.description).toBe('NVIDIA Corporation GV100GL [Tesla V100 SXM2 16GB]')
  })
})
