// The rack's BMC certificates, made with the openssl CLI (node cannot sign certificates): a CA the
// rack writes to DIR/bmc-ca.pem for clients to verify against, and one server certificate for
// every BMC address (IP subjectAltNames), as a site CA would issue for its BMC network.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export interface BmcCerts {
  caFile: string
  key: string
  cert: string
}

// Writes DIR/bmc-ca.pem (and keeps the keys in DIR/bmc/); returns the server key and certificate.
export function makeBmcCerts(dir: string, addresses: string[]): BmcCerts {
  const work = path.join(dir, 'bmc')
  fs.rmSync(work, { recursive: true, force: true })
  fs.mkdirSync(work, { recursive: true, mode: 0o700 })
  const at = (f: string) => path.join(work, f)
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  ssl('req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '30', '-subj', '/CN=gpufleet sim BMC CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  ssl('req', ...ec, '-keyout', at('bmc.key'), '-out', at('bmc.csr'), '-subj', '/CN=gpufleet sim BMC')
  fs.writeFileSync(at('ext.cnf'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${[...new Set(addresses)].map((a) => `IP:${a}`).join(',')}\n`)
  ssl('x509', '-req', '-in', at('bmc.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('bmc.pem'), '-days', '30', '-extfile', at('ext.cnf'))
  const caFile = path.join(dir, 'bmc-ca.pem')
  fs.copyFileSync(at('ca.pem'), caFile)
  return { caFile, key: fs.readFileSync(at('bmc.key'), 'utf8'), cert: fs.readFileSync(at('bmc.pem'), 'utf8') }
}
