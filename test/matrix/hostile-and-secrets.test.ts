import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { FleetError } from '../../src/errors.js'
import { loadInputs } from '../../src/commands/execute.js'
import { racksPerTest, runQuiet } from '../runner/rack-helpers.js'
import { downsOf, hostPath } from './host-state.js'

// Fault matrix (docs/reliability.md): hostile values in inventory vars and playbook args, and
// secrets in every output. Hosts' own state from the simulator: no canary file on any host or here.

const rack = racksPerTest()

// Each hostile value would create /tmp/gpufleet-pwned-<n> if any shell ran it as code.
const HOSTILE = ['$(touch /tmp/gpufleet-pwned-1)', '`touch /tmp/gpufleet-pwned-2`', 'x; touch /tmp/gpufleet-pwned-3', 'x\'"; touch /tmp/gpufleet-pwned-4 #', 'x\ntouch /tmp/gpufleet-pwned-5', '../../../../tmp/gpufleet-pwned-6', 'x\x1b]0;pwned\x07\x1bc']
const canaries = (root: string) => (existsSync(`${root}/tmp`) ? readdirSync(`${root}/tmp`).filter((f) => f.startsWith('gpufleet-pwned')) : [])

type SimInventory = { all: { vars: Record<string, unknown>; children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } }

describe('fault matrix: hostile values', () => {
  it('in every gpufleet/ansible inventory var: refused with file:line before connecting, or carried as data; nothing run', async () => {
    const f = await rack('hostsPerRack: 1\nprofile: pcie\n', { hosts: 1 })
    const host = f.rack.hosts[0]!.name
    const base = YAML.parse(readFileSync(f.rack.inventoryFile, 'utf8')) as SimInventory
    const vars = Object.values(base.all.children)[0]!.hosts[host]!
    const gpu = (vars.gpufleet_gpus as { addresses: string[] }).addresses[0]!
    // (var, how the hostile value goes in)
    const positions: Array<[string, (v: string) => Record<string, unknown>]> = [
      ['gpufleet_rack', (v) => ({ gpufleet_rack: v })],
      ['gpufleet_gpus.addresses', (v) => ({ gpufleet_gpus: { addresses: [v] } })],
      ['gpufleet_vms.domain', (v) => ({ gpufleet_vms: [{ domain: v, addresses: [gpu] }] })],
      ['gpufleet_vms.addresses', (v) => ({ gpufleet_vms: [{ domain: 'vm1', addresses: [v] }] })],
      ['gpufleet_bmc.url', (v) => ({ gpufleet_bmc: { url: v, user: 'root', password_file: f.rack.bmcPasswordFile } })],
      ['gpufleet_bmc.user', (v) => ({ gpufleet_bmc: { url: 'https://127.0.0.1:1', user: v, password_file: f.rack.bmcPasswordFile } })],
      ['ansible_user', (v) => ({ ansible_user: v })],
      ['ansible_become_user', (v) => ({ ansible_become: true, ansible_become_user: v })],
      ['ansible_python_interpreter', (v) => ({ ansible_python_interpreter: v })],
    ]
    const results: string[] = []
    for (const [name, put] of positions) {
      for (const [i, value] of HOSTILE.entries()) {
        const inv = structuredClone(base)
        Object.assign(Object.values(inv.all.children)[0]!.hosts[host]!, put(value))
        const file = join(f.dir, `inv-${name.replace(/\W/g, '_')}-${i}.yaml`)
        writeFileSync(file, YAML.stringify(inv, { version: '1.1' }))
        // what run/plan check before any connection (the same function), in-process: refused with file:line…
        const spec = f.spec({ inventory: file, check: true, output: 'plain' })
        const refusal = await loadInputs(spec).then(
          () => undefined,
          (e: unknown) => e,
        )
        if (refusal) {
          expect(refusal, `${name} #${i}`).toBeInstanceOf(FleetError)
          expect((refusal as Error).message, `${name} #${i}`).toMatch(new RegExp(`${file.replace(/[/.]/g, '\\$&')}:\\d+`))
          results.push(`${name}#${i}: refused`)
          continue
        }
        // …or accepted: then a real plan against the host carries it as data.
        const r = await runQuiet(spec)
        results.push(`${name}#${i}: planned, exit ${r.exitCode}`)
        expect([0, 1, 3], `${name} #${i}: ${r.output}`).toContain(r.exitCode)
      }
    }
    expect(canaries(hostPath(f.rack, host, '')), results.join('\n')).toEqual([])
    expect(canaries('')).toEqual([])
    expect(downsOf(f.rack, host)).toBe(0)
    expect(results).toHaveLength(positions.length * HOSTILE.length)
  }, 1_800_000)

  it('in playbook args: each hostile kernel argument and file name is refused with file:line or applied literally, in its place', async () => {
    const f = await rack('hostsPerRack: 1\nprofile: pcie\n', { hosts: 1, rebootTimeMs: 500 })
    const host = f.rack.hosts[0]!.name
    const accepted: string[] = []
    const refused: string[] = []
    const positions: Array<[string, (v: string) => unknown]> = [
      ['kernel.arg.present', (v) => ({ 'kernel.arg': { present: [`gpufleet.x=${v}`] } })],
      ['kernel.arg.absent', (v) => ({ 'kernel.arg': { absent: [v] } })],
      ['modprobe.blacklist.modules', (v) => ({ 'modprobe.blacklist': { modules: [v] } })],
      ['modprobe.blacklist.file', (v) => ({ 'modprobe.blacklist': { modules: ['nouveau'], file: `/etc/modprobe.d/${v}.conf` } })],
      ['initramfs.rebuild.omitDrivers', (v) => ({ 'initramfs.rebuild': { omitDrivers: [v] } })],
    ]
    for (const [name, put] of positions) {
      for (const [i, value] of HOSTILE.entries()) {
        const pb = join(f.dir, `pb-${name}-${i}.yaml`)
        writeFileSync(pb, YAML.stringify({ name: 'hostile', stage: [put(value)] }))
        const spec = f.spec({ playbook: pb, output: 'plain' })
        const refusal = await loadInputs(spec).then(
          () => undefined,
          (e: unknown) => e,
        )
        if (refusal) {
          expect(refusal, `${name} #${i}`).toBeInstanceOf(FleetError)
          expect((refusal as Error).message, `${name} #${i}`).toMatch(new RegExp(`${pb.replace(/[/.]/g, '\\$&')}:\\d+`))
          refused.push(`${name}#${i}`)
          continue
        }
        const r = await runQuiet(spec)
        expect(r.output, `${name} #${i}`).not.toContain('\x1b')
        expect([0, 1], `${name} #${i}: ${r.output}`).toContain(r.exitCode)
        accepted.push(`${name}#${i}`)
      }
    }
    // Whatever was accepted ran as data: no canary on the host or here, no file outside /etc/modprobe.d.
    expect(canaries(hostPath(f.rack, host, '')), `accepted: ${accepted.join(', ')}`).toEqual([])
    expect(canaries('')).toEqual([])
    for (const dir of ['/etc', '/tmp', '/'])
      expect(
        readdirSync(hostPath(f.rack, host, dir)).filter((e) => /pwned|\.conf\.gpufleet/.test(e)),
        dir,
      ).toEqual([])
    // the hostile kernel args that were accepted are in the boot entry literally (one word each)
    const accArgs = accepted.filter((a) => a.startsWith('kernel.arg.present'))
    if (accArgs.length > 0) {
      const entries = readdirSync(hostPath(f.rack, host, '/boot/loader/entries'))
        .map((e) => readFileSync(hostPath(f.rack, host, `/boot/loader/entries/${e}`), 'utf8'))
        .join('\n')
      const grubenv = readFileSync(hostPath(f.rack, host, '/boot/grub2/grubenv'), 'utf8')
      for (const a of accArgs) expect(entries + grubenv, a).toContain(`gpufleet.x=${HOSTILE[Number(a.split('#')[1])]}`)
    }
    expect(refused.length + accepted.length).toBe(positions.length * HOSTILE.length)
  }, 900_000)
})

describe('fault matrix: hostile values on the terminal', () => {
  // Found by the matrix: an ESC in ansible_user reached plain output raw inside the auth error
  // ("permission denied for x\e]0;pwned\a\ec@…"); control characters are now escaped on output
  // (src/terminal-text.ts, issue 12 finding 4).
  it('an ESC in an inventory var never reaches the terminal raw (issue 12 finding 4)', async () => {
    const f = await rack('hostsPerRack: 1\nprofile: pcie\n', { hosts: 1 })
    const host = f.rack.hosts[0]!.name
    const inv = YAML.parse(readFileSync(f.rack.inventoryFile, 'utf8')) as SimInventory
    Object.values(inv.all.children)[0]!.hosts[host]!.ansible_user = HOSTILE[6]
    const file = join(f.dir, 'esc.yaml')
    writeFileSync(file, YAML.stringify(inv, { version: '1.1' }))
    const r = await runQuiet(f.spec({ inventory: file, check: true, output: 'plain' }))
    expect(r.output).toContain('permission denied') // it did reach the error path
    expect(r.output).not.toContain('\x1b')
  }, 240_000)
})

describe('fault matrix: secrets', () => {
  it('become password and BMC password: absent from jsonl, plain -v, plan --diff, every run and report file, and from the error of a wrong password', async () => {
    const become = 'b3come-S3cret;$(x)'
    const f = await rack(`hostsPerRack: 2\nprofile: pcie\nrules:\n  - { match: "*", sudoPassword: "${become}" }\n  - { match: "*-02", hangsAfterReboot: true }\n`, { hosts: 2, rebootTimeMs: 500 })
    const bmcPassword = readFileSync(f.rack.bmcPasswordFile, 'utf8').trim()
    const inventory = join(f.dir, 'become.yaml')
    writeFileSync(inventory, readFileSync(f.rack.inventoryFile, 'utf8').replaceAll('ansible_user: root', 'ansible_user: admin\n          ansible_become: true'))
    const secrets = [become, bmcPassword, Buffer.from(`root:${bmcPassword}`).toString('base64')]
    const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)])) : [])
    const texts: Array<[string, string]> = []
    const reportDir = join(f.dir, 'reports')
    const bmc = { bmcRecover: true, bmcCaFile: f.rack.bmcCaFile, rebootTimeoutMs: 8000 }
    const jsonl = await runQuiet(f.spec({ inventory, askBecomePass: true, reportDir, ...bmc }), undefined, { becomePassword: become })
    expect(jsonl.outcomes).toEqual(Object.fromEntries(f.rack.hosts.map((h) => [h.name, 'changed'])))
    expect(f.rack.events().filter((e) => e.kind === 'bmc' && e.detail === 'ComputerSystem.Reset ForceRestart').length).toBeGreaterThan(0) // the BMC password was used
    texts.push(['jsonl', jsonl.output])
    const plan = await runQuiet(f.spec({ inventory, askBecomePass: true, check: true, output: 'plain', verbosity: 1, diff: true, ...bmc }), undefined, { becomePassword: become })
    texts.push(['plan plain -v --diff', plan.output])
    const wrong = await runQuiet(f.spec({ inventory, askBecomePass: true, output: 'plain', ...bmc }), undefined, { becomePassword: `${become}-wrong` })
    expect(Object.values(wrong.outcomes).every((o) => o === 'failed')).toBe(true)
    texts.push(['wrong password', wrong.output])
    for (const r of [jsonl, plan, wrong]) for (const file of files(r.runDir)) texts.push([file, readFileSync(file, 'utf8')])
    for (const file of files(reportDir)) texts.push([file, readFileSync(file, 'utf8')])
    expect(texts.length).toBeGreaterThan(10)
    for (const [where, text] of texts) for (const s of secrets) expect(text.includes(s), `${where} contains a secret`).toBe(false)
    // and the wrong one, echoed back nowhere either
    for (const [where, text] of texts) expect(text.includes(`${become}-wrong`), where).toBe(false)
  }, 600_000)
})
