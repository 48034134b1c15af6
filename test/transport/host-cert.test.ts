// OpenSSH host certificates, made by the real ssh-keygen: parsing and the @cert-authority check
// (pure), then connections to a real sshd presenting a HostCertificate, cross-checked with the
// OpenSSH client's own verdict on the same known_hosts file.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import ssh2 from 'ssh2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectError } from '../../src/errors.js'
import { createConnector } from '../../src/transport/connect.js'
import { checkHostCertificate, parseHostCertificate } from '../../src/transport/host-cert.js'
import { parseKnownHosts } from '../../src/transport/known-hosts.js'
import { generateKey, sshdHost, startSshd, TEST_USER, type TestSshd } from '../helpers/sshd.js'

const run = promisify(execFile)
const blobOf = (line: string) => Buffer.from(line.trim().split(/\s+/)[1]!, 'base64')

// ssh-keygen -s CA -h: signs `pubFile` and returns the certificate's blob and path.
async function sign(ca: string, pubFile: string, options: { principals?: string; validity?: string; host?: boolean; id?: string } = {}): Promise<{ blob: Buffer; file: string }> {
  const args = ['-q', '-s', ca, '-I', options.id ?? 'gpufleet-test', '-n', options.principals ?? '127.0.0.1']
  if (options.host !== false) args.push('-h')
  if (options.validity) args.push('-V', options.validity)
  await run('ssh-keygen', [...args, pubFile])
  const file = pubFile.replace(/\.pub$/, '-cert.pub')
  return { blob: blobOf(await readFile(file, 'utf8')), file }
}

describe('host certificate checks on certificates made by ssh-keygen (pure)', () => {
  let dir: string
  const now = () => Date.now() / 1000
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-cert-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('accepts a host certificate from a listed CA, for every CA and host key type', async () => {
    for (const caType of ['ed25519', 'ecdsa', 'rsa'] as const) {
      const ca = await generateKey(join(dir, `ca-${caType}`), caType)
      for (const hostType of ['ed25519', 'ecdsa', 'rsa'] as const) {
        const host = await generateKey(join(dir, `host-${caType}-${hostType}`), hostType)
        const { blob } = await sign(ca.file, `${host.file}.pub`, { principals: 'p9-01.example,127.0.0.1' })
        const cert = parseHostCertificate(blob)
        expect(cert.publicKey.equals(blobOf(host.publicKey))).toBe(true)
        expect(cert.type).toBe('host')
        expect(cert.principals).toEqual(['p9-01.example', '127.0.0.1'])
        const entries = parseKnownHosts(`@cert-authority *.example,[127.0.0.1]:* ${ca.publicKey}\n`, '/kh')
        const verdict = checkHostCertificate(entries, 'p9-01.example', 'p9-01.example', cert, now())
        expect(verdict.status, `${caType} CA, ${hostType} host key: ${verdict.status === 'invalid' ? verdict.reason : verdict.status}`).toBe('ok')
        expect(checkHostCertificate(entries, '[127.0.0.1]:2222', '127.0.0.1', cert, now()).status).toBe('ok')
      }
    }
  })

  it('refuses other CAs, other principals, the validity window, user certificates, tampering and revocations', async () => {
    const ca = await generateKey(join(dir, 'ca'), 'ed25519')
    const other = await generateKey(join(dir, 'other-ca'), 'ed25519')
    const host = await generateKey(join(dir, 'host'), 'ed25519')
    const pub = `${host.file}.pub`
    const entries = parseKnownHosts(`# x\n@cert-authority * ${ca.publicKey}\n`, '/kh')
    const check = (blob: Buffer, list = entries, at = now()) => checkHostCertificate(list, 'h.example', 'h.example', parseHostCertificate(blob), at)

    const good = (await sign(ca.file, pub, { principals: 'h.example' })).blob
    expect(check(good).status).toBe('ok')
    const byOther = (await sign(other.file, pub, { principals: 'h.example' })).blob
    expect(check(byOther)).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/^its CA \(SHA256:.+\) is not a @cert-authority for h\.example in \/kh:2$/) })
    expect(check((await sign(ca.file, pub, { principals: 'other.example' })).blob)).toMatchObject({ status: 'invalid', reason: 'its principals (other.example) do not include h.example' })
    expect(check((await sign(ca.file, pub, { principals: 'h.example', validity: '20200101:20200102' })).blob)).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/^it expired at 2020-01-0/) })
    expect(check((await sign(ca.file, pub, { principals: 'h.example', validity: '+1d:+2d' })).blob)).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/^it is not valid before /) })
    expect(check((await sign(ca.file, pub, { principals: 'h.example', host: false })).blob)).toMatchObject({ status: 'invalid', reason: 'it is a user certificate, not a host certificate' })
    // One byte of the signed part changed (the key id): the CA signature no longer verifies.
    const tampered = Buffer.from(good)
    const id = tampered.indexOf('gpufleet-test')
    tampered[id] = 'G'.charCodeAt(0)
    expect(check(tampered)).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/signature by CA .* does not verify/) })
    // No CA line for the name; the CA key or the host key @revoked.
    expect(checkHostCertificate(parseKnownHosts(`@cert-authority *.other ${ca.publicKey}\n`, '/kh'), 'h.example', 'h.example', parseHostCertificate(good), now()).status).toBe('no-ca')
    expect(check(good, parseKnownHosts(`@cert-authority * ${ca.publicKey}\n@revoked * ${ca.publicKey}\n`, '/kh'))).toMatchObject({ status: 'revoked' })
    expect(check(good, parseKnownHosts(`@cert-authority * ${ca.publicKey}\n@revoked h.example ${host.publicKey}\n`, '/kh'))).toMatchObject({ status: 'revoked' })
    expect(() => parseHostCertificate(blobOf(host.publicKey))).toThrow(/unsupported certificate type ssh-ed25519/)
  })
})

describe('a real sshd presenting a HostCertificate', () => {
  let dir: string
  let ca: { file: string; publicKey: string }
  let otherCa: { file: string; publicKey: string }
  let sshd: TestSshd
  let wrongPrincipal: TestSshd
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-certd-'))
    ca = await generateKey(join(dir, 'ca'), 'ed25519')
    otherCa = await generateKey(join(dir, 'other-ca'), 'ed25519')
    const hostKey = await generateKey(join(dir, 'host_ed25519'), 'ed25519')
    const cert = await sign(ca.file, `${hostKey.file}.pub`, { principals: '127.0.0.1', validity: '-5m:+1h' })
    sshd = await startSshd({ hostKey, extraConfig: [`HostCertificate ${cert.file}`] })
    const hostKey2 = await generateKey(join(dir, 'host2_ed25519'), 'ed25519')
    const cert2 = await sign(ca.file, `${hostKey2.file}.pub`, { principals: 'somewhere-else.example' })
    wrongPrincipal = await startSshd({ hostKey: hostKey2, extraConfig: [`HostCertificate ${cert2.file}`] })
  })
  afterAll(async () => {
    await sshd?.stop()
    await wrongPrincipal?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  // What the OpenSSH client itself decides with the same known_hosts file (exit 0: connected).
  const opensshAccepts = async (server: TestSshd, knownHosts: string) =>
    run('ssh', ['-F', '/dev/null', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', server.clientKeyFile, '-p', String(server.port), `${TEST_USER}@127.0.0.1`, 'true']).then(
      () => true,
      () => false,
    )

  it('ssh2 itself cannot negotiate certificate host keys (why gpufleet probes for the certificate)', () => {
    expect(() => new ssh2.Client().connect({ host: '127.0.0.1', port: 1, username: 'x', algorithms: { serverHostKey: ['ssh-ed25519-cert-v01@openssh.com' as never] } })).toThrow('Unsupported algorithm: ssh-ed25519-cert-v01@openssh.com')
  })

  it('accepts the host when its certificate is signed by a listed @cert-authority, and records nothing', async () => {
    const file = join(dir, 'kh-ca')
    const text = `@cert-authority * ${ca.publicKey}\n`
    await writeFile(file, text)
    expect(await opensshAccepts(sshd, file)).toBe(true)
    const connector = createConnector({ knownHostsFile: file, agentSocket: null })
    const before = sshd.counts().connections.get(sshd.port) ?? 0
    const t = await connector.connect(sshdHost(sshd))
    expect((await t.exec('echo cert-ok')).stdout).toBe('cert-ok\n')
    await t.close()
    // The verdict is kept for the connector's life: a reconnect (after a reboot) costs no probe.
    const again = await connector.connect(sshdHost(sshd))
    await again.close()
    // Two handshakes the first time (the probe and the session), one the second.
    expect((sshd.counts().connections.get(sshd.port) ?? 0) - before).toBe(3)
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  it('refuses a certificate signed by another CA, even when new keys may be accepted', async () => {
    const file = join(dir, 'kh-other')
    const text = `@cert-authority * ${otherCa.publicKey}\n`
    await writeFile(file, text)
    expect(await opensshAccepts(sshd, file)).toBe(false)
    for (const acceptNewHostKeys of [false, true]) {
      const error = await createConnector({ knownHostsFile: file, acceptNewHostKeys, agentSocket: null })
        .connect(sshdHost(sshd))
        .then(
          () => undefined,
          (e: unknown) => e as ConnectError,
        )
      expect(error).toBeInstanceOf(ConnectError)
      expect(error!.reason).toBe('hostkey-unknown')
      expect(error!.message).toMatch(new RegExp(`host certificate for \\[127\\.0\\.0\\.1\\]:${sshd.port} \\(ssh-ed25519 SHA256:\\S+\\) refused: its CA \\(SHA256:\\S+\\) is not a @cert-authority for \\[127\\.0\\.0\\.1\\]:${sshd.port} in ${file}:1`))
    }
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  it('refuses a certificate whose principals do not name the host, and a revoked CA', async () => {
    const file = join(dir, 'kh-principal')
    await writeFile(file, `@cert-authority * ${ca.publicKey}\n`)
    expect(await opensshAccepts(wrongPrincipal, file)).toBe(false)
    const error = await createConnector({ knownHostsFile: file, agentSocket: null })
      .connect(sshdHost(wrongPrincipal))
      .then(
        () => undefined,
        (e: unknown) => e as ConnectError,
      )
    expect(error!.message).toMatch(/refused: its principals \(somewhere-else\.example\) do not include 127\.0\.0\.1$/)
    const revoked = join(dir, 'kh-revoked')
    await writeFile(revoked, `@cert-authority * ${ca.publicKey}\n@revoked * ${ca.publicKey}\n`)
    expect(await opensshAccepts(sshd, revoked)).toBe(false)
    const error2 = await createConnector({ knownHostsFile: revoked, agentSocket: null })
      .connect(sshdHost(sshd))
      .then(
        () => undefined,
        (e: unknown) => e as ConnectError,
      )
    expect(error2!.reason).toBe('hostkey-changed')
    expect(error2!.message).toMatch(new RegExp(`host certificate for .* is REVOKED in ${revoked}:2`))
  })

  it('checks the certificate through a jump host too (the probe goes through the bastion)', async () => {
    const bastion = wrongPrincipal // its plain key is on file, so its own certificate does not matter
    await bastion.authorize(await readFile(`${sshd.clientKeyFile}.pub`, 'utf8'))
    const file = join(dir, 'kh-jump')
    await writeFile(file, `[127.0.0.1]:${bastion.port} ${bastion.hostKeyPublic}\n@cert-authority * ${ca.publicKey}\n`)
    const host = sshdHost(sshd)
    host.ssh.proxyJump = `${TEST_USER}@127.0.0.1:${bastion.port}`
    const before = sshd.counts().connections.get(sshd.port) ?? 0
    const t = await createConnector({ knownHostsFile: file, agentSocket: null }).connect(host)
    expect((await t.exec('echo via-jump')).stdout).toBe('via-jump\n')
    await t.close()
    expect((sshd.counts().connections.get(sshd.port) ?? 0) - before).toBe(2)
    // Without the CA line, the same route is refused: the certificate alone proves nothing.
    await writeFile(file, `[127.0.0.1]:${bastion.port} ${bastion.hostKeyPublic}\n`)
    const error = await createConnector({ knownHostsFile: file, agentSocket: null })
      .connect(host)
      .then(
        () => undefined,
        (e: unknown) => e as ConnectError,
      )
    expect(error!.reason).toBe('hostkey-unknown')
  })

  it('negotiates the key type the certificate is for (an ecdsa certificate beside an uncertified ed25519 key)', async () => {
    const ecdsaKey = await generateKey(join(dir, 'host_ecdsa'), 'ecdsa')
    const cert = await sign(ca.file, `${ecdsaKey.file}.pub`, { principals: '127.0.0.1' })
    // sshd_config: the ecdsa key and its certificate, plus the helper's own (uncertified) ed25519 key.
    const mixed = await startSshd({ extraConfig: [`HostKey ${ecdsaKey.file}`, `HostCertificate ${cert.file}`] })
    try {
      const file = join(dir, 'kh-mixed')
      await writeFile(file, `@cert-authority * ${ca.publicKey}\n`)
      expect(await opensshAccepts(mixed, file)).toBe(true)
      const t = await createConnector({ knownHostsFile: file, agentSocket: null }).connect(sshdHost(mixed))
      expect((await t.exec('echo ecdsa-cert-ok')).stdout).toBe('ecdsa-cert-ok\n')
      await t.close()
    } finally {
      await mixed.stop()
    }
  })
})
