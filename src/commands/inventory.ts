import { Option, type Command } from 'commander'
import { ansibleListJson, toAnsibleJsonText } from '../inventory/ansible-list.js'
import { inventoryGraph } from '../inventory/graph.js'
import { hostTable } from '../inventory/host-table.js'
import { loadInventory } from '../inventory/load.js'
import { selectHosts } from '../inventory/select.js'
import { addVaultOptions, vaultOptionsFromFlags, type VaultFlags } from './vault-flags.js'

// Options of `gpufleet inventory`.
export interface InventoryCommandOptions extends VaultFlags {
  inventory: string
  limit?: string
  json?: boolean
  graph?: boolean
}

// The text `gpufleet inventory` prints: a host table, ansible-inventory --list JSON, or --graph.
// Reads files only; never connects. Throws InventoryError / UsageError for bad input.
export async function inventoryCommand(options: InventoryCommandOptions): Promise<string> {
  const inventory = await loadInventory(options.inventory, { vault: vaultOptionsFromFlags(options) })
  const selected = selectHosts(inventory, options.limit)
  if (options.json) return toAnsibleJsonText(ansibleListJson(inventory, selected)) + '\n'
  if (options.graph) return inventoryGraph(inventory, selected) + '\n'
  return hostTable(inventory, selected) + '\n'
}

// `gpufleet inventory`: show the resolved inventory the way gpufleet will use it.
export function registerInventory(program: Command): void {
  const command = program
    .command('inventory')
    .description('Show the resolved hosts, groups and merged vars of an Ansible inventory (YAML or INI); connects to nothing')
    .requiredOption('-i, --inventory <file>', 'Ansible inventory: a YAML or INI file (with group_vars/ and host_vars/ beside it), an executable inventory script, a plugin: YAML file (read through ansible-inventory), a directory of them, or host1,host2,')
    .option('-l, --limit <pattern>', "only hosts matching an Ansible pattern: host, group, glob, 'a:b', 'a:!b', 'a:&b', @file")
    .addOption(new Option('--json', 'print what `ansible-inventory --list` prints (_meta.hostvars, groups), secrets redacted').conflicts('graph'))
    .addOption(new Option('--graph', 'print the group tree like `ansible-inventory --graph`').conflicts('json'))
    .addHelpText(
      'after',
      `
Examples:
  $ gpufleet inventory -i inventory/example.yaml
  $ gpufleet inventory -i hosts.ini --limit 'rack_a:!p9-a07' --json
  $ gpufleet inventory -i hosts.yaml --graph
  $ diff <(gpufleet inventory -i hosts.yaml --json) <(ansible-inventory -i hosts.yaml --list)
  $ gpufleet inventory -i cmdb.py --vault-password-file ~/.vault.txt     # a script, vaulted group_vars
  $ gpufleet inventory -i inventories/prod/ --vault-id prod@prompt       # with a plugin: constructed file

Vars named like *pass*, *secret*, *token* are printed as <redacted>; !vault values stay encrypted.
The SOURCE column says which file:line, script or ansible-inventory run each host came from.
gpufleet's own vars (rack, gpus, vms) are documented in inventory/README.md.`,
    )
    .action(async (options: InventoryCommandOptions) => {
      process.stdout.write(await inventoryCommand(options))
    })
  addVaultOptions(command)
}
