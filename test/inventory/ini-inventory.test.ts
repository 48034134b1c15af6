import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import { loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

async function load(ini: string, name = 'hosts.ini') {
  const dir = await writeTree({ [name]: ini })
  return loadInventory(join(dir, name))
}

async function failure(ini: string): Promise<string> {
  const dir = await writeTree({ 'hosts.ini': ini })
  const error = await loadInventory(join(dir, 'hosts.ini')).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InventoryError)
  return (error as Error).message.replaceAll(dir + '/', '')
}

describe('INI inventories', () => {
  it('reads the Ansible docs example: ungrouped hosts, groups, children, vars', async () => {
    const inventory = await load(`
      mail.example.com

      [atlanta]
      host1
      host2

      [raleigh]
      host2
      host3

      [southeast:children]
      atlanta
      raleigh

      [southeast:vars]
      some_server=foo.southeast.example.com
      halon_system_timeout=30
      self_destruct_countdown=60
      escape_pods=2

      [usa:children]
      southeast
      northeast

      [northeast]
      host4
    `)
    expect(inventory.hosts.map((h) => h.name)).toEqual(['mail.example.com', 'host1', 'host2', 'host3', 'host4'])
    expect(inventory.groups.ungrouped.hosts).toEqual(['mail.example.com'])
    expect(inventory.groups.all.children).toEqual(['ungrouped', 'usa']) // groups with a parent are not under all
    expect(inventory.groups.usa.children).toEqual(['southeast', 'northeast'])
    const host2 = inventory.hosts[2]
    expect(host2.groups).toEqual(['all', 'atlanta', 'raleigh', 'southeast', 'usa'])
    expect(host2.vars).toEqual({ some_server: 'foo.southeast.example.com', halon_system_timeout: 30, self_destruct_countdown: 60, escape_pods: 2 })
  })

  it('types values like ast.literal_eval and strips inline comments on host lines only', async () => {
    const inventory = await load(`
      [web]
      w1 ansible_port=2222 ansible_user="deploy" flag=True other=true quoted="'010'" list="[1, 'a']" # comment
      [web:vars]
      note = keep # this, Ansible does not strip it
      has_java = True # vars in child groups override same in parent
      empty =
    `)
    expect(inventory.hosts[0].vars).toEqual({
      note: 'keep # this, Ansible does not strip it',
      has_java: true,
      empty: '',
      ansible_port: 2222,
      ansible_user: 'deploy',
      flag: true,
      other: 'true',
      quoted: '010',
      list: [1, 'a'],
    })
    expect(inventory.hosts[0].ssh).toMatchObject({ port: 2222, user: 'deploy' })
  })

  it('expands ranges, with a port', async () => {
    const inventory = await load(`
      [rack_a]
      p9-a[01:04]:2200 ansible_host=127.0.0.1
      www[01:10:3]
    `)
    expect(inventory.hosts.map((h) => h.name)).toEqual(['p9-a01', 'p9-a02', 'p9-a03', 'p9-a04', 'www01', 'www04', 'www07', 'www10'])
    expect(inventory.hosts[0].ssh).toMatchObject({ hostname: '127.0.0.1', port: 2200 })
  })

  it('accepts children declared before the child group', async () => {
    const inventory = await load(`
      [power9:children]
      rack_a
      rack_b

      [rack_a]
      a1
      [rack_b:children]
      rack_b_top
      [rack_b_top]
      b1
    `)
    expect(inventory.groups.power9.children).toEqual(['rack_a', 'rack_b'])
    expect(inventory.groups.rack_b.children).toEqual(['rack_b_top'])
    expect(inventory.hosts.find((h) => h.name === 'b1')!.groups).toEqual(['all', 'power9', 'rack_b', 'rack_b_top'])
  })

  it('accepts [g:vars] before [g]', async () => {
    const inventory = await load(`
      [web:vars]
      gpufleet_rack=r9
      [web]
      w1
    `)
    expect(inventory.hosts[0].rack).toBe('r9')
  })

  it('supports gpufleet vars as Python literals', async () => {
    const inventory = await load(`
      [gpu]
      p9-01 gpufleet_rack=3 gpufleet_gpus="{'count': 4}" gpufleet_vms="[{'domain': 'vm1', 'count': 2}, {'domain': 'vm2', 'addresses': ['0004:04:00.0']}]"
    `)
    expect(inventory.hosts[0]).toMatchObject({
      rack: '3',
      expectedGpus: { count: 4 },
      assignments: [
        { domain: 'vm1', count: 2 },
        { domain: 'vm2', addresses: ['0004:04:00.0'] },
      ],
    })
  })

  it('reads an extensionless file as INI when it looks like INI', async () => {
    const inventory = await load('h1\nh2 ansible_port=2\n', 'hosts')
    expect(inventory.hosts.map((h) => h.name)).toEqual(['h1', 'h2'])
  })

  describe('errors name file:line', () => {
    it('[x:children] with an undefined child (as Ansible)', async () => {
      expect(
        await failure(`
          [rack_a]
          a1
          [power9:children]
          rack_a
          rack_c
        `),
      ).toBe("hosts.ini:5: section [power9:children] includes undefined group 'rack_c' (add a [rack_c] section)")
    })

    it('[x:vars] for an undefined group (as Ansible)', async () => {
      expect(
        await failure(`
          [web]
          w1
          [wbe:vars]
          x=1
        `),
      ).toMatch(/^hosts\.ini:3: section \[wbe:vars\] is for group 'wbe', which is not defined/)
    })

    it('bad ranges', async () => {
      expect(await failure('[g]\nok\np9-[05:01]\n')).toBe("hosts.ini:3: bad host range '[05:01]' in 'p9-[05:01]': begin 05 is greater than end 01")
      expect(await failure('[g]\np9-[1:x]\n')).toMatch(/^hosts\.ini:2: bad host range '\[1:x\]' in 'p9-\[1:x\]': begin and end must both be numbers/)
    })

    it('duplicate host with a conflicting address', async () => {
      expect(
        await failure(`
          [a]
          p9-01 ansible_host=127.0.0.1
          [b]
          p9-01 ansible_ssh_host=127.0.0.2
        `),
      ).toBe('hosts.ini:4: host \'p9-01\' is defined again with a different address: ansible_ssh_host="127.0.0.2", but ansible_host="127.0.0.1" at hosts.ini:2')
    })

    it('wrong var types', async () => {
      expect(await failure('[g]\nh1 ansible_port=abc\n')).toBe(`hosts.ini:2: host 'h1': ansible_port must be a port number (1-65535), got "abc"`)
      expect(await failure('[g]\nh1 ansible_become=maybe\n')).toMatch(/^hosts\.ini:2: host 'h1': ansible_become must be a boolean/)
    })

    it('a malformed gpufleet var is kept, with file:line, for the commands that use it', async () => {
      const dir = await writeTree({ 'hosts.ini': '[g]\nh1\n[g:vars]\ngpufleet_rack=[1]\nrack=[1]\n' })
      const inventory = await loadInventory(join(dir, 'hosts.ini'))
      expect(inventory.hosts[0].fleetVarErrors).toEqual([`${dir}/hosts.ini:4: host 'h1': gpufleet_rack: a rack must be a non-empty string (e.g. r1) or a whole number`])
    })

    it('cyclic children', async () => {
      expect(
        await failure(`
          [a:children]
          b
          [b:children]
          a
        `),
      ).toBe("hosts.ini:4: adding group 'a' as a child of 'b' creates a cycle (a -> b -> a)")
    })

    it('malformed lines', async () => {
      expect(await failure('[g]\nh1 novalue\n')).toBe("hosts.ini:2: expected key=value host variable, got 'novalue'")
      expect(await failure('[g]\nh1 x="open\n')).toMatch(/^hosts\.ini:2: cannot parse host line .*No closing quotation/)
      expect(await failure('[g:vars]\n[g]\nh\n[g:vars]\njust-a-word\n')).toMatch(/^hosts\.ini:5: expected key=value in \[g:vars\]/)
      expect(await failure('[g:stuff]\n')).toMatch(/^hosts\.ini:1: section \[g:stuff\] has unknown type 'stuff'/)
      expect(await failure('[my group]\n')).toMatch(/^hosts\.ini:1: invalid section header '\[my group\]'/)
      expect(await failure('[g:children]\nbad:name\n')).toMatch(/^hosts\.ini:2: expected a group name in \[g:children\]/)
    })
  })
})
