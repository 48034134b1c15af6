import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { isMap, isScalar, type Node } from 'yaml'
import { InventoryError } from '../errors.js'
import { emptyLayer, type VarLayer } from './builder.js'
import { inventoryError } from './origin.js'
import type { VaultSecret } from './vault.js'
import { readVaultedFile } from './vault-values.js'
import { mapEntries, parseYamlSource } from './yaml-source.js'

// The extensions Ansible's host_group_vars plugin looks for; '' (no extension) first.
const EXTENSIONS = ['', '.yml', '.yaml', '.json']

// The vars files for one group or host under `dir` (group_vars/ or host_vars/), in the order
// Ansible merges them: `<name>` (a file, or a directory read recursively in sorted order),
// else the first of `<name>.yml`, `<name>.yaml`, `<name>.json`.
// `present` is the listing of `dir` (see listDir), so that 5000 hosts without host_vars files
// cost one readdir, not 20000 failed stat calls.
export async function findVarsFiles(dir: string, name: string, present?: Set<string>): Promise<string[]> {
  for (const ext of EXTENSIONS) {
    if (present && !present.has(name + ext)) continue
    const path = join(dir, name + ext)
    const info = await stat(path).catch(() => undefined)
    if (!info) continue
    return info.isDirectory() ? await listVarsDir(path) : [path]
  }
  return []
}

// The names in `dir`, or an empty set if it does not exist.
export async function listDir(dir: string): Promise<Set<string>> {
  return new Set(await readdir(dir).catch(() => []))
}

async function listVarsDir(dir: string): Promise<string[]> {
  const found: string[] = []
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name.endsWith('~')) continue // hidden files and editor backups
    const path = join(dir, entry.name)
    const ext = extname(entry.name)
    const info = await stat(path)
    if (info.isDirectory() && ext === '') found.push(...(await listVarsDir(path)))
    else if (info.isFile() && EXTENSIONS.includes(ext)) found.push(path)
  }
  return found
}

// Read one vars file (YAML or JSON): a mapping of variable names, or empty. A file encrypted
// with Ansible Vault as a whole is decrypted with `secrets` first.
export async function loadVarsFile(file: string, secrets: readonly VaultSecret[] = []): Promise<VarLayer> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new InventoryError(`${file}:1: cannot read vars file: ${(error as Error).message}`)
  }
  const source = parseYamlSource(file, await readVaultedFile(file, text, secrets))
  const root = source.doc.contents as Node | null
  const layer = emptyLayer()
  if (root === null || (isScalar(root) && root.value === null)) return layer
  if (!isMap(root)) throw inventoryError(source.origin(root), 'a vars file must be a mapping of variable names to values')
  for (const [key, keyNode, value] of mapEntries(root, source.doc)) {
    layer.values.set(key, source.toJS(value))
    layer.origins.set(key, source.origin(keyNode, value))
  }
  return layer
}
