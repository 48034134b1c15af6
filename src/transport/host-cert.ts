// OpenSSH host certificates (PROTOCOL.certkeys): parse one, and decide whether known_hosts'
// @cert-authority lines vouch for it the way ssh's check_host_cert does: the CA signature is valid
// (node crypto), the CA is listed for the host and not @revoked, it is a *host* certificate, now is
// inside its validity window, the host name is one of its principals, and it has no critical
// options. Pure (the clock is a parameter).
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { entryMatches, fingerprint, isRevoked, type KnownHostEntry } from './known-hosts.js'

export interface HostCertificate {
  certType: string // e.g. ssh-ed25519-cert-v01@openssh.com
  publicKey: Buffer // the certified key as a plain public key blob (what a plain handshake presents)
  serial: bigint
  type: 'user' | 'host' | 'unknown'
  keyId: string
  principals: string[]
  validAfter: bigint // seconds since the epoch
  validBefore: bigint // 0xffffffffffffffff: forever
  criticalOptions: Buffer
  caKey: Buffer // the signing CA's public key blob
  signature: Buffer // the CA's signature blob (string alg, string sig)
  signed: Buffer // the bytes the signature covers
}

class Reader {
  pos = 0
  constructor(readonly buf: Buffer) {}
  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error('truncated')
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }
  uint64(): bigint {
    if (this.pos + 8 > this.buf.length) throw new Error('truncated')
    const v = this.buf.readBigUInt64BE(this.pos)
    this.pos += 8
    return v
  }
  string(): Buffer {
    const len = this.uint32()
    if (this.pos + len > this.buf.length) throw new Error('truncated')
    const v = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return v
  }
  text(): string {
    return this.string().toString('utf8')
  }
  get done(): boolean {
    return this.pos >= this.buf.length
  }
}

const sshString = (b: Buffer | string) => {
  const data = typeof b === 'string' ? Buffer.from(b) : b
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  return Buffer.concat([len, data])
}

// The key fields (after the nonce) that each certificate type carries, as SSH strings/mpints.
const KEY_FIELDS: Record<string, { plain: string; fields: number }> = {
  'ssh-ed25519-cert-v01@openssh.com': { plain: 'ssh-ed25519', fields: 1 },
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp256', fields: 2 },
  'ecdsa-sha2-nistp384-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp384', fields: 2 },
  'ecdsa-sha2-nistp521-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp521', fields: 2 },
  'ssh-rsa-cert-v01@openssh.com': { plain: 'ssh-rsa', fields: 2 },
}

// Parses a certificate blob (the base64-decoded second field of a `-cert.pub` file, or the host
// key a server sends for a *-cert-v01 algorithm). Throws on anything malformed or unsupported.
export function parseHostCertificate(blob: Buffer): HostCertificate {
  const r = new Reader(blob)
  const certType = r.text()
  const kind = KEY_FIELDS[certType]
  if (!kind) throw new Error(`unsupported certificate type ${certType}`)
  r.string() // nonce
  const fields: Buffer[] = []
  for (let i = 0; i < kind.fields; i++) fields.push(r.string())
  // RSA certificates carry (e, n), the same order as the plain ssh-rsa key.
  const publicKey = Buffer.concat([sshString(kind.plain), ...fields.map((f) => sshString(f))])
  const serial = r.uint64()
  const typeCode = r.uint32()
  const keyId = r.text()
  const principalsBuf = new Reader(r.string())
  const principals: string[] = []
  while (!principalsBuf.done) principals.push(principalsBuf.text())
  const validAfter = r.uint64()
  const validBefore = r.uint64()
  const criticalOptions = r.string()
  r.string() // extensions
  r.string() // reserved
  const caKey = r.string()
  const signedEnd = r.pos
  const signature = r.string()
  if (!r.done) throw new Error('trailing bytes after the certificate signature')
  return {
    certType,
    publicKey,
    serial,
    type: typeCode === 2 ? 'host' : typeCode === 1 ? 'user' : 'unknown',
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    caKey,
    signature,
    signed: blob.subarray(0, signedEnd),
  }
}

const b64url = (b: Buffer) => b.toString('base64url')
// An SSH mpint as unsigned big-endian bytes (its leading sign byte dropped).
const unsigned = (b: Buffer) => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b)

// A node KeyObject for a plain SSH public key blob (ed25519, ecdsa nistp*, rsa).
export function publicKeyObject(blob: Buffer): KeyObject {
  const r = new Reader(blob)
  const type = r.text()
  if (type === 'ssh-ed25519') return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(r.string()) }, format: 'jwk' })
  if (type === 'ssh-rsa') {
    const e = unsigned(r.string())
    const n = unsigned(r.string())
    return createPublicKey({ key: { kty: 'RSA', e: b64url(e), n: b64url(n) }, format: 'jwk' })
  }
  const curve = { 'ecdsa-sha2-nistp256': 'P-256', 'ecdsa-sha2-nistp384': 'P-384', 'ecdsa-sha2-nistp521': 'P-521' }[type]
  if (curve) {
    r.string() // curve name
    const q = r.string()
    const size = (q.length - 1) / 2
    if (q[0] !== 4 || !Number.isInteger(size)) throw new Error('unsupported ECDSA point encoding')
    return createPublicKey({ key: { kty: 'EC', crv: curve, x: b64url(q.subarray(1, 1 + size)), y: b64url(q.subarray(1 + size)) }, format: 'jwk' })
  }
  throw new Error(`unsupported key type ${type}`)
}

// Signature algorithms ssh accepts from a CA by default (CASignatureAlgorithms: no SHA-1 ssh-rsa).
const CA_SIGNATURE_ALGORITHMS = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'])

// Verifies an SSH signature blob (string alg, string sig) over `data` with a plain key blob.
export function verifySshSignature(keyBlob: Buffer, signatureBlob: Buffer, data: Buffer, allowed: ReadonlySet<string> = CA_SIGNATURE_ALGORITHMS): boolean {
  try {
    const r = new Reader(signatureBlob)
    const alg = r.text()
    const sig = r.string()
    if (!allowed.has(alg)) return false
    const keyType = new Reader(keyBlob).text()
    const key = publicKeyObject(keyBlob)
    if (alg === 'ssh-ed25519') return keyType === 'ssh-ed25519' && cryptoVerify(null, data, key, sig)
    if (alg === 'rsa-sha2-512' || alg === 'rsa-sha2-256' || alg === 'ssh-rsa') {
      if (keyType !== 'ssh-rsa') return false
      return cryptoVerify(alg === 'rsa-sha2-512' ? 'sha512' : alg === 'rsa-sha2-256' ? 'sha256' : 'sha1', data, key, sig)
    }
    if (alg.startsWith('ecdsa-sha2-') && keyType === alg) {
      const bits = { 'ecdsa-sha2-nistp256': 256, 'ecdsa-sha2-nistp384': 384, 'ecdsa-sha2-nistp521': 521 }[alg]
      if (!bits) return false
      const rs = new Reader(sig)
      const size = Math.ceil(bits / 8)
      const pad = (b: Buffer) => Buffer.concat([Buffer.alloc(Math.max(0, size - unsigned(b).length)), unsigned(b)])
      const raw = Buffer.concat([pad(rs.string()), pad(rs.string())])
      return cryptoVerify(bits === 256 ? 'sha256' : bits === 384 ? 'sha384' : 'sha512', data, { key, dsaEncoding: 'ieee-p1363' }, raw)
    }
    return false
  } catch {
    return false
  }
}

export type HostCertVerdict =
  | { status: 'ok'; ca: KnownHostEntry; cert: HostCertificate }
  | { status: 'no-ca' } // no @cert-authority line covers this host
  | { status: 'invalid'; reason: string; cert?: HostCertificate }
  | { status: 'revoked'; entry: KnownHostEntry }

// check_host_cert: does a @cert-authority line for `name` ([host]:port form) vouch for `cert` for
// `hostname` (the principal, no port) at `nowSeconds`?
export function checkHostCertificate(entries: readonly KnownHostEntry[], name: string, hostname: string, cert: HostCertificate, nowSeconds: number): HostCertVerdict {
  const cas = entries.filter((e) => e.marker === 'cert-authority' && entryMatches(e, name))
  if (cas.length === 0) return { status: 'no-ca' }
  const revoked = isRevoked(entries, name, cert.caKey) ?? isRevoked(entries, name, cert.publicKey)
  if (revoked) return { status: 'revoked', entry: revoked }
  const ca = cas.find((e) => e.key.equals(cert.caKey))
  const caFp = fingerprint(cert.caKey)
  if (!ca) return { status: 'invalid', cert, reason: `its CA (${caFp}) is not a @cert-authority for ${name} in ${[...new Set(cas.map((e) => `${e.file}:${e.line}`))].join(', ')}` }
  if (!verifySshSignature(cert.caKey, cert.signature, cert.signed)) return { status: 'invalid', cert, reason: `its signature by CA ${caFp} does not verify` }
  if (cert.type !== 'host') return { status: 'invalid', cert, reason: `it is a ${cert.type} certificate, not a host certificate` }
  const now = BigInt(Math.floor(nowSeconds))
  if (now < cert.validAfter) return { status: 'invalid', cert, reason: `it is not valid before ${isoTime(cert.validAfter)}` }
  if (now >= cert.validBefore) return { status: 'invalid', cert, reason: `it expired at ${isoTime(cert.validBefore)}` }
  if (cert.principals.length === 0) return { status: 'invalid', cert, reason: 'it lists no principals' }
  if (!cert.principals.includes(hostname)) return { status: 'invalid', cert, reason: `its principals (${cert.principals.join(', ')}) do not include ${hostname}` }
  if (cert.criticalOptions.length > 0) return { status: 'invalid', cert, reason: 'it carries critical options' }
  return { status: 'ok', ca, cert }
}

function isoTime(seconds: bigint): string {
  return seconds >= 8_640_000_000_000n ? 'forever' : new Date(Number(seconds) * 1000).toISOString()
}
