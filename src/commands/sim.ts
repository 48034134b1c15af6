import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { parseDurationFlag } from '../runner/options.js'
import { controlRequest, PID_FILE, READY_FILE, runDaemon, serveRack, type ReadyInfo } from '../sim/daemon.js'
import { profiles } from '../sim/profiles.js'
import { startRack, type RackOptions, type SimHostStatus } from '../sim/rack.js'

// `gpufleet sim up|status|down|repair|kernel-install`: a simulated POWER rack over real SSH on loopback.

const DEFAULT_DIR = '.gpufleet/sim'

interface UpOptions {
  hosts?: string
  profile?: string
  spec?: string
  dir: string
  rebootTime: string
  dracutTime: string
  toolCosts?: string
  foreground?: boolean
}

function rackOptions(o: UpOptions): RackOptions {
  const hosts = o.hosts === undefined ? undefined : Number(o.hosts)
  if (hosts !== undefined && (!Number.isInteger(hosts) || hosts < 1 || hosts > 5000)) throw new UsageError(`--hosts must be a whole number from 1 to 5000, not '${o.hosts}'`)
  if (o.profile && !profiles[o.profile]) throw new UsageError(`unknown --profile '${o.profile}' (known: ${Object.keys(profiles).join(', ')})`)
  if (o.profile && o.spec) throw new UsageError('use either --profile or --spec (a spec names its profiles)')
  return {
    ...(hosts ? { hosts } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.spec ? { spec: path.resolve(o.spec) } : {}),
    dir: path.resolve(o.dir),
    rebootTimeMs: parseDurationFlag(o.rebootTime, '--reboot-time'),
    dracutTimeMs: parseDurationFlag(o.dracutTime, '--dracut-time'),
    ...(o.toolCosts ? { toolCosts: toolCostsPreset(o.toolCosts) } : {}),
  }
}

function toolCostsPreset(text: string): 'realistic' | 'none' {
  if (text !== 'realistic' && text !== 'none') throw new UsageError(`--tool-costs must be realistic or none, not '${text}'`)
  return text
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function daemonPid(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, PID_FILE), 'utf8'))
    return pid && pidAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

function printReady(info: ReadyInfo, out: NodeJS.WritableStream): void {
  const rel = (f: string) => path.relative(process.cwd(), f) || f
  const first = info.hosts[0]
  const profilesUsed = [...new Set(info.hosts.map((h) => h.profile))].join(', ')
  out.write(`Simulated rack up: ${info.hosts.length} hosts (${profilesUsed}) in ${(info.startedMs / 1000).toFixed(1)} s, daemon pid ${info.pid}\n`)
  out.write(`  inventory:   ${rel(info.inventoryFile)}\n  known_hosts: ${rel(info.knownHostsFile)}\n  client key:  ${rel(info.clientKeyFile)}\n`)
  if (first) {
    out.write(`Try:\n  ssh -i ${rel(info.clientKeyFile)} -o UserKnownHostsFile=${rel(info.knownHostsFile)} -p ${first.port} root@${first.address} 'ppc64_cpu --smt; lspci -nn | grep -i nvidia; cat /proc/cmdline'\n`)
    out.write(`  gpufleet run prep -i ${rel(info.inventoryFile)} --known-hosts ${rel(info.knownHostsFile)}\n`)
  }
  out.write(`Status: gpufleet sim status --dir ${rel(info.dir)}    Stop: gpufleet sim down --dir ${rel(info.dir)}\n`)
}

async function up(o: UpOptions): Promise<void> {
  const opts = rackOptions(o)
  const dir = opts.dir!
  const running = daemonPid(dir)
  if (running) throw new UsageError(`a simulated rack is already running in ${dir} (pid ${running}); stop it with \`gpufleet sim down --dir ${o.dir}\``)
  if (o.foreground) {
    const t0 = Date.now()
    const rack = await startRack(opts)
    const served = serveRack(rack, Date.now() - t0)
    printReady(JSON.parse(fs.readFileSync(path.join(dir, READY_FILE), 'utf8')) as ReadyInfo, process.stdout)
    process.stdout.write('Running in the foreground; Ctrl-C stops the rack.\n')
    await served
    return
  }
  fs.mkdirSync(dir, { recursive: true })
  fs.rmSync(path.join(dir, READY_FILE), { force: true })
  const log = fs.openSync(path.join(dir, 'daemon.log'), 'w')
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url))
  const args = [cli, 'sim', '_daemon', '--dir', dir, '--reboot-time', `${opts.rebootTimeMs}ms`, '--dracut-time', `${opts.dracutTimeMs}ms`]
  if (opts.hosts) args.push('--hosts', String(opts.hosts))
  if (opts.profile) args.push('--profile', opts.profile)
  if (opts.spec) args.push('--spec', opts.spec)
  if (o.toolCosts) args.push('--tool-costs', o.toolCosts)
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] })
  child.unref()
  fs.closeSync(log)
  let exited: number | null | undefined
  child.once('exit', (code) => (exited = code))
  const deadline = Date.now() + 300_000
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    if (fs.existsSync(path.join(dir, READY_FILE))) {
      printReady(JSON.parse(fs.readFileSync(path.join(dir, READY_FILE), 'utf8')) as ReadyInfo, process.stdout)
      return
    }
    if (exited !== undefined) {
      const tail = fs.readFileSync(path.join(dir, 'daemon.log'), 'utf8').trim().split('\n').slice(-10).join('\n')
      throw new UsageError(`the sim daemon exited (code ${exited}) before the rack was up:\n${tail}`)
    }
  }
  throw new UsageError(`the sim daemon did not come up within 300 s (see ${path.join(dir, 'daemon.log')})`)
}

const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`

function gpuSummary(s: SimHostStatus): string {
  const counts = new Map<string, number>()
  for (const d of Object.values(s.gpuDrivers)) counts.set(d ?? 'none', (counts.get(d ?? 'none') ?? 0) + 1)
  return [...counts].map(([d, n]) => `${d}×${n}`).join(',') || '-'
}

function printStatus(hosts: SimHostStatus[], memory: { simulatorRss: number; hostProcessesPss: number; tmpfsBytes: number } | undefined): void {
  const rows = hosts.map((s) => [
    s.name,
    `${s.address}:${s.port}`,
    s.state,
    String(s.bootCount),
    s.bootId?.slice(0, 8) ?? '-',
    s.kernel ?? '-',
    s.smt ?? '-',
    gpuSummary(s),
    s.modules.join(',') || '-',
    s.hostdevs.map((h) => `${h.domain}${h.running ? '*' : ''}:${h.address}`).join(' ') || '-',
    s.state === 'bricked' ? `(${s.bricked})` : (s.cmdline ?? '-'),
  ])
  const head = ['HOST', 'ADDRESS', 'STATE', 'BOOTS', 'BOOT_ID', 'KERNEL', 'SMT', 'GPU DRIVERS', 'GPU MODULES', 'HOSTDEVS (*=live)', 'CMDLINE']
  const all = [head, ...rows]
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  for (const r of all) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ') + '\n')
  if (memory) process.stdout.write(`\nsimulator memory: ${mib(memory.simulatorRss)} RSS (daemon + namespace keeper), ${mib(memory.hostProcessesPss)} PSS (host processes), ${mib(memory.tmpfsBytes)} tmpfs (host trees)\n`)
}

// Registers `gpufleet sim`.
export function registerSim(program: Command): void {
  const sim = program.command('sim').description('A simulated rack of POWER GPU hosts over real SSH on loopback (needs root: mount namespaces).')
  const common = (c: Command) =>
    c
      .option('--hosts <n>', 'number of hosts (8 per rack)')
      .option('--profile <name>', `host profile: ${Object.keys(profiles).join(', ')} (default ac922)`)
      .option('--spec <file>', 'YAML spec: profiles per host glob and injected faults (see src/sim/README.md)')
      .option('--dir <dir>', 'where the rack keeps its files', DEFAULT_DIR)
      .option('--reboot-time <duration>', 'how long a reboot keeps a host down', '4s')
      .option('--dracut-time <duration>', 'how long dracut takes on a host', '2s')
      .option('--tool-costs <preset>', "realistic: every emulated tool takes as long as on a real host (src/sim/README.md 'Tool costs'); none: answers at once (default: the spec's toolCosts, else none)")

  common(sim.command('up'))
    .description('start a rack (in the background unless --foreground) and write inventory.yaml, known_hosts, id_ed25519')
    .option('--foreground', 'run in this process until Ctrl-C')
    .addHelpText('after', '\nExamples:\n  $ gpufleet sim up --hosts 8 --dir /tmp/rack\n  $ gpufleet sim up --spec rack.yaml --reboot-time 500ms')
    .action(async (o: UpOptions) => up(o))

  common(sim.command('_daemon', { hidden: true })).action(async (o: UpOptions) => runDaemon(rackOptions(o)))

  sim
    .command('status')
    .description('per host: up/rebooting/down/bricked, boots, boot_id, kernel, SMT, GPU drivers, hostdevs, cmdline')
    .option('--dir <dir>', 'the rack directory', DEFAULT_DIR)
    .option('--json', 'machine-readable output')
    .action(async (o: { dir: string; json?: boolean }) => {
      const res = await controlRequest(o.dir, { cmd: 'status' })
      if (!res.ok) throw new UsageError(res.error)
      if (o.json) process.stdout.write(JSON.stringify({ hosts: res.hosts, memory: res.memory }, null, 2) + '\n')
      else printStatus(res.hosts ?? [], res.memory)
    })

  sim
    .command('down')
    .description('stop the rack: every host process, mount and namespace goes away')
    .option('--dir <dir>', 'the rack directory', DEFAULT_DIR)
    .action(async (o: { dir: string }) => {
      const dir = path.resolve(o.dir)
      const pid = daemonPid(dir)
      if (!pid) {
        for (const f of ['sim.sock', PID_FILE, READY_FILE]) fs.rmSync(path.join(dir, f), { force: true })
        process.stdout.write(`no simulated rack is running in ${dir}\n`)
        return
      }
      try {
        await controlRequest(dir, { cmd: 'stop' }, 30_000)
      } catch {
        process.kill(pid, 'SIGTERM')
      }
      const deadline = Date.now() + 30_000
      while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL')
      process.stdout.write(`simulated rack in ${dir} stopped\n`)
    })

  sim
    .command('repair <host>')
    .description('restore /boot of a bricked (or powered-off) host from the stock install and boot it')
    .option('--dir <dir>', 'the rack directory', DEFAULT_DIR)
    .action(async (host: string, o: { dir: string }) => {
      const res = await controlRequest(o.dir, { cmd: 'repair', host })
      if (!res.ok) throw new UsageError(res.error)
      process.stdout.write(`${host} repaired and booted\n`)
    })

  sim
    .command('kernel-install <host> [kver]')
    .description("install a kernel update as dnf/apt would (the distro's hooks add the boot entry and build the initramfs); boots at the next reboot")
    .option('--dir <dir>', 'the rack directory', DEFAULT_DIR)
    .action(async (host: string, kver: string | undefined, o: { dir: string }) => {
      const res = await controlRequest(o.dir, { cmd: 'kernel-install', host, ...(kver ? { kver } : {}) })
      if (!res.ok) throw new UsageError(res.error)
      process.stdout.write(`${host}: kernel ${res.kver} installed; it boots at the next reboot\n`)
    })
}
