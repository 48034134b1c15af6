import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { HostCertificate } from '../../src/transport/host-cert.js'
import { decideHostKey, type HostKeyQuestion } from '../../src/transport/host-key-decision.js'
import { fingerprint, type KnownHostEntry } from '../../src/transport/known-hosts.js'

// A public key blob as a server sends it: the SSH string of its type, then key bytes.
function keyBlob(type: string): Buffer {
  const name = Buffer.from(type)
  const len = Buffer.alloc(4)
  len.writeUInt32BE(name.length)
  return Buffer.concat([len, name, randomBytes(32)])
}
const entry = (key: Buffer, keyType: string, extra: Partial<KnownHostEntry> = {}): KnownHostEntry => ({ file: '/k', line: 3, patterns: ['p9-01'], keyType, key, ...extra })

const ed = keyBlob('ssh-ed25519')
const ed2 = keyBlob('ssh-ed25519')
const ecdsa = keyBlob('ecdsa-sha2-nistp256')
const ask = (q: Partial<HostKeyQuestion>) => decideHostKey({ entries: [], name: 'p9-01', hostname: 'p9-01', port: 22, key: ed, acceptNew: false, recordIn: '/home/u/.ssh/known_hosts', nowSeconds: 1_700_000_000, ...q })

describe('decideHostKey', () => {
  it('accepts a key on file', () => {
    expect(ask({ entries: [entry(ed, 'ssh-ed25519')] })).toEqual({ action: 'accept' })
  })

  it('refuses a changed key, and a type switch, as hostkey-changed even when new keys may be recorded', () => {
    const changed = ask({ entries: [entry(ed2, 'ssh-ed25519')], acceptNew: true })
    expect(changed).toMatchObject({ action: 'refuse', reason: 'hostkey-changed' })
    expect(changed.action === 'refuse' && changed.message).toMatch(/host key for p9-01 has CHANGED .*\/k:3 has a different key/)
    const switched = ask({ entries: [entry(ed, 'ssh-ed25519')], key: ecdsa, acceptNew: true })
    expect(switched.action === 'refuse' && switched.message).toMatch(/has a ssh-ed25519 key and no ecdsa-sha2-nistp256 key/)
  })

  it('refuses a revoked key wherever it is listed', () => {
    const d = ask({ entries: [entry(ed, 'ssh-ed25519'), entry(ed, 'ssh-ed25519', { marker: 'revoked', file: '/etc/ssh/ssh_known_hosts', line: 9 })] })
    expect(d).toEqual({ action: 'refuse', reason: 'hostkey-changed', message: `host key for p9-01 (ssh-ed25519 ${fingerprint(ed)}) is REVOKED in /etc/ssh/ssh_known_hosts:9; refusing to connect` })
  })

  it('records an unknown key only when allowed, and says how to add it otherwise', () => {
    expect(ask({ acceptNew: true })).toEqual({ action: 'record' })
    const d = ask({ name: '[p9-01]:2222', port: 2222 })
    expect(d).toMatchObject({ action: 'refuse', reason: 'hostkey-unknown' })
    expect(d.action === 'refuse' && d.message).toBe(`host key for [p9-01]:2222 is not known (ssh-ed25519 ${fingerprint(ed)}); refusing. Add it to /home/u/.ssh/known_hosts (ssh-keyscan -p 2222 p9-01), or pass --accept-new-host-keys to record it`)
  })

  it('treats a server with no certificate as a plain unknown key', () => {
    expect(ask({ certificate: { none: 'no certificate offered' }, acceptNew: true })).toEqual({ action: 'record' })
  })

  it('refuses a certificate for another key than the one presented, and falls back to unknown when no CA covers the host', () => {
    const cert = { publicKey: ecdsa } as HostCertificate
    const d = ask({ certificate: { cert }, acceptNew: true })
    expect(d).toMatchObject({ action: 'refuse', reason: 'hostkey-unknown' })
    expect(d.action === 'refuse' && d.message).toMatch(/host certificate for p9-01 .* refused: it certifies a ecdsa-sha2-nistp256 key, not the one the server presented/)
    const mine = { publicKey: ed } as HostCertificate
    expect(ask({ certificate: { cert: mine }, acceptNew: true })).toEqual({ action: 'record' })
    expect(ask({ certificate: { cert: mine } })).toMatchObject({ action: 'refuse', reason: 'hostkey-unknown' })
  })
})
