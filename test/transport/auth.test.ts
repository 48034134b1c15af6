import { spawn, type ChildProcess } from 'node:child_process'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectError } from '../../src/errors.js'
import { createConnector } from '../../src/transport/connect.js'
import { generateKey, sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

const run = promisify(execFile)

async function fingerprintOf(pubFile: string): Promise<string> {
  return (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile])).stdout.split(' ')[1]!
}

describe('client authentication against real OpenSSH', () => {
  let sshd: TestSshd
  let dir: string
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-auth-'))
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  for (const type of ['ed25519', 'rsa', 'ecdsa'] as const) {
    it(`logs in with an ${type} identity file`, async () => {
      const key = await generateKey(join(dir, `id_${type}`), type)
      await sshd.authorize(key.publicKey)
      const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd, { identityFiles: [key.file] }))
      expect((await t.exec('whoami')).stdout).toBe('gpufleet-test\n')
      await t.close()
      expect(sshd.log()).toContain(await fingerprintOf(`${key.file}.pub`))
    })
  }

  it('refuses with reason auth, naming what it tried, when no key is accepted', async () => {
    const stranger = await generateKey(join(dir, 'stranger'), 'ed25519')
    const error = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null })
      .connect(sshdHost(sshd, { identityFiles: [stranger.file, join(dir, 'does-not-exist')] }))
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(error).toBeInstanceOf(ConnectError)
    expect((error as ConnectError).reason).toBe('auth')
    expect((error as ConnectError).message).toContain(stranger.file)
    expect((error as ConnectError).message).toMatch(/cannot read identity file .*does-not-exist/)
  })

  it('asks for an encrypted key passphrase once per key file, across hosts, retrying a wrong one', async () => {
    const passphrase = 'correct horse battery'
    const key = await generateKey(join(dir, 'id_encrypted'), 'ed25519', passphrase)
    await sshd.authorize(key.publicKey)
    const asked: Array<[string, number]> = []
    const connector = createConnector({
      knownHostsFile: sshd.knownHostsFile,
      agentSocket: null,
      promptPassphrase: async (file, attempt) => {
        asked.push([file, attempt])
        return attempt === 1 ? 'wrong' : passphrase
      },
    })
    const hosts = [sshdHost(sshd, { identityFiles: [key.file] }), sshdHost(sshd, { name: 'second', identityFiles: [key.file] })]
    const transports = await Promise.all(hosts.map((h) => connector.connect(h)))
    expect(asked).toEqual([
      [key.file, 1],
      [key.file, 2],
    ])
    for (const t of transports) {
      expect((await t.exec('echo hi')).stdout).toBe('hi\n')
      await t.close()
    }
  })

  it('uses the ssh-agent (SSH_AUTH_SOCK) before identity files', async () => {
    const agentKey = await generateKey(join(dir, 'agent_key'), 'ed25519')
    await sshd.authorize(agentKey.publicKey)
    const unauthorized = await generateKey(join(dir, 'not_authorized'), 'ed25519')
    const sock = join(dir, 'agent.sock')
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' })
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20))
      await run('ssh-add', [agentKey.file], { env: { ...process.env, SSH_AUTH_SOCK: sock } })
      const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: sock }).connect(sshdHost(sshd, { identityFiles: [unauthorized.file] }))
      expect((await t.exec('echo via-agent')).stdout).toBe('via-agent\n')
      await t.close()
      const accepted = sshd
        .log()
        .split('\n')
        .filter((l) => l.includes('Accepted publickey'))
        .pop()!
      expect(accepted).toContain(await fingerprintOf(`${agentKey.file}.pub`))
    } finally {
      agent.kill('SIGTERM')
    }
  })
})

describe('ProxyJump through a bastion sshd', () => {
  let target: TestSshd
  let bastion: TestSshd
  let dir: string
  let knownHosts: string
  beforeAll(async () => {
    ;[target, bastion] = await Promise.all([startSshd({ ports: 2 }), startSshd()])
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-jump-'))
    knownHosts = join(dir, 'known_hosts')
    await writeFile(knownHosts, (await readFile(target.knownHostsFile, 'utf8')) + (await readFile(bastion.knownHostsFile, 'utf8')))
    // Both servers accept the same client key.
    await bastion.authorize(await readFile(`${target.clientKeyFile}.pub`, 'utf8'))
  })
  afterAll(async () => {
    await target?.stop()
    await bastion?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('reaches targets through one shared bastion connection, checking both host keys', async () => {
    const connector = createConnector({ knownHostsFile: knownHosts, agentSocket: null })
    const jump = `${bastion.user}@127.0.0.1:${bastion.port}`
    const hosts = target.ports.map((port) => {
      const h = sshdHost(target, { port })
      h.ssh.proxyJump = jump
      return h
    })
    const transports = await Promise.all(hosts.map((h) => connector.connect(h)))
    for (const t of transports) expect((await t.exec('echo $SSH_CONNECTION')).stdout).toMatch(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+\n$/)
    expect(bastion.counts().connections.get(bastion.port)).toBe(1)
    for (const port of target.ports) expect(target.counts().connections.get(port)).toBe(1)
    await Promise.all(transports.map((t) => t.close()))
    // Closing the last transport through it also ends the bastion connection.
    for (let i = 0; i < 100 && !/Disconnected from user/.test(bastion.log()); i++) await new Promise((r) => setTimeout(r, 20))
    expect(bastion.log()).toMatch(/Disconnected from user gpufleet-test/)
  })

  it('follows a ProxyJump chain a,b (each hop through the previous one)', async () => {
    // The target sshd's second port plays the first bastion, the bastion sshd the second.
    const h = sshdHost(target)
    h.ssh.proxyJump = `${target.user}@127.0.0.1:${target.ports[1]},${bastion.user}@127.0.0.1:${bastion.port}`
    const before = bastion.counts().connections.get(bastion.port) ?? 0
    const t = await createConnector({ knownHostsFile: knownHosts, agentSocket: null }).connect(h)
    expect((await t.exec('echo chained')).stdout).toBe('chained\n')
    expect(bastion.counts().connections.get(bastion.port)).toBe(before + 1)
    await t.close()
  })

  it('refuses when the bastion host key is unknown, saying it was the jump host', async () => {
    const onlyTarget = join(dir, 'only_target')
    await writeFile(onlyTarget, await readFile(target.knownHostsFile, 'utf8'))
    const h = sshdHost(target)
    h.ssh.proxyJump = `${bastion.user}@127.0.0.1:${bastion.port}`
    const error = await createConnector({ knownHostsFile: onlyTarget, agentSocket: null })
      .connect(h)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect((error as ConnectError).reason).toBe('hostkey-unknown')
    expect((error as ConnectError).message).toMatch(/jump host .* failed/)
  })

  it('reports a target the bastion cannot reach as unreachable (retryable)', async () => {
    const h = sshdHost(target, { port: 1 })
    h.ssh.proxyJump = `${bastion.user}@127.0.0.1:${bastion.port}`
    const error = await createConnector({ knownHostsFile: knownHosts, agentSocket: null })
      .connect(h)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect((error as ConnectError).reason).toBe('unreachable')
    expect((error as ConnectError).retryable).toBe(true)
  })

  it('really goes through the bastion: one that forbids forwarding cannot reach the target', async () => {
    const strict = await startSshd({ extraConfig: ['AllowTcpForwarding no'] })
    try {
      await strict.authorize(await readFile(`${target.clientKeyFile}.pub`, 'utf8'))
      const file = join(dir, 'with_strict')
      await writeFile(file, (await readFile(knownHosts, 'utf8')) + (await readFile(strict.knownHostsFile, 'utf8')))
      const h = sshdHost(target)
      h.ssh.proxyJump = `${strict.user}@127.0.0.1:${strict.port}`
      const error = await createConnector({ knownHostsFile: file, agentSocket: null })
        .connect(h)
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect((error as ConnectError).reason).toBe('unreachable')
      expect((error as ConnectError).message).toMatch(/jump host could not reach 127\.0\.0\.1:\d+/)
    } finally {
      await strict.stop()
    }
  })

  it('reports a dead bastion as a proxy failure', async () => {
    const h = sshdHost(target)
    h.ssh.proxyJump = `${bastion.user}@127.0.0.1:1`
    const error = await createConnector({ knownHostsFile: knownHosts, agentSocket: null })
      .connect(h)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect((error as ConnectError).reason).toBe('proxy')
  })
})
