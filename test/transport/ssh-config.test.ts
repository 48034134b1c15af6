import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConnector } from '../../src/transport/connect.js'
import { loadDefaultSshConfig, loadSshConfig, parseSshConfig, resolveSshConfig, SshConfigError } from '../../src/transport/ssh-config.js'
import { sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

describe('ssh config parsing (pure)', () => {
  const text = `
# global
User global-user
Host p9-* !p9-bastion
  HostName %h.rack.example
  Port 2222
  IdentityFile ~/.ssh/rack_key
  IdentityFile /keys/%h-%r
  ProxyJump admin@p9-bastion:22
  StrictHostKeyChecking accept-new
Match host p9-01
  User matched-user
Host p9-0?
  User=second-user
  Port 2200
  UserKnownHostsFile "~/.ssh/known hosts rack"
  IdentitiesOnly yes
Host *
  ConnectTimeout 7
  ProxyJump none
`
  const blocks = parseSshConfig(text, '/cfg')

  it('applies the first value per keyword across matching Host blocks, and accumulates IdentityFile', async () => {
    const r = await resolveSshConfig(blocks, 'p9-01')
    expect(r).toEqual({
      hostName: 'p9-01.rack.example',
      user: 'global-user', // before any Host: applies to all, and comes first
      port: 2222,
      identityFiles: [join(homedir(), '.ssh/rack_key'), '/keys/p9-01.rack.example-global-user'],
      proxyJump: 'admin@p9-bastion:22',
      strictHostKeyChecking: 'accept-new',
      userKnownHostsFiles: [join(homedir(), '.ssh/known hosts rack')],
      knownHostsSource: '/cfg:16',
      identitiesOnly: true,
      connectTimeoutMs: 7000,
    })
  })

  it('honours negated patterns, ? wildcards and ProxyJump none', async () => {
    const bastion = await resolveSshConfig(blocks, 'p9-bastion')
    expect(bastion.hostName).toBeUndefined()
    expect(bastion.proxyJump).toBeUndefined() // `ProxyJump none` under Host *
    expect(bastion.user).toBe('global-user')
    expect((await resolveSshConfig(blocks, 'p9-10')).port).toBe(2222)
    expect(await resolveSshConfig(blocks, 'other')).toEqual({ user: 'global-user', identityFiles: [], connectTimeoutMs: 7000 })
  })

  it('follows Include inside a Host block', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpufleet-cfg-'))
    try {
      await mkdir(join(dir, 'conf.d'))
      await writeFile(join(dir, 'conf.d', 'a.conf'), 'Port 4444\nHostName included.example\n')
      await writeFile(join(dir, 'config'), `Host inc\n  Include ${dir}/conf.d/*.conf\n  User after-include\n`)
      const blocks = await loadSshConfig(join(dir, 'config'))
      expect(await resolveSshConfig(blocks, 'inc')).toMatchObject({ port: 4444, hostName: 'included.example', user: 'after-include' })
      expect((await resolveSshConfig(blocks, 'other')).port).toBeUndefined()
      expect(await loadSshConfig(join(dir, 'missing'))).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('Match exec, errors and the connector', () => {
  it('shell-quotes token values in Match exec, so a hostile name stays one word', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpufleet-cfg-'))
    try {
      const blocks = parseSshConfig(`Match exec "printf %%s %n > ${dir}/out; false"\n  User never\n`, '/cfg')
      const seen: string[] = []
      const host = `h$(touch ${dir}/pwned);x`
      await resolveSshConfig(blocks, host, { runExec: async (cmd) => (seen.push(cmd), false) })
      expect(seen).toEqual([`printf %s 'h$(touch ${dir}/pwned);x' > ${dir}/out; false`])
      // Through the real shell: the command runs with the name as one word; the $(...) does not run.
      expect((await resolveSshConfig(blocks, host)).user).toBeUndefined()
      expect(await readFile(join(dir, 'out'), 'utf8')).toBe(host)
      expect(existsSync(join(dir, 'pwned'))).toBe(false)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rejects what ssh rejects, with file:line', async () => {
    expect(() => parseSshConfig('Host a\n  Port 1\nMatch hostname x\n', '/cfg')).toThrow(new SshConfigError('/cfg:3: unsupported Match attribute "hostname"'))
    expect(() => parseSshConfig('Match\n', '/cfg')).toThrow('/cfg:1: Match needs at least one criterion')
    expect(() => parseSshConfig('Match host\n', '/cfg')).toThrow('/cfg:1: Match host needs an argument')
    expect(() => parseSshConfig('Match all host x\n', '/cfg')).toThrow("/cfg:1: 'all' cannot be combined")
    // `all` last, or negated, is fine (ssh 9.2 agrees).
    expect((await resolveSshConfig(parseSshConfig('Match !all\n  Port 5\nMatch host y all\n  Port 6\nMatch final all\n  Port 7\n', '/cfg'), 'x')).port).toBe(7)
    await expect(resolveSshConfig(parseSshConfig('Host *\n  IdentityFile ~/.ssh/%z\n', '/cfg'), 'a')).rejects.toThrow('/cfg:2: unknown token %z')
    // The connector turns it into this host's connection failure, before any network I/O.
    const dir = await mkdtemp(join(tmpdir(), 'gpufleet-cfg-'))
    try {
      await writeFile(join(dir, 'config'), 'Match nonsense\n')
      const host = { name: 'n1', groups: ['all'], vars: {}, connection: 'ssh' as const, ssh: { hostname: 'n1', hostnameFromInventory: false, identityFiles: [] }, become: false, becomeUser: 'root', assignments: [] }
      await expect(createConnector({ sshConfigFile: join(dir, 'config'), agentSocket: null }).connect(host)).rejects.toMatchObject({
        reason: 'config',
        retryable: false,
        message: `[n1] ssh config: ${join(dir, 'config')}:1: unsupported Match attribute "nonsense"`,
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('reads the system-wide file after the user one (first value wins), its relative Includes under its own directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpufleet-cfg-'))
    try {
      await mkdir(join(dir, 'etc', 'ssh_config.d'), { recursive: true })
      await writeFile(join(dir, 'user-config'), 'Host p9-*\n  Port 2201\n')
      await writeFile(join(dir, 'etc', 'ssh_config'), 'Include ssh_config.d/*.conf\nHost *\n  Port 22\n  User site-user\n')
      await writeFile(join(dir, 'etc', 'ssh_config.d', 'jump.conf'), 'Match originalhost p9-*\n  ProxyJump site-bastion\n')
      const blocks = await loadDefaultSshConfig(join(dir, 'user-config'), join(dir, 'etc', 'ssh_config'))
      expect(await resolveSshConfig(blocks, 'p9-01')).toMatchObject({ port: 2201, user: 'site-user', proxyJump: 'site-bastion' })
      expect(await resolveSshConfig(blocks, 'other')).toMatchObject({ port: 22, user: 'site-user' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('matches Match localnetwork against local interface addresses', async () => {
    const blocks = parseSshConfig('Match localnetwork 10.1.0.0/16,fd00::/8\n  Port 1010\n', '/cfg')
    expect((await resolveSshConfig(blocks, 'a', { localAddresses: () => ['127.0.0.1', '10.1.2.3'] })).port).toBe(1010)
    expect((await resolveSshConfig(blocks, 'a', { localAddresses: () => ['fd12::1'] })).port).toBe(1010)
    expect((await resolveSshConfig(blocks, 'a', { localAddresses: () => ['10.2.0.1'] })).port).toBeUndefined()
  })
})

describe('ssh config applied to real connections', () => {
  let sshd: TestSshd
  let dir: string
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-cfg-'))
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('maps an inventory name through Host/HostName/Port/User/IdentityFile/UserKnownHostsFile; inventory values win', async () => {
    const config = join(dir, 'config')
    await writeFile(config, `Host gpu-node\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.clientKeyFile}\n  UserKnownHostsFile ${sshd.knownHostsFile}\n`)
    const connector = createConnector({ sshConfigFile: config, agentSocket: null })
    const host = sshdHost(sshd, { name: 'gpu-node', identityFiles: [] })
    host.ssh = { hostname: 'gpu-node', hostnameFromInventory: false, identityFiles: [] }
    const t = await connector.connect(host)
    expect((await t.exec('whoami')).stdout).toBe(`${sshd.user}\n`)
    await t.close()
    // An inventory ansible_user overrides the config's User (this one is refused: root may not log in).
    host.ssh.user = 'root'
    await expect(connector.connect(host)).rejects.toMatchObject({ reason: 'auth' })
  })

  it("connects through a ProxyCommand (here OpenSSH's own ssh -W through the same sshd), tokens quoted", async () => {
    const config = join(dir, 'config-proxy')
    const hop = `ssh -F /dev/null -i ${sshd.clientKeyFile} -o IdentitiesOnly=yes -o UserKnownHostsFile=${sshd.knownHostsFile} -o BatchMode=yes -p ${sshd.port} -W %h:%p ${sshd.user}@127.0.0.1`
    await writeFile(config, `Host via-cmd\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.clientKeyFile}\n  UserKnownHostsFile ${sshd.knownHostsFile}\n  ProxyCommand ${hop}\n`)
    const host = sshdHost(sshd, { name: 'via-cmd', identityFiles: [] })
    host.ssh = { hostname: 'via-cmd', hostnameFromInventory: false, identityFiles: [] }
    const before = sshd.counts().connections.get(sshd.port) ?? 0
    const t = await createConnector({ sshConfigFile: config, agentSocket: null }).connect(host)
    expect((await t.exec('echo via-proxy-command')).stdout).toBe('via-proxy-command\n')
    await t.close()
    // The outer ssh -W session, and the forwarded one inside it.
    expect((sshd.counts().connections.get(sshd.port) ?? 0) - before).toBe(2)
  })
})
