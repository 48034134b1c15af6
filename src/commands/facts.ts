import type { Command } from 'commander'
import { readAnsibleConfig, type AnsibleConfig } from '../config/ansible-cfg.js'
import { ConnectError, FactParseError, formatCommandFailure, UsageError } from '../errors.js'
import { EXIT } from '../exit-codes.js'
import { buildGatherScript, parseFacts, splitGatherOutput } from '../facts/gather.js'
import { cpuInfo } from '../facts/cpu-info.js'
import { hostname } from '../facts/host-hostname.js'
import { bootId } from '../facts/kernel-boot-id.js'
import { kernelCmdline } from '../facts/kernel-cmdline.js'
import { kernelModules } from '../facts/kernel-modules.js'
import { kernelRelease } from '../facts/kernel-release.js'
import type { Fact } from '../facts/define.js'
import type { InventoryHost } from '../inventory/types.js'
import { applyConnectionDefaults } from '../inventory/connection-defaults.js'
import { loadExtraVars } from '../inventory/extra-vars.js'
import { fleetVarWarnings } from '../inventory/fleet-vars.js'
import { loadInventory } from '../inventory/load.js'
import { selectHosts } from '../inventory/select.js'
import { fanOut } from '../fan-out.js'
import { createConnector, type Connector, type ConnectorOptions } from '../transport/connect.js'
import { checkOpenFileLimit } from '../transport/fd-limit.js'
import { promptSecret } from '../transport/prompt.js'
import { parseDurationFlag } from '../runner/options.js'
import { addVaultOptions, vaultOptionsFromFlags, type VaultFlags } from './vault-flags.js'
import { addConnectionOptions, addInventoryOption, formatHostList, hostSettings, NO_ANSIBLE_CONFIG, printConfigWarnings, type HostFlags } from './ansible-options.js'
import { escapeControls } from '../terminal-text.js'

// Options of `gpufleet facts` (commander's parsed flags).
export interface FactsCommandOptions extends Omit<HostFlags, 'forks'>, VaultFlags {
  limit?: string
  json?: boolean
  forks?: string | number
  listHosts?: boolean
  knownHosts?: string
  acceptNewHostKeys?: boolean
  askBecomePass?: boolean
  connectTimeout?: string // a duration with a unit (10s)
}

// The facts `gpufleet facts` prints (every run records them too): who the host is and what it booted.
export const hostBasics = { hostname, kernelRelease, bootId, kernelCmdline, cpuInfo, kernelModules }

type HostBasics = { [K in keyof typeof hostBasics]: (typeof hostBasics)[K] extends Fact<infer T> ? T : never }

// One host's outcome: its facts, or why there are none.
export type HostFactsResult = { host: string; ok: true; durationMs: number; facts: HostBasics } | { host: string; ok: false; durationMs: number; reason: string; message: string }

// Connects to each host (at most `forks` at once), gathers hostBasics in ONE exec, and closes.
export async function gatherHostBasics(hosts: readonly InventoryHost[], connector: Connector, forks: number, signal?: AbortSignal): Promise<HostFactsResult[]> {
  const script = buildGatherScript(Object.values(hostBasics) as Array<Fact<unknown>>)
  const results = await fanOut(
    hosts,
    forks,
    async (host): Promise<HostFactsResult> => {
      const started = Date.now()
      const failed = (reason: string, message: string): HostFactsResult => ({ host: host.name, ok: false, durationMs: Date.now() - started, reason, message })
      let transport
      try {
        transport = await connector.connect(host, signal)
      } catch (error) {
        if (error instanceof ConnectError) return failed(error.reason, error.message)
        return failed('other', `[${host.name}] ${(error as Error).message}`)
      }
      try {
        // Facts run as the become user, as they do in a playbook run.
        const r = await transport.exec(script, { become: true, timeoutMs: 60_000, ...(signal ? { signal } : {}) })
        if (r.exitCode !== 0) return failed('command', formatCommandFailure(host.name, r, 'the fact-gathering script', { command: false, tailLines: 3, oneLine: true }))
        const facts = parseFacts<HostBasics>(hostBasics, splitGatherOutput(r.stdout))
        return { host: host.name, ok: true, durationMs: Date.now() - started, facts }
      } catch (error) {
        if (error instanceof ConnectError) return failed(error.reason, error.message)
        if (error instanceof FactParseError) return failed('facts', `[${host.name}] ${error.message}`)
        return failed('other', `[${host.name}] ${(error as Error).message}`)
      } finally {
        await transport.close()
      }
    },
    signal,
  )
  return results.map((r, i) => r ?? { host: hosts[i]!.name, ok: false, durationMs: 0, reason: 'not-started', message: `[${hosts[i]!.name}] not started (interrupted)` })
}

// The table: one row per host that answered, then one line per host that did not.
export function formatFactsTable(results: readonly HostFactsResult[]): string {
  const header = ['HOST', 'HOSTNAME', 'KERNEL', 'CPU', 'PLATFORM', 'BOOT_ID', 'NOUVEAU', 'NVIDIA', 'VFIO', 'CMDLINE']
  const rows: string[][] = []
  const failures: string[] = []
  for (const r of results) {
    if (!r.ok) {
      failures.push(`  ${r.host}  ${r.reason}: ${r.message}`)
      continue
    }
    const f = r.facts
    const loaded = (m: string) => (m in f.kernelModules ? 'loaded' : '-')
    const cpu = f.cpuInfo.generation ?? f.cpuInfo.model
    rows.push([
      r.host,
      f.hostname,
      f.kernelRelease,
      `${cpu} x${f.cpuInfo.threads}`,
      [f.cpuInfo.platform, f.cpuInfo.machine?.replace(f.cpuInfo.platform ?? '', '').trim()].filter(Boolean).join(' ') || '-',
      f.bootId,
      loaded('nouveau'),
      loaded('nvidia'),
      loaded('vfio_pci'),
      f.kernelCmdline.args.join(' '),
    ])
  }
  const lines: string[] = []
  if (rows.length > 0) {
    // Every column but the last (the command line) is padded to its widest cell.
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
    const fmt = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd()
    lines.push(fmt(header), ...rows.map(fmt))
  }
  const ok = results.filter((r) => r.ok).length
  lines.push('', `${ok} of ${results.length} hosts answered${failures.length ? `; ${failures.length} failed:` : '.'}`, ...failures)
  return lines.join('\n') + '\n'
}

// The JSON form: every fact of every host, or the failure reason.
export function formatFactsJson(results: readonly HostFactsResult[]): string {
  const hosts: Record<string, unknown> = {}
  for (const r of results) {
    hosts[r.host] = r.ok ? { ok: true, durationMs: r.durationMs, facts: r.facts } : { ok: false, reason: r.reason, message: r.message }
  }
  return JSON.stringify({ hosts }, null, 2) + '\n'
}

export interface FactsCommandDeps {
  connector?: Connector // tests inject one; default createConnector(flags)
  connectorOptions?: Partial<ConnectorOptions> // merged into the default connector's options
  promptBecomePassword?: () => Promise<string>
  warn?: (text: string) => void
  signal?: AbortSignal
  ansibleConfig?: AnsibleConfig // ansible.cfg + ANSIBLE_* (the command passes readAnsibleConfig())
}

// `gpufleet facts` without the printing: returns the text and the exit code it implies.
export async function factsCommand(options: FactsCommandOptions, deps: FactsCommandDeps = {}): Promise<{ text: string; exitCode: number; results: HostFactsResult[] }> {
  const warn = deps.warn ?? ((text: string) => process.stderr.write(text))
  const settings = hostSettings({ ...options, forks: options.forks === undefined ? undefined : String(options.forks) }, deps.ansibleConfig ?? NO_ANSIBLE_CONFIG, warn)
  const forks = settings.forks
  const connectTimeoutMs = parseDurationFlag(options.connectTimeout ?? '10s', '--connect-timeout')
  if (connectTimeoutMs <= 0) throw new UsageError('--connect-timeout must be more than 0s')
  const vault = vaultOptionsFromFlags(options, { vaultPasswordFile: (deps.ansibleConfig ?? NO_ANSIBLE_CONFIG).settings.vaultPasswordFile })
  const inventory = await loadInventory(settings.inventory, { ...(vault ? { vault } : {}), ...(settings.extraVars.length > 0 ? { extraVars: await loadExtraVars(settings.extraVars) } : {}) })
  const hosts = applyConnectionDefaults(selectHosts(inventory, options.limit), settings.connection)
  if (options.listHosts) return { text: formatHostList(hosts.map((h) => h.name)), exitCode: EXIT.ok, results: [] }
  // facts reads no gpufleet_* var: a malformed one is a warning here, not a refusal.
  for (const warning of fleetVarWarnings(hosts)) warn(`${warning}\n`)
  if (hosts.length === 0) return { text: options.json ? formatFactsJson([]) : 'no hosts matched\n', exitCode: EXIT.ok, results: [] }
  const fds = checkOpenFileLimit(Math.min(forks, hosts.length))
  if (!fds.ok) warn(`warning: ${fds.message}\n`)
  let connector = deps.connector
  if (!connector) {
    const becomePassword = options.askBecomePass ? await (deps.promptBecomePassword ?? (() => promptSecret('BECOME password: ')))() : undefined
    connector = createConnector({
      ...(options.knownHosts ? { knownHostsFile: options.knownHosts } : {}),
      acceptNewHostKeys: options.acceptNewHostKeys === true,
      connectTimeoutMs,
      ...(becomePassword !== undefined ? { becomePassword } : {}),
      ...deps.connectorOptions,
    })
  }
  const results = await gatherHostBasics(hosts, connector, forks, deps.signal)
  const text = options.json ? formatFactsJson(results) : formatFactsTable(results)
  return { text, exitCode: results.every((r) => r.ok) ? EXIT.ok : EXIT.hostsFailed, results }
}

// `gpufleet facts`: connect to every host in parallel and print who they are and what they booted.
export function registerFacts(program: Command): void {
  const cmd = addInventoryOption(program.command('facts').description('Connect to every host in parallel (one SSH connection, one command each) and print hostname, kernel, CPU, boot_id, GPU driver modules and kernel command line'))
    .option('-l, --limit <pattern>', "only hosts matching an Ansible pattern: host, group, glob, 'a:b', 'a:!b', 'a:&b', @file")
    .option('--json', 'print every gathered fact as JSON')
    .option('--list-hosts', 'print the hosts that would be contacted and exit, connecting to nothing')
    .option('--known-hosts <file>', 'known_hosts file; beats UserKnownHostsFile from the inventory and ~/.ssh/config (default ~/.ssh/known_hosts; a missing file is warned about)')
    .option('--accept-new-host-keys', 'record keys of hosts not in known_hosts instead of refusing them (a CHANGED key is always refused)')
    .option('-K, --ask-become-pass', 'ask once for the sudo password (fed to sudo over stdin, never shown)')
    .option('--connect-timeout <duration>', 'give up on a host after this long without an SSH session, e.g. 10s (default), 1m')
  addConnectionOptions(cmd, 'hosts contacted at once (default: ANSIBLE_FORKS, else forks in ansible.cfg, else 50)')
    .addHelpText(
      'after',
      `
Examples:
  $ gpufleet facts -i hosts.yaml
  $ gpufleet facts -u admin --private-key ~/.ssh/fleet -b      # inventory from ansible.cfg
  $ gpufleet facts -i hosts.yaml --limit rack_a --json | jq '.hosts[].facts.kernelRelease'
  $ gpufleet facts -i /tmp/rack/inventory.yaml --known-hosts /tmp/rack/known_hosts

Hosts that cannot be reached, or whose host key is unknown or CHANGED, are listed with the reason;
the exit code is ${EXIT.hostsFailed} if any host failed, ${EXIT.badInput} for bad flags or inventory.`,
    )
    .action(async (options: FactsCommandOptions) => {
      const ansibleConfig = readAnsibleConfig()
      printConfigWarnings(ansibleConfig, (t) => void process.stderr.write(t))
      const { text, exitCode } = await factsCommand(options, { ansibleConfig })
      // Remote hostnames and versions: no raw control characters (JSON escapes them itself).
      process.stdout.write(options.json ? text : escapeControls(text))
      if (exitCode !== EXIT.ok) process.exitCode = exitCode
    })
  addVaultOptions(cmd)
}
