// Rolling-reboot benchmark (not a test): on a simulated rack of N hosts with reboot time R, runs
// `prep` with a window of W hosts and prints the measured wall time beside the lower bound
// T_stage + ceil(N/W)·R, plus the same run with Ansible-style batch barriers for comparison,
// and the no-op re-run.
//
//   npx vite-node bench/rolling.ts -- --hosts 24 --reboot-time 3s --window 4 [--per-rack 2] [--batches] [--slow-time 9s]
//
// --slow-time makes hosts 01 and 05 of every rack reboot that slowly, to show slot refill against
// batch barriers when reboot times differ (the bound then uses the mean measured reboot).
//
// Each measurement uses a fresh rack so every host really reboots. The rack's own record
// (rack.events()) gives the reboot times and the most hosts down at once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { executeRun } from '../src/commands/execute.js'
import { simRunSpec } from '../src/commands/sim-run-spec.js'
import { parseDurationFlag, type Limit } from '../src/runner/options.js'
import { maxDownFromSim } from '../src/commands/sim-record.js'
import { startRack } from '../src/sim/rack.js'

interface BenchArgs {
  hosts: number
  rebootMs: number
  window: number
  perRack?: number
  hostsPerRack: number
  stabilityMs: number
  batches: boolean
  slowMs?: number // hosts 01 and 05 of every rack reboot this slowly (unequal reboot times)
}

function parseArgs(argv: string[]): BenchArgs {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 ? argv[i + 1] : undefined
  }
  return {
    hosts: Number(get('hosts') ?? 24),
    rebootMs: parseDurationFlag(get('reboot-time') ?? '3s', '--reboot-time'),
    window: Number(get('window') ?? 4),
    ...(get('per-rack') ? { perRack: Number(get('per-rack')) } : {}),
    hostsPerRack: Number(get('hosts-per-rack') ?? 8),
    stabilityMs: parseDurationFlag(get('stability') ?? '0s', '--stability'),
    batches: argv.includes('--batches'),
    ...(get('slow-time') ? { slowMs: parseDurationFlag(get('slow-time')!, '--slow-time') } : {}),
  }
}

interface Measured {
  label: string
  wallMs: number
  stageMs: number
  rebootMs: number[] // per host, down -> up, from the simulator's record
  maxDown: number
  maxPerRack: number
  outcomes: Record<string, number>
  connects: number
  execs: number
}

async function measure(args: BenchArgs, label: string, batches: Limit[] | undefined, rerun: boolean): Promise<Measured[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gpufleet-bench-'))
  const specFile = join(dir, 'spec.yaml')
  const slow = args.slowMs ? `rules:\n  - match: "*-0[15]"\n    rebootTime: ${args.slowMs}ms\n` : ''
  writeFileSync(specFile, `hostsPerRack: ${args.hostsPerRack}\nprofile: ac922\n${slow}`)
  const rack = await startRack({ hosts: args.hosts, spec: specFile, dir: join(dir, 'rack'), rebootTimeMs: args.rebootMs })
  const rackOf = new Map(rack.hosts.map((h) => [h.name, h.rack]))
  const out: Measured[] = []
  try {
    const spec = simRunSpec(rack, join(dir, 'runs'), {
      roll: { maxUnavailable: { kind: 'count', n: args.window }, ...(args.perRack ? { perRack: args.perRack } : {}), ...(batches ? { batches } : {}) },
      stabilityMs: args.stabilityMs,
      rebootTimeoutMs: Math.max(60_000, args.rebootMs * 10),
    })
    for (const pass of rerun ? ['first', 'no-op re-run'] : ['first']) {
      const mark = rack.events().length
      const started = Date.now()
      const result = await executeRun(spec, { stdout: () => undefined, stderr: () => undefined, isTTY: false, installSignals: false, rebootWait: { pollMinMs: 100, pollMaxMs: 500, probeEveryMs: 500 } })
      const wallMs = Date.now() - started
      const record = rack.events().slice(mark)
      const runStart = result.summary.startedAt ?? started
      const rollStart = Math.min(...Object.values(result.summary.hosts).map((h) => h.slot?.acquiredAt ?? h.reboot?.issuedAt ?? Infinity))
      const downAt = new Map<string, number>()
      const rebootMs: number[] = []
      for (const e of record) {
        if (e.kind === 'down') downAt.set(e.host, e.t)
        if (e.kind === 'up' && downAt.has(e.host)) rebootMs.push(e.t - downAt.get(e.host)!)
      }
      const down = maxDownFromSim(record, rackOf)
      const outcomes: Record<string, number> = {}
      for (const o of Object.values(result.outcomes)) outcomes[o] = (outcomes[o] ?? 0) + 1
      out.push({
        label: `${label}, ${pass}`,
        wallMs,
        stageMs: Number.isFinite(rollStart) ? rollStart - runStart : wallMs,
        rebootMs,
        maxDown: down.total,
        maxPerRack: down.perRack,
        outcomes,
        connects: record.filter((e) => e.kind === 'connect').length,
        execs: record.filter((e) => e.kind === 'exec').length,
      })
    }
  } finally {
    await rack.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const results: Measured[] = []
  results.push(...(await measure(args, `slot refill W=${args.window}`, undefined, true)))
  if (args.batches) results.push(...(await measure(args, `batches of ${args.window}`, [{ kind: 'count', n: args.window }], false)))

  const R = args.rebootMs
  console.log(`\nN=${args.hosts} hosts, R=${s(R)} simulated reboot${args.slowMs ? ` (hosts *-01/*-05: ${s(args.slowMs)})` : ''}, W=${args.window}${args.perRack ? `, per-rack ${args.perRack}` : ''}, stability ${s(args.stabilityMs)}`)
  console.log('run                              wall     T_stage  bound=T_stage+ceil(N/W)*R  wall/bound  mean reboot  bound with mean  wall/that  max down  per rack  connects  execs  outcomes')
  for (const m of results) {
    const rebooted = m.rebootMs.length
    const bound = rebooted ? m.stageMs + Math.ceil(rebooted / args.window) * R : m.stageMs
    const mean = rebooted ? m.rebootMs.reduce((a, b) => a + b, 0) / rebooted : 0
    // The simulator's measured down->up time (boot included) in place of R: what is left is
    // the runner's own overhead (reboot issue delay, polling, reconnect, post-reboot gather).
    const boundMean = rebooted ? m.stageMs + Math.ceil(rebooted / args.window) * mean : m.stageMs
    console.log(
      [
        m.label.padEnd(32),
        s(m.wallMs).padStart(7),
        s(m.stageMs).padStart(8),
        s(bound).padStart(26),
        (m.wallMs / bound).toFixed(2).padStart(11),
        s(mean).padStart(12),
        s(boundMean).padStart(16),
        (m.wallMs / boundMean).toFixed(2).padStart(10),
        String(m.maxDown).padStart(9),
        String(m.maxPerRack).padStart(9),
        String(m.connects).padStart(9),
        String(m.execs).padStart(6),
        '  ' +
          Object.entries(m.outcomes)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
      ].join(' '),
    )
  }
  console.log('\nThe bound counts only hosts that really rebooted (from the simulator record); the wall time also')
  console.log('includes verify, reconnect polling and the stability window after each reboot.')
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  },
)
