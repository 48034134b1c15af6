import { access, constants, readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, extname, resolve } from 'node:path'
import { execa } from 'execa'
import { UsageError } from '../errors.js'
import { promptSecret } from '../transport/prompt.js'
import { Secret } from './secret.js'
import type { VaultSecret } from './vault.js'

// Where vault passwords come from, as plain data: the CLI fills it from flags, the caller from
// ansible.cfg. Ansible's order is kept: the configured identity list, then --vault-id, then
// --vault-password-file, then the configured password file, then --ask-vault-pass.
export interface VaultOptions {
  vaultIds?: string[] // --vault-id, repeatable: 'label@source' or 'source'; source is a file, an executable, or 'prompt'
  passwordFiles?: string[] // --vault-password-file, repeatable (vault id 'default')
  askVaultPass?: boolean // --ask-vault-pass (vault id 'default')
  // ansible.cfg [defaults] vault_password_file, absolute (ANSIBLE_VAULT_PASSWORD_FILE overrides it).
  defaultPasswordFile?: string
  // ansible.cfg [defaults] vault_identity_list (ANSIBLE_VAULT_IDENTITY_LIST overrides it).
  defaultIdentityList?: string[]
}

// How passwords are read: the environment (ANSIBLE_VAULT_PASSWORD_FILE, ANSIBLE_VAULT_IDENTITY_LIST,
// ANSIBLE_ASK_VAULT_PASS) and the prompt. Tests pass their own.
export interface VaultIo {
  env?: NodeJS.ProcessEnv // default process.env
  prompt?: (question: string) => Promise<string> // default: the terminal, without echo
}

const DEFAULT_ID = 'default'

// Reads every vault password the options name, in Ansible's order. Password files are read
// (stripped of surrounding whitespace), executables are run and their stdout used (stripped of
// line breaks); a `*-client` script gets `--vault-id <label>`, as Ansible's client scripts do.
// Nothing is asked or read when no option is given.
export async function loadVaultSecrets(options: VaultOptions = {}, io: VaultIo = {}): Promise<VaultSecret[]> {
  const env = io.env ?? process.env
  const identityList = env.ANSIBLE_VAULT_IDENTITY_LIST !== undefined ? splitList(env.ANSIBLE_VAULT_IDENTITY_LIST) : (options.defaultIdentityList ?? [])
  const slugs: Array<{ slug: string; flag: string }> = [
    ...identityList.map((slug) => ({ slug, flag: 'vault_identity_list' })),
    ...(options.vaultIds ?? []).map((slug) => ({ slug, flag: '--vault-id' })),
    ...(options.passwordFiles ?? []).map((file) => ({ slug: `${DEFAULT_ID}@${file}`, flag: '--vault-password-file' })),
  ]
  const configured = env.ANSIBLE_VAULT_PASSWORD_FILE || options.defaultPasswordFile
  if (configured) slugs.push({ slug: `${DEFAULT_ID}@${configured}`, flag: env.ANSIBLE_VAULT_PASSWORD_FILE ? 'ANSIBLE_VAULT_PASSWORD_FILE' : 'vault_password_file' })
  if (options.askVaultPass || isTrue(env.ANSIBLE_ASK_VAULT_PASS)) slugs.push({ slug: `${DEFAULT_ID}@prompt_ask_vault_pass`, flag: '--ask-vault-pass' })

  const secrets: VaultSecret[] = []
  for (const { slug, flag } of slugs) {
    const at = slug.indexOf('@')
    const label = (at < 0 ? '' : slug.slice(0, at)) || DEFAULT_ID
    const source = at < 0 ? slug : slug.slice(at + 1)
    if (source === '') throw new UsageError(`${flag} '${slug}': no password source after the '@' (a file, an executable or 'prompt')`)
    if (source === 'prompt' || source === 'prompt_ask_vault_pass') {
      const ask = io.prompt ?? promptSecret
      const typed = (await ask(source === 'prompt' ? `Vault password (${label}): ` : 'Vault password: ')).trim()
      if (typed === '') throw new UsageError(`${flag}: an empty vault password was given at the prompt`)
      secrets.push({ label, source: flag === '--ask-vault-pass' ? '--ask-vault-pass' : `${flag} ${slug}`, password: new Secret(Buffer.from(typed, 'utf8')) })
      continue
    }
    const file = expandPath(source)
    secrets.push({ label, source: `${flag} ${source}`, password: new Secret(await readPasswordSource(file, label, flag)) })
  }
  return secrets
}

// A password file's content, or an executable's stdout.
async function readPasswordSource(file: string, label: string, flag: string): Promise<Buffer> {
  const content = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag}: cannot read vault password file ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`)
  })
  const executable = await access(file, constants.X_OK).then(
    () => true,
    () => false,
  )
  if (!executable) {
    const password = trimBytes(content, ' \t\r\n\v\f')
    if (password.length === 0) throw new UsageError(`${flag}: the vault password file ${file} is empty`)
    return password
  }
  // As Ansible: stdin and stderr stay the terminal's, so the script may prompt; no timeout for
  // the same reason. A '-client' script is asked for one vault id.
  const client = basename(file, extname(file)).endsWith('-client')
  const run = await execa(file, client ? ['--vault-id', label] : [], { stdin: 'inherit', stderr: 'inherit', encoding: 'buffer', reject: false, stripFinalNewline: false })
  if (run.failed && run.exitCode === undefined) throw new UsageError(`${flag}: cannot run vault password script ${file}: ${run.shortMessage}`)
  if (client && run.exitCode === 2) throw new UsageError(`${flag}: vault password client script ${file} has no password for vault id '${label}'`)
  if (run.exitCode !== 0) throw new UsageError(`${flag}: vault password script ${file} exited with ${run.exitCode}`)
  const password = trimBytes(Buffer.from(run.stdout), '\r\n')
  if (password.length === 0) throw new UsageError(`${flag}: vault password script ${file} printed no password`)
  return password
}

function trimBytes(bytes: Buffer, chars: string): Buffer {
  const strip = new Set([...chars].map((c) => c.charCodeAt(0)))
  let start = 0
  let end = bytes.length
  while (start < end && strip.has(bytes[start])) start++
  while (end > start && strip.has(bytes[end - 1])) end--
  return bytes.subarray(start, end)
}

function expandPath(path: string): string {
  return resolve(path === '~' ? homedir() : path.startsWith('~/') ? homedir() + path.slice(1) : path)
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function isTrue(text: string | undefined): boolean {
  return text !== undefined && ['y', 'yes', 'on', '1', 'true', 't'].includes(text.trim().toLowerCase())
}
