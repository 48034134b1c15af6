import { describe, expect, it } from 'vitest'
import { finalTasks, summarize } from '../../src/report/summarize.js'
import { firstPart, resumedRun, T } from './resumed-run.js'

describe('summarize over a resumed run (the whole events.jsonl)', () => {
  it("covers both parts: the first part's reboot stays, outcomes are the last part's, changes are kept", () => {
    const s = summarize(resumedRun)
    expect(s.parts).toEqual([
      { startedAt: T, finishedAt: T + 5300, resumed: false },
      { startedAt: T + 60_000, finishedAt: T + 64_200, resumed: true },
    ])
    expect(s.counts).toMatchObject({ changed: 2, failed: 1, 'not-started': 0 })
    expect(s.durationMs).toBe(64_200)
    // h1 rebooted in part 1: the reboot is still on its report, marked skipped by part 2.
    expect(s.hosts.h1!.reboot).toMatchObject({ bootIdBefore: 'boot-h1-a', bootIdAfter: 'boot-h1-b', waitedMs: 5000, skipped: expect.stringContaining('already rebooted') })
    // h2 was not-started in part 1 and changed in part 2; its initramfs change (part 1) counts.
    expect(s.hosts.h2!.outcome).toBe('changed')
    expect(finalTasks(s.hosts.h2!).map((t) => [t.task, t.status])).toEqual([
      ['initramfs.rebuild', 'changed'],
      ['host.reboot', 'changed'],
    ])
    expect(finalTasks(s.hosts.h1!).map((t) => [t.task, t.status])).toEqual([
      ['initramfs.rebuild', 'changed'],
      ['host.reboot', 'changed'],
    ])
    // Timeline windows of both parts: h2 waited for a slot in part 1, rebooted in part 2.
    expect(s.hosts.h2!.windows.filter((w) => w.kind === 'slot-wait')).toEqual([{ kind: 'slot-wait', start: T + 52, end: T + 5230, label: expect.any(String) }])
    expect(s.hosts.h2!.windows.filter((w) => w.kind === 'reboot')).toEqual([{ kind: 'reboot', start: T + 60_060, end: T + 64_060 }])
    expect(s.hosts.h1!.windows.filter((w) => w.kind === 'reboot')).toEqual([{ kind: 'reboot', start: T + 60, end: T + 5060 }])
    expect(s.hosts.h1!.windows.filter((w) => w.kind === 'stage')).toHaveLength(2)
  })

  it('keeps the failing step, exit code and stderr tail on the task', () => {
    const s = summarize(firstPart)
    expect(s.hosts.h3!.tasks[0]).toMatchObject({ status: 'failed', failedStep: { step: 'rebuild initramfs', exitCode: 1, stderrTail: ['dracut: cpio: write error', 'no space left on device'] } })
  })
})
