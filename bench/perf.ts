// `npm run bench`: gpufleet against the SSH floor and Ansible on the project's own simulated rack
// (realistic tool costs), one machine. See README.md "Performance".
//
//   npm run bench -- [--hosts 20] [--scale 50,200,500,1000] [--prep-max 200] [--no-ansible]
//                    [--reboot-time 3s] [--stability 2s] [--window 20%] [--forks 50] [--out bench/results]
//
// Per N: a fresh rack (`gpufleet sim up`, its own process in its own cgroup, so the simulator's
// CPU is counted apart: host-cpu.ts); the floor (bench/floor.mjs); gpufleet `plan prep` (the first
// look: one gather per host, nothing changed); then, up to --prep-max hosts, `prep`, `prep` again
// (no-op) and `verify`; then, at --hosts only, a second fresh rack for Ansible (bench/ansible/). Each command runs under /usr/bin/time
// (wall, user+system CPU of it and all its children, peak RSS); Ansible's ControlPersist ssh
// masters leave its process tree, so their CPU and memory are sampled from /proc and added.
// Remote execs per host come from the simulator's own record (events.jsonl).
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDuration } from '../src/duration.js'
import { realisticToolCosts } from '../src/sim/tool-costs.js'
import { createCpuGroup, type CpuGroup } from './lib/host-cpu.js'
import { lowerBoundMs, stageMinMs, windowFor } from './lib/lower-bound.js'
import { renderScaling, renderSvg, renderTable, type Measure, type SizeResult } from './lib/report.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'dist', 'cli.js')

interface Args {
  hosts: number
  scale: number[]
  prepMax: number // above this N only the floor and `plan` run (a full prep of 1000 simulated hosts on a few cores takes hours)
  ansible: boolean
  rebootMs: number
  stabilityMs: number
  windowPercent: number
  forks: number
  out: string
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const scale = get('scale')
  return {
    hosts: Number(get('hosts') ?? 20),
    scale: scale === undefined ? [50, 200, 500, 1000] : scale === '' || scale === 'none' ? [] : scale.split(',').map(Number),
    prepMax: Number(get('prep-max') ?? 200),
    ansible: !argv.includes('--no-ansible'),
    rebootMs: parseDuration(get('reboot-time') ?? '3s'),
    stabilityMs: parseDuration(get('stability') ?? '2s'),
    windowPercent: Number((get('window') ?? '20%').replace(/%$/, '')),
    forks: Number(get('forks') ?? 50),
    out: path.resolve(get('out') ?? path.join(root, 'bench', 'results')),
  }
}

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`)

// --- the rack ---------------------------------------------------------------------------------

interface RackRun {
  dir: string
  inventory: string
  knownHosts: string
  hosts: string[]
  cpu?: CpuGroup // the simulated hosts' CPU accounting
}

function simUp(dir: string, hosts: number, rebootMs: number): RackRun {
  const spec = path.join(dir, 'spec.yaml')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(spec, 'toolCosts: realistic\n')
  const costs = realisticToolCosts({ os: 'el8' })
  const cpu = createCpuGroup(`gpufleet-bench-${process.pid}-${path.basename(dir)}`)
  const simUpArgv = [process.execPath, cli, 'sim', 'up', '--hosts', String(hosts), '--dir', path.join(dir, 'rack'), '--spec', spec, '--reboot-time', `${rebootMs}ms`, '--dracut-time', `${costs.dracut}ms`]
  // `sh` joins the group, then becomes `sim up`: the rack and every host process it starts inherit it.
  const [file, ...args] = cpu ? ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', cpu.procsFile, ...simUpArgv] : simUpArgv
  execFileSync(file!, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  const rack = path.join(dir, 'rack')
  const inventory = path.join(rack, 'inventory.yaml')
  const names = [...fs.readFileSync(inventory, 'utf8').matchAll(/^ {8}(p[89]-r\d+-\d+):$/gm)].map((m) => m[1]!)
  return { dir: rack, inventory, knownHosts: path.join(rack, 'known_hosts'), hosts: names, ...(cpu ? { cpu } : {}) }
}

function simDown(r: RackRun): void {
  execFileSync(process.execPath, [cli, 'sim', 'down', '--dir', r.dir], { stdio: 'ignore' })
  r.cpu?.remove()
}

function eventCount(r: RackRun): number {
  return fs.readFileSync(path.join(r.dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).length
}

// Execs and connects per host in the simulator's record since line `from`.
function remoteCounts(r: RackRun, from: number): { execsPerHost: number; connectsPerHost: number } {
  const lines = fs.readFileSync(path.join(r.dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).slice(from)
  let execs = 0
  let connects = 0
  for (const l of lines) {
    const e = JSON.parse(l) as { kind: string }
    if (e.kind === 'exec') execs++
    if (e.kind === 'connect') connects++
  }
  return { execsPerHost: execs / r.hosts.length, connectsPerHost: connects / r.hosts.length }
}

// --- measuring a command ----------------------------------------------------------------------

// CPU ticks and RSS of processes outside the command's tree that belong to it (Ansible's ssh
// ControlPersist masters, found by their ControlPath directory on the command line).
function sampleExtra(marker: string, seen: Map<number, number>): number {
  let rssKb = 0
  const tick = 100 // USER_HZ
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (!cmd.includes(marker)) continue
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      seen.set(Number(pid), ((Number(f[11]) + Number(f[12])) * 1000) / tick)
      rssKb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    } catch {
      /* gone */
    }
  }
  return rssKb
}

// Resident memory of a process and all its descendants, kB.
function treeRssKb(rootPid: number): number {
  const children = new Map<number, number[]>()
  const rss = new Map<number, number>()
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
      const ppid = Number(/PPid:\s+(\d+)/.exec(st)?.[1])
      rss.set(Number(pid), Number(/VmRSS:\s+(\d+)/.exec(st)?.[1] ?? 0))
      children.set(ppid, [...(children.get(ppid) ?? []), Number(pid)])
    } catch {
      /* gone */
    }
  }
  let total = 0
  const stack = [rootPid]
  while (stack.length) {
    const p = stack.pop()!
    total += rss.get(p) ?? 0
    stack.push(...(children.get(p) ?? []))
  }
  return total
}

async function measure(label: string, cmd: string[], rack: RackRun, opts: { env?: NodeJS.ProcessEnv; extraMarker?: string; stdoutFile?: string; okExit?: number[] } = {}): Promise<Measure & { stdout: string }> {
  const timeFile = path.join(path.dirname(rack.dir), 'time.txt') // in this run's own work dir
  const from = eventCount(rack)
  const hostsCpuBefore = rack.cpu?.usageMs()
  const started = Date.now()
  log(
    `${label}: ${cmd
      .map((c) => path.basename(c))
      .join(' ')
      .slice(0, 120)}`,
  )
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...cmd], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const extraCpu = new Map<number, number>()
  let peakTree = 0
  // Ansible's memory is spread over its forks and ssh masters: sample their sum.
  const sampler = opts.extraMarker
    ? setInterval(() => {
        peakTree = Math.max(peakTree, treeRssKb(child.pid!) + sampleExtra(opts.extraMarker!, extraCpu))
      }, 250)
    : undefined
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const wallMs = Date.now() - started
  const hostsCpuMs = hostsCpuBefore === undefined ? undefined : rack.cpu!.usageMs() - hostsCpuBefore
  if (sampler) {
    clearInterval(sampler)
    sampleExtra(opts.extraMarker!, extraCpu)
  }
  if (opts.stdoutFile) fs.writeFileSync(opts.stdoutFile, stdout)
  const [, user, sys, maxRss] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  fs.rmSync(timeFile, { force: true })
  const cpuMs = (user! + sys!) * 1000 + [...extraCpu.values()].reduce((a, b) => a + b, 0)
  if (!(opts.okExit ?? [0]).includes(exitCode ?? -1)) log(`${label}: exit ${exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)
  const m = { wallMs, cpuMs, peakRssKb: Math.max(maxRss!, peakTree), exitCode, ...remoteCounts(rack, from), ...(hostsCpuMs !== undefined ? { hostsCpuMs } : {}), stdout }
  const hostsCpu = hostsCpuMs === undefined ? '' : `, hosts' CPU ${(hostsCpuMs / 1000).toFixed(1)} s`
  log(`${label}: ${(wallMs / 1000).toFixed(1)} s wall, ${(cpuMs / 1000).toFixed(1)} s CPU${hostsCpu}, ${Math.round(m.peakRssKb / 1024)} MiB, ${m.execsPerHost.toFixed(1)} execs/host`)
  return m
}

const strip = ({ stdout: _s, ...m }: Measure & { stdout: string }): Measure => m

// --- gpufleet, floor, Ansible -----------------------------------------------------------------

function gpufleetArgs(rack: RackRun, playbook: string, a: Args, window: number, runs: string, command: 'run' | 'plan' = 'run'): string[] {
  return [process.execPath, cli, command, playbook, '-i', rack.inventory, '--known-hosts', rack.knownHosts, '-f', String(a.forks), '--max-unavailable', String(window), '--reboot-stability', `${a.stabilityMs}ms`, '--output', 'jsonl', '--report-dir', runs]
}

// Staging time from gpufleet's JSONL events: run start to the first reboot slot.
function stageMsFrom(jsonl: string): number | undefined {
  let start: number | undefined
  for (const line of jsonl.split('\n')) {
    if (!line.startsWith('{')) continue
    const e = JSON.parse(line) as { kind: string; t: number }
    start ??= e.t
    if (e.kind === 'slot-acquired') return e.t - start
  }
  return undefined
}

async function gpufleetAndFloor(n: number, a: Args, work: string): Promise<Omit<SizeResult, 'ansible'>> {
  const window = windowFor(n, a.windowPercent)
  const rack = simUp(path.join(work, `gpufleet-${n}`), n, a.rebootMs)
  try {
    const floor = strip(await measure(`N=${n} floor`, [process.execPath, path.join(root, 'bench', 'floor.mjs'), rack.inventory, rack.knownHosts, String(a.forks)], rack))
    const runs = path.join(work, `gpufleet-${n}`, 'reports')
    const plan = strip(await measure(`N=${n} gpufleet plan prep`, gpufleetArgs(rack, 'prep', a, window, runs, 'plan'), rack, { okExit: [0, 3] })) // 3: changes pending (a fresh rack)
    const costs = realisticToolCosts({ os: 'el8' })
    const stageMin = stageMinMs(floor.wallMs, costs)
    const base = { hosts: n, window, forks: a.forks, rebootMs: a.rebootMs, stabilityMs: a.stabilityMs, cores: os.cpus().length, floor }
    if (n > a.prepMax) return { ...base, gpufleet: { plan }, stageMinMs: stageMin, boundMs: lowerBoundMs({ stageMinMs: stageMin, hosts: n, window, rebootMs: a.rebootMs, stabilityMs: a.stabilityMs }) }
    // The events go to --out (the work dir is removed at the end): a failed prep can be read afterwards.
    const prep = await measure(`N=${n} gpufleet prep`, gpufleetArgs(rack, 'prep', a, window, runs), rack, { stdoutFile: path.join(a.out, `prep-${n}.jsonl`) })
    const noop = await measure(`N=${n} gpufleet prep (no-op)`, gpufleetArgs(rack, 'prep', a, window, runs), rack)
    const verify = await measure(`N=${n} gpufleet verify`, gpufleetArgs(rack, 'verify', a, window, runs), rack)
    const stageMs = stageMsFrom(prep.stdout)
    return {
      ...base,
      gpufleet: { plan, prep: strip(prep), noop: strip(noop), verify: strip(verify), ...(stageMs !== undefined ? { stageMs } : {}) },
      stageMinMs: stageMin,
      boundMs: lowerBoundMs({ stageMinMs: stageMin, hosts: n, window, rebootMs: a.rebootMs, stabilityMs: a.stabilityMs }),
    }
  } finally {
    simDown(rack)
  }
}

function ansibleMissing(): string | undefined {
  try {
    execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore' })
    return undefined
  } catch {
    return 'ansible-playbook not found: install it with `apt-get install -y --no-install-recommends ansible-core` (Debian), or run with --no-ansible'
  }
}

async function ansible(n: number, a: Args, work: string): Promise<NonNullable<SizeResult['ansible']>> {
  const window = windowFor(n, a.windowPercent)
  const rack = simUp(path.join(work, `ansible-${n}`), n, a.rebootMs)
  const cp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpufleet-bench-cp-'))
  const env = { ANSIBLE_CONFIG: path.join(root, 'bench', 'ansible', 'ansible.cfg'), ANSIBLE_FORKS: String(a.forks), ANSIBLE_SSH_CONTROL_PATH_DIR: cp, ANSIBLE_NOCOLOR: '1' }
  const play = (file: string) => ['ansible-playbook', '-i', rack.inventory, path.join(root, 'bench', 'ansible', file), '-e', `serial=${window}`, '-e', `stability=${Math.round(a.stabilityMs / 1000)}`]
  try {
    const prep = strip(await measure(`N=${n} Ansible prep`, play('prep.yml'), rack, { env, extraMarker: cp }))
    const noop = strip(await measure(`N=${n} Ansible prep (no-op)`, play('prep.yml'), rack, { env, extraMarker: cp }))
    const verify = strip(await measure(`N=${n} Ansible verify`, play('verify.yml'), rack, { env, extraMarker: cp }))
    return { prep, noop, verify }
  } finally {
    // The ssh masters this run started (ControlPersist), found by their ControlPath directory.
    const masters = new Map<number, number>()
    sampleExtra(cp, masters)
    for (const pid of masters.keys()) {
      try {
        process.kill(pid)
      } catch {
        /* gone */
      }
    }
    fs.rmSync(cp, { recursive: true, force: true })
    simDown(rack)
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2))
  if (a.ansible) {
    const missing = ansibleMissing()
    if (missing) throw new Error(missing)
  }
  fs.mkdirSync(a.out, { recursive: true })
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gpufleet-bench-'))
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at start ${load}`
  log(machine)
  const sizes = [...new Set([a.hosts, ...a.scale])].sort((x, y) => x - y)
  const results: SizeResult[] = []
  try {
    for (const n of sizes) {
      const r: SizeResult = await gpufleetAndFloor(n, a, work)
      if (n === a.hosts && a.ansible) r.ansible = await ansible(n, a, work)
      results.push(r)
      write()
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }

  function write(): void {
    const main = results.find((r) => r.hosts === a.hosts)
    const loadEnd = os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')
    const md = [
      `Machine: ${machine}; load average at the end ${loadEnd}.`,
      `Command: \`npm run bench -- --hosts ${a.hosts} --scale ${a.scale.join(',') || 'none'} --prep-max ${a.prepMax}${a.ansible ? '' : ' --no-ansible'} --reboot-time ${a.rebootMs}ms --stability ${a.stabilityMs}ms --window ${a.windowPercent}% --forks ${a.forks}\``,
      '',
      main ? renderTable(main) : '',
      results.length > 1 ? 'Scaling (gpufleet and the floor):\n\n' + renderScaling(results) : '',
    ].join('\n')
    fs.writeFileSync(path.join(a.out, 'results.md'), md)
    fs.writeFileSync(path.join(a.out, 'results.json'), JSON.stringify({ machine, loadAtEnd: loadEnd, args: a, results }, null, 2) + '\n')
    const series = [
      { name: 'floor (connect + true)', color: '#888', points: results.map((r) => ({ x: r.hosts, y: r.floor.wallMs / 1000 })) },
      { name: 'gpufleet plan', color: '#9467bd', points: results.map((r) => ({ x: r.hosts, y: r.gpufleet.plan.wallMs / 1000 })) },
      { name: 'gpufleet prep', color: '#1f77b4', points: results.filter((r) => r.gpufleet.prep).map((r) => ({ x: r.hosts, y: r.gpufleet.prep!.wallMs / 1000 })) },
      { name: 'lower bound', color: '#2ca02c', points: results.filter((r) => r.gpufleet.prep).map((r) => ({ x: r.hosts, y: r.boundMs / 1000 })) },
      { name: 'gpufleet no-op', color: '#17becf', points: results.filter((r) => r.gpufleet.noop).map((r) => ({ x: r.hosts, y: r.gpufleet.noop!.wallMs / 1000 })) },
      { name: 'Ansible prep', color: '#d62728', points: results.filter((r) => r.ansible).map((r) => ({ x: r.hosts, y: r.ansible!.prep.wallMs / 1000 })) },
    ].filter((s) => s.points.length > 0)
    fs.writeFileSync(path.join(a.out, 'chart.svg'), renderSvg(series, `wall time against N (W = ${a.windowPercent}% of N, R = ${a.rebootMs / 1000} s)`))
    process.stdout.write('\n' + md + '\n')
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
})
