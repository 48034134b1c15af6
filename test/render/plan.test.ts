import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { formatPlan } from '../../src/render/plan.js'
import { summarize } from '../../src/report/summarize.js'

const T = Date.UTC(2026, 10, 26, 3, 0, 0)
const planned = (host: string, task: string, reason: string, extra: Partial<Extract<FleetEvent, { kind: 'task-planned' }>> = {}): FleetEvent[] => [
  { t: T + 1, kind: 'task-started', host, task, title: task, phase: 'stage' },
  { t: T + 2, kind: 'task-planned', host, task, reason, steps: [`${task}: a 50-line script\nset -u`], ...extra },
]

// A check run: a1 and a2 need the same changes, b1 only SMT, c1 nothing, d1 is unreachable.
const events: FleetEvent[] = [
  { t: T, kind: 'run-started', runId: 'p1', playbook: 'prep', hosts: ['a1', 'a2', 'b1', 'c1', 'd1'], check: true, options: {} },
  ...['a1', 'a2'].flatMap((h) => [...planned(h, 'kernel.arg', 'add iommu=on', { diff: '-GRUB_CMDLINE_LINUX="quiet"\n+GRUB_CMDLINE_LINUX="quiet iommu=on"\n' }), ...planned(h, 'host.reboot', 'reboot pending', { reboots: true })]),
  ...planned('b1', 'cpu.smt', 'SMT on, wanted off'),
  { t: T + 3, kind: 'task-noop', host: 'c1', task: 'kernel.arg', reason: 'present' },
  { t: T + 4, kind: 'host-unreachable', host: 'd1', reason: 'refused', message: 'connection refused' },
  ...(['a1', 'a2', 'b1'] as const).map((h): FleetEvent => ({ t: T + 5, kind: 'host-finished', host: h, outcome: 'changed' })),
  { t: T + 5, kind: 'host-finished', host: 'c1', outcome: 'ok' },
  { t: T + 5, kind: 'host-finished', host: 'd1', outcome: 'unreachable', message: 'connection refused' },
  { t: T + 6, kind: 'run-finished', runId: 'p1', durationMs: 6, outcomes: {} },
]

describe('the plan in words', () => {
  it('groups hosts with the same plan and says what would change, diffs included, scripts left out', () => {
    expect(formatPlan(summarize(events))).toBe(
      [
        '',
        'PLAN for 5 hosts (nothing was changed)',
        '',
        '2 hosts (a1, a2) would change, then reboot:',
        '  - kernel.arg: add iommu=on',
        '      -GRUB_CMDLINE_LINUX="quiet"',
        '      +GRUB_CMDLINE_LINUX="quiet iommu=on"',
        '  - host.reboot: reboot pending (reboots the host)',
        '',
        '1 host (b1) would change:',
        '  - cpu.smt: SMT on, wanted off',
        '',
        '1 host (d1): cannot be planned: connection refused',
        '',
        '1 host (c1): nothing to change',
        '',
        'would reboot 2 hosts through the rolling window: a1, a2',
        '(-v shows the commands each change would run)',
        '',
      ].join('\n'),
    )
  })

  it("-v adds each change's commands", () => {
    const text = formatPlan(summarize(events), { verbose: true })
    expect(text).toContain('  - cpu.smt: SMT on, wanted off\n      step: cpu.smt: a 50-line script\n            set -u\n')
    expect(text).not.toContain('(-v shows')
  })
})
