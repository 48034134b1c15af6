import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import { detectFormat, loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

async function loadTree(files: Record<string, string>, main = 'hosts.yaml') {
  const dir = await writeTree(files)
  return loadInventory(join(dir, main))
}

async function failure(files: Record<string, string>, main = 'hosts.yaml'): Promise<string> {
  const dir = await writeTree(files)
  const error = await loadInventory(join(dir, main)).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InventoryError)
  return (error as Error).message.replaceAll(dir + '/', '')
}

const repoInventory = join(import.meta.dirname, '../../inventory')

describe('variable precedence', () => {
  it('host beats child group beats parent group beats all', async () => {
    const inventory = await loadTree({
      'hosts.yaml': `
        all:
          vars: {a: all, b: all, c: all, d: all}
          children:
            parent:
              vars: {b: parent, c: parent, d: parent}
              children:
                child:
                  vars: {c: child, d: child}
                  hosts:
                    h1: {d: host}
      `,
    })
    expect(inventory.hosts[0].vars).toEqual({ a: 'all', b: 'parent', c: 'child', d: 'host' })
  })

  it('the deeper group wins whatever the file order, and depth is the longest path from all', async () => {
    const inventory = await loadTree(
      {
        'hosts.ini': `
        [deep]
        h1
        [deep:vars]
        x=deep
        [top]
        h1
        [top:vars]
        x=top
        [mid:children]
        deep
        [outer:children]
        mid
      `,
      },
      'hosts.ini',
    )
    // deep: all > outer > mid > deep (depth 3); top: depth 1
    expect(inventory.hosts[0].vars.x).toBe('deep')
  })

  it('siblings at one depth merge by name, unless ansible_group_priority says otherwise', async () => {
    const plain = await loadTree({
      'hosts.yaml': `
        zeta:
          vars: {x: zeta}
          hosts: {h1: }
        alpha:
          vars: {x: alpha}
          hosts: {h1: }
      `,
    })
    expect(plain.hosts[0].vars.x).toBe('zeta') // 'zeta' sorts last, so it wins
    const prioritised = await loadTree({
      'hosts.yaml': `
        zeta:
          vars: {x: zeta}
          hosts: {h1: }
        alpha:
          vars: {x: alpha, ansible_group_priority: 10}
          hosts: {h1: }
      `,
    })
    expect(prioritised.hosts[0].vars.x).toBe('alpha')
    expect(prioritised.hosts[0].vars).not.toHaveProperty('ansible_group_priority')
  })

  it('group_vars/ and host_vars/ files beat the inventory file, in Ansible order', async () => {
    const inventory = await loadTree({
      'hosts.yaml': `
        all:
          vars: {v1: inv-all, v2: inv-all, v3: inv-all, v4: inv-all, v5: inv-all}
          children:
            web:
              vars: {v1: inv-web, v2: inv-web, v3: inv-web, v4: inv-web}
              hosts:
                w1: {v1: inv-host}
      `,
      // group_vars/all beats even the inventory's child-group vars (Ansible's VARIABLE_PRECEDENCE)
      'group_vars/all.yml': 'v2: gv-all\nv3: gv-all\nv4: gv-all\nv5: gv-all\n',
      'group_vars/web.yaml': 'v3: gv-web\nv4: gv-web\n',
      'host_vars/w1': 'v4: hv-w1\n',
    })
    expect(inventory.hosts[0].vars).toEqual({ v1: 'inv-host', v2: 'gv-all', v3: 'gv-web', v4: 'hv-w1', v5: 'gv-all' })
    expect(inventory.groups.web.vars).toEqual({ v1: 'inv-web', v2: 'inv-web', v3: 'gv-web', v4: 'gv-web' })
  })

  it('reads a group_vars directory in sorted order, skipping hidden and backup files', async () => {
    const inventory = await loadTree({
      'hosts.yaml': 'web:\n  hosts:\n    w1:\n',
      'group_vars/web/10-base.yml': 'x: base\ny: base\n',
      'group_vars/web/20-site.yaml': 'y: site\n',
      'group_vars/web/nested/z.json': '{"z": 1}',
      'group_vars/web/.hidden.yml': 'x: hidden\n',
      'group_vars/web/30-old.yml~': 'x: backup\n',
      'group_vars/web/notes.txt': 'x: text\n',
    })
    expect(inventory.hosts[0].vars).toEqual({ x: 'base', y: 'site', z: 1 })
  })

  it('uses the first of <name>, <name>.yml, <name>.yaml, <name>.json', async () => {
    const inventory = await loadTree({
      'hosts.yaml': 'web:\n  hosts:\n    w1:\n',
      'group_vars/web.yml': 'x: yml\n',
      'group_vars/web.json': '{"x": "json", "y": "json"}',
    })
    expect(inventory.hosts[0].vars).toEqual({ x: 'yml' })
  })

  it('replaces dict vars whole (hash_behaviour=replace)', async () => {
    const inventory = await loadTree({
      'hosts.yaml': `
        all:
          vars:
            gpufleet_gpus: {count: 4}
          hosts:
            h1:
              gpufleet_gpus: {addresses: ['0004:04:00.0']}
      `,
    })
    expect(inventory.hosts[0].expectedGpus).toEqual({ addresses: ['0004:04:00.0'] })
  })
})

describe('vars file errors name file:line', () => {
  it('a wrong type in group_vars points into that file', async () => {
    expect(
      await failure({
        'hosts.yaml': 'web:\n  hosts:\n    w1:\n',
        'group_vars/web.yml': '# web servers\nansible_user: deploy\nansible_port: abc\n',
      }),
    ).toBe(`group_vars/web.yml:3: host 'w1': ansible_port must be a port number (1-65535), got "abc"`)
  })

  it('a nested gpufleet var error points at the nested line', async () => {
    const dir = await writeTree({
      'hosts.yaml': 'gpu:\n  hosts:\n    p9-01:\n',
      'host_vars/p9-01.yml': `gpufleet_vms:\n  - domain: vm1\n    count: 2\n  - domain: vm2\n    addresses:\n      - '0004:04:00.0'\n      - '04:00.0'\n`,
    })
    const inventory = await loadInventory(join(dir, 'hosts.yaml'))
    expect(inventory.hosts[0].fleetVarErrors).toEqual([`${dir}/host_vars/p9-01.yml:7: host 'p9-01': gpufleet_vms[1].addresses[1]: '04:00.0' is not a PCI address (dddd:bb:ss.f, e.g. 0004:04:00.0)`])
  })

  it('syntax errors and non-mappings', async () => {
    expect(await failure({ 'hosts.yaml': 'web:\n  hosts:\n    w1:\n', 'group_vars/web.yml': 'a: 1\nb: [\n' })).toMatch(/^group_vars\/web\.yml:\d: YAML syntax error/)
    expect(await failure({ 'hosts.yaml': 'web:\n  hosts:\n    w1:\n', 'host_vars/w1.yml': '- a\n' })).toBe('host_vars/w1.yml:1: a vars file must be a mapping of variable names to values')
  })

  it('a missing inventory, an empty directory, an inventory script that is not executable', async () => {
    const dir = await writeTree({ 'empty/.keep': '', 'ec2.py': '#!/usr/bin/env python3\nprint("{}")\n' })
    await expect(loadInventory(join(dir, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: cannot read inventory: no such file/)
    await expect(loadInventory(join(dir, 'empty'))).rejects.toThrow(/empty: no inventory files in this directory/)
    await expect(loadInventory(join(dir, 'ec2.py'))).rejects.toThrow(/ec2\.py:1: this inventory script is not executable; make it executable \(chmod \+x .*ec2\.py\)/)
  })
})

describe('an inventory directory (ansible -i dir/)', () => {
  it('reads every file in sorted order, recursively, skipping what Ansible skips, with its group_vars/', async () => {
    const inventory = await loadInventory(join(import.meta.dirname, '../fixtures/inventory/dir'))
    expect(inventory.hosts.map((h) => h.name)).toEqual(['p9-a01', 'p9-a02', 'p9-b01', 'p9-s01'])
    expect(inventory.groups.power9.children).toEqual(['rack_a', 'rack_b'])
    expect(inventory.groups).not.toHaveProperty('ignored')
    const b01 = inventory.hosts[2]
    expect(b01).toMatchObject({ rack: 'rb', ssh: { port: 2202, user: 'root' } })
    expect(b01.source).toMatch(/dir\/02-rack-b:2$/)
  })

  it('reports a children entry no file defines', async () => {
    const dir = await writeTree({ 'inv/a.yaml': 'all:\n  children:\n    web:\n      children:\n        frontend:\n', 'inv/b.yaml': 'backend:\n  hosts:\n    b1:\n' })
    await expect(loadInventory(join(dir, 'inv'))).rejects.toThrow(`${join(dir, 'inv/a.yaml')}:5: group 'frontend' is listed under children but defined nowhere`)
  })
})

describe('format detection', () => {
  it.each([
    ['hosts.yml', 'all:\n', 'yaml'],
    ['hosts.json', '{"all": {}}', 'yaml'],
    ['hosts.ini', 'all:\n', 'ini'],
    ['hosts.cfg', '[web]\n', 'ini'],
    ['hosts', '# comment\nall:\n  hosts:\n', 'yaml'],
    ['hosts', '---\nall:\n', 'yaml'],
    ['hosts', '; comment\n[web]\nw1\n', 'ini'],
    ['hosts', 'w1 ansible_port=22\n', 'ini'],
    ['hosts', 'w1:2222\n', 'ini'],
  ] as const)('%s with %j is %s', (file, text, format) => {
    expect(detectFormat(file, text)).toBe(format)
  })

  it("reads a JSON inventory in the YAML plugin's shape (JSON is YAML)", async () => {
    const inventory = await loadTree({ 'hosts.json': '{"all": {"children": {"web": {"hosts": {"w1": {"ansible_port": 2201}}}}}}' }, 'hosts.json')
    expect(inventory.hosts[0].ssh.port).toBe(2201)
  })
})

describe('inventory/example.yaml and example.ini', () => {
  it('resolve to the same hosts, vars and settings', async () => {
    const yaml = await loadInventory(join(repoInventory, 'example.yaml'))
    const ini = await loadInventory(join(repoInventory, 'example.ini'))
    const strip = (inv: typeof yaml) => inv.hosts.map(({ source: _source, varOrigins: _origins, groups, ...h }) => ({ ...h, groups: [...groups].sort() }))
    expect(strip(ini)).toEqual(strip(yaml))
    expect(yaml.hosts).toHaveLength(8)
  })

  it('has two racks, per-host GPU overrides and VM assignments', async () => {
    const inventory = await loadInventory(join(repoInventory, 'example.yaml'))
    const byName = Object.fromEntries(inventory.hosts.map((h) => [h.name, h]))
    expect(new Set(inventory.hosts.map((h) => h.rack))).toEqual(new Set(['r1', 'r2']))
    expect(byName['p9-b04.gpu.example.com'].expectedGpus).toEqual({ addresses: ['0004:04:00.0', '0004:05:00.0'] })
    expect(byName['p9-b04.gpu.example.com'].ssh.port).toBe(2222)
    expect(byName['p9-a01.gpu.example.com'].assignments.map((a) => a.domain)).toEqual(['train-0', 'train-1'])
    expect(byName['p9-a03.gpu.example.com'].assignments).toEqual([])
    expect(byName['p9-a01.gpu.example.com'].ssh).toMatchObject({ user: 'admin', proxyJump: 'admin@bastion.gpu.example.com' })
    expect(byName['p9-a01.gpu.example.com'].become).toBe(true)
  })
})

describe('a comma-separated host list instead of a file (ansible -i host1,host2,)', () => {
  it('puts the hosts in ungrouped, with ports', async () => {
    const inventory = await loadInventory('127.0.0.1:2201, p9-02,[::1]:2203,')
    expect(inventory.hosts.map((h) => [h.name, h.ssh.port, h.groups])).toEqual([
      ['127.0.0.1', 2201, ['all', 'ungrouped']],
      ['p9-02', undefined, ['all', 'ungrouped']],
      ['::1', 2203, ['all', 'ungrouped']],
    ])
  })

  it('rejects one name with two ports', async () => {
    await expect(loadInventory('127.0.0.1:2201,127.0.0.1:2202')).rejects.toThrow(`<host list>:1: host '127.0.0.1' is defined again with a different port: ansible_port=2202, but ansible_port=2201 at <host list>:1`)
  })
})
