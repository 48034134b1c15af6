// Guests and the BMC of a simulated host: ACPI shutdown that completes after a delay or is ignored,
// autostart, libvirt-guests settings, guests killed by a reboot (in the simulator's own record), and
// the Redfish endpoint checked with the real curl (TLS against the rack's CA, basic auth).
import { execa } from 'execa'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { ssh, waitUp } from './helpers.js'

let rack: Rack
let dir: string
const A = 'p9-r1-01' // vm1 running (autostart, ACPI after 5 s), vm2 running (ignores ACPI), vm3 defined
const B = 'p9-r1-02' // hangs after its next reboot until a power cycle
const C = 'p9-r1-03' // its BMC wants another password than the rack's

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-guests-'))
  const spec = path.join(dir, 'spec.yaml')
  fs.writeFileSync(
    spec,
    [
      'hosts: 3',
      'profile: ac922',
      'rules:',
      '  - match: p9-r1-01',
      '    guests:',
      '      vm1: { running: true, autostart: true, acpi: 5s }',
      '      vm2: { running: true, acpi: ignore }',
      '      vm3: { running: false }',
      '    libvirtGuests: { onShutdown: suspend, shutdownTimeout: 300 }',
      '  - match: p9-r1-02',
      '    hangsAfterReboot: true',
      '  - match: p9-r1-03',
      '    bmcPassword: something-else',
      '',
    ].join('\n'),
  )
  rack = await startRack({ dir: path.join(dir, 'rack'), spec, rebootTimeMs: 300 })
})
afterAll(async () => {
  await rack?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

const bmcOf = (host: string) => {
  const inv = fs.readFileSync(rack.inventoryFile, 'utf8')
  const block = inv.slice(inv.indexOf(`${host}:`))
  return /url: "?(https:\/\/[^"\s]+)"?/.exec(block)![1]!
}
const curl = (args: string[]) => execa('curl', ['-sS', '--cacert', rack.bmcCaFile, '-u', `root:${fs.readFileSync(rack.bmcPasswordFile, 'utf8').trim()}`, ...args], { reject: false })

describe('simulated guests', () => {
  it("starts the spec's guests, lists by state and autostart, and honours ACPI per guest", async () => {
    const list = await ssh(rack, A, 'virsh list --state-running --name; virsh list --all --autostart --name; virsh list --all --name')
    expect(list.stdout).toBe('vm1\nvm2\n\nvm1\n\nvm1\nvm2\nvm3\n\n')
    expect((await ssh(rack, B, 'virsh list --state-running --name')).stdout).toBe('\n')
    const t0 = Date.now()
    const r = await ssh(rack, A, 'virsh shutdown vm1; virsh shutdown vm2; virsh domstate vm1; virsh domstate vm2')
    expect(r.stdout).toBe('Domain vm1 is being shutdown\n\nDomain vm2 is being shutdown\n\nrunning\n\nrunning\n\n')
    // vm1 powers off once its 5 s are up (long enough for a loaded machine to still see it running above); vm2 never does.
    let states = ''
    while (Date.now() - t0 < 30_000) {
      states = (await ssh(rack, A, 'virsh domstate vm1; virsh domstate vm2')).stdout
      if (states.startsWith('shut off')) break
      await new Promise((res) => setTimeout(res, 200))
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5000)
    expect(states).toBe('shut off\n\nrunning\n\n')
    expect((await ssh(rack, A, 'systemctl is-enabled libvirt-guests.service; grep ON_SHUTDOWN /etc/sysconfig/libvirt-guests')).stdout).toBe('enabled\nON_SHUTDOWN=suspend\n')
  })

  it('records every guest a reboot kills, and autostart guests come back after it', async () => {
    const mark = rack.events().length
    await ssh(rack, A, 'reboot')
    await waitUp(rack, A)
    const killed = rack
      .events()
      .slice(mark)
      .filter((e) => e.kind === 'guest-killed')
    // vm1 was shut down cleanly above; vm2 ignored ACPI and was still running.
    expect(killed.map((e) => e.detail)).toEqual(['vm2: still running at reboot (libvirt-guests ON_SHUTDOWN=suspend)'])
    expect((await ssh(rack, A, 'virsh list --state-running --name')).stdout).toBe('vm1\n\n')
  })
})

describe('simulated BMC (Redfish)', () => {
  it('answers the real curl over TLS verified against the rack CA, and refuses a wrong password', async () => {
    const system = await curl([`${bmcOf(A)}/redfish/v1/Systems`])
    expect(JSON.parse(system.stdout).Members).toEqual([{ '@odata.id': '/redfish/v1/Systems/system' }])
    const state = await curl([`${bmcOf(A)}/redfish/v1/Systems/system`])
    expect(JSON.parse(state.stdout).PowerState).toBe('On')
    const untrusted = await execa('curl', ['-sS', '-u', 'root:x', `${bmcOf(A)}/redfish/v1/Systems`], { reject: false })
    expect(untrusted.exitCode).toBe(60) // curl: peer certificate cannot be authenticated with known CA certificates
    const refused = await curl(['-w', '%{http_code}', '-o', '/dev/null', `${bmcOf(C)}/redfish/v1/Systems/system`])
    expect(refused.stdout).toBe('401')
    expect(
      rack
        .events()
        .filter((e) => e.host === C && e.kind === 'bmc')
        .map((e) => e.detail),
    ).toEqual(['GET /redfish/v1/Systems/system: 401 (credentials refused)'])
  })

  it('a host that hangs after its reboot comes back only after a ForceRestart', async () => {
    const mark = rack.events().length
    await ssh(rack, B, 'reboot')
    for (
      let i = 0;
      i < 50 &&
      !rack
        .events()
        .slice(mark)
        .some((e) => e.host === B && e.kind === 'hung');
      i++
    )
      await new Promise((res) => setTimeout(res, 100))
    await new Promise((res) => setTimeout(res, 1000))
    expect((await rack.status(B)).state).toBe('down')
    const reset = await curl(['-w', '%{http_code}', '-X', 'POST', '-H', 'content-type: application/json', '-d', '{"ResetType":"ForceRestart"}', `${bmcOf(B)}/redfish/v1/Systems/system/Actions/ComputerSystem.Reset`])
    expect(reset.stdout).toBe('204')
    await waitUp(rack, B)
    const kinds = rack
      .events()
      .slice(mark)
      .filter((e) => e.host === B && e.kind !== 'exec' && e.kind !== 'connect')
      .map((e) => `${e.kind}:${e.detail}`)
    expect(kinds[0]).toBe('down:reboot')
    expect(kinds[1]).toBe('hung:hangs in IPL until a power cycle')
    expect(kinds).toContain('bmc:ComputerSystem.Reset ForceRestart')
    expect(kinds.at(-1)).toMatch(/^up:boot 2: /)
  })
})
