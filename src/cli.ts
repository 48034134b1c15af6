#!/usr/bin/env node
// gpufleet's entry point: commander wiring and the one place that maps errors to exit codes.
import { Command, CommanderError } from 'commander'
import { ConnectError, FleetError } from './errors.js'
import { EXIT } from './exit-codes.js'
import { escapeControls } from './terminal-text.js'
import { withAnsibleHint } from './commands/ansible-hints.js'
import { registerInventory } from './commands/inventory.js'
import { registerFacts } from './commands/facts.js'
import { registerRun } from './commands/run.js'
import { registerSim } from './commands/sim.js'
import { registerSchema } from './commands/schema.js'
import { registerReport } from './commands/report.js'

export function buildProgram(): Command {
  const program = new Command('gpufleet')
    .description('Prepare racks of IBM POWER (ppc64le) hosts for NVIDIA GPU passthrough to libvirt VMs, over SSH.')
    .version('0.1.0')
    // Set before the subcommands are added, so they inherit it: every usage error, in any command,
    // throws a CommanderError that main() turns into exit code 2 (not commander's own exit 1).
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(withAnsibleHint(text)) })
    .addHelpText(
      'after',
      `
Examples:
  $ gpufleet sim up --hosts 8 --dir /tmp/rack        # a simulated POWER rack on loopback
  $ gpufleet run prep -i /tmp/rack/inventory.yaml --known-hosts /tmp/rack/known_hosts
  $ gpufleet inventory -i hosts.yaml --limit 'rack-a:!p9-07' --json
  $ gpufleet run prep -f 20 -K -u admin --limit rack_a    # Ansible's flags; ansible.cfg is read

Exit codes:
  ${EXIT.ok}   every host succeeded
  ${EXIT.hostsFailed}   one or more hosts failed or were unreachable
  ${EXIT.badInput}   bad usage (unknown command or option, missing or bad argument), bad ansible.cfg,
      inventory or playbook (nothing was touched)
  ${EXIT.wouldChange}   check mode (plan, run --check): no host failed and something would change
  ${EXIT.interrupted} interrupted (Ctrl-C)
  ${EXIT.internal}  internal error (a gpufleet bug: please report it)`,
    )
  registerRun(program)
  registerInventory(program)
  registerFacts(program)
  registerSim(program)
  registerSchema(program)
  registerReport(program)
  return program
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (error) {
    return reportError(error)
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version arrive here as "errors" with exit code 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.badInput
  }
  if (error instanceof ConnectError) {
    process.stderr.write(`error: ${escapeControls(error.message)}\n`)
    return EXIT.hostsFailed
  }
  if (error instanceof FleetError) {
    process.stderr.write(`error: ${escapeControls(error.message)}\n`)
    return EXIT.badInput
  }
  process.stderr.write(`internal error (please report it): ${error instanceof Error ? error.stack : String(error)}\n`)
  return EXIT.internal
}

main(process.argv).then(
  (code) => {
    process.exitCode = code
    // The one process.exit: a second Ctrl-C abandons in-flight work (connections, timers) that would
    // keep the process alive; the journal is consistent at any instant, so leave now.
    if (code === EXIT.interrupted) process.exit(code)
  },
  (error) => {
    process.stderr.write(String(error) + '\n')
    process.exitCode = EXIT.internal
  },
)
