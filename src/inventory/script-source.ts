import { access, constants, open } from 'node:fs/promises'
import { execa } from 'execa'
import pLimit from 'p-limit'
import { isMap, type Node } from 'yaml'
import { InventoryError } from '../errors.js'
import type { InventoryBuilder } from './builder.js'
import type { Origin } from './origin.js'
import { parseListOutput, type YamlGroupUse } from './yaml-inventory.js'
import { mapEntries, parseYamlSource } from './yaml-source.js'

// Executable inventory scripts (Ansible's `script` inventory plugin): `script --list` prints JSON
// groups (a host list, or {hosts, children, vars}) and usually `_meta.hostvars`; without `_meta`
// each host's vars come from `script --host <name>`, as Ansible asks for them.

// How long a script (each call) may run before it is killed.
export const DEFAULT_SCRIPT_TIMEOUT_MS = 120_000

// True if `file` is an executable program (a `#!` script or an ELF binary): Ansible runs those
// with --list instead of reading them. An executable YAML or INI file (loose permissions) is not one.
export async function isInventoryScript(file: string): Promise<boolean> {
  const executable = await access(file, constants.X_OK).then(
    () => true,
    () => false,
  )
  return executable && isProgram(await readHead(file))
}

// True for a file that starts like a program: `#!` or the ELF magic.
export function isProgram(head: Buffer): boolean {
  return head.subarray(0, 2).toString('latin1') === '#!' || head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const head = Buffer.alloc(4)
    const { bytesRead } = await handle.read(head, 0, 4, 0)
    return head.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

// Runs the script and adds its groups, hosts and vars to `builder`. Errors name the script, and
// a value's line in the script's own output ("inventory.py --list:12").
export async function loadInventoryScript(file: string, builder: InventoryBuilder, timeoutMs = DEFAULT_SCRIPT_TIMEOUT_MS): Promise<YamlGroupUse> {
  const label = `${file} --list`
  const source = parseJson(label, await runScript(file, ['--list'], timeoutMs))
  const root = source.doc.contents as Node | null
  if (!isMap(root)) throw new InventoryError(`${label}:1: an inventory script must print a JSON object of groups`)
  const hasHostvars = [...mapEntries(root, source.doc)].some(([name, , value]) => name === '_meta' && [...mapEntries(value, source.doc)].some(([key]) => key === 'hostvars'))
  const use = parseListOutput(source, root, builder)
  if (!hasHostvars) {
    // One `--host` call per host (Ansible's way for scripts without _meta), a few at a time.
    const limit = pLimit(8)
    const hosts = [...builder.hosts.values()].filter((h) => h.origin.file === label)
    const answers = await Promise.all(hosts.map((host) => limit(async () => ({ host, text: await runScript(file, ['--host', host.name], timeoutMs) }))))
    for (const { host, text } of answers) {
      const vars = parseJson(`${file} --host ${host.name}`, text)
      const map = vars.doc.contents as Node | null
      if (map !== null && !isMap(map)) throw new InventoryError(`${vars.file}:1: must print a JSON object of vars`)
      builder.addHostVars(
        host,
        [...mapEntries(map, vars.doc)].map(([key, k, v]) => [key, vars.toJS(v), vars.origin(k, v)] as [string, unknown, Origin]),
      )
    }
  }
  return use
}

// stdout of one call; a failure says how, with the script's stderr.
async function runScript(file: string, args: string[], timeoutMs: number): Promise<string> {
  const command = `${file} ${args.join(' ')}`
  const run = await execa(file, args, { reject: false, stdin: 'ignore', timeout: timeoutMs, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  const stderr = tail(run.stderr)
  if (run.timedOut) throw new InventoryError(`${command}: the inventory script did not finish within ${timeoutMs / 1000} s and was killed${stderr}`)
  if (run.exitCode === undefined) throw new InventoryError(`${command}: cannot run the inventory script: ${run.shortMessage}`)
  if (run.exitCode !== 0) throw new InventoryError(`${command}: the inventory script exited with ${run.exitCode}${stderr}`)
  return run.stdout
}

// The last lines of a script's stderr, for an error message.
function tail(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean).slice(-10)
  return lines.length > 0 ? `; its stderr:\n${lines.map((l) => `  ${l}`).join('\n')}` : ''
}

// Ansible reads script output as JSON only; parsing it as YAML afterwards gives line numbers.
function parseJson(label: string, text: string): ReturnType<typeof parseYamlSource> {
  try {
    JSON.parse(text)
  } catch (error) {
    throw new InventoryError(`${label}: the inventory script did not print JSON: ${(error as Error).message}`)
  }
  return parseYamlSource(label, text)
}
