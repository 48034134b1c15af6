import { VaultedValue } from './yaml-source.js'

// Shown instead of a secret's value.
export const REDACTED = '<redacted>'

// Var names whose values are secrets: ansible_password, ansible_ssh_pass, ansible_become_password,
// *_secret, api_token, ... Matched on the name, at any depth.
export function isSecretName(name: string): boolean {
  return /pass|secret|token|credential|private_key(?!_file)/i.test(name)
}

// A deep copy of `vars` with secret-named values replaced by REDACTED.
export function redactVars(vars: Record<string, unknown>): Record<string, unknown> {
  return redactValue(vars) as Record<string, unknown>
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue)
  if (value instanceof VaultedValue || value instanceof Date) return value
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: isSecretName(key) ? REDACTED : redactValue(inner), enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  return value
}
