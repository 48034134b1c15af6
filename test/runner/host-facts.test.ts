// The gather a host gets: the facts its tasks read with their args on this host, and nothing else.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPlaybook } from '../../src/playbook/load.js'
import { HostFacts, playbookFacts } from '../../src/runner/host-facts.js'

const host = (vars: Record<string, unknown> = {}) => ({ name: 'p9-01', vars, assignments: [] })

describe('playbookFacts', () => {
  it("prep's default SMT policy never reads the guests' XML (no virsh dumpxml); gpufleet_smt=auto does", async () => {
    const prep = await loadPlaybook('prep')
    const names = (vars?: Record<string, unknown>) => playbookFacts(prep, host(vars)).map((f) => f.name)
    expect(names()).not.toContain('libvirt.domains')
    expect(names()).toContain('systemd.smt-unit')
    expect(names({ gpufleet_smt: 'auto' })).toContain('libvirt.domains')
    // The reboot's drain reads the running guests in any case.
    expect(names()).toContain('libvirt.guests')
    expect(new HostFacts(prep, host()).script).not.toContain('dumpxml --inactive "$d" | sed')
  })
  it('a task gets the facts it reads, and undefined for a key it does not read on this host', async () => {
    const prep = await loadPlaybook('prep')
    const smt = prep.stage.find((t) => t.task.name === 'cpu.smt')!
    const stdout = (fact: string, file: string) => {
      const fx = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'facts', fact, `${file}.json`), 'utf8')) as { stdout: string | string[] }
      const out = Array.isArray(fx.stdout) ? fx.stdout.join('\n') + '\n' : fx.stdout
      return `@@gpufleet-fact@@ begin ${fact}\n${out}\n@@gpufleet-fact@@ end ${fact} 0\n`
    }
    const facts = new HostFacts(prep, host())
    facts.absorb(stdout('cpu.smt', 'power9-smt4') + stdout('cpu.info', 'power9-ac922-smt4') + stdout('systemd.smt-unit', 'absent'), facts.all, true)
    const got = facts.forTask(smt)
    expect(Object.keys(got).sort()).toEqual(['cpu', 'libvirt', 'smt', 'unit'])
    expect(got.libvirt).toBeUndefined()
    expect(got.cpu).toMatchObject({ generation: 'POWER9' })
    // Under auto the same task asks for the guests: not gathered here, so it is an error, not a silent undefined.
    const auto = new HostFacts(prep, host({ gpufleet_smt: 'auto' }))
    auto.absorb(
      stdout('cpu.smt', 'power9-smt4') + stdout('cpu.info', 'power9-ac922-smt4') + stdout('systemd.smt-unit', 'absent'),
      [...auto.all].filter((f) => f.name !== 'libvirt.domains'),
      true,
    )
    expect(() => auto.forTask(smt)).toThrow(/libvirt.domains/)
  })
})
