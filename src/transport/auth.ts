// Client authentication in OpenSSH's order: the ssh-agent's keys first, then identity files
// (explicit ones, else the default ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist). An encrypted
// key asks for its passphrase once per connector, when a connection first needs it.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
// ssh2 is CommonJS: Node's ESM loader exposes only its default export.
import ssh2 from 'ssh2'
import type { AuthHandlerMiddleware, ParsedKey } from 'ssh2'

// Asks for the passphrase of `keyFile`; attempt counts from 1.
export type PassphrasePrompt = (keyFile: string, attempt: number) => Promise<string>

// The identity files OpenSSH tries when none are configured.
export function defaultIdentityFiles(home = homedir()): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f)).filter((f) => existsSync(f))
}

export interface KeyLoader {
  // The parsed private key, or an explanation why it cannot be used (missing, wrong passphrase).
  load(file: string, hooks?: { pause?(): void; resume?(): void }): Promise<ParsedKey | Error>
}

// Loads and caches private keys; a passphrase is asked at most once per file (3 tries).
export function createKeyLoader(prompt: PassphrasePrompt): KeyLoader {
  const cache = new Map<string, Promise<ParsedKey | Error>>()
  return {
    load(file, hooks) {
      let got = cache.get(file)
      if (!got) {
        got = loadKey(file, prompt, hooks)
        cache.set(file, got)
      }
      return got
    },
  }
}

async function loadKey(file: string, prompt: PassphrasePrompt, hooks?: { pause?(): void; resume?(): void }): Promise<ParsedKey | Error> {
  let data: Buffer
  try {
    data = await readFile(file)
  } catch (error) {
    return new Error(`cannot read identity file ${file}: ${(error as Error).message}`)
  }
  const first = parseFirst(data)
  if (!(first instanceof Error)) return first
  if (!/encrypted|passphrase/i.test(first.message)) return new Error(`cannot parse identity file ${file}: ${first.message}`)
  // A human is typing: the connect timeout must not run meanwhile.
  hooks?.pause?.()
  try {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const passphrase = await prompt(file, attempt)
      const key = parseFirst(data, passphrase)
      if (!(key instanceof Error)) return key
    }
    return new Error(`wrong passphrase for ${file} (3 tries)`)
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  } finally {
    hooks?.resume?.()
  }
}

function parseFirst(data: Buffer, passphrase?: string): ParsedKey | Error {
  const parsed = ssh2.utils.parseKey(data, passphrase) as ParsedKey | ParsedKey[] | Error
  if (Array.isArray(parsed)) return parsed[0] ?? new Error('no key in file')
  return parsed
}

export interface AuthPlan {
  username: string
  agent?: string // SSH_AUTH_SOCK path
  identityFiles: string[]
  keys: KeyLoader
  hooks?: { pause?(): void; resume?(): void }
  // Filled in as methods are tried, for the failure message.
  tried: string[]
  problems: string[]
}

// An ssh2 authHandler that walks the plan: agent, then each identity file.
export function createAuthHandler(plan: AuthPlan): AuthHandlerMiddleware {
  const steps: Array<() => Promise<Parameters<Parameters<AuthHandlerMiddleware>[2]>[0] | undefined>> = []
  if (plan.agent) {
    steps.push(async () => {
      plan.tried.push('ssh-agent')
      return { type: 'agent', username: plan.username, agent: plan.agent! }
    })
  }
  for (const file of plan.identityFiles) {
    steps.push(async () => {
      const key = await plan.keys.load(file, plan.hooks)
      if (key instanceof Error) {
        plan.problems.push(key.message)
        return undefined
      }
      plan.tried.push(file)
      return { type: 'publickey', username: plan.username, key }
    })
  }
  let index = 0
  return (methodsLeft, _partial, next) => {
    // The server lists what it still accepts; everything we offer is a public key.
    if (methodsLeft && !methodsLeft.includes('publickey')) {
      next(false as never)
      return
    }
    const advance = (): void => {
      const step = steps[index++]
      if (!step) return next(false as never)
      step().then(
        (method) => (method ? next(method as never) : advance()),
        () => advance(),
      )
    }
    advance()
  }
}
