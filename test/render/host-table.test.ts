import stringWidth from 'string-width'
import { describe, expect, it } from 'vitest'
import { cut, HostTable } from '../../src/render/host-table.js'

const T = Date.UTC(2026, 10, 26, 3, 0, 0)

function started(hosts: string[], racks: Record<string, string>, options: Record<string, unknown> = {}) {
  const t = new HostTable()
  t.apply({ t: T, kind: 'run-started', runId: 'r1', playbook: 'prep', hosts, check: false, options, racks })
  for (const h of hosts) t.apply({ t: T + 100, kind: 'facts-gathered', host: h, durationMs: 1, facts: {} })
  return t
}

describe('HostTable (the live view model)', () => {
  it('shows counts, the window per rack, per-task counts, active and failed hosts, and collapses finished ones', () => {
    const t = started(['a1', 'a2', 'b1', 'b2'], { a1: 'a', a2: 'a', b1: 'b', b2: 'b' }, { perRack: 1 })
    t.apply({ t: T + 200, kind: 'slot-acquired', host: 'a1', rack: 'a', down: 1, allowed: 2 })
    t.apply({ t: T + 300, kind: 'reboot-issued', host: 'a1', bootIdBefore: 'x' })
    t.apply({ t: T + 400, kind: 'slot-waiting', host: 'a2', rack: 'a', reason: 'rack a full' })
    t.apply({ t: T + 500, kind: 'task-changed', host: 'b1', task: 'kernel.arg', reason: 'r', durationMs: 1 })
    t.apply({ t: T + 600, kind: 'host-finished', host: 'b1', outcome: 'changed' })
    t.apply({ t: T + 650, kind: 'task-changed', host: 'b2', task: 'kernel.arg', reason: 'r', durationMs: 1 })
    t.apply({ t: T + 700, kind: 'task-failed', host: 'b2', task: 'initramfs.rebuild', message: 'long text', step: 'rebuild initramfs', exitCode: 1, stderrTail: ['dracut: no space left on device'] })
    const frame = t.frame(T + 65_000, 200)
    expect(frame[0]).toBe('prep r1  1m05s')
    // The failure counts the moment task-failed arrives, before the host's end.
    expect(frame[1]).toBe('4 hosts: 0 ok, 1 changed, 1 failed, 0 unreachable, 0 not started, 2 active')
    expect(frame[2]).toBe('window: 1/2 down (per rack: a 1/1), 1 waiting for a slot')
    expect(frame[3]).toBe('tasks: kernel.arg: 2 changed; initramfs.rebuild: 1 failed')
    // Failed first, then hosts at work, then those waiting; the finished b1 is collapsed.
    expect(frame.slice(4).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['b2 b failed', 'a1 a rebooting', 'a2 a waiting'])
    expect(frame.find((l) => l.startsWith('b2'))).toMatch(/exit 1: dracut: no space left on device · step: rebuild initramfs$/)
    expect(frame.find((l) => l.startsWith('a2'))).toMatch(/rack a full$/)
  })

  it('a host that passed verify stops showing as verifying the moment it finishes', () => {
    const t = started(['a1', 'a2'], { a1: 'a', a2: 'a' })
    t.apply({ t: T + 200, kind: 'task-started', host: 'a1', task: 'host.verify', title: 'Verify', phase: 'roll' })
    expect(t.frame(T + 300, 100).some((l) => /^a1\s+a\s+verifying/.test(l))).toBe(true)
    t.apply({ t: T + 400, kind: 'task-noop', host: 'a1', task: 'host.verify', reason: 'ok' })
    t.apply({ t: T + 410, kind: 'host-finished', host: 'a1', outcome: 'ok' })
    const frame = t.frame(T + 500, 100)
    expect(frame.some((l) => l.startsWith('a1'))).toBe(false)
    expect(frame[1]).toMatch(/^2 hosts: 1 ok, /)
  })

  it('keeps lines within the terminal width, measuring wide characters, colour codes included', () => {
    const t = started(['节点-01', 'b1'], { '节点-01': '机架', b1: 'b' })
    t.apply({ t: T + 200, kind: 'command-output', host: '节点-01', task: 'x', stream: 'stdout', line: '全角の出力がここに続きます。'.repeat(5) })
    for (const width of [30, 41, 80]) {
      for (const colour of [false, true]) {
        for (const l of t.frame(T, width, { colour })) expect(stringWidth(l), l).toBeLessThanOrEqual(width)
      }
    }
    const coloured = t.frame(T, 80, { colour: true })
    expect(coloured.join('\n')).toContain('\x1b[')
    expect(t.frame(T, 80, { colour: false }).join('\n')).not.toContain('\x1b[')
    expect(cut('ab全角cd', 5)).toBe('ab全…')
  })

  it('with hundreds of hosts shows only as many rows as fit, failed ones first', () => {
    const hosts = Array.from({ length: 300 }, (_, i) => `h${String(i).padStart(3, '0')}`)
    const t = started(hosts, Object.fromEntries(hosts.map((h) => [h, `r${h.slice(1, 2)}`])))
    for (const h of hosts.slice(0, 250)) t.apply({ t: T + 200, kind: 'host-finished', host: h, outcome: 'changed' })
    for (const h of hosts.slice(250, 290)) t.apply({ t: T + 300, kind: 'slot-waiting', host: h, reason: 'window full' })
    t.apply({ t: T + 400, kind: 'task-failed', host: 'h299', task: 'host.verify', message: 'SMT is on' })
    const frame = t.frame(T + 500, 120, { maxRows: 10 })
    expect(frame[3]).toBe('tasks: host.verify: 1 failed')
    const rows = frame.slice(4)
    expect(rows).toHaveLength(10)
    expect(rows[0]).toMatch(/^h299 .*failed/)
    expect(rows[9]).toMatch(/^… \d+ more \(\d+ waiting for a slot\)$/)
    expect(frame[1]).toMatch(/^300 hosts: 0 ok, 250 changed, 1 failed/)
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
