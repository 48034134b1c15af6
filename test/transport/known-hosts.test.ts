import { createHmac, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectError } from '../../src/errors.js'
import { createConnector, DEFAULT_GLOBAL_KNOWN_HOSTS } from '../../src/transport/connect.js'
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
  const text = ['# comment', '', `p9-01,10.0.0.1 ${a}`, `[p9-02]:2222 ${a}`, `${hashed('p9-03')} ${b}`, `@cert-authority *.rack ${b}`, `@revoked p9-04 ${b}`, `p9-0?,!p9-09 ${b}`, 'garbage'].join('\n')
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
    expect(checkHostKey(entries, 'P9-03', blob(b)).status).toBe('ok') // hashed, name lowercased first
    expect(knownHostName('P9-02', 2222)).toBe('[p9-02]:2222')
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
  const connect = (knownHostsFile: string, acceptNewHostKeys = false) => createConnector({ knownHostsFile, acceptNewHostKeys, agentSocket: null }).connect(sshdHost(sshd))

  it('refuses an unknown key without --accept-new-host-keys', async () => {
    const file = join(dir, 'empty')
    await writeFile(file, '')
    const error = await connect(file).then(
      () => undefined,
      (e: unknown) => e,
    )
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
    expect(text.split('\n')).toEqual(['# mine', 'other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ', `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}`, ''])
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
      const error = await connect(file, accept).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ConnectError)
      expect((error as ConnectError).reason).toBe('hostkey-changed')
      expect((error as ConnectError).message).toBe(
        `[sshd-${sshd.port}] host key for [127.0.0.1]:${sshd.port} has CHANGED (ssh-ed25519 ${fingerprint(blob(sshd.hostKeyPublic))}); ` + `known_hosts ${file}:2 has a different key. Possible man-in-the-middle attack. Remove the old line if the change is expected.`,
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
    host.ssh.knownHostsFile = file // without --known-hosts, the inventory's UserKnownHostsFile is used
    const error = await createConnector({ agentSocket: null })
      .connect(host)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect((error as ConnectError).reason).toBe('hostkey-changed')
  })

  it('--known-hosts wins over the inventory and ~/.ssh/config UserKnownHostsFile; a missing named file is a warning', async () => {
    const config = join(dir, 'precedence-config')
    const wrong = join(dir, 'wrong-key')
    const other = await generateKey(join(dir, 'other-prec'), 'ed25519')
    await writeFile(wrong, `[127.0.0.1]:${sshd.port} ${other.publicKey}\n`)
    await writeFile(config, `Host *\n  UserKnownHostsFile ${wrong}\n`)
    const host = sshdHost(sshd)
    host.ssh.knownHostsFile = wrong
    const warnings: string[] = []
    // The flag's file holds the right key: the inventory's and the config's (wrong) files are not consulted.
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, sshConfigFile: config, agentSocket: null, onWarning: (w) => warnings.push(w) }).connect(host)
    await t.close()
    expect(warnings).toEqual([])
    // A --known-hosts file that does not exist: refused as unknown, and said once, not silently.
    const missing = join(dir, 'no-such-known-hosts')
    const connector = createConnector({ knownHostsFile: missing, sshConfigFile: config, agentSocket: null, onWarning: (w) => warnings.push(w) })
    for (const name of ['a', 'b']) {
      const error = await connector.connect(sshdHost(sshd, { name })).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect((error as ConnectError).reason).toBe('hostkey-unknown')
    }
    expect(warnings).toEqual([`known_hosts file ${missing} (named by --known-hosts) does not exist: every host key is unknown there`])
    // Named by the inventory, the same.
    const fromInventory = sshdHost(sshd)
    fromInventory.ssh.knownHostsFile = join(dir, 'also-missing')
    fromInventory.source = 'hosts.yaml:3'
    await createConnector({ agentSocket: null, onWarning: (w) => warnings.push(w) })
      .connect(fromInventory)
      .catch(() => undefined)
    expect(warnings[1]).toBe(`known_hosts file ${join(dir, 'also-missing')} (named by the inventory's UserKnownHostsFile for sshd-${sshd.port} (hosts.yaml:3)) does not exist: every host key is unknown there`)
  })

  it('refuses a @revoked key', async () => {
    const file = join(dir, 'revoked')
    await writeFile(file, `@revoked * ${sshd.hostKeyPublic}\n[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`)
    const error = await connect(file).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((error as ConnectError).reason).toBe('hostkey-changed')
    expect((error as ConnectError).message).toMatch(/REVOKED/)
  })
})

describe('issue 12: host key changes that new-key acceptance must not hide', () => {
  let ecdsa: TestSshd
  let dir: string
  beforeAll(async () => {
    ecdsa = await startSshd({ hostKeyType: 'ecdsa' })
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-kh12-'))
  })
  afterAll(async () => {
    await ecdsa?.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as ConnectError,
    )

  it('a server offering only an ecdsa key where ed25519 is on file is CHANGED, whatever accepts new keys', async () => {
    const ed = await generateKey(join(dir, 'ed'), 'ed25519')
    const file = join(dir, 'ed-on-file')
    const text = `# pinned\n[127.0.0.1]:${ecdsa.port} ${ed.publicKey}\n`
    await writeFile(file, text)
    const ways: Array<[string, (h: ReturnType<typeof sshdHost>) => void, boolean]> = [
      ['--accept-new-host-keys', () => undefined, true],
      ['StrictHostKeyChecking=accept-new', (h) => (h.ssh.strictHostKeyChecking = 'accept-new'), false],
      ['StrictHostKeyChecking=no / ansible_host_key_checking: false', (h) => (h.ssh.strictHostKeyChecking = 'no'), false],
    ]
    for (const [, tweak, flag] of ways) {
      const host = sshdHost(ecdsa)
      tweak(host)
      const error = await refusal(createConnector({ knownHostsFile: file, acceptNewHostKeys: flag, agentSocket: null }).connect(host))
      expect(error).toBeInstanceOf(ConnectError)
      expect(error!.reason).toBe('hostkey-changed')
      expect(error!.message).toBe(
        `[sshd-${ecdsa.port}] host key for [127.0.0.1]:${ecdsa.port} has CHANGED (ecdsa-sha2-nistp256 ${fingerprint(blob(ecdsa.hostKeyPublic))}); ` +
          `known_hosts ${file}:2 has a ssh-ed25519 key and no ecdsa-sha2-nistp256 key. Possible man-in-the-middle attack. Remove the old line if the change is expected.`,
      )
    }
    expect(await readFile(file, 'utf8')).toBe(text) // nothing recorded
  })

  it('host names are lowercased before matching and hashing: LocalHost finds the hashed [localhost]:port entry', async () => {
    const other = await generateKey(join(dir, 'other-case'), 'ecdsa')
    const file = join(dir, 'hashed-case')
    const text = `${hashed(`[localhost]:${ecdsa.port}`)} ${other.publicKey}\n`
    await writeFile(file, text)
    const host = sshdHost(ecdsa)
    host.ssh.hostname = 'LocalHost'
    const error = await refusal(createConnector({ knownHostsFile: file, acceptNewHostKeys: true, agentSocket: null }).connect(host))
    expect(error!.reason).toBe('hostkey-changed')
    expect(error!.message).toContain(`known_hosts ${file}:1 has a different key`)
    expect(await readFile(file, 'utf8')).toBe(text)
    // The right key, hashed under the lowercase name, is trusted for the mixed-case name.
    await writeFile(file, `${hashed(`[localhost]:${ecdsa.port}`)} ${ecdsa.hostKeyPublic}\n`)
    const t = await createConnector({ knownHostsFile: file, agentSocket: null }).connect(host)
    await t.close()
    // A plain entry is matched case-insensitively, and a recorded one is written lowercase.
    const rec = join(dir, 'recorded-case')
    const t2 = await createConnector({ knownHostsFile: rec, acceptNewHostKeys: true, agentSocket: null }).connect(host)
    await t2.close()
    expect(await readFile(rec, 'utf8')).toBe(`[localhost]:${ecdsa.port} ${ecdsa.hostKeyPublic}\n`)
  })

  it('global known_hosts files are read: a key @revoked there is refused, a key pinned only there is trusted', async () => {
    const user = join(dir, 'user-kh')
    const global = join(dir, 'global-kh')
    const config = join(dir, 'global-config')
    await writeFile(user, `[127.0.0.1]:${ecdsa.port} ${ecdsa.hostKeyPublic}\n`)
    await writeFile(global, `@revoked * ${ecdsa.hostKeyPublic}\n`)
    await writeFile(config, `Host *\n  GlobalKnownHostsFile ${global} /nonexistent/ssh_known_hosts2\n`)
    const error = await refusal(createConnector({ knownHostsFile: user, sshConfigFile: config, agentSocket: null }).connect(sshdHost(ecdsa)))
    expect(error!.reason).toBe('hostkey-changed')
    expect(error!.message).toBe(`[sshd-${ecdsa.port}] host key for [127.0.0.1]:${ecdsa.port} (ecdsa-sha2-nistp256 ${fingerprint(blob(ecdsa.hostKeyPublic))}) is REVOKED in ${global}:1; refusing to connect`)
    // Pinned only in the global file (the user file is empty): trusted, nothing recorded.
    await writeFile(user, '')
    await writeFile(global, `[127.0.0.1]:${ecdsa.port} ${ecdsa.hostKeyPublic}\n`)
    const t = await createConnector({ knownHostsFile: user, sshConfigFile: config, agentSocket: null }).connect(sshdHost(ecdsa))
    await t.close()
    expect(await readFile(user, 'utf8')).toBe('')
    // The same through ConnectorOptions (what /etc/ssh/ssh_known_hosts is, by default).
    const t3 = await createConnector({ knownHostsFile: user, globalKnownHostsFiles: [global], agentSocket: null }).connect(sshdHost(ecdsa))
    await t3.close()
    expect(DEFAULT_GLOBAL_KNOWN_HOSTS).toEqual(['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'])
  })
})
