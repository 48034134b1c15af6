import { describe, expect, it } from 'vitest'
import { ssh } from '../sim/helpers.js'
import { racksPerTest, runQuiet, type RackFixture } from './rack-helpers.js'

// The readiness verify and converging from any starting state, on the simulated rack: what the
// hosts booted and loaded is read from the hosts themselves and the simulator's record.

const rack = racksPerTest()
const downs = (f: RackFixture, host: string, from = 0) =>
  f.rack
    .events()
    .slice(from)
    .filter((e) => e.host === host && e.kind === 'down')

async function sh(f: RackFixture, host: string, command: string): Promise<string> {
  const r = await ssh(f.rack, host, command)
  if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

describe('prep ends with a verify that proves the host can run the guest', () => {
  it('every profile: one prep, one reboot, verified (PowerNV, KVM, viable groups, sPAPR TCE, disable_idle_d3 live); a second prep changes nothing', async () => {
    const f = await rack('hostsPerRack: 3\nprofile: ac922\nrules:\n  - { match: "*-02", profile: s822lc }\n  - { match: "*-03", profile: pcie }\n', { hosts: 3 })
    const names = f.rack.hosts.map((h) => h.name)
    const first = await runQuiet(f.spec({ output: 'plain' }))
    expect(first.exitCode, first.output).toBe(0)
    expect(first.outcomes).toEqual(Object.fromEntries(names.map((n) => [n, 'changed'])))
    for (const n of names) {
      expect(downs(f, n)).toHaveLength(1)
      // verify loaded vfio_pci (a step of its own) and read the parameter the kernel argument set.
      expect((await sh(f, n, 'cat /sys/module/vfio_pci/parameters/disable_idle_d3')).trim()).toBe('Y')
      expect(await sh(f, n, 'grep -c "^platform.*PowerNV" /proc/cpuinfo; test -c /dev/kvm && echo kvm')).toBe('1\nkvm\n')
    }
    expect(first.output).toMatch(/load vfio_pci and check disable_idle_d3=Y took effect/)
    const mark = f.rack.events().length
    const second = await runQuiet(f.spec({ output: 'plain' }))
    expect(second.exitCode, second.output).toBe(0)
    expect(second.outcomes).toEqual(Object.fromEntries(names.map((n) => [n, 'ok'])))
    for (const n of names) expect(downs(f, n, mark)).toEqual([])
  }, 900_000)

  it('a host whose GPUs are bound to nouveau at the start (blacklist and initramfs already right) ends verified after one prep', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: ac922\nrules:\n  - { match: "*-01", prepared: true, nouveauLoaded: true }\n  - { match: "*-02", prepared: true, nouveauLoaded: true, profile: s822lc }\n', { hosts: 2 })
    const names = f.rack.hosts.map((h) => h.name)
    for (const n of names) {
      const st = await f.rack.status(n)
      expect(Object.keys(st.gpuDrivers).length).toBeGreaterThan(0)
      expect(
        Object.values(st.gpuDrivers).every((d) => d === 'nouveau'),
        JSON.stringify(st.gpuDrivers),
      ).toBe(true)
    }
    const r = await runQuiet(f.spec({ output: 'plain' }))
    expect(r.exitCode, r.output).toBe(0)
    expect(r.outcomes).toEqual(Object.fromEntries(names.map((n) => [n, 'changed'])))
    for (const n of names) {
      expect(downs(f, n)).toHaveLength(1)
      const st = await f.rack.status(n)
      expect(st.modules).not.toContain('nouveau')
      expect(Object.values(st.gpuDrivers).filter((d) => d === 'nouveau')).toEqual([])
    }
  }, 900_000)

  it('-e gpufleet_smt=auto: SMT off on the POWER8 host only, the POWER9 host keeps its threads, and verify passes both', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: ac922\nrules:\n  - { match: "*-02", profile: s822lc }\n', { hosts: 2 })
    const [p9, p8] = f.rack.hosts.map((h) => h.name) as [string, string]
    const r = await runQuiet(f.spec({ output: 'plain', extraVars: ['gpufleet_smt=auto'] }))
    expect(r.exitCode, r.output).toBe(0)
    expect((await sh(f, p9, 'ppc64_cpu --smt')).trim()).toBe('SMT=4')
    expect((await sh(f, p8, 'ppc64_cpu --smt')).trim()).toBe('SMT is off')
    expect(r.output).toMatch(/gpufleet_smt=auto: SMT left as it is \(SMT=4\)/)
    // The read-only verify under the same policy: ok on both (no fixed "off" on the POWER9 host).
    const v = await runQuiet(f.spec({ playbook: 'verify', output: 'plain', extraVars: ['gpufleet_smt=auto'] }))
    expect(v.outcomes, v.output).toEqual({ [p9]: 'ok', [p8]: 'ok' })
    // Without the policy the same verify wants SMT off everywhere: the POWER9 host fails.
    const strict = await runQuiet(f.spec({ playbook: 'verify', output: 'plain' }))
    expect(strict.outcomes[p9]).toBe('failed')
    expect(strict.outcomes[p8]).toBe('ok')
  }, 900_000)
})
