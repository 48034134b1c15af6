import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryCommand } from '../../src/commands/inventory.js'
import { loadInventory } from '../../src/inventory/load.js'
import { dedent } from './tree.js'

// Executable inventory scripts and inventory plugins must give the same hosts, groups and vars as
// the real ansible-inventory --list on the same source (compared as its JSON, byte for byte).
const env = { ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False', ANSIBLE_NOCOLOR: '1' }
const theirList = async (source: string, args: string[] = []) => (await execa('ansible-inventory', ['-i', source, '--list', ...args], { env })).stdout + '\n'

describe('dynamic inventories, compared with ansible-inventory', () => {
  let dir: string
  const write = async (path: string, text: string, mode = 0o644) => {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeFile(join(dir, path), dedent(text))
    await chmod(join(dir, path), mode)
    return join(dir, path)
  }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-sources-'))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('an executable inventory script with _meta', async () => {
    const script = await write(
      'script/cluster.py',
      `
      #!/usr/bin/env python3
      # What an xCAT/Confluent export script prints: racks as groups, a parent group, hostvars.
      import json, sys
      if sys.argv[1:] != ['--list']:
          sys.exit(1)
      print(json.dumps({
          'rack_a': {'hosts': ['p9-a01', 'p9-a02'], 'vars': {'rack': 'a', 'ansible_user': 'admin'}},
          'rack_b': ['p9-b01'],
          'power9': {'children': ['rack_a', 'rack_b'], 'vars': {'ansible_become': True}},
          '_meta': {'hostvars': {'p9-a01': {'ansible_host': '10.1.0.1', 'gpus': {'count': 4}}, 'p9-b01': {'ansible_port': 2222}}},
      }))
      `,
      0o755,
    )
    expect(await inventoryCommand({ inventory: script, json: true })).toBe(await theirList(script))
    expect(await inventoryCommand({ inventory: script, graph: true })).toBe((await execa('ansible-inventory', ['-i', script, '--graph'], { env })).stdout + '\n')
  })

  it('an executable inventory script without _meta (--host per host)', async () => {
    const script = await write(
      'script-host/legacy.sh',
      `
      #!/bin/sh
      case "$1" in
        --list) echo '{"web": {"hosts": ["w1", "w2"], "vars": {"tier": "front"}}, "db": ["d1"]}' ;;
        --host) printf '{"ansible_host": "%s.mgmt", "slot": 7}\\n' "$2" ;;
      esac
      `,
      0o755,
    )
    expect(await inventoryCommand({ inventory: script, json: true })).toBe(await theirList(script))
  })

  it('a plugin: ansible.builtin.constructed inventory with keyed groups from a var, group_vars beside it, and a vaulted host_vars file', async () => {
    await write('pw.txt', 'constructed-pw\n')
    // An inline !vault connection var: ansible-inventory prints it encrypted, gpufleet decrypts it.
    const vaultedUser = await execa('ansible-vault', ['encrypt_string', '--vault-id', `site@${join(dir, 'pw.txt')}`, '--stdin-name', 'ansible_user'], { input: 'b-admin', env })
    await write(
      'constructed/01-hosts.yaml',
      `
      all:
        children:
          rack_a:
            hosts:
              p9-a01: {gpu_model: v100, gpu_count: 4}
              p9-a02: {gpu_model: v100, gpu_count: 2}
          rack_b:
            hosts:
              p9-b01:
                gpu_model: a100
                gpu_count: 4
      `.trimEnd() +
        '\n' +
        vaultedUser.stdout
          .split('\n')
          .map((line) => `                ${line}`)
          .join('\n') +
        '\n',
    )
    await write(
      'constructed/02-constructed.yml',
      `
      plugin: ansible.builtin.constructed
      strict: true
      keyed_groups:
        - key: gpu_model
          prefix: gpu
      groups:
        full_nodes: gpu_count >= 4
      compose:
        ansible_port: 2200 + gpu_count
      `,
    )
    // group_vars of a constructed group apply, as in Ansible.
    await write('constructed/group_vars/gpu_v100.yml', 'ansible_user: v100admin\n')
    // A whole host_vars file under Vault: ansible-inventory gets gpufleet's password without a prompt.
    const hostVars = await write('constructed/host_vars/p9-b01.yml', 'ansible_host: 10.2.0.1\n')
    await execa('ansible-vault', ['encrypt', '--vault-id', `site@${join(dir, 'pw.txt')}`, hostVars], { env })

    const source = join(dir, 'constructed')
    const vault = { vaultId: [`site@${join(dir, 'pw.txt')}`] }
    const ours = await inventoryCommand({ inventory: source, json: true, ...vault })
    expect(ours).toBe(await theirList(source, ['--vault-id', `site@${join(dir, 'pw.txt')}`]))
    const parsed = JSON.parse(ours) as Record<string, { hosts?: string[] }>
    expect(parsed.gpu_v100.hosts).toEqual(['p9-a01', 'p9-a02'])
    expect(parsed.full_nodes.hosts).toEqual(['p9-a01', 'p9-b01'])

    const inventory = await loadInventory(source, { vault: { vaultIds: vault.vaultId } })
    // Hosts come in the order ansible-inventory prints them (groups sorted by name).
    expect(inventory.hosts.map((h) => [h.name, h.ssh.hostname, h.ssh.user, h.ssh.port]).sort()).toEqual([
      ['p9-a01', 'p9-a01', 'v100admin', 2204],
      ['p9-a02', 'p9-a02', 'v100admin', 2202],
      ['p9-b01', '10.2.0.1', 'b-admin', 2204],
    ])
    // Which source each host came from: the table's SOURCE column.
    const table = await inventoryCommand({ inventory: source, ...vault })
    expect(table).toMatch(new RegExp(`^p9-a01 .* ${source} via ansible-inventory --list:\\d+`, 'm'))
  })

  it('errors: an unknown plugin (Ansible says why), and no Ansible installed (says what to install)', async () => {
    const unknown = await write('unknown/netbox.yml', 'plugin: netbox.netbox.nb_inventory\napi_endpoint: http://127.0.0.1:1\n')
    await expect(loadInventory(unknown)).rejects.toThrow(new RegExp(`^${unknown}: ansible-inventory failed \\(exit 1\\): .*netbox`, 's'))
    const plugin = await write('plain/aws.yaml', 'plugin: amazon.aws.aws_ec2\n')
    await expect(loadInventory(plugin, { env: { PATH: join(dir, 'no-ansible-here') } })).rejects.toThrow(
      `${plugin}: this inventory needs Ansible's inventory plugins, read through ansible-inventory, which is not installed (not found in PATH); install ansible-core (Debian/Ubuntu: apt-get install ansible-core; RHEL: dnf install ansible-core; or pip install ansible-core)`,
    )
  })
})
