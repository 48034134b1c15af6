import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import { InventoryError } from '../errors.js'
import { InventoryBuilder, type VarLayer } from './builder.js'
import { HostPatternError, splitPort } from './host-pattern.js'
import { parseIniInventory } from './ini-inventory.js'
import { inventoryError, type Origin } from './origin.js'
import { resolveInventory } from './resolve.js'
import type { Inventory } from './types.js'
import { findVarsFiles, listDir, loadVarsFile } from './vars-files.js'
import { parseYamlInventory } from './yaml-inventory.js'
import { isPluginConfig, loadThroughAnsible } from './plugin-source.js'
import { isInventoryScript, loadInventoryScript } from './script-source.js'
import { loadVaultSecrets, type VaultOptions } from './vault-secrets.js'
import { decryptVaultValues, readVaultedFile } from './vault-values.js'

// How to read an inventory beyond its path: vault passwords (flags, env, ansible.cfg), and for
// inventory scripts and ansible-inventory, their environment and time limit.
export interface LoadInventoryOptions {
  vault?: VaultOptions
  extraVars?: VarLayer // -e: the highest-precedence layer of every host, as in Ansible
  env?: NodeJS.ProcessEnv // default process.env (ANSIBLE_VAULT_PASSWORD_FILE, PATH for ansible-inventory)
  prompt?: (question: string) => Promise<string> // --ask-vault-pass; default: the terminal
  timeoutMs?: number // each inventory script or ansible-inventory call (default 2 min)
}

const YAML_EXTENSIONS = new Set(['.yml', '.yaml', '.json'])
// What Ansible skips in an inventory directory (INVENTORY_IGNORE_EXTS and its always-ignored names).
const IGNORED_EXTENSIONS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry']
const IGNORED_NAMES = new Set(['host_vars', 'group_vars', 'vars_plugins'])

// Load an Ansible inventory (a YAML or INI file, or a directory of them, as `ansible -i` takes)
// with the group_vars/ and host_vars/ beside the file or inside the directory.
// Everything is validated here, so a bad file stops gpufleet before it connects anywhere.
// Like ansible -i, a comma-separated list that is not a file ('p9-01,p9-02:2222,') is a host list.
// Executable files are inventory scripts (run with --list); a `plugin:` YAML file anywhere in the
// sources makes the whole inventory go through ansible-inventory. Vault values are decrypted here.
export async function loadInventory(file: string, options: LoadInventoryOptions = {}): Promise<Inventory> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' && file.includes(',')) return undefined
    throw new InventoryError(`${file}: cannot read inventory: ${error.code === 'ENOENT' ? 'no such file' : error.message}`)
  })
  if (!info) return loadHostList(file, options.extraVars)
  const sources = info.isDirectory() ? await listInventoryDir(file) : [file]
  if (sources.length === 0) throw new InventoryError(`${file}: no inventory files in this directory`)

  const secrets = await loadVaultSecrets(options.vault, options)
  const builder = new InventoryBuilder(file)
  const rawLayers = () => [...[...builder.groups.values()].map((g) => g.vars), ...[...builder.hosts.values()].map((h) => h.vars)]
  if ((await Promise.all(sources.map((source) => isPluginConfig(source)))).some(Boolean)) {
    // Ansible has already merged group_vars/ and host_vars/ into what it prints.
    await loadThroughAnsible(file, builder, { secrets, ...(options.env ? { env: options.env } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
    builder.reconcile()
    await decryptVaultValues(rawLayers(), secrets)
    return resolveInventory(builder, { groups: new Map(), hosts: new Map() })
  }
  const defined = new Set<string>()
  const referenced = new Map<string, Origin>()
  for (const source of sources) {
    if (await isInventoryScript(source)) {
      for (const g of (await loadInventoryScript(source, builder, options.timeoutMs)).defined) defined.add(g)
      continue
    }
    const text = await readVaultedFile(source, await readFile(source, 'utf8'), secrets)
    if (text.startsWith('#!')) {
      throw new InventoryError(`${source}:1: this inventory script is not executable; make it executable (chmod +x ${source}) and gpufleet runs it with --list, as Ansible does`)
    }
    if (detectFormat(source, text) === 'yaml') {
      const use = parseYamlInventory(source, text, builder)
      for (const g of use.defined) defined.add(g)
      for (const [g, origin] of use.referenced) if (!referenced.has(g)) referenced.set(g, origin)
    } else {
      for (const g of parseIniInventory(source, text, builder)) defined.add(g)
    }
  }
  builder.reconcile()

  const dir = info.isDirectory() ? file : dirname(file)
  const groupFiles = new Map<string, VarLayer[]>()
  const groupVarsNames = await listDir(join(dir, 'group_vars'))
  for (const name of builder.groups.keys()) {
    const found = await findVarsFiles(join(dir, 'group_vars'), name, groupVarsNames)
    if (found.length > 0) groupFiles.set(name, await Promise.all(found.map((f) => loadVarsFile(f, secrets))))
  }
  for (const [name, origin] of referenced) {
    if (!defined.has(name) && !groupFiles.has(name)) {
      throw inventoryError(origin, `group '${name}' is listed under children but defined nowhere (no hosts, children or vars, no group_vars/${name}); check the spelling, or write '${name}: {}' for an intentionally empty group`)
    }
  }
  const hostFiles = new Map<string, VarLayer[]>()
  const hostVarsNames = await listDir(join(dir, 'host_vars'))
  for (const name of builder.hosts.keys()) {
    const found = await findVarsFiles(join(dir, 'host_vars'), name, hostVarsNames)
    if (found.length > 0) hostFiles.set(name, await Promise.all(found.map((f) => loadVarsFile(f, secrets))))
  }
  await decryptVaultValues([...rawLayers(), ...[...groupFiles.values()].flat(), ...[...hostFiles.values()].flat()], secrets)
  return resolveInventory(builder, { groups: groupFiles, hosts: hostFiles }, options.extraVars)
}

// The inventory files in a directory, recursively, in sorted order, skipping what Ansible skips.
async function listInventoryDir(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const entry of (await readdir(dir, { withFileTypes: true })).map((e) => e.name).sort()) {
    if (entry.startsWith('.') || IGNORED_NAMES.has(entry) || IGNORED_EXTENSIONS.some((ext) => entry.endsWith(ext))) continue
    const path = join(dir, entry)
    const info = await stat(path)
    if (info.isDirectory()) files.push(...(await listInventoryDir(path)))
    else if (info.isFile()) files.push(path)
  }
  return files
}

// Ansible's host_list plugin: names (with an optional :port) in 'ungrouped', no vars files.
function loadHostList(list: string, extraVars?: VarLayer): Inventory {
  const builder = new InventoryBuilder(list)
  for (const item of list.split(',')) {
    const text = item.trim()
    if (text === '') continue
    const origin = { file: '<host list>', line: 1 }
    let parsed: { host: string; port?: number }
    try {
      parsed = splitPort(text)
    } catch (error) {
      if (error instanceof HostPatternError) throw inventoryError(origin, error.message)
      throw error
    }
    builder.addHost(parsed.host, 'ungrouped', parsed.port === undefined ? [] : [['ansible_port', parsed.port, origin]], origin)
  }
  builder.reconcile()
  return resolveInventory(builder, { groups: new Map(), hosts: new Map() }, extraVars)
}

// Like Ansible: .yml/.yaml/.json files are YAML and other extensions are INI. A file without an
// extension (the classic `hosts`) is YAML if it starts like a YAML mapping, else INI.
export function detectFormat(file: string, text: string): 'yaml' | 'ini' {
  const ext = extname(file).toLowerCase()
  if (YAML_EXTENSIONS.has(ext)) return 'yaml'
  if (ext !== '') return 'ini'
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    if (line === '---' || line.startsWith('{')) return 'yaml'
    if (line.startsWith('[')) return 'ini'
    // `all:` / `webservers:` (a key with nothing after it) is YAML; `host:2222 x=y` is INI.
    return /^[^\s=:#]+:\s*(#.*)?$/.test(line) ? 'yaml' : 'ini'
  }
  return 'ini'
}
