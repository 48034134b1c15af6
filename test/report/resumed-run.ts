import type { FleetEvent } from '../../src/events.js'

// A recorded two-part run: part 1 changes and reboots h1, changes h2 and is interrupted before
// h2's reboot (h3's dracut fails); part 2 (resume) finds h1 already rebooted, reboots h2, and h3
// fails again. Shared by the report tests.
export const T = Date.UTC(2026, 10, 26, 3, 0, 0)
const options = { inventory: '/etc/gpufleet/hosts.yaml', forks: 50, maxUnavailable: '1' }
const racks = { h1: 'r1', h2: 'r1', h3: 'r2' }
const counts = (c: Partial<Record<string, number>>) => ({ ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, 'not-started': 0, 'needs-drain': 0, blocked: 0, ...c })

export const resumedRun: FleetEvent[] = [
  { t: T, kind: 'run-started', runId: 'run-1', playbook: 'prep', hosts: ['h1', 'h2', 'h3'], check: false, options, racks, schemaVersion: 1 },
  { t: T + 1, kind: 'phase-started', phase: 'stage' },
  ...(['h1', 'h2', 'h3'] as const).flatMap((h, i): FleetEvent[] => [
    { t: T + 10 + i, kind: 'host-connected', host: h, durationMs: 5 },
    { t: T + 20 + i, kind: 'facts-gathered', host: h, durationMs: 9, facts: { 'kernel.boot-id': `boot-${h}-a` } },
    { t: T + 30 + i, kind: 'task-started', host: h, task: 'initramfs.rebuild', title: 'Rebuild initramfs', phase: 'stage' },
  ]),
  { t: T + 40, kind: 'step-finished', host: 'h1', task: 'initramfs.rebuild', step: 'rebuild initramfs', command: 'dracut -f', exitCode: 0, durationMs: 900 },
  { t: T + 41, kind: 'task-changed', host: 'h1', task: 'initramfs.rebuild', reason: 'nouveau is in the image', durationMs: 11 },
  { t: T + 42, kind: 'task-changed', host: 'h2', task: 'initramfs.rebuild', reason: 'nouveau is in the image', durationMs: 11 },
  { t: T + 43, kind: 'step-finished', host: 'h3', task: 'initramfs.rebuild', step: 'rebuild initramfs', command: 'dracut -f', exitCode: 1, durationMs: 5 },
  { t: T + 44, kind: 'task-failed', host: 'h3', task: 'initramfs.rebuild', message: '[h3] rebuild initramfs failed with exit code 1: set -u … (53-line script)\nno space left on device', step: 'rebuild initramfs', exitCode: 1, stderrTail: ['dracut: cpio: write error', 'no space left on device'] },
  { t: T + 45, kind: 'host-finished', host: 'h3', outcome: 'failed', message: 'Rebuild initramfs: [h3] rebuild initramfs failed with exit code 1' },
  { t: T + 50, kind: 'phase-started', phase: 'roll' },
  { t: T + 51, kind: 'slot-acquired', host: 'h1', rack: 'r1', down: 1, allowed: 1 },
  { t: T + 52, kind: 'slot-waiting', host: 'h2', rack: 'r1', reason: '1 of 1 allowed hosts are down (--max-unavailable)' },
  { t: T + 53, kind: 'task-started', host: 'h1', task: 'host.reboot', title: 'Reboot', phase: 'roll' },
  { t: T + 60, kind: 'reboot-issued', host: 'h1', bootIdBefore: 'boot-h1-a' },
  { t: T + 1060, kind: 'host-down', host: 'h1' },
  { t: T + 5060, kind: 'host-up', host: 'h1', bootIdAfter: 'boot-h1-b', waitedMs: 5000 },
  { t: T + 5100, kind: 'interrupted', second: false },
  { t: T + 5200, kind: 'task-changed', host: 'h1', task: 'host.reboot', reason: 'reboot pending', durationMs: 5147 },
  { t: T + 5210, kind: 'slot-released', host: 'h1', rack: 'r1' },
  { t: T + 5220, kind: 'host-finished', host: 'h1', outcome: 'changed' },
  { t: T + 5230, kind: 'host-finished', host: 'h2', outcome: 'not-started', message: 'interrupted before its turn' },
  { t: T + 5300, kind: 'run-finished', runId: 'run-1', durationMs: 5300, outcomes: { h1: 'changed', h2: 'not-started', h3: 'failed' }, counts: counts({ changed: 1, failed: 1, 'not-started': 1 }) },
  // Part 2: `gpufleet resume run-1`.
  { t: T + 60_000, kind: 'run-started', runId: 'run-1', playbook: 'prep', hosts: ['h1', 'h2', 'h3'], check: false, options, racks, resumed: true, schemaVersion: 1 },
  ...(['h1', 'h2', 'h3'] as const).flatMap((h, i): FleetEvent[] => [
    { t: T + 60_010 + i, kind: 'host-connected', host: h, durationMs: 5 },
    { t: T + 60_020 + i, kind: 'task-started', host: h, task: 'initramfs.rebuild', title: 'Rebuild initramfs', phase: 'stage' },
  ]),
  { t: T + 60_030, kind: 'task-noop', host: 'h1', task: 'initramfs.rebuild', reason: 'image is clean' },
  { t: T + 60_031, kind: 'task-noop', host: 'h2', task: 'initramfs.rebuild', reason: 'image is clean' },
  { t: T + 60_032, kind: 'task-failed', host: 'h3', task: 'initramfs.rebuild', message: 'not enough free space in /boot' },
  { t: T + 60_033, kind: 'host-finished', host: 'h3', outcome: 'failed', message: 'Rebuild initramfs: not enough free space in /boot' },
  { t: T + 60_040, kind: 'task-started', host: 'h1', task: 'host.reboot', title: 'Reboot', phase: 'roll' },
  { t: T + 60_041, kind: 'reboot-skipped', host: 'h1', reason: 'the journal shows this run already rebooted the host' },
  { t: T + 60_042, kind: 'task-noop', host: 'h1', task: 'host.reboot', reason: 'already rebooted by this run' },
  { t: T + 60_043, kind: 'host-finished', host: 'h1', outcome: 'changed' },
  { t: T + 60_050, kind: 'slot-acquired', host: 'h2', rack: 'r1', down: 1, allowed: 1 },
  { t: T + 60_051, kind: 'task-started', host: 'h2', task: 'host.reboot', title: 'Reboot', phase: 'roll' },
  { t: T + 60_060, kind: 'reboot-issued', host: 'h2', bootIdBefore: 'boot-h2-a' },
  { t: T + 64_060, kind: 'host-up', host: 'h2', bootIdAfter: 'boot-h2-b', waitedMs: 4000 },
  { t: T + 64_100, kind: 'task-changed', host: 'h2', task: 'host.reboot', reason: 'reboot pending', durationMs: 4049 },
  { t: T + 64_110, kind: 'slot-released', host: 'h2', rack: 'r1' },
  { t: T + 64_120, kind: 'host-finished', host: 'h2', outcome: 'changed' },
  { t: T + 64_200, kind: 'run-finished', runId: 'run-1', durationMs: 4200, outcomes: { h1: 'changed', h2: 'changed', h3: 'failed' }, counts: counts({ changed: 2, failed: 1 }) },
]

// The first part alone (as the reports looked before the resume).
export const firstPart = resumedRun.slice(0, resumedRun.findIndex((e) => e.kind === 'run-finished') + 1)
