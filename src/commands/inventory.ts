import { Option, type Command } from 'commander'
import { readAnsibleConfig } from '../config/ansible-cfg.js'
import { ansibleListJson, toAnsibleJsonText } from '../inventory/ansible-list.js'
import { fleetVarWarnings } from '../inventory/fleet-vars.js'
import { inventoryGraph } from '../inventory/graph.js'
import { hostTable } from '../inventory/host-table.js'
import { loadInventory } from '../inventory/load.js'
import { assignRacks, parseRackBy } from '../inventory/rack-by.js'
import { selectHosts } from '../inventory/select.js'
import { INVENTORY_HELP, inventorySource, printConfigWarnings } from './ansible-options.js'
import { addVaultOptions, vaultOptionsFromFlags, type VaultConfig, type VaultFlags } from './vault-flags.js'

// Options of `gpufleet inventory`.
export interface InventoryCommandOptions extends VaultFlags {
  inventory: string
  limit?: string
  json?: boolean
  graph?: boolean
  rackBy?: string // --rack-by: var:<name> | group:<glob>; the table's RACK column follows it
  vaultConfig?: VaultConfig // ansible.cfg's vault_password_file (the command passes it)
}

// The text `gpufleet inventory` prints: a host table, ansible-inventory --list JSON, or --graph.
// Reads files only; never connects. Throws InventoryError / UsageError for bad input. A malformed
// gpufleet_* var is only a warning here (`warn`, stderr by default): this command uses none of them.
export async function inventoryCommand(options: InventoryCommandOptions, warn: (text: string) => void = (t) => void process.stderr.write(t)): Promise<string> {
  const rackBy = options.rackBy !== undefined ? parseRackBy(options.rackBy) : undefined
  const vault = vaultOptionsFromFlags(options, options.vaultConfig)
  const inventory = await loadInventory(options.inventory, vault ? { vault } : {})
  const selected = selectHosts(inventory, options.limit)
  for (const warning of fleetVarWarnings(selected)) warn(`${warning}\n`)
  if (options.json) return toAnsibleJsonText(ansibleListJson(inventory, selected)) + '\n'
  const racked = assignRacks(inventory, selected, rackBy)
  if (options.graph) {
    // Plain --graph stays ansible-inventory's; asked for racks, each host line also names its rack.
    const rackOf = new Map(racked.map((h) => [h.name, h.rack]))
    return inventoryGraph(inventory, selected, 'all', rackBy ? (host) => `  (rack: ${rackOf.get(host) ?? 'none'})` : undefined) + '\n'
  }
  return hostTable(inventory, racked) + '\n'
}

// `gpufleet inventory`: show the resolved inventory the way gpufleet will use it.
export function registerInventory(program: Command): void {
  const command = program
    .command('inventory')
    .description('Show the resolved hosts, groups and merged vars of an Ansible inventory (YAML or INI); connects to nothing')
    .option('-i, --inventory <source>', INVENTORY_HELP)
    .option('-l, --limit <pattern>', "only hosts matching an Ansible pattern: host, group, glob, 'a:b', 'a:!b', 'a:&b', @file")
    .addOption(new Option('--json', 'print what `ansible-inventory --list` prints (_meta.hostvars, groups), secrets redacted').conflicts('graph'))
    .addOption(new Option('--graph', 'print the group tree like `ansible-inventory --graph`').conflicts('json'))
    .option('--rack-by <source>', "where racks come from, as for run: var:<name> (default var:gpufleet_rack) or group:<glob>, e.g. group:'rack_*'; shown in the RACK column, and after each host with --graph")
    .addHelpText(
      'after',
      `
Examples:
  $ gpufleet inventory -i inventory/example.yaml
  $ gpufleet inventory -i hosts.ini --limit 'rack_a:!p9-a07' --json
  $ gpufleet inventory -i hosts.yaml --graph
  $ ANSIBLE_INVENTORY=hosts.yaml gpufleet inventory   # or inventory = hosts.yaml in ansible.cfg
  $ gpufleet inventory -i hosts.ini --rack-by group:'rack_*'     # the rack each host rolls in
  $ diff <(gpufleet inventory -i hosts.yaml --json) <(ansible-inventory -i hosts.yaml --list)
  $ gpufleet inventory -i cmdb.py --vault-password-file ~/.vault.txt     # a script, vaulted group_vars
  $ gpufleet inventory -i inventories/prod/ --vault-id prod@prompt       # with a plugin: constructed file

Vars named like *pass*, *secret*, *token* are printed as <redacted>; !vault values stay encrypted.
The SOURCE column says which file:line, script or ansible-inventory run each host came from.
gpufleet's own vars (gpufleet_rack, gpufleet_gpus, gpufleet_vms) are documented in inventory/README.md;
any other var (your own rack, gpus, vms...) is never checked. A malformed gpufleet_* var on a selected
host is a warning here (stderr); run, plan and resume refuse it with its file:line.`,
    )
    .action(async (options: Omit<InventoryCommandOptions, 'inventory'> & { inventory?: string }) => {
      const config = readAnsibleConfig()
      const warn = (t: string) => void process.stderr.write(t)
      printConfigWarnings(config, warn)
      process.stdout.write(await inventoryCommand({ ...options, inventory: inventorySource(options.inventory, config, warn), vaultConfig: { vaultPasswordFile: config.settings.vaultPasswordFile } }))
    })
  addVaultOptions(command)
}
