import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { createJsonlRenderer } from '../../src/render/jsonl.js'
import { createPlainRenderer, formatPlain } from '../../src/render/plain.js'
import { formatRecap } from '../../src/render/recap.js'
import { summarize } from '../../src/report/summarize.js'

const T = Date.UTC(2026, 10, 26, 3, 0, 0)
const BOOT1 = '11111111-2222-3333-4444-555555555555'
const BOOT2 = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'

// A short recorded run: one host changed and rebooted, one failed verify, one not started.
const events: FleetEvent[] = [
  { t: T, kind: 'run-started', runId: 'r1', playbook: 'prep', hosts: ['p9-01', 'p9-02', 'p9-03'], check: false, options: {}, racks: { 'p9-01': 'r1', 'p9-02': 'r1', 'p9-03': 'r2' } },
  { t: T + 1, kind: 'phase-started', phase: 'stage' },
  { t: T + 10, kind: 'host-connected', host: 'p9-01', durationMs: 10 },
  { t: T + 20, kind: 'facts-gathered', host: 'p9-01', durationMs: 9, facts: { 'kernel.boot-id': BOOT1 } },
  { t: T + 21, kind: 'task-started', host: 'p9-01', task: 'kernel.arg', title: 'Add arg', phase: 'stage' },
  { t: T + 22, kind: 'lock-acquired', host: 'p9-01', expiresAt: T + 3_600_000 },
  { t: T + 23, kind: 'step-started', host: 'p9-01', task: 'kernel.arg', step: 'grubby --update-kernel' },
  { t: T + 24, kind: 'command-output', host: 'p9-01', task: 'kernel.arg', stream: 'stdout', line: 'noise' },
  { t: T + 30, kind: 'step-finished', host: 'p9-01', task: 'kernel.arg', step: 'grubby --update-kernel', command: 'grubby --update-kernel=ALL', exitCode: 0, durationMs: 7 },
  { t: T + 31, kind: 'task-changed', host: 'p9-01', task: 'kernel.arg', reason: 'argument missing', durationMs: 10 },
  { t: T + 32, kind: 'task-noop', host: 'p9-02', task: 'kernel.arg', reason: 'already present' },
  { t: T + 40, kind: 'phase-started', phase: 'roll' },
  { t: T + 41, kind: 'slot-acquired', host: 'p9-01', rack: 'r1', down: 1, allowed: 1 },
  { t: T + 42, kind: 'slot-waiting', host: 'p9-03', rack: 'r2', reason: '1 of 1 allowed hosts are down (--max-unavailable)' },
  { t: T + 50, kind: 'reboot-issued', host: 'p9-01', bootIdBefore: BOOT1 },
  { t: T + 1050, kind: 'host-down', host: 'p9-01' },
  { t: T + 3050, kind: 'host-up', host: 'p9-01', bootIdAfter: BOOT2, waitedMs: 3000 },
  { t: T + 3055, kind: 'step-finished', host: 'p9-02', task: 'host.verify', step: 'check smt', command: 'set -u\nppc64_cpu --smt', exitCode: 3, durationMs: 5 },
  { t: T + 3060, kind: 'task-failed', host: 'p9-02', task: 'host.verify', message: '[p9-02] check smt failed with exit code 3: set -u … (2-line script)\nSMT is on', step: 'check smt', exitCode: 3, stderrTail: ['SMT is on'] },
  { t: T + 3070, kind: 'slot-released', host: 'p9-01', rack: 'r1' },
  { t: T + 3071, kind: 'budget-exhausted', failed: 1, allowed: 0, scope: 'fleet' },
  { t: T + 3080, kind: 'host-finished', host: 'p9-01', outcome: 'changed' },
  { t: T + 3081, kind: 'host-finished', host: 'p9-02', outcome: 'failed', message: 'Verify: SMT is on' },
  { t: T + 3082, kind: 'host-finished', host: 'p9-03', outcome: 'not-started', message: 'failure budget exceeded' },
  { t: T + 3090, kind: 'run-finished', runId: 'r1', durationMs: 3090, outcomes: { 'p9-01': 'changed', 'p9-02': 'failed', 'p9-03': 'not-started' }, counts: { ok: 0, changed: 1, failed: 1, unreachable: 0, skipped: 0, 'not-started': 1, 'needs-drain': 0, blocked: 0 } },
]

describe('plain renderer', () => {
  it('prints one timestamped, host-prefixed line per event that matters', () => {
    let out = ''
    const render = createPlainRenderer((t) => (out += t), ['p9-01', 'p9-02', 'p9-03'])
    for (const e of events) render(e)
    expect(out).toBe(
      [
        '03:00:00.000 -     run r1: prep on 3 hosts',
        '03:00:00.001 -     stage: every host in parallel',
        '03:00:00.010 p9-01 connected (10 ms)',
        '03:00:00.020 p9-01 facts gathered (9 ms)',
        '03:00:00.022 p9-01 lock taken, expires 2026-11-26T04:00:00.000Z',
        '03:00:00.023 p9-01 ...      kernel.arg: grubby --update-kernel',
        '03:00:00.031 p9-01 changed  kernel.arg: argument missing (0.0s)',
        '03:00:00.032 p9-02 ok       kernel.arg: already present',
        '03:00:00.040 -     roll: rebooting hosts through the window, verifying the rest',
        '03:00:00.041 p9-01 slot acquired (1/1 down, rack r1)',
        '03:00:00.042 p9-03 waiting for a slot: 1 of 1 allowed hosts are down (--max-unavailable)',
        '03:00:00.050 p9-01 reboot issued (boot_id 11111111)',
        '03:00:01.050 p9-01 down',
        '03:00:03.050 p9-01 up after 3.0s (new boot_id aaaaaaaa)',
        "03:00:03.060 p9-02 FAILED   host.verify: step 'check smt' (exit 3)",
        '                       SMT is on',
        '03:00:03.071 -     failure budget exceeded: 1 failed, --max-fail allows 0; no new reboots start',
        '03:00:03.080 p9-01 finished: changed',
        '03:00:03.081 p9-02 finished: failed',
        '03:00:03.082 p9-03 finished: not-started (failure budget exceeded)',
        '03:00:03.090 -     run r1 finished in 3.1s: 1 changed, 1 failed, 1 not-started',
        '',
      ].join('\n'),
    )
  })

  it('prints a check-mode plan line in words; its steps only with -v', () => {
    const e: FleetEvent = { t: T, kind: 'task-planned', host: 'h', task: 'kernel.arg', reason: 'missing', steps: ['grubby: grubby --args=x'], diff: '-a b\n+a b x\n', reboots: true }
    // The event still carries its diff only with --diff (the renderer strips it otherwise): shown under the line.
    const diff = [' '.repeat(19) + '-a b', ' '.repeat(19) + '+a b x']
    expect(formatPlain(e)).toBe(['03:00:00.000 h would change kernel.arg: missing (reboots)', ...diff].join('\n'))
    expect(formatPlain({ ...e, diff: undefined })).toBe('03:00:00.000 h would change kernel.arg: missing (reboots)')
    expect(formatPlain(e, 0, { verbose: true, reported: new Set() })).toBe(['03:00:00.000 h would change kernel.arg: missing (reboots)', ...diff, ' '.repeat(19) + 'step: grubby: grubby --args=x'].join('\n'))
  })
})

describe('jsonl renderer', () => {
  it('prints the event stream itself, one object per line', () => {
    let out = ''
    const render = createJsonlRenderer((t) => (out += t))
    for (const e of events) render(e)
    const lines = out.trimEnd().split('\n')
    expect(lines).toHaveLength(events.length)
    expect(lines.map((l) => JSON.parse(l))).toEqual(events)
  })
})

describe('summary and recap', () => {
  it('folds the events into per-host reports and an Ansible-style recap', () => {
    const s = summarize(events)
    expect(s.counts).toMatchObject({ changed: 1, failed: 1, 'not-started': 1 })
    expect(s.hosts['p9-01']).toMatchObject({
      rack: 'r1',
      outcome: 'changed',
      reboot: { bootIdBefore: BOOT1, bootIdAfter: BOOT2, waitedMs: 3000, downAt: T + 1050, upAt: T + 3050 },
      slot: { acquiredAt: T + 41, releasedAt: T + 3070 },
      factsBefore: { 'kernel.boot-id': BOOT1 },
    })
    expect(s.hosts['p9-01']!.tasks[0]).toMatchObject({ task: 'kernel.arg', status: 'changed', steps: [{ command: 'grubby --update-kernel=ALL', exitCode: 0 }] })
    expect(s.hosts['p9-03']!.slot).toMatchObject({ waitingSince: T + 42 })
    const recap = formatRecap(s)
    expect(recap).toContain('p9-01  changed     ok=0 changed=1 failed=0 rebooted')
    expect(recap).toContain('p9-02  failed      ok=1 changed=0 failed=1  Verify: SMT is on')
    expect(recap).toContain('3 hosts: 0 ok, 1 changed, 1 failed, 0 unreachable, 1 not started')
  })
})

describe('replay of a recorded resumed run', () => {
  it('plain: exactly the reviewed transcript (failures once, by step; each host ends when it ends)', async () => {
    const { resumedRun } = await import('../report/resumed-run.js')
    const { readFileSync } = await import('node:fs')
    let out = ''
    const render = createPlainRenderer((t) => (out += t), ['h1', 'h2', 'h3'])
    for (const e of resumedRun) render(e)
    expect(out).toBe(readFileSync(new URL('./resumed-run.plain.txt', import.meta.url), 'utf8'))
    // The 53-line script never names a failure; each failure is printed once.
    expect(out).not.toContain('set -u')
    expect(out.match(/no space left on device/g)).toHaveLength(1)
  })

  it('jsonl: exactly one JSON object per event, with the schema version first and the counts last', async () => {
    const { resumedRun } = await import('../report/resumed-run.js')
    let out = ''
    const render = createJsonlRenderer((t) => (out += t))
    for (const e of resumedRun) render(e)
    expect(out).toBe(resumedRun.map((e) => JSON.stringify(e) + '\n').join(''))
    const lines = out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^\{"t":\d+,"kind":"run-started",.*"schemaVersion":1\}$/)
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ kind: 'run-finished', counts: { changed: 2, failed: 1, 'not-started': 0 } })
  })
})
