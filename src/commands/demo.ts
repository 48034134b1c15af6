import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXIT } from '../exit-codes.js'
import { startRack } from '../sim/rack.js'
import { executeRun, type RunIo, type RunSpec } from './execute.js'
import { simRunSpec } from './sim-run-spec.js'
import type { Limit } from '../runner/options.js'
import { maxDownFromSim } from './sim-record.js'

// `gpufleet demo`: the README's first command. Starts a simulated rack of mixed POWER hosts on
// loopback, prepares it with `prep` (staged in parallel, rolled through a rack-safe window), runs
// `prep` again to show every task is a no-op, prints what happened as the simulator itself
// recorded it, and stops the rack.

export interface DemoOptions {
  hosts: number
  rebootTimeMs: number
  maxUnavailable: Limit
  perRack: number
  output: RunSpec['output']
}

// Runs the demo; returns the exit code.
export async function runDemo(options: DemoOptions, io: Omit<RunIo, 'connect'>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'gpufleet-demo-'))
  // Mixed profiles, racks of four: POWER8 s822lc, POWER9 AC922 (NVLink) and POWER9 with PCIe GPUs.
  const specFile = join(dir, 'rack-spec.yaml')
  writeFileSync(specFile, ['hostsPerRack: 4', 'profile: ac922', 'rules:', "  - match: '*-r2-*'", '    profile: pcie', "  - match: '*-r3-*'", '    profile: s822lc', ''].join('\n'))
  io.stderr(`starting a simulated rack of ${options.hosts} hosts in ${dir} ...\n`)
  const rack = await startRack({ hosts: options.hosts, spec: specFile, dir: join(dir, 'rack'), rebootTimeMs: options.rebootTimeMs })
  try {
    const spec = simRunSpec(rack, join(dir, 'runs'), {
      output: options.output,
      roll: { maxUnavailable: options.maxUnavailable, perRack: options.perRack },
      stabilityMs: 500,
      lockTtlMs: 2 * 3_600_000,
    })
    io.stderr(`\n== gpufleet run prep (first run: stage on every host, then rolling reboots) ==\n`)
    const t1 = Date.now()
    const first = await executeRun(spec, io)
    if (first.exitCode === EXIT.interrupted) return EXIT.interrupted
    const firstMs = Date.now() - t1
    const firstRecord = rack.events()
    const down = maxDownFromSim(firstRecord, new Map(rack.hosts.map((h) => [h.name, h.rack])))

    io.stderr(`\n== gpufleet run prep (second run: everything is already done) ==\n`)
    const mark = firstRecord.length
    const t2 = Date.now()
    const second = await executeRun(spec, io)
    if (second.exitCode === EXIT.interrupted) return EXIT.interrupted
    const secondMs = Date.now() - t2
    const secondRecord = rack.events().slice(mark)
    const reboots2 = secondRecord.filter((e) => e.kind === 'down').length
    const execs2 = secondRecord.filter((e) => e.kind === 'exec').length
    const connects2 = secondRecord.filter((e) => e.kind === 'connect').length

    const c1 = first.summary.counts
    const c2 = second.summary.counts
    io.stdout(
      [
        '',
        'DEMO SUMMARY',
        `first run:  ${(firstMs / 1000).toFixed(1)}s, ${c1.changed} changed, ${c1.ok} ok, ${c1.failed + c1.unreachable + c1['not-started']} not done; ` +
          `${firstRecord.filter((e) => e.kind === 'down').length} reboots; at most ${down.total} hosts down at once (window ${options.maxUnavailable.kind === 'count' ? options.maxUnavailable.n : options.maxUnavailable.p + '%'}) and ${down.perRack} per rack (limit ${options.perRack}), as the simulator recorded it`,
        `second run: ${(secondMs / 1000).toFixed(1)}s, ${c2.ok} ok, ${c2.changed} changed; ${reboots2} reboots; ${connects2} connects and ${execs2} execs for ${rack.hosts.length} hosts`,
        `runs and reports: ${spec.runsDir}`,
        '',
      ].join('\n'),
    )
    return first.exitCode === EXIT.ok && second.exitCode === EXIT.ok ? EXIT.ok : EXIT.hostsFailed
  } finally {
    await rack.stop()
    rmSync(join(dir, 'rack'), { recursive: true, force: true })
  }
}
