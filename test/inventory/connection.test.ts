import { homedir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import { resolveConnection, type MergedVars } from '../../src/inventory/connection.js'
import { VaultedValue } from '../../src/inventory/yaml-source.js'

// Merged vars as if each came from line N of hosts.yaml (N = position in the object, from 1).
function vars(values: Record<string, unknown>): MergedVars {
  const entries = Object.entries(values)
  return {
    values: new Map(entries),
    origins: new Map(entries.map(([k], i) => [k, { file: 'hosts.yaml', line: i + 1 }])),
  }
}

const resolve = (values: Record<string, unknown>, name = 'p9-01') => resolveConnection(name, vars(values))

describe('resolveConnection', () => {
  it('defaults to ssh to the inventory name, nothing else set', () => {
    expect(resolve({})).toEqual({
      connection: 'ssh',
      ssh: { hostname: 'p9-01', hostnameFromInventory: false, port: undefined, user: undefined, identityFiles: [], proxyJump: undefined, knownHostsFile: undefined, strictHostKeyChecking: undefined },
      become: false,
      becomeUser: 'root',
    })
  })

  it('reads the standard connection vars', () => {
    const r = resolve({
      ansible_host: '127.0.0.5',
      ansible_port: '2222',
      ansible_user: 'admin',
      ansible_ssh_private_key_file: '~/.ssh/id_gpu',
      ansible_become: 'yes',
      ansible_become_user: 'operator',
    })
    expect(r.ssh).toMatchObject({ hostname: '127.0.0.5', hostnameFromInventory: true, port: 2222, user: 'admin', identityFiles: [`${homedir()}/.ssh/id_gpu`] })
    expect(r).toMatchObject({ become: true, becomeUser: 'operator' })
  })

  it('prefers the legacy ansible_ssh_* spellings, as Ansible lists them last', () => {
    const r = resolve({ ansible_host: '127.0.0.1', ansible_ssh_host: '127.0.0.2', ansible_ssh_port: 2200, ansible_ssh_user: 'legacy' })
    expect(r.ssh).toMatchObject({ hostname: '127.0.0.2', port: 2200, user: 'legacy' })
  })

  it.each([
    ['ssh', 'ssh'],
    ['smart', 'ssh'],
    ['paramiko', 'ssh'],
    ['ansible.builtin.ssh', 'ssh'],
    ['local', 'local'],
  ])('ansible_connection %s is %s', (value, kind) => {
    expect(resolve({ ansible_connection: value }).connection).toBe(kind)
  })

  it('reads ProxyJump, UserKnownHostsFile and StrictHostKeyChecking from ssh args', () => {
    const r = resolve({ ansible_ssh_common_args: '-o ProxyJump=admin@127.0.0.9:2200 -o UserKnownHostsFile=/tmp/kh -o StrictHostKeyChecking=accept-new -o ControlPersist=60s' })
    expect(r.ssh).toMatchObject({ proxyJump: 'admin@127.0.0.9:2200', knownHostsFile: '/tmp/kh', strictHostKeyChecking: 'accept-new' })
  })

  it('reads -J, -p, -l, -i and attached -oKey=value forms', () => {
    const r = resolve({ ansible_ssh_extra_args: '-J jump1,jump2 -p 2201 -l alice -i /k/extra -oStrictHostKeyChecking=no' })
    expect(r.ssh).toMatchObject({ proxyJump: 'jump1,jump2', port: 2201, user: 'alice', identityFiles: ['/k/extra'], strictHostKeyChecking: 'no' })
  })

  it('makes key and known_hosts paths absolute, from the current directory as ssh does', () => {
    const r = resolve({ ansible_ssh_private_key_file: 'keys/id_ed25519', ansible_ssh_common_args: '-o UserKnownHostsFile=~/kh' })
    expect(r.ssh.identityFiles).toEqual([`${process.cwd()}/keys/id_ed25519`])
    expect(r.ssh.knownHostsFile).toBe(`${homedir()}/kh`)
  })

  it('lets ansible_port/ansible_user beat -o Port/User, and the first -o win (ssh semantics)', () => {
    const r = resolve({
      ansible_port: 22,
      ansible_user: 'root',
      ansible_ssh_common_args: '-o Port=2000 -o User=x -o ProxyJump=first',
      ansible_ssh_extra_args: '-o ProxyJump=second',
    })
    expect(r.ssh).toMatchObject({ port: 22, user: 'root', proxyJump: 'first' })
  })

  it('turns the classic ProxyCommand bastion recipe into a ProxyJump', () => {
    expect(resolve({ ansible_ssh_common_args: `-o ProxyCommand="ssh -W %h:%p -q user@gateway.example.com"` }).ssh.proxyJump).toBe('user@gateway.example.com')
    expect(resolve({ ansible_ssh_common_args: `-o 'ProxyCommand=ssh -q -W %h:%p -p 2222 -l ops gw'` }).ssh.proxyJump).toBe('ops@gw:2222')
    expect(resolve({ ansible_ssh_common_args: '-o ProxyJump=none' }).ssh.proxyJump).toBeUndefined()
  })

  it('maps StrictHostKeyChecking spellings and ansible_host_key_checking', () => {
    expect(resolve({ ansible_ssh_common_args: '-o StrictHostKeyChecking=ask' }).ssh.strictHostKeyChecking).toBe('yes')
    expect(resolve({ ansible_ssh_common_args: '-o StrictHostKeyChecking=off' }).ssh.strictHostKeyChecking).toBe('no')
    expect(resolve({ ansible_host_key_checking: false }).ssh.strictHostKeyChecking).toBe('no')
    expect(resolve({ ansible_host_key_checking: true }).ssh.strictHostKeyChecking).toBeUndefined()
  })

  it('renders {{ var }} templates', () => {
    const r = resolve({ mgmt_domain: 'mgmt.example.com', ansible_host: '{{ inventory_hostname }}.{{mgmt_domain}}', ansible_user: '{{ login }}', login: 'root' })
    expect(r.ssh).toMatchObject({ hostname: 'p9-01.mgmt.example.com', user: 'root' })
  })

  it.each([
    [{ ansible_port: 'abc' }, 'hosts.yaml:1: host \'p9-01\': ansible_port must be a port number (1-65535), got "abc"'],
    [{ x: 1, ansible_port: 70000 }, "hosts.yaml:2: host 'p9-01': ansible_port must be a port number (1-65535), got 70000"],
    [{ ansible_user: ['a'] }, 'hosts.yaml:1: host \'p9-01\': ansible_user must be a string, got ["a"]'],
    [{ ansible_host: '' }, "hosts.yaml:1: host 'p9-01': ansible_host is empty"],
    [{ ansible_become: 'maybe' }, 'hosts.yaml:1: host \'p9-01\': ansible_become must be a boolean (true/false, yes/no), got "maybe"'],
    [{ ansible_connection: 'winrm' }, "hosts.yaml:1: host 'p9-01': ansible_connection 'winrm' is not supported (gpufleet connects with ssh or local)"],
    [{ ansible_become_method: 'su' }, "hosts.yaml:1: host 'p9-01': ansible_become_method 'su' is not supported (gpufleet becomes root with sudo)"],
    [{ ansible_ssh_common_args: '-o ProxyCommand="nc -X 5 -x proxy:1080 %h %p"' }, /^hosts\.yaml:1: host 'p9-01': ansible_ssh_common_args: ProxyCommand 'nc .*' is not supported; use ProxyJump/],
    [{ ansible_ssh_common_args: '-o StrictHostKeyChecking=perhaps' }, /^hosts\.yaml:1: host 'p9-01': StrictHostKeyChecking 'perhaps' is not one of/],
    [{ ansible_ssh_common_args: '-o "ProxyJump=a' }, /^hosts\.yaml:1: host 'p9-01': ansible_ssh_common_args: cannot split/],
    [{ ansible_ssh_common_args: '-o' }, /^hosts\.yaml:1: host 'p9-01': ansible_ssh_common_args: option -o needs a value/],
    [{ ansible_ssh_extra_args: 'bastion' }, /^hosts\.yaml:1: host 'p9-01': ansible_ssh_extra_args: unexpected argument 'bastion'/],
    [{ ansible_ssh_common_args: '-F /etc/other' }, /-F \(another ssh config file\) is not supported/],
    [{ ansible_host: '{{ lookup("env", "X") }}' }, /^hosts\.yaml:1: host 'p9-01': ansible_host: cannot evaluate .* only \{\{ variable \}\}/],
    [{ ansible_host: '{{ nowhere }}' }, /^hosts\.yaml:1: host 'p9-01': ansible_host: .*undefined variable 'nowhere'/],
    [{ ansible_host: new VaultedValue('$ANSIBLE_VAULT;1.1;AES256\n31\n') }, /^hosts\.yaml:1: host 'p9-01': ansible_host is encrypted with Ansible Vault/],
  ])('rejects %j', (values, message) => {
    let error: unknown
    try {
      resolve(values)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InventoryError)
    if (typeof message === 'string') expect((error as Error).message).toBe(message)
    else expect((error as Error).message).toMatch(message)
  })
})
