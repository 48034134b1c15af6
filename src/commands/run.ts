import { Option, type Command } from 'commander'
import { resolve } from 'node:path'
import { parseDuration as parseOneDuration } from '../duration.js'
import { UsageError } from '../errors.js'
import { runDemo } from '../runner/demo.js'
import { executeRun, loadRunSpec, type RunSpec } from '../runner/execute.js'
import { DEFAULT_RUNS_DIR } from '../runner/journal.js'
import { DEFAULT_ROLL, parseBatches, parseDuration, parseLimit, parsePositiveInt } from '../runner/options.js'

// `gpufleet run`, `plan`, `resume` and `demo`: the runner's commands. Flags are parsed here into a
// RunSpec; src/runner/execute.ts does the rest.

interface RunFlags {
  inventory: string
  limit?: string
  check?: boolean
  forks: string
  knownHosts?: string
  acceptNewHostKeys?: boolean
  askBecomePass?: boolean
  output?: 'tty' | 'plain' | 'jsonl'
  reportDir?: string
  maxUnavailable?: string
  perRack?: string
  batches?: string
  maxFail?: string
  rackFailStop?: boolean
  rebootTimeout?: string
  rebootStability?: string
  commandTimeout: string
  lockTtl: string
  runDir?: string
  drain?: 'refuse' | 'shutdown'
  drainTimeout?: string
  drainForce?: boolean
  rebootBlocker?: string[]
  rebootBlockerTimeout?: string
  bmcRecover?: boolean
  bmcCaFile?: string
}

const HYPERVISOR_HELP = `
Hypervisors (before a host reboots, inside its rolling slot):
  --drain refuse           (default) a host with running guests is NOT rebooted: it is reported
                           "needs drain" with the guests' names; its staged changes stay pending
  --drain shutdown         virsh shutdown (ACPI) each running guest, wait up to --drain-timeout
                           (default 5m), reboot, verify, then start exactly those guests again in
                           their previous order (autostart guests libvirt already started are left)
  --drain-force            a guest still running at the timeout is virsh destroy'ed (recorded in the
                           report); without it the host fails, is not rebooted, guests untouched
  Live migration is out of scope: guests with VFIO GPUs cannot be migrated.
  --reboot-blocker CMD     run CMD on the host before its reboot (repeatable; the playbook's
                           reboot_blockers run too); a non-zero exit holds the reboot: the host gives
                           its slot back and is re-checked with backoff, until
                           --reboot-blocker-timeout (default 1h), then it is reported "blocked".
                           e.g. '! squeue -h -w $(hostname) | grep -q .'  or  '! test -e /etc/maintenance'
  --bmc-recover            a host that does not come back within the reboot timeout is power-cycled
                           once through its BMC (Redfish ComputerSystem.Reset ForceRestart), from the
                           host var gpufleet_bmc: {url: https://..., user, password_file}; the BMC is
                           checked before the reboot. The password is read from its file, never shown.
  --bmc-ca-file FILE       CA bundle the BMCs' TLS certificates are verified against (default: system CAs)`

const ROLL_HELP = `
Rolling (only the roll part of a playbook is limited; staging runs on every host at --forks):
  --max-unavailable N|N%   hosts down at once, fleet-wide (default 10%, at least 1)
  --per-rack N             hosts down at once per failure domain: the \`rack\` var, else the
                           host's first group (default: no per-rack cap)
  A slot is freed the moment a host is back and verified; the next host starts at once.
  --batches 1,5,20%        Ansible \`serial\`-style barriers instead (last value repeats)
  --max-fail N|N%          once failures EXCEED this, no new reboot starts (in-flight ones finish)
  --rack-fail-stop         a failure in a rack stops new reboots in that rack

Output: tty (default on a terminal) is a live per-host view with the rolling window; plain (default
when stdout is not a terminal, e.g. CI) prints one timestamped line per event; jsonl prints the
event stream, one JSON object per line. Every run also writes <run dir>/events.jsonl and reports.

Exit codes: 0 every host ok or changed; 1 a host failed, was unreachable or was not started;
2 bad usage, inventory or playbook (nothing was touched); 130 interrupted.`

function addRunFlags(cmd: Command): Command {
  return cmd
    .requiredOption('-i, --inventory <file>', 'Ansible inventory (YAML or INI)')
    .option('-l, --limit <pattern>', "hosts to run on (Ansible patterns: 'rack-a:!p9-07', '@file')")
    .option('--forks <n>', 'hosts staged in parallel', '50')
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .option('--accept-new-host-keys', 'record unknown host keys instead of refusing (changed keys are always refused)')
    .option('--ask-become-pass', 'prompt once for the sudo password (never shown or logged)')
    .addOption(new Option('--output <mode>', 'tty | plain | jsonl (default: tty on a terminal, else plain)').choices(['tty', 'plain', 'jsonl']))
    .option('--report-dir <dir>', 'also write the reports (summary.json, hosts/*.json) here')
    .option('--max-unavailable <n|%>', 'hosts down at once, fleet-wide (default 10%)')
    .option('--per-rack <n>', 'hosts down at once per rack')
    .option('--batches <list>', 'Ansible serial-style batches, e.g. 1,5,20%')
    .option('--max-fail <n|%>', 'stop starting reboots once failures exceed this')
    .option('--rack-fail-stop', 'pause a rack after a failure in it')
    .option('--reboot-timeout <duration>', "override the playbook's reboot wait, e.g. 20m or 90s")
    .option('--reboot-stability <duration>', 'override how long a rebooted host must stay up, e.g. 30s')
    .option('--command-timeout <duration>', 'timeout of one command that names none', '30m')
    .option('--lock-ttl <duration>', 'how long a host lock stays valid if this controller dies', '2h')
    .option('--run-dir <dir>', `where run directories live (default ${DEFAULT_RUNS_DIR}; this run goes to <dir>/<run id>/)`)
    .addOption(new Option('--drain <mode>', 'running guests before a reboot: refuse (default) | shutdown (no live migration: VFIO)').choices(['refuse', 'shutdown']))
    .option('--drain-timeout <duration>', 'how long guests get to power off after virsh shutdown (default 5m)')
    .option('--drain-force', 'virsh destroy guests still running at the drain timeout (recorded)')
    .option('--reboot-blocker <command>', 'shell command run before a reboot; non-zero exit holds it (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--reboot-blocker-timeout <duration>', 'report a host blocked once its blockers held this long (default 1h)')
    .option('--bmc-recover', 'power-cycle a host that does not come back, once, through its BMC (Redfish)')
    .option('--bmc-ca-file <file>', "CA bundle for the BMCs' TLS certificates")
}

// A duration flag through the one parser (src/duration.ts).
function durationFlag(text: string, flag: string): number {
  try {
    return parseOneDuration(text)
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`)
  }
}

// Turns flags into a RunSpec; every parse error is a UsageError raised before any connection.
export function specFromFlags(playbook: string, flags: RunFlags, check: boolean, isTTY: boolean): RunSpec {
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
    playbook,
    inventory: resolve(flags.inventory),
    ...(flags.limit ? { limit: flags.limit } : {}),
    check,
    forks: parsePositiveInt(flags.forks, '--forks'),
    ...(flags.knownHosts ? { knownHosts: resolve(flags.knownHosts) } : {}),
    acceptNewHostKeys: Boolean(flags.acceptNewHostKeys),
    askBecomePass: Boolean(flags.askBecomePass),
    output: flags.output ?? (isTTY ? 'tty' : 'plain'),
    ...(flags.reportDir ? { reportDir: resolve(flags.reportDir) } : {}),
    roll,
    ...(flags.rebootTimeout ? { rebootTimeoutMs: parseDuration(flags.rebootTimeout, '--reboot-timeout') } : {}),
    ...(flags.rebootStability ? { stabilityMs: parseDuration(flags.rebootStability, '--reboot-stability') } : {}),
    commandTimeoutMs: parseDuration(flags.commandTimeout, '--command-timeout'),
    lockTtlMs: parseDuration(flags.lockTtl, '--lock-ttl'),
    runsDir: resolve(flags.runDir ?? DEFAULT_RUNS_DIR),
    ...(flags.drain ? { drain: flags.drain } : {}),
    ...(flags.drainTimeout ? { drainTimeoutMs: durationFlag(flags.drainTimeout, '--drain-timeout') } : {}),
    ...(flags.drainForce ? { drainForce: true } : {}),
    ...(flags.rebootBlocker?.length ? { rebootBlockers: flags.rebootBlocker } : {}),
    ...(flags.rebootBlockerTimeout ? { blockerTimeoutMs: durationFlag(flags.rebootBlockerTimeout, '--reboot-blocker-timeout') } : {}),
    ...(flags.bmcRecover ? { bmcRecover: true } : {}),
    ...(flags.bmcCaFile ? { bmcCaFile: resolve(flags.bmcCaFile) } : {}),
  }
}

const io = () => ({
  stdout: (t: string) => void process.stdout.write(t),
  stderr: (t: string) => void process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
})

// Registers run, plan, resume and demo.
export function registerRun(program: Command): void {
  addRunFlags(
    program
      .command('run')
      .description('run a playbook: stage every host in parallel, then roll reboots through a rack-safe window')
      .argument('<playbook>', 'a bundled playbook name (prep, verify, attach, detach, rollback) or a YAML file')
      .option('--check', 'show what would change on each host (diffs, reboots); change nothing'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ gpufleet run prep -i hosts.yaml --check
  $ gpufleet run prep -i hosts.yaml --max-unavailable 4 --per-rack 1 --max-fail 2
  $ gpufleet run prep -i hosts.yaml --limit rack-a --batches 1,25% --output jsonl > run.jsonl
  $ gpufleet run prep -i hosts.yaml --drain shutdown --drain-timeout 10m --reboot-blocker '! squeue -h -w $(hostname) | grep -q .'
  $ gpufleet run prep-trial -i hosts.yaml --bmc-recover --bmc-ca-file /etc/pki/bmc-ca.pem
${ROLL_HELP}
${HYPERVISOR_HELP}`,
    )
    .action(async (playbook: string, flags: RunFlags & { check?: boolean }) => {
      const spec = specFromFlags(playbook, flags, Boolean(flags.check), Boolean(process.stdout.isTTY))
      process.exitCode = (await executeRun(spec, io())).exitCode
    })

  addRunFlags(
    program
      .command('plan')
      .description('the same as `run --check`: gather facts and print what would change, changing nothing')
      .argument('<playbook>', 'a bundled playbook name or a YAML file'),
  )
    .addHelpText('after', `\nExamples:\n  $ gpufleet plan prep -i hosts.yaml\n  $ gpufleet plan prep -i hosts.yaml --limit p9-01 --output jsonl\n`)
    .action(async (playbook: string, flags: RunFlags) => {
      const spec = specFromFlags(playbook, flags, true, Boolean(process.stdout.isTTY))
      process.exitCode = (await executeRun(spec, io())).exitCode
    })

  program
    .command('resume')
    .description('finish a run whose controller died or was interrupted, with the same options and limits')
    .argument('<run-id>', 'the run id (a directory under the runs directory)')
    .option('--run-dir <dir>', `where run directories live (default ${DEFAULT_RUNS_DIR})`)
    .option('--ask-become-pass', 'prompt once for the sudo password')
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
    .action(async (runId: string, flags: { runDir?: string; askBecomePass?: boolean; output?: RunSpec['output'] }) => {
      const runsDir = resolve(flags.runDir ?? DEFAULT_RUNS_DIR)
      const saved = loadRunSpec(runsDir, runId)
      const spec: RunSpec = { ...saved, runsDir, askBecomePass: Boolean(flags.askBecomePass ?? saved.askBecomePass), output: flags.output ?? (process.stdout.isTTY ? 'tty' : 'plain') }
      process.exitCode = (await executeRun(spec, io(), runId)).exitCode
    })

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
          rebootTimeMs: parseDuration(flags.rebootTime, '--reboot-time'),
          maxUnavailable: parseLimit(flags.maxUnavailable, '--max-unavailable'),
          perRack: parsePositiveInt(flags.perRack, '--per-rack'),
          output: flags.output ?? 'plain',
        },
        io(),
      )
    })
}
