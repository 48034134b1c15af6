// Fetches a server's OpenSSH host certificate, which ssh2 (1.17) cannot: its KEX code accepts only
// plain host key algorithms (SUPPORTED_SERVER_HOST_KEY has no *-cert-v01@openssh.com, and the
// reply's signature type must equal the negotiated algorithm). So, like `ssh-keyscan -c`, this runs
// the first SSH key exchange (RFC 4253 + curve25519-sha256, RFC 8731) offering only certificate
// host key algorithms, takes the server's certificate from KEX_ECDH_REPLY, verifies the server's
// exchange-hash signature with the certified key (so the peer holds that key), and hangs up before
// any authentication. The session that follows (ssh2) must then present that same key.
import { createHash, diffieHellman, generateKeyPairSync, createPublicKey, randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { parseHostCertificate, verifySshSignature } from './host-cert.js'

const MSG_DISCONNECT = 1
const MSG_KEXINIT = 20
const MSG_KEX_ECDH_INIT = 30
const MSG_KEX_ECDH_REPLY = 31
const CLIENT_VERSION = 'SSH-2.0-gpufleet_certprobe'

export type CertProbeResult = { cert: Buffer } | { none: string }

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
const str = (b: Buffer | string) => {
  const data = typeof b === 'string' ? Buffer.from(b) : b
  return Buffer.concat([u32(data.length), data])
}
// An unsigned big-endian number as an SSH mpint (leading zeros dropped, sign byte added).
const mpint = (b: Buffer) => {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  const v = b.subarray(i)
  return str(v.length > 0 && v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v)
}

function packet(payload: Buffer): Buffer {
  // Unencrypted: block size 8, at least 4 bytes of padding.
  let pad = 8 - ((5 + payload.length) % 8)
  if (pad < 4) pad += 8
  return Buffer.concat([u32(1 + payload.length + pad), Buffer.from([pad]), payload, randomBytes(pad)])
}

function kexinit(hostKeyAlgorithms: string[]): Buffer {
  const list = (s: string) => str(s)
  const ciphers = 'chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com'
  const macs = 'hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512'
  return Buffer.concat([Buffer.from([MSG_KEXINIT]), randomBytes(16), list('curve25519-sha256,curve25519-sha256@libssh.org'), list(hostKeyAlgorithms.join(',')), list(ciphers), list(ciphers), list(macs), list(macs), list('none'), list('none'), list(''), list(''), Buffer.from([0]), u32(0)])
}

// Runs the probe over `stream` (a TCP socket or a forwarded channel); `hostKeyAlgorithms` are
// certificate algorithms only. Resolves with the certificate blob, or { none } with the reason
// (the server has no such certificate); rejects on timeouts and protocol errors.
export function probeHostCertificate(stream: Duplex, hostKeyAlgorithms: string[], timeoutMs: number): Promise<CertProbeResult> {
  // One function on purpose: one protocol exchange (banner, KEXINIT, ECDH reply) whose handlers share the buffer, timer and settle-once state.
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    let serverVersion: string | undefined
    let serverKexinit: Buffer | undefined
    let done = false
    const myKexinit = kexinit(hostKeyAlgorithms)
    const { publicKey, privateKey } = generateKeyPairSync('x25519')
    const qc = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const finish = (error: Error | undefined, result?: CertProbeResult) => {
      if (done) return
      done = true
      clearTimeout(timer)
      stream.destroy()
      if (error) reject(error)
      else resolve(result!)
    }
    const timer = setTimeout(() => finish(new Error(`no host certificate within ${timeoutMs} ms`)), timeoutMs)
    stream.on('error', (error: Error) => finish(error))
    stream.on('close', () => finish(new Error('connection closed during the host certificate probe')))

    const onPayload = (payload: Buffer) => {
      const type = payload[0]
      if (type === MSG_DISCONNECT) {
        // e.g. "no matching host key type found": the server has no certificate of that type.
        const reason = payload.subarray(9, 9 + payload.readUInt32BE(5)).toString('utf8')
        return finish(undefined, { none: reason })
      }
      if (type === MSG_KEXINIT) {
        serverKexinit = payload
        const offered = readNameList(payload, 17, 1)
        if (!hostKeyAlgorithms.some((a) => offered.includes(a))) return finish(undefined, { none: `the server offers no certificate host key (${offered.join(', ')})` })
        return
      }
      if (type === MSG_KEX_ECDH_REPLY) {
        if (!serverKexinit || !serverVersion) return finish(new Error('KEX_ECDH_REPLY before KEXINIT'))
        let pos = 1
        const read = () => {
          const len = payload.readUInt32BE(pos)
          const v = payload.subarray(pos + 4, pos + 4 + len)
          pos += 4 + len
          return v
        }
        const ks = read()
        const qs = read()
        const sig = read()
        const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: qs.toString('base64url') }, format: 'jwk' })
        const secret = diffieHellman({ privateKey, publicKey: peer })
        const h = createHash('sha256')
          .update(Buffer.concat([str(CLIENT_VERSION), str(serverVersion), str(myKexinit), str(serverKexinit), str(ks), str(qc), str(qs), mpint(secret)]))
          .digest()
        // The exchange hash is signed with the certified key itself (plain algorithm name).
        const certKey = plainKeyOfCertificate(ks)
        const sigAlgs = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'])
        if (!certKey || !verifySshSignature(certKey, sig, h, sigAlgs)) return finish(new Error('the host certificate probe: the server did not prove it holds the certified key'))
        return finish(undefined, { cert: Buffer.from(ks) })
      }
      // IGNORE, DEBUG, EXT_INFO and the like: nothing to do.
    }

    stream.on('data', (chunk: Buffer) => {
      if (done) return
      buf = Buffer.concat([buf, chunk])
      try {
        while (!serverVersion) {
          const nl = buf.indexOf('\n')
          if (nl < 0) return
          const line = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '')
          buf = buf.subarray(nl + 1)
          // Lines before the version string are allowed (RFC 4253 4.2).
          if (line.startsWith('SSH-')) {
            if (!line.startsWith('SSH-2.0-') && !line.startsWith('SSH-1.99-')) return finish(new Error(`not an SSH-2 server: ${line}`))
            serverVersion = line
            stream.write(packet(myKexinit))
            stream.write(packet(Buffer.concat([Buffer.from([MSG_KEX_ECDH_INIT]), str(qc)])))
          }
        }
        while (buf.length >= 5) {
          const len = buf.readUInt32BE(0)
          if (len > 256 * 1024) return finish(new Error('oversized packet in the host certificate probe'))
          if (buf.length < 4 + len) return
          const padLen = buf[4]!
          const payload = buf.subarray(5, 4 + len - padLen)
          buf = buf.subarray(4 + len)
          onPayload(payload)
          if (done) return
        }
      } catch (error) {
        finish(error as Error)
      }
    })
    stream.write(`${CLIENT_VERSION}\r\n`)
  })
}

// The name-list at index `which` after the 16-byte cookie (0 = kex, 1 = host key algorithms).
function readNameList(payload: Buffer, start: number, which: number): string[] {
  let pos = start
  for (let i = 0; ; i++) {
    const len = payload.readUInt32BE(pos)
    if (i === which)
      return payload
        .subarray(pos + 4, pos + 4 + len)
        .toString('latin1')
        .split(',')
    pos += 4 + len
  }
}

// The plain key inside a certificate blob; undefined when it is malformed.
function plainKeyOfCertificate(blob: Buffer): Buffer | undefined {
  try {
    return parseHostCertificate(blob).publicKey
  } catch {
    return undefined
  }
}
