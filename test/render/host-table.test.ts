import { describe, expect, it } from 'vitest'
import { HostTable } from '../../src/render/host-table.js'

const T = Date.UTC(2026, 10, 26, 3, 0, 0)

describe('HostTable (the live view model)', () => {
  it('shows counts, the window per rack, active and failed hosts, and collapses finished ones', () => {
    const t = new HostTable()
    t.apply({ t: T, kind: 'run-started', runId: 'r1', playbook: 'prep', hosts: ['a1', 'a2', 'b1', 'b2'], check: false, options: {}, racks: { a1: 'a', a2: 'a', b1: 'b', b2: 'b' } })
    for (const h of ['a1', 'a2', 'b1', 'b2']) t.apply({ t: T + 100, kind: 'facts-gathered', host: h, durationMs: 1, facts: {} })
    t.apply({ t: T + 200, kind: 'slot-acquired', host: 'a1', rack: 'a', down: 1, allowed: 2 })
    t.apply({ t: T + 300, kind: 'reboot-issued', host: 'a1', bootIdBefore: 'x' })
    t.apply({ t: T + 400, kind: 'slot-waiting', host: 'a2', rack: 'a', reason: 'rack a full' })
    t.apply({ t: T + 500, kind: 'task-changed', host: 'b1', task: 'kernel.arg', reason: 'r', durationMs: 1 })
    t.apply({ t: T + 600, kind: 'host-finished', host: 'b1', outcome: 'changed' })
    t.apply({ t: T + 700, kind: 'task-failed', host: 'b2', task: 'host.verify', message: 'SMT is on' })
    t.apply({ t: T + 800, kind: 'host-finished', host: 'b2', outcome: 'failed' })
    const frame = t.frame(T + 65_000, 200)
    expect(frame[0]).toBe('prep r1  1m05s')
    expect(frame[1]).toBe('4 hosts: 0 ok, 1 changed, 1 failed, 0 unreachable, 0 not started, 2 active')
    expect(frame[2]).toBe('window: 1/2 down (a:1), 1 waiting for a slot')
    expect(frame.slice(3).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['a1 a rebooting', 'b2 b failed'])
    expect(frame.find((l) => l.startsWith('b2'))).toMatch(/SMT is on$/)
    // Lines never exceed the terminal width.
    for (const l of t.frame(T, 30)) expect(l.length).toBeLessThanOrEqual(30)
  })
})

describe('HostTable: hypervisor events', () => {
  it('shows drain, blocker, BMC and guest restart lines per host, and needs-drain hosts stay visible', () => {
    const t = new HostTable()
    t.apply({ t: T, kind: 'run-started', runId: 'r1', playbook: 'prep', hosts: ['a1', 'a2', 'a3'], check: false, options: {}, racks: { a1: 'a', a2: 'a', a3: 'a' } })
    t.apply({ t: T + 10, kind: 'drain-needed', host: 'a1', guests: ['vm1', 'web'] })
    t.apply({ t: T + 20, kind: 'host-finished', host: 'a1', outcome: 'needs-drain', message: 'needs drain: guests vm1, web running' })
    t.apply({ t: T + 30, kind: 'blocker-held', host: 'a2', command: '! test -e /etc/maintenance', exitCode: 1, attempt: 1, retryInMs: 10_000 })
    t.apply({ t: T + 40, kind: 'guest-shutdown', host: 'a3', guest: 'vm1', hostdevs: 2 })
    let frame = t.frame(T + 1000, 200)
    expect(frame[1]).toBe('3 hosts: 0 ok, 0 changed, 0 failed, 0 unreachable, 0 not started, 2 active')
    const line = (h: string) => frame.find((l) => l.startsWith(h))
    expect(line('a1')).toMatch(/^a1 +a +needs-drain .*needs drain: guests vm1, web running$/)
    expect(line('a2')).toMatch(/held by blocker .*reboot blocker holds \(exit 1, check 1\): ! test -e \/etc\/maintenance; slot released, re-check in 10\.0s$/)
    expect(line('a3')).toMatch(/draining .*drain: ACPI shutdown of guest vm1 \(2 host devices\)$/)
    t.apply({ t: T + 50, kind: 'bmc-action', host: 'a3', action: 'power-cycle', url: 'https://bmc-a3' })
    frame = t.frame(T + 1000, 200)
    expect(line('a3')).toMatch(/bmc: power-cycling through https:\/\/bmc-a3 \(ComputerSystem\.Reset ForceRestart\)$/)
    t.apply({ t: T + 60, kind: 'guest-started', host: 'a3', guest: 'vm1', how: 'started', durationMs: 1500 })
    frame = t.frame(T + 1000, 200)
    expect(line('a3')).toMatch(/restoring guests .*restore: guest vm1 running after 1\.5s$/)
  })
})
