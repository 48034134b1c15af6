import { Option, type Command } from 'commander'
import { resolve } from 'node:path'
import { readAnsibleConfig, type AnsibleConfig } from '../config/ansible-cfg.js'
import { UsageError } from '../errors.js'
import { absoluteExtraVars, loadExtraVars, redactedExtraVars } from '../inventory/extra-vars.js'
import { bundledPlaybooks } from '../playbook/load.js'
import { parseRackBy } from '../inventory/rack-by.js'
import { runDemo } from './demo.js'
import { executeRun, loadInputs, loadRunSpec, type RunSpec } from './execute.js'
import { defaultRunsDir, RUNS_DIR_HELP } from '../runner/runs-dir.js'
import { DEFAULT_ROLL, parseBatches, parseDurationFlag, parseLimit, parsePositiveInt } from '../runner/options.js'
import { addConnectionOptions, addInventoryOption, formatHostList, hostSettings, NO_ANSIBLE_CONFIG, printConfigWarnings, type HostFlags } from './ansible-options.js'
import { addVaultOptions, vaultOptionsFromFlags, type VaultFlags } from './vault-flags.js'
import { ANSIBLE_HELP, HYPERVISOR_HELP, ROLL_HELP } from './run-help.js'

// `gpufleet run`, `plan`, `resume` and `demo`: the runner's commands. Flags are parsed here into a
// RunSpec; src/commands/execute.ts does the rest.

interface RunFlags extends HostFlags, VaultFlags {
  limit?: string
  check?: boolean
  knownHosts?: string
  acceptNewHostKeys?: boolean
  askBecomePass?: boolean
  output?: 'tty' | 'plain' | 'jsonl'
  reportDir?: string
  maxUnavailable?: string
  perRack?: string
  rackBy?: string
  batches?: string
  maxFail?: string
  rackFailStop?: boolean
  rebootTimeout?: string
  rebootStability?: string
  commandTimeout: string
  lockTtl: string
  runDir?: string
  listHosts?: boolean
  diff?: boolean
  verbose?: number
  drain?: 'refuse' | 'shutdown'
  drainTimeout?: string
  drainForce?: boolean
  rebootBlocker?: string[]
  rebootBlockerTimeout?: string
  bmcRecover?: boolean
  bmcCaFile?: string
}

const countVerbose = (_: string, previous: number) => previous + 1

function addRunFlags(cmd: Command): Command {
  addInventoryOption(addVaultOptions(cmd)).option('-l, --limit <pattern>', "hosts to run on (Ansible patterns: 'rack-a:!p9-07', '@file')")
  return addConnectionOptions(cmd, 'hosts staged in parallel (default: ANSIBLE_FORKS, else forks in ansible.cfg, else 50)')
    .option('--known-hosts <file>', 'known_hosts file; beats UserKnownHostsFile from the inventory and ~/.ssh/config (default ~/.ssh/known_hosts; a missing file is warned about)')
    .option('--accept-new-host-keys', 'record unknown host keys instead of refusing (changed keys are always refused)')
    .option('-K, --ask-become-pass', 'prompt once for the sudo password (never shown or logged)')
    .option('--list-hosts', 'print the hosts the run would target and exit, connecting to nothing')
    .option('-D, --diff', 'with --check: show the file changes as diffs')
    .option('-v, --verbose', 'more output (plain): -v each command run, -vv also its output', countVerbose, 0)
    .addOption(new Option('--output <mode>', 'tty | plain | jsonl (default: tty on a terminal, else plain; plain with -v or --diff)').choices(['tty', 'plain', 'jsonl']))
    .option('--report-dir <dir>', 'also write the reports (summary.json, hosts/*.json) here (created 0700; refused if another user owns or can write it)')
    .option('--max-unavailable <n|%>', 'hosts down at once, fleet-wide (default 10%)')
    .option('--per-rack <n>', 'hosts down at once per rack')
    .option('--rack-by <source>', "where a host's rack comes from: var:<name> (default var:gpufleet_rack) or group:<glob>, e.g. group:'rack_*'")
    .option('--batches <list>', 'Ansible serial-style batches, e.g. 1,5,20%')
    .option('--max-fail <n|%>', 'stop starting reboots once failures exceed this')
    .option('--rack-fail-stop', 'pause a rack after a failure in it')
    .option('--reboot-timeout <duration>', "override the playbook's reboot wait, e.g. 20m or 90s")
    .option('--reboot-stability <duration>', 'override how long a rebooted host must stay up, e.g. 30s')
    .option('--command-timeout <duration>', 'timeout of one command that names none', '30m')
    .option('--lock-ttl <duration>', 'how long a host lock stays valid if this controller dies', '2h')
    .option('--run-dir <dir>', `where run directories live (default ${RUNS_DIR_HELP}; this run goes to <dir>/<run id>/)`)
    .addOption(new Option('--drain <mode>', 'running guests before a reboot: refuse (default) | shutdown (no live migration: VFIO)').choices(['refuse', 'shutdown']))
    .option('--drain-timeout <duration>', 'how long guests get to power off after virsh shutdown (default 5m)')
    .option('--drain-force', 'virsh destroy guests still running at the drain timeout (recorded)')
    .option('--reboot-blocker <command>', 'shell command run before a reboot; non-zero exit holds it (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--reboot-blocker-timeout <duration>', 'report a host blocked once its blockers held this long (default 1h)')
    .option('--bmc-recover', 'power-cycle a host that does not come back, once, through its BMC (Redfish)')
    .option('--bmc-ca-file <file>', "CA bundle for the BMCs' TLS certificates")
}

// Turns flags (over ANSIBLE_* and ansible.cfg) into a RunSpec; every parse error is a UsageError raised
// before any connection.
export function specFromFlags(playbook: string, flags: RunFlags, check: boolean, isTTY: boolean, config: AnsibleConfig = NO_ANSIBLE_CONFIG, warn: (text: string) => void = (t) => void process.stderr.write(t)): RunSpec {
  const hosts = hostSettings(flags, config, warn)
  const vault = vaultOptionsFromFlags(flags, { vaultPasswordFile: config.settings.vaultPasswordFile })
  if (flags.diff && !check) throw new UsageError('--diff shows the file changes of a check run: add --check (or use gpufleet plan)')
  const verbosity = flags.verbose ?? 0
  const roll = {
    ...DEFAULT_ROLL,
    ...(flags.maxUnavailable !== undefined ? { maxUnavailable: parseLimit(flags.maxUnavailable, '--max-unavailable') } : {}),
    ...(flags.perRack !== undefined ? { perRack: parsePositiveInt(flags.perRack, '--per-rack') } : {}),
    ...(flags.batches !== undefined ? { batches: parseBatches(flags.batches) } : {}),
    ...(flags.maxFail !== undefined ? { maxFail: parseLimit(flags.maxFail, '--max-fail') } : {}),
    rackFailStop: Boolean(flags.rackFailStop),
  }
  if (roll.maxUnavailable.kind === 'count' && roll.maxUnavailable.n < 1) throw new UsageError('--max-unavailable must allow at least one host')
  return {
    // A playbook file is saved absolute, so `resume` from another directory loads the same file.
    playbook: /^[A-Za-z0-9_-]+$/.test(playbook) ? playbook : resolve(playbook),
    inventory: hosts.inventory,
    ...(flags.limit ? { limit: flags.limit } : {}),
    ...(flags.rackBy !== undefined ? { rackBy: parseRackBy(flags.rackBy) } : {}),
    check,
    forks: hosts.forks,
    ...(flags.knownHosts ? { knownHosts: resolve(flags.knownHosts) } : {}),
    acceptNewHostKeys: Boolean(flags.acceptNewHostKeys),
    askBecomePass: Boolean(flags.askBecomePass),
    // The live view has no room for commands or diffs: -v and --diff print plain lines.
    output: flags.output ?? (isTTY && verbosity === 0 && !flags.diff ? 'tty' : 'plain'),
    ...(flags.reportDir ? { reportDir: resolve(flags.reportDir) } : {}),
    roll,
    ...(flags.rebootTimeout ? { rebootTimeoutMs: parseDurationFlag(flags.rebootTimeout, '--reboot-timeout') } : {}),
    ...(flags.rebootStability ? { stabilityMs: parseDurationFlag(flags.rebootStability, '--reboot-stability') } : {}),
    commandTimeoutMs: parseDurationFlag(flags.commandTimeout, '--command-timeout'),
    lockTtlMs: parseDurationFlag(flags.lockTtl, '--lock-ttl'),
    runsDir: resolve(flags.runDir ?? defaultRunsDir()),
    ...(Object.keys(hosts.connection).length > 0 ? { connection: hosts.connection } : {}),
    ...(hosts.extraVars.length > 0 ? { extraVars: hosts.extraVars } : {}),
    ...(verbosity > 0 ? { verbosity } : {}),
    ...(flags.diff ? { diff: true } : {}),
    ...(vault ? { vault } : {}),
    ...(flags.drain ? { drain: flags.drain } : {}),
    ...(flags.drainTimeout ? { drainTimeoutMs: parseDurationFlag(flags.drainTimeout, '--drain-timeout') } : {}),
    ...(flags.drainForce ? { drainForce: true } : {}),
    ...(flags.rebootBlocker?.length ? { rebootBlockers: flags.rebootBlocker } : {}),
    ...(flags.rebootBlockerTimeout ? { blockerTimeoutMs: parseDurationFlag(flags.rebootBlockerTimeout, '--reboot-blocker-timeout') } : {}),
    ...(flags.bmcRecover ? { bmcRecover: true } : {}),
    ...(flags.bmcCaFile ? { bmcCaFile: resolve(flags.bmcCaFile) } : {}),
  }
}

// `run`/`plan`: --list-hosts prints the targets (inputs fully checked) and connects to nothing.
async function runOrList(playbook: string, flags: RunFlags, check: boolean): Promise<void> {
  const warn = (t: string) => void process.stderr.write(t)
  const config = readAnsibleConfig()
  printConfigWarnings(config, warn)
  const spec = specFromFlags(playbook, flags, check, Boolean(process.stdout.isTTY), config, warn)
  if (flags.listHosts) {
    const { hosts } = await loadInputs(spec)
    process.stdout.write(formatHostList(hosts.map((h) => h.name)))
    return
  }
  process.exitCode = (await executeRun(spec, io())).exitCode
}

const io = () => ({
  stdout: (t: string) => void process.stdout.write(t),
  stderr: (t: string) => void process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
})

// Registers run, plan, resume and demo.
export function registerRun(program: Command): void {
  registerRunAndPlan(program)
  registerResume(program)
  registerDemo(program)
}

function registerRunAndPlan(program: Command): void {
  addRunFlags(
    program
      .command('run')
      .description('run a playbook: stage every host in parallel, then roll reboots through a rack-safe window')
      .argument('<playbook>', `a bundled playbook name (${bundledPlaybooks().join(', ')}) or a YAML file`)
      .option('-C, --check', 'show what would change on each host (steps, reboots; --diff for file diffs); change nothing'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ gpufleet run prep -i hosts.yaml --check --diff
  $ gpufleet run prep -f 20 -K -u admin -e gpufleet_rack=r7 --limit p9-a01   # Ansible's flags
  $ gpufleet run verify                      # inventory from ANSIBLE_INVENTORY or ansible.cfg
  $ gpufleet run prep -i hosts.yaml --max-unavailable 4 --per-rack 1 --max-fail 2
  $ gpufleet run prep -i hosts.yaml -e gpufleet_smt=auto   # SMT off only where KVM needs it (POWER8)
  $ gpufleet run prep -i hosts.ini --per-rack 1 --rack-by group:'rack_*'
  $ gpufleet run prep -i hosts.yaml --limit rack-a --batches 1,25% --output jsonl > run.jsonl
  $ gpufleet run prep -i hosts.yaml --drain shutdown --drain-timeout 10m --reboot-blocker '! squeue -h -w $(hostname) | grep -q .'
  $ gpufleet run prep-trial -i hosts.yaml --bmc-recover --bmc-ca-file /etc/pki/bmc-ca.pem
${ROLL_HELP}
${HYPERVISOR_HELP}
${ANSIBLE_HELP}`,
    )
    .action(async (playbook: string, flags: RunFlags & { check?: boolean }) => runOrList(playbook, flags, Boolean(flags.check)))

  addRunFlags(program.command('plan').description('the same as `run --check`: gather facts and print what would change, changing nothing').argument('<playbook>', 'a bundled playbook name or a YAML file'))
    .addHelpText('after', `\nExamples:\n  $ gpufleet plan prep -i hosts.yaml --diff\n  $ gpufleet plan prep -i hosts.yaml --limit p9-01 --output jsonl\n  $ gpufleet plan prep --list-hosts\n${ANSIBLE_HELP}`)
    .action(async (playbook: string, flags: RunFlags) => runOrList(playbook, flags, true))
}

function registerResume(program: Command): void {
  program
    .command('resume')
    .description('finish a run whose controller died or was interrupted, with the same options and limits')
    .argument('<run-id>', 'the run id (a directory under the runs directory)')
    .option('--run-dir <dir>', `where run directories live (default ${RUNS_DIR_HELP})`)
    .option('-K, --ask-become-pass', 'prompt once for the sudo password')
    .option('-e, --extra-vars <vars>', 'give again a secret extra var the run was started with (it is not saved)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('-v, --verbose', 'more output (plain): -v each command run, -vv also its output', countVerbose, 0)
    .option('--rack-by <source>', "replace the run's rack source: var:<name> or group:<glob> (default: as the run was started)")
    .addOption(new Option('--output <mode>', 'tty | plain | jsonl').choices(['tty', 'plain', 'jsonl']))
    .addHelpText(
      'after',
      `
Each host is reconciled from fresh facts and the run's journal: a host whose reboot already
happened is not rebooted again, a reboot still in progress is waited for, the rest continues.

Examples:
  $ gpufleet resume 20261126T031502Z-3f9a1c
  $ gpufleet resume 20261126T031502Z-3f9a1c --run-dir /var/tmp/gpufleet-runs
`,
    )
    .action(async (runId: string, flags: { runDir?: string; askBecomePass?: boolean; rackBy?: string; extraVars?: string[]; verbose?: number; output?: RunSpec['output'] }) => {
      const runsDir = resolve(flags.runDir ?? defaultRunsDir())
      const saved = loadRunSpec(runsDir, runId)
      const extraVars = [...(saved.extraVars ?? []), ...absoluteExtraVars(flags.extraVars ?? [])]
      const given = (await loadExtraVars(absoluteExtraVars(flags.extraVars ?? []))).values
      const missing = redactedExtraVars(saved.extraVars ?? []).filter((name) => !given.has(name))
      if (missing.length > 0) throw new UsageError(`run ${runId} was started with secret extra vars that are not saved: give them again, e.g. -e '${missing.map((m) => `${m}=...`).join(' ')}'`)
      const verbosity = flags.verbose || saved.verbosity || 0
      const spec: RunSpec = {
        ...saved,
        ...(flags.rackBy !== undefined ? { rackBy: parseRackBy(flags.rackBy) } : {}),
        runsDir,
        askBecomePass: Boolean(flags.askBecomePass ?? saved.askBecomePass),
        ...(extraVars.length > 0 ? { extraVars } : {}),
        ...(verbosity > 0 ? { verbosity } : {}),
        output: flags.output ?? (process.stdout.isTTY && verbosity === 0 ? 'tty' : 'plain'),
      }
      process.exitCode = (await executeRun(spec, io(), runId)).exitCode
    })
}

function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start a simulated POWER rack, prepare it with a rolling reboot, show a re-run is a no-op, stop the rack')
    .option('--hosts <n>', 'simulated hosts', '12')
    .option('--reboot-time <duration>', 'how long a simulated reboot takes', '2s')
    .option('--max-unavailable <n|%>', 'rolling window', '3')
    .option('--per-rack <n>', 'hosts down at once per rack', '1')
    .addOption(new Option('--output <mode>', 'plain | jsonl').choices(['tty', 'plain', 'jsonl']))
    .addHelpText('after', `\nExamples:\n  $ gpufleet demo\n  $ gpufleet demo --hosts 24 --max-unavailable 4 --per-rack 2\n`)
    .action(async (flags: { hosts: string; rebootTime: string; maxUnavailable: string; perRack: string; output?: RunSpec['output'] }) => {
      process.exitCode = await runDemo(
        {
          hosts: parsePositiveInt(flags.hosts, '--hosts'),
          rebootTimeMs: parseDurationFlag(flags.rebootTime, '--reboot-time'),
          maxUnavailable: parseLimit(flags.maxUnavailable, '--max-unavailable'),
          perRack: parsePositiveInt(flags.perRack, '--per-rack'),
          output: flags.output ?? 'plain',
        },
        io(),
      )
    })
}
