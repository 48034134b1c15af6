import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import { inventoryCommand } from '../../src/commands/inventory.js'
import { loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

async function load(yaml: string, extra: Record<string, string> = {}) {
  const dir = await writeTree({ 'hosts.yaml': yaml, ...extra })
  return { dir, file: join(dir, 'hosts.yaml'), inventory: await loadInventory(join(dir, 'hosts.yaml')) }
}

// The error message loadInventory throws for this YAML, with the temp path replaced by FILE.
async function failure(yaml: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await writeTree({ 'hosts.yaml': yaml, ...extra })
  const error = await loadInventory(join(dir, 'hosts.yaml')).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InventoryError)
  return (error as Error).message.replaceAll(dir + '/', '')
}

describe('YAML inventories', () => {
  it('reads the Ansible docs example with ungrouped hosts', async () => {
    const { inventory } = await load(`
      ungrouped:
        hosts:
          mail.example.com:
      webservers:
        hosts:
          foo.example.com:
          bar.example.com:
      dbservers:
        hosts:
          one.example.com:
          two.example.com:
          three.example.com:
    `)
    expect(inventory.hosts.map((h) => h.name)).toEqual(['mail.example.com', 'foo.example.com', 'bar.example.com', 'one.example.com', 'two.example.com', 'three.example.com'])
    expect(inventory.groups.all.children).toEqual(['ungrouped', 'webservers', 'dbservers'])
    expect(inventory.groups.ungrouped.hosts).toEqual(['mail.example.com'])
    expect(inventory.hosts[1].groups).toEqual(['all', 'webservers'])
    expect(inventory.hosts[0].groups).toEqual(['all', 'ungrouped'])
  })

  it('puts hosts under all: hosts: into ungrouped, and nests children', async () => {
    const { inventory } = await load(`
      all:
        hosts:
          solo:
        children:
          prod:
            children:
              east:
                hosts:
                  e1:
              west:
                hosts:
                  w1:
          test:
            children:
              east:
    `)
    expect(inventory.groups.ungrouped.hosts).toEqual(['solo'])
    expect(inventory.groups.prod.children).toEqual(['east', 'west'])
    expect(inventory.groups.test.children).toEqual(['east'])
    const e1 = inventory.hosts.find((h) => h.name === 'e1')!
    expect(e1.groups).toEqual(['all', 'prod', 'east', 'test'])
  })

  it('lets one host be in several groups and merges its vars (last definition wins)', async () => {
    const { inventory } = await load(`
      a:
        hosts:
          h1: {x: 1, y: 1}
      b:
        hosts:
          h1: {y: 2}
    `)
    expect(inventory.hosts).toHaveLength(1)
    expect(inventory.hosts[0].vars).toEqual({ x: 1, y: 2 })
    expect(inventory.hosts[0].groups).toEqual(['all', 'a', 'b'])
  })

  it('expands ranges and host:port keys', async () => {
    const { inventory } = await load(`
      all:
        hosts:
          p9-[01:03]:
            ansible_host: 127.0.0.1
          p9-10:2222:
    `)
    expect(inventory.hosts.map((h) => h.name)).toEqual(['p9-01', 'p9-02', 'p9-03', 'p9-10'])
    expect(inventory.hosts[3].ssh.port).toBe(2222)
    expect(inventory.hosts[3].vars.ansible_port).toBe(2222)
    expect(inventory.hosts[0].ssh).toMatchObject({ hostname: '127.0.0.1', hostnameFromInventory: true })
    expect(inventory.hosts[3].ssh).toMatchObject({ hostname: 'p9-10', hostnameFromInventory: false })
  })

  it('reads YAML 1.1 booleans as Ansible does, but not y/n', async () => {
    const { inventory } = await load(`
      all:
        hosts:
          h1:
            ansible_become: yes
            y: n
            off_flag: off
    `)
    expect(inventory.hosts[0].vars).toEqual({ ansible_become: true, y: 'n', off_flag: false })
    expect(inventory.hosts[0].become).toBe(true)
  })

  it('accepts a single string where Ansible allows one', async () => {
    const { inventory } = await load(`
      web:
        hosts: w1
      site:
        children: web
    `)
    expect(inventory.groups.site.children).toEqual(['web'])
    expect(inventory.hosts[0].groups).toEqual(['all', 'web', 'site'])
  })

  it('keeps an explicitly empty group', async () => {
    const { inventory } = await load(`
      all:
        children:
          spare: {}
          web:
            hosts:
              w1:
    `)
    expect(inventory.groups.spare).toEqual({ hosts: [], children: [], vars: {} })
  })

  it('keeps !vault values opaque, printed as ansible-inventory does', async () => {
    const { inventory } = await load(`
      all:
        hosts:
          h1:
            db_password: !vault |
              $ANSIBLE_VAULT;1.1;AES256
              3132
    `)
    expect(JSON.parse(JSON.stringify(inventory.hosts[0].vars))).toEqual({ db_password: { __ansible_vault: '$ANSIBLE_VAULT;1.1;AES256\n3132\n' } })
  })

  describe('errors name file:line', () => {
    it('YAML syntax error', async () => {
      expect(
        await failure(`
          all:
            hosts:
              h1: [1, 2
              h2:
        `),
      ).toMatch(/^hosts\.yaml:[34]: YAML syntax error: /)
    })

    it('duplicate key', async () => {
      expect(
        await failure(`
          all:
            hosts:
              h1:
              h1:
        `),
      ).toMatch(/^hosts\.yaml:4: YAML syntax error: Map keys must be unique/)
    })

    it('unknown group in children', async () => {
      expect(
        await failure(`
          all:
            children:
              rack_a:
                hosts:
                  a1:
              power9:
                children:
                  rack_a:
                  rakc_b:
        `),
      ).toBe("hosts.yaml:9: group 'rakc_b' is listed under children but defined nowhere (no hosts, children or vars, no group_vars/rakc_b); check the spelling, or write 'rakc_b: {}' for an intentionally empty group")
    })

    it('accepts a children entry that group_vars/ defines', async () => {
      const { inventory } = await load(
        `
        all:
          hosts:
            h1:
          children:
            later:
      `,
        { 'group_vars/later.yml': 'x: 1\n' },
      )
      expect(inventory.groups.later.vars).toEqual({ x: 1 })
    })

    it('bad range', async () => {
      expect(
        await failure(`
          all:
            hosts:
              ok1:
              p9-[05:01]:
        `),
      ).toBe("hosts.yaml:4: bad host range '[05:01]' in 'p9-[05:01]': begin 05 is greater than end 01")
      expect(
        await failure(`
          all:
            hosts:
              p9-[1:x]:
        `),
      ).toMatch(/^hosts\.yaml:3: bad host range '\[1:x\]'/)
    })

    it('duplicate host with a conflicting address', async () => {
      expect(
        await failure(`
          rack_a:
            hosts:
              p9-01:
                ansible_host: 127.0.0.1
          rack_b:
            hosts:
              p9-01:
                ansible_host: 127.0.0.2
        `),
      ).toBe(`hosts.yaml:8: host 'p9-01' is defined again with a different address: ansible_host="127.0.0.2", but ansible_host="127.0.0.1" at hosts.yaml:4`)
    })

    it('duplicate host with a conflicting port (host:port form)', async () => {
      expect(
        await failure(`
          a:
            hosts:
              p9-01:2201:
          b:
            hosts:
              p9-01:
                ansible_port: 2202
        `),
      ).toMatch(/^hosts\.yaml:7: host 'p9-01' is defined again with a different port: ansible_port=2202, but ansible_port=2201 at hosts\.yaml:3$/)
    })

    it('allows the same host twice with the same address', async () => {
      const { inventory } = await load(`
        a:
          hosts:
            p9-01: {ansible_host: 127.0.0.1}
        b:
          hosts:
            p9-01: {ansible_host: 127.0.0.1}
      `)
      expect(inventory.hosts).toHaveLength(1)
    })

    it('wrong var types', async () => {
      expect(
        await failure(`
          all:
            hosts:
              h1:
                ansible_port: abc
        `),
      ).toBe(`hosts.yaml:4: host 'h1': ansible_port must be a port number (1-65535), got "abc"`)
      // gpufleet's own vars are checked per selected host (fleet-vars.ts), so loading keeps the problem.
      const { dir, inventory } = await load(`
          all:
            vars:
              gpufleet_rack: [1]
              rack: [1]
            hosts:
              h1:
        `)
      expect(inventory.hosts[0].fleetVarErrors).toEqual([`${dir}/hosts.yaml:3: host 'h1': gpufleet_rack: a rack must be a non-empty string (e.g. r1) or a whole number`])
    })

    it('cyclic children', async () => {
      expect(
        await failure(`
          a:
            children:
              b:
                children:
                  c:
          c:
            children:
              a:
        `),
      ).toBe("hosts.yaml:8: adding group 'a' as a child of 'c' creates a cycle (a -> b -> c -> a)")
      expect(
        await failure(`
          a:
            children:
              a:
        `),
      ).toMatch(/^hosts\.yaml:3: adding group 'a' as a child of 'a' creates a cycle/)
    })

    it('hosts written as a list', async () => {
      expect(
        await failure(`
          web:
            hosts:
              - w1
              - w2
        `),
      ).toMatch(/^hosts\.yaml:2: hosts of group 'web' must be a mapping of host names, found a list/)
    })

    it('a host written with a bare address', async () => {
      expect(
        await failure(`
          all:
            hosts:
              p9-01: 127.0.0.1
        `),
      ).toBe(`hosts.yaml:3: vars of host 'p9-01' must be a mapping, found the string "127.0.0.1" (for an address write 'p9-01: {ansible_host: 127.0.0.1}')`)
    })

    it('unexpected key in a group', async () => {
      expect(
        await failure(`
          web:
            host:
              w1:
        `),
      ).toBe("hosts.yaml:2: unexpected key 'host' in group 'web': only hosts, children and vars are allowed")
    })

    // A `plugin:` file goes through ansible-inventory: test/inventory/plugin-source.test.ts.
    it('an empty file, a list', async () => {
      expect(await failure('# nothing\n')).toBe('hosts.yaml:1: the inventory is empty')
      expect(await failure('- a\n- b\n')).toMatch(/^hosts\.yaml:1: a YAML inventory must be a mapping/)
    })

    it('unknown tags', async () => {
      expect(
        await failure(`
          all:
            vars:
              x: !include other.yml
        `),
      ).toMatch(/^hosts\.yaml:3: YAML problem: Unresolved tag: !include/)
    })
  })
})

describe('YAML scalars', () => {
  it('follow PyYAML (Ansible) except base-60 and dates: e1 is a name, 09 a string, PCI/MAC addresses and dates text', async () => {
    const dir = await writeTree({
      'hosts.yaml': `
        all:
          hosts:
            e1:
              a: 09
              b: 010
              c: 1e3
              d: 1.5
              day: 2024-01-31
              mac: 52:54:00:12:34:56
              gpufleet_gpus: {addresses: [0004:04:00.0]}
      `,
    })
    const inventory = await loadInventory(join(dir, 'hosts.yaml'))
    expect(inventory.hosts[0].name).toBe('e1')
    expect(inventory.hosts[0].vars).toMatchObject({ a: '09', b: 8, c: '1e3', d: 1.5, day: '2024-01-31', mac: '52:54:00:12:34:56' })
    expect(inventory.hosts[0].expectedGpus).toEqual({ addresses: ['0004:04:00.0'] })
  })
})

describe('YAML anchors', () => {
  it('resolves aliases and << merge keys, own keys winning', async () => {
    const dir = await writeTree({
      'hosts.yaml': `
        all:
          children:
            rack_a:
              hosts:
                a1: &base
                  ansible_host: 127.0.0.1
                  ansible_user: root
                a2:
                  <<: *base
                  ansible_port: 2202
                  ansible_user: admin
                a3: *base
            rack_b:
              hosts: &rack_b_hosts
                b1:
            spare_b:
              hosts: *rack_b_hosts
      `,
    })
    const inventory = await loadInventory(join(dir, 'hosts.yaml'))
    const [a1, a2, a3] = inventory.hosts
    expect(a1.vars).toEqual({ ansible_host: '127.0.0.1', ansible_user: 'root' })
    expect(a2.vars).toEqual({ ansible_host: '127.0.0.1', ansible_user: 'admin', ansible_port: 2202 })
    expect(a3.vars).toEqual(a1.vars)
    expect(inventory.groups.spare_b.hosts).toEqual(['b1'])
  })
})

describe('ansible-inventory --list output (the dynamic inventory JSON format)', () => {
  it('round-trips: gpufleet reads what --json prints, to the same hosts and vars', async () => {
    const example = join(import.meta.dirname, '../../inventory/example.yaml')
    const original = await loadInventory(example)
    const dir = await writeTree({ 'snapshot.json': await inventoryCommand({ inventory: example, json: true }) })
    const snapshot = await loadInventory(join(dir, 'snapshot.json'))
    const view = (inv: typeof original) => inv.hosts.map(({ source: _s, varOrigins: _o, groups, ...h }) => ({ ...h, groups: [...groups].sort() }))
    expect(view(snapshot)).toEqual(view(original))
    expect(snapshot.groups.ac922.children).toEqual(['rack_a', 'rack_b'])
  })

  it('accepts a bare host list per group, group vars, and the simplified one-host syntax', async () => {
    const dir = await writeTree({
      'inv.json': JSON.stringify({
        web: ['w1', 'w2'],
        db: { hosts: ['d1'], vars: { gpufleet_rack: 'r2' }, children: ['web'] },
        solo: { ansible_host: '127.0.0.1' },
        _meta: { hostvars: { w1: { gpufleet_rack: 'r1' }, nobody: { x: 1 } } },
      }),
    })
    const inventory = await loadInventory(join(dir, 'inv.json'))
    expect(inventory.hosts.map((h) => [h.name, h.rack, h.groups])).toEqual([
      ['w1', 'r1', ['all', 'web', 'db']],
      ['w2', 'r2', ['all', 'web', 'db']],
      ['d1', 'r2', ['all', 'db']],
      ['solo', undefined, ['all', 'solo']],
    ])
    expect(inventory.hosts[3].ssh.hostname).toBe('127.0.0.1')
  })

  it('names file:line for malformed groups', async () => {
    expect(await failure('{"_meta": {"hostvars": {}},\n "web": {"hosts": "w1"}}\n')).toBe('hosts.yaml:2: hosts of group \'web\' must be a list of host names, found the string "w1"')
    expect(await failure('_meta: {}\nweb:\n  hosts: [w1]\n  children: [web]\n')).toMatch(/^hosts\.yaml:4: adding group 'web' as a child of 'web' creates a cycle/)
  })
})
