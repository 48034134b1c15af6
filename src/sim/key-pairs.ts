// The rack's SSH keys: the client key every host accepts, and one host key per host.
import fs from 'node:fs'
import path from 'node:path'
import ssh2 from 'ssh2'
import type { ParsedKey } from 'ssh2'

const { utils } = ssh2

// ssh2 occasionally generates an ed25519 key its own parser rejects ("Malformed OpenSSH private
// key"); such a key would crash Server creation, so draw again.
export function newKeyPair(): { private: string; public: string } {
  for (;;) {
    const k = utils.generateKeyPairSync('ed25519')
    if (!(utils.parseKey(k.private) instanceof Error)) return k
  }
}

// A known_hosts key that is not the host's (the `wrongHostKey` fault).
export function otherKeyLine(): string {
  const k = newKeyPair()
  return k.public.trim().split(' ').slice(0, 2).join(' ')
}

// Writes a fresh client key pair to DIR/id_ed25519{,.pub}.
export function writeClientKey(dir: string): { clientKeyFile: string; clientPublicKey: ParsedKey } {
  const client = newKeyPair()
  const clientKeyFile = path.join(dir, 'id_ed25519')
  fs.rmSync(clientKeyFile, { force: true })
  fs.writeFileSync(clientKeyFile, client.private, { mode: 0o600 })
  fs.writeFileSync(clientKeyFile + '.pub', client.public.trim() + ' gpufleet-sim\n')
  return { clientKeyFile, clientPublicKey: utils.parseKey(client.public) as ParsedKey }
}

// A host's key as a known_hosts key (`type base64`), from its OpenSSH private key.
export function publicKeyLine(hostKey: string): string {
  const parsed = utils.parseKey(hostKey)
  const key = Array.isArray(parsed) ? parsed[0] : parsed
  if (key instanceof Error || !key) throw key ?? new Error('bad host key')
  return `${key.type} ${key.getPublicSSH().toString('base64')}`
}
