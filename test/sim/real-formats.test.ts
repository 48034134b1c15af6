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
        if (flags.some((f) => f.includes('k')))
          emulated = emulated
            .split('\n')
            .filter((l) => !/^\tKernel (driver in use|modules):/.test(l))
            .join('\n')
        expect(emulated, `lspci ${flags.join(' ')}`).toBe(real)
        if (flags[0] === '-Dnnk') expect(pciDevices.parse(emulated, 0)).toEqual(pciDevices.parse(real, 0))
      }
    })
  }
})

// The line shapes of an lsinitrd listing that the initramfs.status parser and an admin read.
const LSINITRD_SHAPES: [string, RegExp][] = [
  ['image', /^Image: \S+: \d+(\.\d+)?[KMG]$/],
  ['rule', /^={72}$/],
  ['version', /^Version: dracut-\S+$/],
  ['blank', /^$/],
  ['arguments', /^Arguments: ( -{1,2}[\w-]+( '[^']*')?)+$/],
  ['modules', /^dracut modules:$/],
  ['module', /^[a-z0-9][a-z0-9_-]*$/],
  ['row', /^[-dlcbps][rwxsStT-]{9} +\d+ \S+ +\S+ +(\d+|\d+, +\d+) \w{3} [ \d]\d (\d\d:\d\d| \d{4}) \S.*$/],
]
const shapeOf = (line: string) => LSINITRD_SHAPES.find(([, re]) => re.test(line))?.[0] ?? `unknown: ${line}`
// The listing as a sequence of shapes, runs of modules and rows collapsed.
const shapes = (text: string) =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map(shapeOf)
    .filter((s, i, all) => !(i > 0 && s === all[i - 1] && (s === 'module' || s === 'row')))
// Where a regular file row's date and name start: lsinitrd's (cpio -tv's) columns.
const columns = (text: string) => {
  const row = text.split('\n').find((l) => /^-rw-r--r-- +1 root +root +\d+ \w{3} [ \d]\d \d\d:\d\d \S/.test(l))!
  const date = /\w{3} [ \d]\d \d\d:\d\d/.exec(row)!
  return { date: date.index, name: date.index + date[0].length + 1 }
}

describe('lsinitrd: the sim lists an image in the shapes of the real lsinitrd (dracut 059 capture)', () => {
  it('header, Arguments line, modules and file rows, line by line; the parser reads both alike', async () => {
    for (const name of ['stock', 'omit-drivers']) {
      const real = fs.readFileSync(path.join(REAL, `dracut/lsinitrd-${name}.txt`), 'utf8')
      expect(shapes(real).filter((s) => s.startsWith('unknown'))).toEqual([])
    }
    const real = fs.readFileSync(path.join(REAL, 'dracut/lsinitrd-omit-drivers.txt'), 'utf8')
    await sim(AC, 'dracut -f -v --omit-drivers nouveau 2>/dev/null')
    const emulated = await sim(AC, 'lsinitrd')
    expect(shapes(emulated)).toEqual(shapes(real))
    expect(columns(emulated)).toEqual(columns(real))
    const args = (t: string) => /^Arguments: .*$/m.exec(t)![0]
    expect(args(emulated)).toBe("Arguments:  -f -v --omit-drivers 'nouveau'")
    expect(args(real).endsWith(" -f -v --omit-drivers 'nouveau'")).toBe(true)
    // -m: version, modules and a closing rule, no Arguments line.
    const realMods = fs.readFileSync(path.join(REAL, 'dracut/lsinitrd-m-omit-drivers.txt'), 'utf8')
    expect(shapes(await sim(AC, 'lsinitrd -m'))).toEqual(shapes(realMods))
    // The stock image still carries nouveau, in the path shape of the real listing.
    const stock = fs.readFileSync(path.join(REAL, 'dracut/lsinitrd-stock.txt'), 'utf8')
    const nouveauRow = (t: string) => t.split('\n').find((l) => /\/nouveau\.ko(\.xz)?$/.test(l))!
    const simStock = await sim(AC, 'lsinitrd /boot/initramfs-4.18.0-240.el8.ppc64le.img')
    expect(shapeOf(nouveauRow(simStock))).toBe('row')
    expect(
      nouveauRow(simStock)
        .replace(/.* usr\/lib\/modules\/[^/]+\//, '')
        .replace(/\.xz$/, ''),
    ).toBe(nouveauRow(stock).replace(/.* usr\/lib\/modules\/[^/]+\//, ''))
    const status = (t: string, p: string) =>
      initramfsStatus.parse(
        `@@ image 1 1 ${p}\n${t
          .split('\n')
          .filter((l) => /nouveau|^Arguments:/.test(l))
          .join('\n')}\n@@ listed 0\n`,
        0,
      ).images[0]
    expect(status(emulated, '/boot/x.img')).toMatchObject({ listed: true, nouveauDriver: false, dracutArgs: "-f -v --omit-drivers 'nouveau'" })
    expect(status(simStock, '/boot/x.img')).toMatchObject({ listed: true, nouveauDriver: true })
    expect(status(stock, '/boot/x.img')).toMatchObject({ listed: true, nouveauDriver: true })
  })
})

describe("grub2-editenv: the sim edits grubenv as GRUB's grub-editenv does", () => {
  it("create, set, unset, list: same list output, same 1024-byte block apart from GRUB 2.06's extra header line", async () => {
    const ops = [['create'], ['set', 'saved_entry=Red Hat (4.18.0) 8.4', 'kernelopts=root=/dev/x ro a=b=c '], ['set', 'next_entry=1'], ['list'], ['unset', 'next_entry'], ['list']]
    const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`
    const emulated = await sim(AC, ops.map((o) => `grub2-editenv /root/env ${o.map(q).join(' ')}`).join('; ') + '; echo @@; cat /root/env')
    const file = path.join(dir, 'grubenv')
    let real = ''
    for (const o of ops) real += await runOk('grub-editenv', [file, ...o], { env: env() })
    real += '@@\n' + fs.readFileSync(file, 'utf8')
    const [simList, simBlock] = emulated.split('@@\n')
    const [realList, realBlock] = real.split('@@\n')
    expect(simList).toBe(realList)
    expect(simBlock.length).toBe(1024)
    expect(realBlock.length).toBe(1024)
    const body = (b: string) => b.split('\n').filter((l) => !l.startsWith('#'))
    expect(body(simBlock)).toEqual(body(realBlock))
    expect(simBlock.split('\n')[0]).toBe(realBlock.split('\n')[0])
    expect(simBlock.split('\n').pop()).toMatch(/^#+$/)
    expect(realBlock.split('\n').pop()).toMatch(/^#+$/)
  })
})

describe('virsh dumpxml: the sim formats hostdevs as libvirt does', () => {
  it("a hostdev attached with --config reads back the same from the sim and from libvirt's test driver", async () => {
    const hostdev = "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0035' bus='0x03' slot='0x00' function='0x0'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x00' slot='0x0c' function='0x0'/>\n</hostdev>\n"
    const r = await ssh(rack, AC, 'cat > /root/hd.xml && virsh attach-device vm2 /root/hd.xml --config >/dev/null && virsh dumpxml --inactive vm2', { input: hostdev })
    expect(r.code, r.stderr).toBe(0)
    const node = path.join(dir, 'node.xml')
    fs.writeFileSync(node, `<node>\n${r.stdout}</node>\n`)
    const real = await runOk('virsh', ['-q', '-c', `test://${node}`, 'dumpxml', '--inactive', 'vm2'], { env: env() })
    const blocks = (x: string) => [...x.matchAll(/^ *<hostdev[\s\S]*?<\/hostdev>$/gm)].map((m) => m[0])
    expect(blocks(r.stdout)).toHaveLength(1)
    expect(blocks(r.stdout)).toEqual(blocks(real))
    const a = parseDomainXml(r.stdout)
    const b = parseDomainXml(real)
    expect(a.hostdevs).toEqual(b.hostdevs)
    expect(a.pciAddresses).toEqual(b.pciAddresses)
    await ssh(rack, AC, 'virsh detach-device vm2 /root/hd.xml --config >/dev/null; rm /root/hd.xml')
  })
})
