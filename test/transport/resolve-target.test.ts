import { userInfo } from 'node:os'
import { describe, expect, it } from 'vitest'
import type { InventoryHost } from '../../src/inventory/types.js'
import { DEFAULT_GLOBAL_KNOWN_HOSTS, parseJumpSpec, resolveJumpTarget, resolveTarget } from '../../src/transport/resolve-target.js'
import type { SshConfigHost } from '../../src/transport/ssh-config.js'

const host = (ssh: Partial<InventoryHost['ssh']> = {}, extra: Partial<InventoryHost> = {}): InventoryHost => ({
  name: 'p9-01',
  groups: ['all'],
  vars: {},
  connection: 'ssh',
  ssh: { hostname: 'p9-01', hostnameFromInventory: false, identityFiles: [], ...ssh },
  become: true,
  becomeUser: 'root',
  assignments: [],
  ...extra,
})
const cfg = (c: Partial<SshConfigHost> = {}): SshConfigHost => ({ identityFiles: [], ...c })

describe('resolveTarget', () => {
  it('takes the inventory over the ssh config over the flags over the defaults', () => {
    const t = resolveTarget(host({ port: 2222, user: 'ops', identityFiles: ['/k/inv'] }), cfg({ hostName: '10.0.0.1', port: 22, user: 'cfg', identityFiles: ['/k/cfg', '/k/inv'], connectTimeoutMs: 5000 }), {})
    expect(t).toMatchObject({ name: 'p9-01', hostname: '10.0.0.1', port: 2222, user: 'ops', identityFiles: ['/k/inv', '/k/cfg'], connectTimeoutMs: 5000, acceptNew: false, globalKnownHostsFiles: DEFAULT_GLOBAL_KNOWN_HOSTS })
    // ansible_host beats the config's HostName; defaults fill the rest.
    const d = resolveTarget(host({ hostname: '10.9.9.9', hostnameFromInventory: true }), cfg({ hostName: '10.0.0.1' }), { connectTimeoutMs: 1234 })
    expect(d).toMatchObject({ hostname: '10.9.9.9', port: 22, user: userInfo().username, connectTimeoutMs: 1234 })
  })

  it('names who chose the known_hosts file: --known-hosts, then the inventory, then the config', () => {
    expect(resolveTarget(host({ knownHostsFile: '/inv' }), cfg({ userKnownHostsFiles: ['/cfg'], knownHostsSource: 'c:1' }), { knownHostsFile: '/flag' })).toMatchObject({ knownHostsFiles: ['/flag'], knownHostsSource: '--known-hosts' })
    expect(resolveTarget(host({ knownHostsFile: '/inv' }, { source: 'inv.yml:4' }), cfg({ userKnownHostsFiles: ['/cfg'] }), {})).toMatchObject({ knownHostsFiles: ['/inv'], knownHostsSource: "the inventory's UserKnownHostsFile for p9-01 (inv.yml:4)" })
    expect(resolveTarget(host(), cfg({ userKnownHostsFiles: ['/cfg'], knownHostsSource: 'c:1' }), {})).toMatchObject({ knownHostsFiles: ['/cfg'], knownHostsSource: 'UserKnownHostsFile at c:1' })
    expect(resolveTarget(host(), cfg(), {}).knownHostsSource).toBeUndefined()
  })

  it('relaxes only unknown keys, by flag or StrictHostKeyChecking', () => {
    expect(resolveTarget(host(), cfg({ strictHostKeyChecking: 'accept-new' }), {}).acceptNew).toBe(true)
    expect(resolveTarget(host({ strictHostKeyChecking: 'yes' }), cfg({ strictHostKeyChecking: 'no' }), {}).acceptNew).toBe(false)
    expect(resolveTarget(host(), cfg(), { acceptNewHostKeys: true }).acceptNew).toBe(true)
  })

  it("lets an inventory ProxyJump replace the config's ProxyCommand", () => {
    expect(resolveTarget(host({ proxyJump: 'bastion' }), cfg({ proxyCommand: 'nc %h %p' }), {})).toMatchObject({ proxyJump: 'bastion' })
    expect(resolveTarget(host({ proxyJump: 'bastion' }), cfg({ proxyCommand: 'nc %h %p' }), {}).proxyCommand).toBeUndefined()
    expect(resolveTarget(host(), cfg({ proxyCommand: 'nc x 22' }), {}).proxyCommand).toBe('nc x 22')
  })
})

describe('jump hosts', () => {
  it('parses user@host:port and [v6]:port, and refuses anything else', () => {
    expect(parseJumpSpec('ops@bastion:2200')).toEqual({ user: 'ops', host: 'bastion', port: 2200 })
    expect(parseJumpSpec(' [fd00::1]:22 ')).toEqual({ host: 'fd00::1', port: 22 })
    expect(parseJumpSpec('bastion')).toEqual({ host: 'bastion' })
    expect(parseJumpSpec('a:b:c')).toBeUndefined()
  })

  it("resolves a hop with its own config, falling back to the target's keys and known_hosts", () => {
    const via = resolveTarget(host({ identityFiles: ['/k/t'], knownHostsFile: '/kh' }), cfg(), { connectTimeoutMs: 700 })
    const hop = resolveJumpTarget({ host: 'bastion' }, cfg({ hostName: '192.0.2.1', user: 'jump' }), via, {})
    expect(hop).toMatchObject({ name: 'p9-01 via bastion', hostname: '192.0.2.1', port: 22, user: 'jump', identityFiles: ['/k/t'], knownHostsFiles: ['/kh'], connectTimeoutMs: 700 })
    const own = resolveJumpTarget({ host: 'bastion', port: 2200 }, cfg({ identityFiles: ['/k/b'], userKnownHostsFiles: ['/kb'], knownHostsSource: 'c:2' }), via, {})
    expect(own).toMatchObject({ port: 2200, identityFiles: ['/k/b'], knownHostsFiles: ['/kb'], knownHostsSource: 'UserKnownHostsFile at c:2' })
    // --known-hosts names one file for every hop.
    expect(resolveJumpTarget({ host: 'bastion' }, cfg({ userKnownHostsFiles: ['/kb'] }), via, { knownHostsFile: '/flag' }).knownHostsFiles).toEqual(['/kh'])
  })
})
