import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { execa } from 'execa'
import { isMap, type Node } from 'yaml'
import { InventoryError } from '../errors.js'
import type { InventoryBuilder } from './builder.js'
import { DEFAULT_SCRIPT_TIMEOUT_MS } from './script-source.js'
import type { VaultSecret } from './vault.js'
import { parseListOutput, type YamlGroupUse } from './yaml-inventory.js'
import { parseYamlSource } from './yaml-source.js'

// Inventory plugins (netbox, constructed, aws_ec2, any collection's) are read through Ansible
// itself: `ansible-inventory -i <source> --list`, with the same vault passwords and the same
// ansible.cfg (same working directory and environment), and its JSON parsed like a script's.
// Ansible applies the group_vars/ and host_vars/ beside the source itself.

export const INSTALL_ANSIBLE = 'install ansible-core (Debian/Ubuntu: apt-get install ansible-core; RHEL: dnf install ansible-core; or pip install ansible-core)'

// True if a file is an inventory plugin configuration: YAML (.yml/.yaml, as Ansible's auto plugin
// requires) whose top level has a `plugin:` key.
export async function isPluginConfig(file: string, text?: string): Promise<boolean> {
  const ext = extname(file).toLowerCase()
  if (ext !== '.yml' && ext !== '.yaml') return false
  return /^plugin\s*:/m.test(text ?? (await readFile(file, 'utf8').catch(() => '')))
}

export interface AnsibleInventoryRun {
  secrets: readonly VaultSecret[]
  env?: NodeJS.ProcessEnv // default process.env (PATH finds ansible-inventory; ANSIBLE_CONFIG etc.)
  timeoutMs?: number
}

// Runs ansible-inventory on `source` (a plugin config, or a directory mixing sources) and adds
// what it prints to `builder`. Errors carry ansible-inventory's own message.
export async function loadThroughAnsible(source: string, builder: InventoryBuilder, run: AnsibleInventoryRun): Promise<YamlGroupUse> {
  const label = `${source} via ansible-inventory --list`
  const timeoutMs = run.timeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS
  const env: NodeJS.ProcessEnv = { ...(run.env ?? process.env) }
  // gpufleet passes every password it already has (below); Ansible must not ask or read again.
  delete env.ANSIBLE_ASK_VAULT_PASS
  delete env.ANSIBLE_VAULT_PASSWORD_FILE
  delete env.ANSIBLE_VAULT_IDENTITY_LIST
  // As strict as gpufleet's own loader: a source no plugin can parse is an error, not a warning.
  env.ANSIBLE_INVENTORY_UNPARSED_FAILED = 'True'
  env.ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED = 'True'
  env.ANSIBLE_NOCOLOR = '1'

  const dir = run.secrets.length > 0 ? await mkdtemp(join(tmpdir(), 'gpufleet-vault-')) : undefined
  const args = ['-i', source, '--list']
  try {
    // Each password reaches ansible-inventory through a tiny password script that prints it from
    // this child's environment (as octal escapes, so any bytes survive); never a file, never argv.
    for (const [i, secret] of run.secrets.entries()) {
      const script = join(dir!, `vault-pass-${i}.sh`)
      await writeFile(script, `#!/bin/sh\nprintf "$GPUFLEET_VAULT_PASS_${i}"\n`)
      await chmod(script, 0o700)
      env[`GPUFLEET_VAULT_PASS_${i}`] = [...secret.password.reveal()].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')
      args.push('--vault-id', `${secret.label}@${script}`)
    }
    const result = await execa('ansible-inventory', args, { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: timeoutMs, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    if (result.failed && result.exitCode === undefined && (result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new InventoryError(`${source}: this inventory needs Ansible's inventory plugins, read through ansible-inventory, which is not installed (not found in PATH); ${INSTALL_ANSIBLE}`)
    }
    const stderr = result.stderr.trim()
    if (result.timedOut) throw new InventoryError(`${source}: ansible-inventory did not finish within ${timeoutMs / 1000} s and was killed${stderr ? `: ${stderr}` : ''}`)
    if (result.exitCode !== 0) throw new InventoryError(`${source}: ansible-inventory failed (exit ${result.exitCode ?? result.signal}): ${stderr || result.shortMessage}`)
    const parsed = parseYamlSource(label, result.stdout)
    const root = parsed.doc.contents as Node | null
    if (!isMap(root)) throw new InventoryError(`${label}:1: ansible-inventory printed no inventory`)
    return parseListOutput(parsed, root, builder)
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true })
  }
}
