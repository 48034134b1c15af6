import { InventoryError } from '../errors.js'
import type { VarLayer } from './builder.js'
import { formatOrigin } from './origin.js'
import { decryptVault, isVaulted, VaultDecryptError, VaultFormatError, type VaultSecret } from './vault.js'
import { VaultedValue } from './yaml-source.js'

// How to pass vault passwords, for messages.
export const VAULT_FLAGS_HINT = 'give its password with --vault-password-file, --vault-id or --ask-vault-pass (or ANSIBLE_VAULT_PASSWORD_FILE)'

// Decrypts a file's text if it is vault-encrypted as a whole (group_vars/, host_vars/, an
// inventory file); other text is returned as is. Errors name the file, line 1.
export async function readVaultedFile(file: string, text: string, secrets: readonly VaultSecret[]): Promise<string> {
  if (!isVaulted(text)) return text
  if (secrets.length === 0) throw new InventoryError(`${file}:1: this file is encrypted with Ansible Vault; ${VAULT_FLAGS_HINT}`)
  try {
    return (await decryptVault(text, secrets)).plaintext.toString('utf8')
  } catch (error) {
    throw vaultError(`${file}:1`, 'cannot decrypt this Ansible Vault file', error)
  }
}

// Finds every vault value in the layers (YAML `!vault`, and the `{"__ansible_vault": ...}` form of
// JSON inventories and ansible-inventory output, which it turns into VaultedValue) and, when
// passwords were given, decrypts each one, so a wrong password stops gpufleet here, naming the
// file:line of the first value that failed, before anything connects. Without passwords the
// values stay encrypted (printable as Ansible prints them, unusable as connection settings).
export async function decryptVaultValues(layers: Iterable<VarLayer>, secrets: readonly VaultSecret[]): Promise<void> {
  const found: Array<{ value: VaultedValue; where: string; name: string; file: string; line: number }> = []
  for (const layer of layers) {
    for (const [key, value] of layer.values) {
      const origin = layer.origins.get(key)
      const replaced = collect(value, [], (vaulted, path) => {
        const where = origin ? formatOrigin(origin, path) : '<inventory>:0'
        const at = /^(.*):(\d+)$/.exec(where)
        found.push({ value: vaulted, where, name: [key, ...path].join('.'), file: at?.[1] ?? where, line: Number(at?.[2] ?? 0) })
      })
      if (replaced !== value) layer.values.set(key, replaced)
    }
  }
  if (secrets.length === 0) return
  // Values are decrypted in parallel (PBKDF2 runs on libuv's threads); the first failure in
  // file order is the one reported.
  // In file order: files as first met, lines ascending within a file.
  const files = [...new Set(found.map((f) => f.file))]
  const todo = found.filter((f) => !f.value.decrypted).sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line)
  const results = await Promise.allSettled(todo.map(async (f) => f.value.setPlaintext((await decryptVault(f.value.ciphertext, secrets)).plaintext.toString('utf8'))))
  const failed = results.findIndex((r) => r.status === 'rejected')
  if (failed >= 0) {
    throw vaultError(todo[failed].where, `cannot decrypt the !vault value of '${todo[failed].name}'`, (results[failed] as PromiseRejectedResult).reason)
  }
}

// Walks a value; calls `visit` for each VaultedValue and returns the value with every
// {__ansible_vault: text} object replaced by a VaultedValue (the same object when none was).
function collect(value: unknown, path: PropertyKey[], visit: (v: VaultedValue, path: PropertyKey[]) => void): unknown {
  if (value instanceof VaultedValue) {
    visit(value, path)
    return value
  }
  if (Array.isArray(value)) {
    let changed = false
    const out = value.map((item, i) => {
      const next = collect(item, [...path, i], visit)
      changed ||= next !== item
      return next
    })
    return changed ? out : value
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value)
    if (entries.length === 1 && entries[0][0] === '__ansible_vault' && typeof entries[0][1] === 'string' && isVaulted(entries[0][1])) {
      const vaulted = new VaultedValue(entries[0][1])
      visit(vaulted, path)
      return vaulted
    }
    for (const [key, inner] of entries) {
      const next = collect(inner, [...path, key], visit)
      if (next !== inner) (value as Record<string, unknown>)[key] = next
    }
  }
  return value
}

// An InventoryError at `where` that says why decryption failed, never with any plaintext.
function vaultError(where: string, what: string, error: unknown): InventoryError {
  if (error instanceof VaultDecryptError) return new InventoryError(`${where}: ${what}: ${error.message}`)
  if (error instanceof VaultFormatError) return new InventoryError(`${where}: ${what}: ${error.message}`)
  return new InventoryError(`${where}: ${what}: ${(error as Error).message}`, { cause: error })
}
