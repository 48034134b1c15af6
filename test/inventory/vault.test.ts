import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Secret } from '../../src/inventory/secret.js'
import { decryptVault, isVaulted, parseEnvelope, VaultDecryptError, VaultFormatError, type VaultSecret } from '../../src/inventory/vault.js'
import { parseYamlSource } from '../../src/inventory/yaml-source.js'
import { VaultedValue } from '../../src/inventory/yaml-source.js'

// Ciphertexts made by the real ansible-vault (see the header of the fixture file); the
// integration test test/inventory/ansible-vault.test.ts encrypts fresh ones at run time.
const fixtures = join(import.meta.dirname, '../fixtures/vault')
const secret = (label: string, password: string): VaultSecret => ({ label, source: `test ${label}`, password: new Secret(Buffer.from(password)) })
const DEFAULT = secret('default', 'pw-default')
const PROD = secret('prod', 'pw-prod')

async function values(): Promise<Record<string, string>> {
  const source = parseYamlSource('values.yaml', await readFile(join(fixtures, 'values.yaml'), 'utf8'))
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(source.toJS(source.doc.contents as never) as Record<string, VaultedValue>)) out[key] = value.ciphertext
  return out
}

describe('Ansible Vault decryption (Node crypto, the documented AES256 format)', () => {
  it('decrypts format 1.1 and 1.2 values made by ansible-vault', async () => {
    const v = await values()
    const text = async (name: string, secrets: VaultSecret[]) => (await decryptVault(v[name], secrets)).plaintext.toString('utf8')
    expect(await text('a', [DEFAULT])).toBe('hello vault')
    expect(await text('b', [PROD])).toBe('prod secret')
    expect(await text('c', [DEFAULT])).toBe('abcdefghijklmnopqrstuvwxyz012345')
    expect(await text('d', [DEFAULT])).toBe('ünïcode ✓')
  })

  it('tries the secret labelled with the envelope vault id first, then every other one', async () => {
    const v = await values()
    expect(parseEnvelope(v.b)).toMatchObject({ version: '1.2', cipher: 'AES256', label: 'prod' })
    expect(await decryptVault(v.b, [DEFAULT, PROD])).toMatchObject({ label: 'prod' })
    // The label is only a hint: a secret under another label that fits still decrypts (Ansible's default).
    expect((await decryptVault(v.b, [secret('other', 'pw-prod')])).plaintext.toString()).toBe('prod secret')
    expect(await decryptVault(v.a, [PROD, DEFAULT])).toMatchObject({ label: 'default' })
  })

  it('decrypts a whole vaulted vars file', async () => {
    const text = await readFile(join(fixtures, 'whole-file-prod.yml'), 'utf8')
    expect(isVaulted(text)).toBe(true)
    expect((await decryptVault(text, [PROD])).plaintext.toString()).toBe('ansible_user: ops\nrack: r7\n')
  })

  it('refuses a wrong password by the HMAC, naming what was tried and never any secret', async () => {
    const v = await values()
    const error = await decryptVault(v.b, [secret('default', 'nope')]).catch((e: Error) => e)
    expect(error).toBeInstanceOf(VaultDecryptError)
    expect((error as Error).message).toBe("no vault password given decrypts it (tried 'default' (test default)); it was encrypted with vault id 'prod', for which no password was given")
    await expect(decryptVault(v.a, [])).rejects.toThrow('no vault password was given')
  })

  it('refuses tampered or malformed vault text', async () => {
    const v = await values()
    // Flip one ciphertext hex digit (the payload is hex of hex): the HMAC no longer matches.
    const lines = v.a.trimEnd().split('\n')
    const last = lines.at(-1)!
    lines[lines.length - 1] = last.slice(0, -1) + (last.at(-1) === '1' ? '2' : '1')
    await expect(decryptVault(lines.join('\n'), [DEFAULT])).rejects.toThrow(VaultDecryptError)
    await expect(decryptVault('$ANSIBLE_VAULT;1.1;AES256\nzz\n', [DEFAULT])).rejects.toThrow(VaultFormatError)
    await expect(decryptVault('$ANSIBLE_VAULT;1.1;AES128\n00\n', [DEFAULT])).rejects.toThrow('vault cipher AES128 is not supported')
    await expect(decryptVault('$ANSIBLE_VAULT;2.0;AES256\n00\n', [DEFAULT])).rejects.toThrow('vault format 2.0 is not supported')
    expect(isVaulted('ansible_user: ops\n')).toBe(false)
  })

  it('keeps a decrypted value out of JSON and inspection', async () => {
    const v = await values()
    const value = new VaultedValue(v.a)
    value.setPlaintext((await decryptVault(v.a, [DEFAULT])).plaintext.toString())
    expect(value.reveal()).toBe('hello vault')
    const { inspect } = await import('node:util')
    for (const shown of [JSON.stringify({ value, s: DEFAULT }), inspect({ value, s: DEFAULT }, { depth: 5, showHidden: true }), String(DEFAULT.password)]) {
      expect(shown).not.toContain('hello vault')
      expect(shown).not.toContain('pw-default')
    }
  })
})
