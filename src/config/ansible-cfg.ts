// The settings gpufleet takes from Ansible's configuration, found and typed the way ansible-core's
// config manager does (checked against `ansible-config dump` in test/config/ansible-cfg-compat.test.ts):
// one ansible.cfg, the first readable of $ANSIBLE_CONFIG (a file, or a directory holding ansible.cfg),
// ./ansible.cfg (skipped, with a warning, when the current directory is world-writable: anyone could
// plant one there), ~/.ansible.cfg, /etc/ansible/ansible.cfg; then the ANSIBLE_* environment variables
// over it. Command-line flags beat both; the commands apply them (src/commands/ansible-options.ts).
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, normalize } from 'node:path'
import { UsageError } from '../errors.js'
import { iniGet, IniSyntaxError, parseIni, type IniSections } from './parse-ini.js'

// What Ansible's config says, typed; a field is undefined when neither the file nor the env set it.
export interface AnsibleSettings {
  inventory?: string[] // [defaults] inventory / ANSIBLE_INVENTORY: absolute paths
  forks?: number // [defaults] forks / ANSIBLE_FORKS
  remoteUser?: string // [defaults] remote_user / ANSIBLE_REMOTE_USER
  privateKeyFile?: string // [defaults] private_key_file / ANSIBLE_PRIVATE_KEY_FILE: absolute
  hostKeyChecking?: boolean // [defaults] host_key_checking / ANSIBLE_HOST_KEY_CHECKING
  become?: boolean // [privilege_escalation] become / ANSIBLE_BECOME
  vaultPasswordFile?: string // [defaults] vault_password_file / ANSIBLE_VAULT_PASSWORD_FILE: absolute
}

export type AnsibleSettingName = keyof AnsibleSettings

// The settings, where each came from ("/x/ansible.cfg:3" or "env ANSIBLE_FORKS"), the file used and
// warnings to print (a skipped ./ansible.cfg).
export interface AnsibleConfig {
  file?: string
  settings: AnsibleSettings
  origins: Partial<Record<AnsibleSettingName, string>>
  warnings: string[]
}

// Where to look; tests pass their own.
export interface ConfigEnvironment {
  env: Record<string, string | undefined>
  cwd: string
  home: string
}

type Kind = 'pathlist' | 'path' | 'integer' | 'string' | 'boolean'

// Each setting: its ini section and key, its env var, and its Ansible type.
const SETTINGS: Record<AnsibleSettingName, { section: string; key: string; env: string; kind: Kind }> = {
  inventory: { section: 'defaults', key: 'inventory', env: 'ANSIBLE_INVENTORY', kind: 'pathlist' },
  forks: { section: 'defaults', key: 'forks', env: 'ANSIBLE_FORKS', kind: 'integer' },
  remoteUser: { section: 'defaults', key: 'remote_user', env: 'ANSIBLE_REMOTE_USER', kind: 'string' },
  privateKeyFile: { section: 'defaults', key: 'private_key_file', env: 'ANSIBLE_PRIVATE_KEY_FILE', kind: 'path' },
  hostKeyChecking: { section: 'defaults', key: 'host_key_checking', env: 'ANSIBLE_HOST_KEY_CHECKING', kind: 'boolean' },
  become: { section: 'privilege_escalation', key: 'become', env: 'ANSIBLE_BECOME', kind: 'boolean' },
  vaultPasswordFile: { section: 'defaults', key: 'vault_password_file', env: 'ANSIBLE_VAULT_PASSWORD_FILE', kind: 'path' },
}

// The process's own environment.
export function processEnvironment(): ConfigEnvironment {
  return { env: process.env, cwd: process.cwd(), home: homedir() }
}

// The ansible.cfg Ansible would read, or undefined; warns when a ./ansible.cfg is skipped.
export function findAnsibleCfg(where: ConfigEnvironment): { file?: string; warnings: string[] } {
  const candidates: string[] = []
  const fromEnv = where.env.ANSIBLE_CONFIG
  let envPath: string | undefined
  if (fromEnv !== undefined) {
    envPath = resolvePath(fromEnv, where.cwd, where)
    if (isDirectory(envPath)) envPath = join(envPath, 'ansible.cfg')
    candidates.push(envPath)
  }
  const cwdCfg = join(where.cwd, 'ansible.cfg')
  let skippedCwd = false
  if (worldWritable(where.cwd)) skippedCwd = existsSync(cwdCfg)
  else candidates.push(cwdCfg)
  candidates.push(join(where.home, '.ansible.cfg'), '/etc/ansible/ansible.cfg')
  const file = candidates.find(readable)
  const warnings = skippedCwd && (envPath === undefined || file !== envPath) ? [`ignoring ${cwdCfg}: the directory ${where.cwd} is world-writable, so anyone could have put it there (Ansible ignores it too; set ANSIBLE_CONFIG to use it)`] : []
  return { ...(file ? { file } : {}), warnings }
}

// Reads the settings from the ansible.cfg Ansible would use, then the ANSIBLE_* env vars over them.
// A malformed file or value is a UsageError naming file:line (or the env var).
export function readAnsibleConfig(where: ConfigEnvironment = processEnvironment()): AnsibleConfig {
  const found = findAnsibleCfg(where)
  const config: AnsibleConfig = { ...(found.file ? { file: found.file } : {}), settings: {}, origins: {}, warnings: found.warnings }
  if (found.file) {
    const sections = parseCfgFile(found.file)
    for (const [name, def] of Object.entries(SETTINGS) as Array<[AnsibleSettingName, (typeof SETTINGS)[AnsibleSettingName]]>) {
      const entry = iniGet(sections, def.section, def.key)
      if (!entry) continue
      const origin = `${found.file}:${entry.line}`
      set(config, name, convert(entry.value, def.kind, `${origin}: ${def.key}`, dirname(found.file), where), origin)
    }
  }
  for (const [name, def] of Object.entries(SETTINGS) as Array<[AnsibleSettingName, (typeof SETTINGS)[AnsibleSettingName]]>) {
    const value = where.env[def.env]
    if (value === undefined) continue
    const origin = `env ${def.env}`
    set(config, name, convert(value, def.kind, origin, where.cwd, where), origin)
  }
  return config
}

function set(config: AnsibleConfig, name: AnsibleSettingName, value: unknown, origin: string): void {
  ;(config.settings as Record<string, unknown>)[name] = value
  config.origins[name] = origin
}

function parseCfgFile(file: string): IniSections {
  try {
    return parseIni(readFileSync(file, 'utf8'))
  } catch (error) {
    if (error instanceof IniSyntaxError) throw new UsageError(`${file}:${error.line}: ${error.message}`)
    throw new UsageError(`${file}: cannot read: ${(error as Error).message}`)
  }
}

// Ansible's ensure_type for the kinds used here.
function convert(text: string, kind: Kind, where: string, basedir: string, env: ConfigEnvironment): unknown {
  switch (kind) {
    case 'pathlist':
      return text.split(',').map((part) => resolvePath(part.trim(), basedir, env))
    case 'path':
      return resolvePath(text, basedir, env)
    case 'integer': {
      // Python's int(): optional sign, digits, surrounding blanks.
      if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new UsageError(`${where}: expected a whole number, got ${JSON.stringify(text)}`)
      return Number(text)
    }
    case 'boolean':
      // boolean(strict=False): anything not in Ansible's true spellings is false.
      return ['y', 'yes', 'on', '1', 'true', 't', '1.0'].includes(text.trim().toLowerCase())
    case 'string':
      return unquote(text)
  }
}

// Ansible's unquote(): strip one pair of matching outer quotes.
function unquote(text: string): string {
  const q = text[0]
  return text.length > 1 && (q === '"' || q === "'") && text.at(-1) === q && text.at(-2) !== '\\' ? text.slice(1, -1) : text
}

// Ansible's unfrackpath(follow=False): $VARS, then ~, then relative to basedir, normalized.
function resolvePath(path: string, basedir: string, where: ConfigEnvironment): string {
  const vars = path.replace(/\$(\w+)|\$\{([^}]*)\}/g, (whole, a: string | undefined, b: string | undefined) => where.env[(a ?? b)!] ?? whole)
  const home = vars === '~' ? where.home : vars.startsWith('~/') ? where.home + vars.slice(1) : vars
  return normalize(isAbsolute(home) ? home : join(basedir, home)).replace(/(.)\/$/, '$1')
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function worldWritable(dir: string): boolean {
  try {
    return (statSync(dir).mode & 0o002) !== 0
  } catch {
    return false
  }
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK)
    return true
  } catch {
    return false
  }
}
