// What to do with the host key a server presented: accept it, record it as new, or refuse (and why).
// Pure: the known_hosts entries, the certificate probe's result and the clock are inputs; the
// connector does the I/O (recording the key, failing the handshake). The policy is in connect.ts's
// header: a changed or revoked key is always refused; an unknown one is recorded only when allowed.
import type { ConnectFailure } from '../errors.js'
import { checkHostCertificate, type HostCertificate, type HostCertVerdict } from './host-cert.js'
import { blobKeyType, changedKeyMessage, checkHostKey, fingerprint, type KnownHostEntry } from './known-hosts.js'

// A server's host certificate, or why it has none.
export type CertProbe = { cert: HostCertificate } | { none: string }

export type HostKeyDecision =
  | { action: 'accept' }
  | { action: 'record' } // an unknown key the user allowed: append it to the first user known_hosts file
  | { action: 'refuse'; reason: ConnectFailure; message: string }

export interface HostKeyQuestion {
  entries: readonly KnownHostEntry[] // every known_hosts file the target reads, user then global
  name: string // as known_hosts writes the host (knownHostName: `[host]:port` off port 22)
  hostname: string // the host name a certificate's principals must include
  port: number
  key: Buffer // the key the server presented
  certificate?: CertProbe // fetched when a @cert-authority covers the host and no plain key is on file
  acceptNew: boolean // --accept-new-host-keys or StrictHostKeyChecking=accept-new|no
  recordIn: string // the first user known_hosts file (named in the refusal)
  nowSeconds: number // for the certificate's validity window
}

export function decideHostKey(q: HostKeyQuestion): HostKeyDecision {
  const verdict = checkHostKey(q.entries, q.name, q.key)
  const fp = `${blobKeyType(q.key)} ${fingerprint(q.key)}`
  switch (verdict.status) {
    case 'ok':
      return { action: 'accept' }
    case 'changed':
      return { action: 'refuse', reason: 'hostkey-changed', message: changedKeyMessage(q.name, q.key, verdict.entry) }
    case 'revoked':
      return { action: 'refuse', reason: 'hostkey-changed', message: `host key for ${q.name} (${fp}) is REVOKED in ${verdict.entry.file}:${verdict.entry.line}; refusing to connect` }
    case 'unknown': {
      const unknown = (): HostKeyDecision =>
        q.acceptNew ? { action: 'record' } : { action: 'refuse', reason: 'hostkey-unknown', message: `host key for ${q.name} is not known (${fp}); refusing. Add it to ${q.recordIn} (ssh-keyscan -p ${q.port} ${q.hostname}), or pass --accept-new-host-keys to record it` }
      // No CA for this host, or the server has no certificate: a plain unknown key.
      const certificate = q.certificate
      if (!certificate || 'none' in certificate) return unknown()
      const v: HostCertVerdict = certificate.cert.publicKey.equals(q.key)
        ? checkHostCertificate(q.entries, q.name, q.hostname.toLowerCase(), certificate.cert, q.nowSeconds)
        : { status: 'invalid', reason: `it certifies a ${blobKeyType(certificate.cert.publicKey)} key, not the one the server presented` }
      if (v.status === 'ok') return { action: 'accept' }
      if (v.status === 'no-ca') return unknown()
      if (v.status === 'revoked') return { action: 'refuse', reason: 'hostkey-changed', message: `host certificate for ${q.name} (${fp}) is REVOKED in ${v.entry.file}:${v.entry.line}; refusing to connect` }
      return { action: 'refuse', reason: 'hostkey-unknown', message: `host certificate for ${q.name} (${fp}) refused: ${v.reason}` }
    }
  }
}
