import { createHmac, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectError } from '../../src/errors.js'
import { createConnector } from '../../src/transport/connect.js'
import { checkHostKey, fingerprint, knownHostName, parseKnownHosts } from '../../src/transport/known-hosts.js'
import { generateKey, sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

const blob = (line: string) => Buffer.from(line.split(' ')[1]!, 'base64')
const hashed = (name: string) => {
  const salt = randomBytes(20)
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`
}

describe('known_hosts parsing (pure)', () => {
  const a = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ'
  const b = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA7+9RtYQIj3EavIlJVadtI/BBNCiZUbf6UW6Ku9bEkv'
  const text = [
    '# comment',
    '',
    `p9-01,10.0.0.1 ${a}`,
    `[p9-02]:2222 ${a}`,
    `${hashed('p9-03')} ${b}`,
    `@cert-authority *.rack ${b}`,
    `@revoked p9-04 ${b}`,
    `p9-0?,!p9-09 ${b}`,
    'garbage',
  ].join('\n')
  const entries = parseKnownHosts(text, '/k')

  it('parses plain, comma, [host]:port, hashed and marker lines with their line numbers', () => {
    expect(entries.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8])
    expect(entries[0]!.patterns).toEqual(['p9-01', '10.0.0.1'])
    expect(entries[2]!.hashed).toBeDefined()
    expect(entries[3]!.marker).toBe('cert-authority')
    expect(entries[4]!.marker).toBe('revoked')
  })

  it('matches names and decides ok / changed / unknown / revoked', () => {
    expect(checkHostKey(entries, '10.0.0.1', blob(a)).status).toBe('ok')
    expect(checkHostKey(entries, knownHostName('p9-02', 2222), blob(a)).status).toBe('ok')
    // Port 22 p9-02 is not [p9-02]:2222; the p9-0? glob line holds key b, so key a is a change.
    expect(checkHostKey(entries, 'p9-02', blob(a)).status).toBe('changed')
    expect(checkHostKey(entries, 'p9-02', blob(b)).status).toBe('ok')
    expect(checkHostKey(entries, 'p9-03', blob(b)).status).toBe('ok') // hashed
    expect(checkHostKey(entries, 'p9-03', blob(a)).status).toBe('changed')
    expect(checkHostKey(entries, '10.0.0.1', blob(b)).status).toBe('changed')
    expect(checkHostKey(entries, 'p9-01', blob(b)).status).toBe('ok') // the p9-0? line vouches for b
    expect(checkHostKey(entries, 'p9-04', blob(b)).status).toBe('revoked')
    expect(checkHostKey(entries, 'p9-09', blob(b)).status).toBe('unknown') // negated
    expect(checkHostKey(entries, 'x.rack', blob(b)).status).toBe('unknown') // CA lines vouch for nothing
    expect(knownHostName('h', 22)).toBe('h')
    expect(fingerprint(blob(a))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
  })
})

describe('host key verification against real OpenSSH', () => {
  let sshd: TestSshd
  let dir: string
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-kh-'))
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const connect = (knownHostsFile: string, acceptNewHostKeys = false) =>
    createConnector({ knownHostsFile, acceptNewHostKeys, agentSocket: null }).connect(sshdHost(sshd))

  it('refuses an unknown key without --accept-new-host-keys', async () => {
    const file = join(dir, 'empty')
    await writeFile(file, '')
    const error = await connect(file).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ConnectError)
    expect((error as ConnectError).reason).toBe('hostkey-unknown')
    expect((error as ConnectError).retryable).toBe(false)
    expect(await readFile(file, 'utf8')).toBe('')
  })

  it('records an unknown key with the flag in [127.0.0.1]:port form, keeping the file mode', async () => {
    const file = join(dir, 'accept')
    await writeFile(file, '# mine\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ')
    await chmod(file, 0o644)
    const t = await connect(file, true)
    expect((await t.exec('echo ok')).stdout).toBe('ok\n')
    await t.close()
    const text = await readFile(file, 'utf8')
    expect(text.split('\n')).toEqual([
      '# mine',
      'other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ',
      `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}`,
      '',
    ])
    expect((await stat(file)).mode & 0o777).toBe(0o644)
    // The recorded line is now trusted without the flag.
    const again = await connect(file)
    await again.close()
  })

  it('records a key once when several connections accept it at the same time', async () => {
    const file = join(dir, 'concurrent')
    const connector = createConnector({ knownHostsFile: file, acceptNewHostKeys: true, agentSocket: null })
    const ts = await Promise.all([0, 1, 2].map((i) => connector.connect(sshdHost(sshd, { name: `same-${i}` }))))
    await Promise.all(ts.map((t) => t.close()))
    expect(await readFile(file, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`)
  })

  it('creates a missing known_hosts file 0600 when accepting', async () => {
    const file = join(dir, 'sub', 'known_hosts')
    const t = await connect(file, true)
    await t.close()
    expect((await stat(file)).mode & 0o777).toBe(0o600)
  })

  it('matches hashed entries', async () => {
    const file = join(dir, 'hashed')
    await writeFile(file, `${hashed(`[127.0.0.1]:${sshd.port}`)} ${sshd.hostKeyPublic}\n`)
    const t = await connect(file)
    expect((await t.exec('true')).exitCode).toBe(0)
    await t.close()
  })

  it('refuses a changed key, even with --accept-new-host-keys, with the exact message', async () => {
    const other = await generateKey(join(dir, 'other_host_key'), 'ed25519')
    const otherPub = other.publicKey.split(' ').slice(0, 2).join(' ')
    const file = join(dir, 'changed')
    await writeFile(file, `# line 1\n[127.0.0.1]:${sshd.port} ${otherPub}\n`)
    for (const accept of [false, true]) {
      const error = await connect(file, accept).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(ConnectError)
      expect((error as ConnectError).reason).toBe('hostkey-changed')
      expect((error as ConnectError).message).toBe(
        `[sshd-${sshd.port}] host key for [127.0.0.1]:${sshd.port} has CHANGED (ssh-ed25519 ${fingerprint(blob(sshd.hostKeyPublic))}); ` +
          `known_hosts ${file}:2 has a different key. Possible man-in-the-middle attack. Remove the old line if the change is expected.`,
      )
    }
    expect(await readFile(file, 'utf8')).toBe(`# line 1\n[127.0.0.1]:${sshd.port} ${otherPub}\n`)
  })

  it('refuses a changed key even with StrictHostKeyChecking=no in the inventory', async () => {
    const other = await generateKey(join(dir, 'other2'), 'ed25519')
    const file = join(dir, 'changed2')
    await writeFile(file, `[127.0.0.1]:${sshd.port} ${other.publicKey}\n`)
    const host = sshdHost(sshd)
    host.ssh.strictHostKeyChecking = 'no'
    host.ssh.knownHostsFile = file // the inventory's UserKnownHostsFile wins over the option
    const error = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(host).then(() => undefined, (e: unknown) => e)
    expect((error as ConnectError).reason).toBe('hostkey-changed')
  })

  it('refuses a @revoked key', async () => {
    const file = join(dir, 'revoked')
    await writeFile(file, `@revoked * ${sshd.hostKeyPublic}\n[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`)
    const error = await connect(file).then(() => undefined, (e: unknown) => e)
    expect((error as ConnectError).reason).toBe('hostkey-changed')
    expect((error as ConnectError).message).toMatch(/REVOKED/)
  })
})
