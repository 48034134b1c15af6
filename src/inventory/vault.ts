import { createDecipheriv, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import type { Secret } from './secret.js'

// Ansible Vault's format (https://docs.ansible.com/ansible/latest/vault_guide/vault_using_encrypted_content.html#format-of-files-encrypted-with-ansible-vault),
// decrypted with Node's own crypto exactly as Ansible's VaultAES256 does:
//   header   $ANSIBLE_VAULT;1.1;AES256  or  $ANSIBLE_VAULT;1.2;AES256;<vault id>
//   body     hex( hex(salt) \n hex(hmac) \n hex(ciphertext) ), wrapped at 80 columns
//   keys     PBKDF2-HMAC-SHA256(password, salt, 10000 iterations) → 32-byte AES key, 32-byte HMAC key, 16-byte counter
//   check    HMAC-SHA256(hmac key, ciphertext) must equal hmac (compared in constant time)
//   cipher   AES-256-CTR, then PKCS#7 padding removed.
// The vault id in a 1.2 header is only a hint for which password to try first: it is not signed.

const pbkdf2Async = promisify(pbkdf2)
const HEADER = '$ANSIBLE_VAULT'
const ITERATIONS = 10_000

// One vault password and the id it was given under (`--vault-id prod@file` → label 'prod').
export interface VaultSecret {
  label: string
  source: string // where it came from, for messages: "--vault-password-file pw.txt", "prompt"
  password: Secret<Buffer>
}

// The envelope of a vaulted text, without decrypting it.
export interface VaultEnvelope {
  version: string // '1.1' or '1.2'
  cipher: string // 'AES256'
  label?: string // the vault id of a 1.2 envelope
  body: string // the hex payload, line breaks removed
}

// Bad vault data (not a password problem): a broken header, non-hex body, unknown cipher.
export class VaultFormatError extends Error {}

// No secret given decrypts the data (wrong password, or none for this vault id).
export class VaultDecryptError extends Error {}

// True if `text` is vault-encrypted data (a whole file, or the text of a `!vault` value).
export function isVaulted(text: string): boolean {
  return text.trimStart().startsWith(HEADER + ';')
}

// Reads the header and joins the body lines (Ansible's parse_vaulttext_envelope).
export function parseEnvelope(text: string): VaultEnvelope {
  const lines = text.trim().split(/\r?\n/)
  const header = lines[0].trim().split(';')
  if (header[0] !== HEADER || header.length < 3) throw new VaultFormatError(`not an Ansible Vault header: '${lines[0].trim().slice(0, 40)}'`)
  const [, version, cipher, label] = header.map((part) => part.trim())
  if (version !== '1.1' && version !== '1.2') throw new VaultFormatError(`vault format ${version} is not supported (only 1.1 and 1.2)`)
  if (cipher !== 'AES256') throw new VaultFormatError(`vault cipher ${cipher} is not supported (only AES256)`)
  const body = lines
    .slice(1)
    .map((line) => line.trim())
    .join('')
  return { version, cipher, ...(label ? { label } : {}), body }
}

// Decrypts vaulted text with the first of `secrets` that fits: the ones labelled with the
// envelope's vault id first, then all others (Ansible's default, vault_id_match=False).
// Returns the plaintext bytes and the label of the secret that worked.
export async function decryptVault(text: string, secrets: readonly VaultSecret[]): Promise<{ plaintext: Buffer; label: string }> {
  const envelope = parseEnvelope(text)
  const { salt, hmac, ciphertext } = splitPayload(envelope.body)
  if (secrets.length === 0) throw new VaultDecryptError('no vault password was given')
  const ordered = [...secrets.filter((s) => s.label === envelope.label), ...secrets.filter((s) => s.label !== envelope.label)]
  for (const secret of ordered) {
    const plaintext = await decryptWith(secret.password.reveal(), salt, hmac, ciphertext)
    if (plaintext) return { plaintext, label: secret.label }
  }
  const tried = ordered.map((s) => `'${s.label}' (${s.source})`).join(', ')
  const hint = envelope.label && !secrets.some((s) => s.label === envelope.label) ? `; it was encrypted with vault id '${envelope.label}', for which no password was given` : ''
  throw new VaultDecryptError(`no vault password given decrypts it (tried ${tried})${hint}`)
}

// hex → "hex(salt)\nhex(hmac)\nhex(ciphertext)" → the three byte strings.
function splitPayload(body: string): { salt: Buffer; hmac: Buffer; ciphertext: Buffer } {
  const inner = unhex(body, 'vault body').toString('latin1').split('\n')
  if (inner.length !== 3) throw new VaultFormatError('vault body must hold salt, HMAC and ciphertext')
  return { salt: unhex(inner[0], 'salt'), hmac: unhex(inner[1], 'HMAC'), ciphertext: unhex(inner[2], 'ciphertext') }
}

function unhex(text: string, what: string): Buffer {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw new VaultFormatError(`vault ${what} is not valid hex`)
  return Buffer.from(text, 'hex')
}

// The plaintext, or undefined when the HMAC does not match (a wrong password).
async function decryptWith(password: Buffer, salt: Buffer, hmac: Buffer, ciphertext: Buffer): Promise<Buffer | undefined> {
  const derived = await pbkdf2Async(password, salt, ITERATIONS, 32 + 32 + 16, 'sha256')
  const aesKey = derived.subarray(0, 32)
  const hmacKey = derived.subarray(32, 64)
  const counter = derived.subarray(64, 80)
  const expected = createHmac('sha256', hmacKey).update(ciphertext).digest()
  if (expected.length !== hmac.length || !timingSafeEqual(expected, hmac)) return undefined
  const decipher = createDecipheriv('aes-256-ctr', aesKey, counter)
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()])
  return unpad(padded)
}

// PKCS#7 padding to AES's 16-byte blocks, as Ansible's cryptography unpadder checks it.
function unpad(padded: Buffer): Buffer {
  const n = padded.length > 0 ? padded[padded.length - 1] : 0
  if (n < 1 || n > 16 || n > padded.length || !padded.subarray(padded.length - n).every((b) => b === n)) {
    throw new VaultFormatError('vault plaintext has invalid padding')
  }
  return padded.subarray(0, padded.length - n)
}
