// The outputs captured from real Debian tools (test/fixtures/real, `npm run fixtures:capture`)
// through gpufleet's parsers, without the tools: these run everywhere (also on Node 22 in CI).
// The live tools run in test/real/*; here a capture that no longer matches what gpufleet writes
// (e.g. the blacklist file changed) fails until it is captured again.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { modprobeConfig } from '../../src/facts/modprobe-config.js'
import { parseDomainXml } from '../../src/facts/parse-domain-xml.js'
import { parseGrubenv } from '../../src/facts/parse-grubenv.js'
import { pciDevices } from '../../src/facts/pci-devices.js'
import { blacklistContent } from '../../src/tasks/modprobe-blacklist.js'

const REAL = join(import.meta.dirname, '../fixtures/real')
const read = (rel: string) => readFileSync(join(REAL, rel), 'utf8')
const sources = JSON.parse(read('SOURCES.json')) as Record<string, { tool: string; package: string; version: string; command: string }>

describe('captured real-tool outputs', () => {
  test('every capture names its tool, package version and command', () => {
    expect(Object.keys(sources).length).toBeGreaterThanOrEqual(8)
    for (const [file, s] of Object.entries(sources)) {
      expect(read(file).length, file).toBeGreaterThan(0)
      expect(s.version, file).toMatch(/\d/)
      expect(s.command, file).toContain(s.tool)
    }
  })

  test('grub-editenv: the raw block and the list output parse to the same values', () => {
    const raw = read('grub/grubenv')
    expect(raw.length).toBe(1024)
    const listed = parseGrubenv(read('grub/editenv-list.txt'))
    expect(parseGrubenv(raw)).toEqual(listed)
    expect(listed.next_entry).toBe('CentOS Linux (4.14.0-49.10.1.el7a.ppc64le) 7 (AltArch) - gpufleet')
    expect(listed.kernelopts).toMatch(/ vfio-pci\.disable_idle_d3=1 $/)
  })

  test("kmod: what modprobe --showconfig made of gpufleet's blacklist file is what the fact reads from it today", () => {
    const shown = read('kmod/showconfig-blacklist-nouveau.txt').trim().split('\n')
    const fact = modprobeConfig.parse(`@@ dir 1\n@@ file 1 /etc/modprobe.d/blacklist-nouveau.conf\n${blacklistContent(['nouveau'])}\n`, 0)
    expect(fact.blacklisted).toEqual(
      shown
        .filter((l) => l.startsWith('blacklist '))
        .map((l) => l.slice('blacklist '.length))
        .sort(),
    )
    expect(fact.options.map((o) => `options ${o.module} ${o.param}=${o.value}`)).toEqual(shown.filter((l) => l.startsWith('options ')))
    expect(shown).toContain('alias nouveau off')
  })

  test("libvirt: the test driver's dumpxml parses to the hostdevs that were defined", () => {
    const xml = parseDomainXml(read('libvirt/dumpxml-inactive-vm1.xml'))
    expect(xml.name).toBe('vm1')
    expect(xml.hostdevs.map((h) => h.source)).toEqual(['0004:04:00.0', '0004:05:00.0'])
    expect(xml.hostdevs.every((h) => h.managed)).toBe(true)
  })

  test("lspci: the capturing machine's devices parse, one per top-level line", () => {
    const text = read('lspci/this-machine-Dnnk.txt')
    const devices = pciDevices.parse(text, 0)
    expect(devices.length).toBe(text.split('\n').filter((l) => /^[0-9a-f]{4}:/.test(l)).length)
    expect(devices.length).toBeGreaterThan(0)
  })
})
