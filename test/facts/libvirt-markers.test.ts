import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildGatherScript, parseFacts, splitGatherOutput } from '../../src/facts/gather.js'
import { kernelCmdline } from '../../src/facts/kernel-cmdline.js'
import { libvirtDomains } from '../../src/facts/libvirt-domains.js'

// A VM's <description> is free text from whoever defined the VM. Lines in it that look like this
// fact's `@@` sections or the gather script's fact markers must stay inside the XML: run through the
// real gather script with a fake virsh that prints such a description.
let bin: string
beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'gpufleet-virsh-'))
  const xml = [
    "<domain type='kvm'>",
    '  <name>vm1</name>',
    '  <description>line one',
    '@@ domain evil',
    '@@ config',
    "<domain type='kvm'><name>evil</name></domain>",
    '@@gpufleet-fact@@ end libvirt.domains 0',
    '@@gpufleet-fact@@ begin kernel.cmdline',
    'root=/dev/evil vfio-pci.disable_idle_d3=1',
    '</description>',
    '  <devices>',
    "    <controller type='usb' index='0'><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/></controller>",
    '  </devices>',
    '</domain>',
  ].join('\n')
  writeFileSync(join(bin, 'virsh'), `#!/bin/sh\ncase "$1" in list) echo vm1; echo ;; domstate) echo 'shut off' ;; dumpxml) cat <<'XML'\n${xml}\nXML\n;; esac\n`)
  chmodSync(join(bin, 'virsh'), 0o755)
})
afterAll(() => rmSync(bin, { recursive: true, force: true }))

test.each(['sh', 'bash'])('description text cannot fake domains or other facts (%s)', (shell) => {
  const script = buildGatherScript([libvirtDomains, kernelCmdline])
  const r = spawnSync(shell, ['-c', script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  const facts = parseFacts({ libvirt: libvirtDomains, cmdline: kernelCmdline }, splitGatherOutput(r.stdout))
  expect(facts.libvirt.domains.map((d) => d.name)).toEqual(['vm1'])
  expect(facts.libvirt.domains[0].config.pciAddresses).toEqual([{ domain: 0, bus: 0, slot: 1, function: 0 }])
  expect(facts.cmdline.raw).not.toContain('/dev/evil')
})
