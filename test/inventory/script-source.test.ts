import { chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ansibleListJson } from '../../src/inventory/ansible-list.js'
import { loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

// Ansible's script plugin contract; the same scripts against ansible-inventory itself are in
// test/inventory/ansible-sources.test.ts.
async function script(files: Record<string, string>, name: string): Promise<string> {
  const dir = await writeTree(files)
  await chmod(join(dir, name), 0o755)
  return join(dir, name)
}

describe('executable inventory scripts', () => {
  it('runs --list and reads groups, children, vars and _meta.hostvars', async () => {
    const file = await script(
      {
        'inv.sh': `
          #!/bin/sh
          [ "$1" = --list ] || exit 9
          cat <<'JSON'
          {
            "rack_a": {"hosts": ["p9-01", "p9-02"], "vars": {"rack": "a"}},
            "power9": {"children": ["rack_a"], "vars": {"ansible_user": "admin"}},
            "loose": ["p9-03"],
            "_meta": {"hostvars": {"p9-01": {"ansible_host": "10.0.0.1", "ansible_port": 2222}}}
          }
          JSON
        `,
      },
      'inv.sh',
    )
    const inventory = await loadInventory(file, { env: {} })
    expect(inventory.hosts.map((h) => [h.name, h.groups.join(','), h.ssh.hostname, h.ssh.port, h.ssh.user])).toEqual([
      ['p9-01', 'all,rack_a,power9', '10.0.0.1', 2222, 'admin'],
      ['p9-02', 'all,rack_a,power9', 'p9-02', undefined, 'admin'],
      ['p9-03', 'all,loose', 'p9-03', undefined, undefined],
    ])
    expect(inventory.hosts[0].source).toBe(`${file} --list:2`) // the line of its output that names the host
    expect(inventory.groups.power9.children).toEqual(['rack_a'])
  })

  it('asks --host <name> for each host when there is no _meta', async () => {
    const file = await script(
      {
        'inv.py': `
          #!/usr/bin/env python3
          import json, sys
          if sys.argv[1:] == ['--list']:
              print(json.dumps({'web': {'hosts': ['w1', 'w2']}}))
          elif sys.argv[1] == '--host':
              print(json.dumps({'ansible_host': sys.argv[2] + '.mgmt'}))
        `,
      },
      'inv.py',
    )
    const inventory = await loadInventory(file, { env: {} })
    expect(inventory.hosts.map((h) => h.ssh.hostname)).toEqual(['w1.mgmt', 'w2.mgmt'])
    expect(ansibleListJson(inventory, inventory.hosts)).toMatchObject({ _meta: { hostvars: { w1: { ansible_host: 'w1.mgmt' } } } })
  })

  it('reports a failing, silent-JSON or hanging script with its stderr', async () => {
    const fails = await script({ 'fails.sh': '#!/bin/sh\necho "cannot reach NetBox: 503" >&2\nexit 4\n' }, 'fails.sh')
    await expect(loadInventory(fails, { env: {} })).rejects.toThrow(`${fails} --list: the inventory script exited with 4; its stderr:\n  cannot reach NetBox: 503`)
    const notJson = await script({ 'text.sh': '#!/bin/sh\necho "web: [a]"\n' }, 'text.sh')
    await expect(loadInventory(notJson, { env: {} })).rejects.toThrow(`${notJson} --list: the inventory script did not print JSON`)
    const hangs = await script({ 'hangs.sh': '#!/bin/sh\necho starting >&2\nexec sleep 30\n' }, 'hangs.sh')
    await expect(loadInventory(hangs, { env: {}, timeoutMs: 500 })).rejects.toThrow(`${hangs} --list: the inventory script did not finish within 0.5 s and was killed; its stderr:\n  starting`)
    const badVar = await script({ 'port.sh': '#!/bin/sh\nprintf \'{"g": {"hosts": ["h"]},\\n "_meta": {"hostvars": {"h": {"ansible_port": "x"}}}}\\n\'\n' }, 'port.sh')
    await expect(loadInventory(badVar, { env: {} })).rejects.toThrow(`${badVar} --list:2: host 'h': ansible_port must be a port number`)
  })

  it('mixes scripts and static files in an inventory directory', async () => {
    const dir = await writeTree({
      'inv/10-static.yaml': 'all:\n  children:\n    web:\n      hosts:\n        w1:\n',
      'inv/20-script.sh': '#!/bin/sh\necho \'{"db": ["d1"], "_meta": {"hostvars": {}}}\'\n',
      'inv/group_vars/db.yml': 'ansible_user: dba\n',
    })
    await chmod(join(dir, 'inv/20-script.sh'), 0o755)
    const inventory = await loadInventory(join(dir, 'inv'), { env: {} })
    expect(inventory.hosts.map((h) => [h.name, h.ssh.user ?? '-', h.source])).toEqual([
      ['w1', '-', `${join(dir, 'inv/10-static.yaml')}:5`],
      ['d1', 'dba', `${join(dir, 'inv/20-script.sh')} --list:1`],
    ])
  })
})
