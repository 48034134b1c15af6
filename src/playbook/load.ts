import { readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, extname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml'
import type { z } from 'zod'
import { PlaybookError } from '../errors.js'
import { DURATION_HINT, durationProblem, parseDuration } from '../duration.js'
import { tasks } from '../tasks/index.js'
import { closestName } from './closest-name.js'
import type { Playbook, PlaybookTask } from './types.js'

// <package root>/playbooks: two levels up from src/playbook/ (tests) and dist/playbook/ (installed).
export const PLAYBOOK_DIR = fileURLToPath(new URL('../../playbooks/', import.meta.url))

// Resolves `prep` to the shipped playbooks/prep.yaml; anything with a slash or extension is a path.
export function resolvePlaybook(nameOrPath: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(nameOrPath)) return resolve(PLAYBOOK_DIR, `${nameOrPath}.yaml`)
  return isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath)
}

// The names of the playbooks shipped in playbooks/ (what `run <name>` accepts).
export function bundledPlaybooks(): string[] {
  return readdirSync(PLAYBOOK_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort()
}

// Loads and validates a playbook; every problem is a PlaybookError "file:line: message".
export async function loadPlaybook(nameOrPath: string): Promise<Playbook> {
  const file = resolvePlaybook(nameOrPath)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && /^[A-Za-z0-9_-]+$/.test(nameOrPath)) {
      const bundled = bundledPlaybooks()
      const guess = closestName(nameOrPath, bundled)
      throw new PlaybookError(`no playbook named '${nameOrPath}'${guess ? ` (did you mean ${guess}?)` : ''}; the bundled playbooks are ${bundled.join(', ')} (or give a YAML file's path)`)
    }
    throw new PlaybookError(`${file}: cannot read playbook: ${(error as Error).message}`)
  }
  return parsePlaybook(text, file)
}

const TOP_KEYS = ['name', 'description', 'stage', 'roll', 'drain', 'drain_timeout', 'reboot_blockers']
// The keys an item may have besides its one task.
const ITEM_KEYS = ['name', 'timeout']

// Parses playbook text (`file` is only used in messages and as the default name).
export function parsePlaybook(text: string, file: string): Playbook {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const at = (node: Node | null | undefined, fallbackLine = 1) => {
    const offset = node?.range?.[0]
    return `${file}:${offset === undefined ? fallbackLine : lineCounter.linePos(offset).line}`
  }
  const err = (node: Node | null | undefined, message: string) => new PlaybookError(`${at(node)}: ${message}`)
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line
    throw new PlaybookError(`${file}:${line}: YAML error: ${e.message.split('\n')[0]}`)
  }
  const root = doc.contents
  if (!isMap(root)) throw err(root, 'a playbook is a mapping with name, description, stage and roll')
  for (const pair of root.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key)
    if (!TOP_KEYS.includes(key)) {
      const hint = closestName(key, TOP_KEYS) ?? (tasks[key] ? undefined : closestName(key, Object.keys(tasks)))
      throw err(pair.key as Node, `unknown key '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; a playbook has ${TOP_KEYS.join(', ')}`)
    }
  }
  const str = (key: string): string | undefined => {
    const node = root.get(key, true) as Node | undefined
    if (node === undefined || (isScalar(node) && node.value === null)) return undefined
    if (!isScalar(node) || typeof node.value !== 'string') throw err(node, `'${key}' must be a string`)
    return node.value
  }
  const name = str('name') ?? basename(file, extname(file))
  const description = str('description') ?? ''
  return { name, file, description, stage: section(doc, root, 'stage', at, err), roll: section(doc, root, 'roll', at, err), ...hypervisorKeys(root, err) }
}

// `drain:`, `drain_timeout:` and `reboot_blockers:`: the playbook's defaults for the hypervisor flags.
function hypervisorKeys(root: YAMLMap, err: Err): Pick<Playbook, 'drain' | 'drainTimeoutMs' | 'rebootBlockers'> {
  const out: Pick<Playbook, 'drain' | 'drainTimeoutMs' | 'rebootBlockers'> = {}
  const drain = root.get('drain', true) as Node | undefined
  if (drain !== undefined) {
    if (!isScalar(drain) || (drain.value !== 'refuse' && drain.value !== 'shutdown')) throw err(drain, "'drain' must be refuse or shutdown (live migration is not supported: VFIO devices block it)")
    out.drain = drain.value
  }
  const timeout = root.get('drain_timeout', true) as Node | undefined
  if (timeout !== undefined) {
    const text = isScalar(timeout) && (typeof timeout.value === 'string' || typeof timeout.value === 'number') ? String(timeout.value) : undefined
    const problem = text === undefined ? `not a duration (use ${DURATION_HINT})` : durationProblem(text)
    if (problem || text === undefined) throw err(timeout, `'drain_timeout': ${problem}`)
    out.drainTimeoutMs = parseDuration(text)
  }
  const blockers = root.get('reboot_blockers', true) as Node | undefined
  if (blockers !== undefined) {
    if (!isSeq(blockers)) throw err(blockers, "'reboot_blockers' must be a list of shell commands")
    out.rebootBlockers = (blockers.items as Node[]).map((item) => {
      if (!isScalar(item) || typeof item.value !== 'string' || item.value.trim() === '') throw err(item, 'each reboot blocker is a non-empty shell command (a string)')
      return item.value
    })
  }
  return out
}

type At = (node: Node | null | undefined) => string
type Err = (node: Node | null | undefined, message: string) => PlaybookError

function section(doc: Document, root: YAMLMap, phase: 'stage' | 'roll', at: At, err: Err): PlaybookTask[] {
  const node = root.get(phase, true) as Node | undefined
  if (node === undefined || (isScalar(node) && node.value === null)) return []
  if (!isSeq(node)) throw err(node, `'${phase}' must be a list of tasks`)
  const out: PlaybookTask[] = []
  for (const item of node.items as Node[]) {
    if (!isMap(item)) throw err(item, `each ${phase} item is a mapping like '- kernel.arg: { present: [...] }'`)
    let title: string | undefined
    let timeoutMs: number | undefined
    let taskKey: { name: string; keyNode: Node; valueNode: Node | null } | undefined
    for (const pair of item.items) {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key)
      const keyNode = pair.key as Node
      if (key === 'name') {
        if (!isScalar(pair.value) || typeof pair.value.value !== 'string') throw err((pair.value as Node) ?? keyNode, "'name' must be a string")
        title = pair.value.value
        continue
      }
      if (key === 'timeout') {
        timeoutMs = taskTimeout((pair.value as Node | null) ?? null, keyNode, err)
        continue
      }
      if (!tasks[key]) {
        const hint = closestName(key, [...Object.keys(tasks), ...ITEM_KEYS])
        throw err(keyNode, `unknown task '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; tasks: ${Object.keys(tasks).join(', ')}`)
      }
      if (taskKey) throw err(keyNode, `one task per item: '${taskKey.name}' and '${key}' are both here`)
      taskKey = { name: key, keyNode, valueNode: (pair.value as Node | null) ?? null }
    }
    if (!taskKey)
      throw err(
        item,
        `item has no task (only ${ITEM_KEYS.filter((k) => item.has(k))
          .map((k) => `'${k}'`)
          .join(' and ')})`,
      )
    const task = tasks[taskKey.name]
    if (task.phase !== 'any' && task.phase !== phase) {
      throw err(taskKey.keyNode, `'${task.name}' belongs in ${task.phase}, not in ${phase}${task.phase === 'roll' ? ' (it reboots or checks a rebooted host, which the rolling limits must govern)' : ''}`)
    }
    const raw = taskKey.valueNode ? (taskKey.valueNode as Node).toJSON() : null
    const parsed = (task.args as z.ZodType).safeParse(raw ?? {})
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const container = nodeAt(taskKey.valueNode, issue.path)
      const where = (issue.code === 'unrecognized_keys' ? keyNode(container, issue.keys[0]) : container) ?? taskKey.valueNode ?? taskKey.keyNode
      const path = issue.path.length ? issue.path.join('.') : undefined
      throw err(where, `${task.name}: ${path ? `${path}: ` : ''}${issueMessage(issue)}`)
    }
    out.push({ title: title ?? task.name, task, args: parsed.data, source: at(item), ...(timeoutMs !== undefined ? { timeoutMs } : {}) })
  }
  void doc
  return out
}

// An item's `timeout:` (how long all its commands may take together) in milliseconds; the one
// duration syntax (src/duration.ts: a unit is required, so `timeout: 15` is refused, not 15 ms), and
// never zero: a task that may not run at all is a mistake, not a setting.
function taskTimeout(value: Node | null, key: Node, err: Err): number {
  const raw = isScalar(value) ? value.value : undefined
  const shown = value ? JSON.stringify(value.toJSON()) : 'nothing'
  const bad = (why?: string) => err(value ?? key, `'timeout' must be ${DURATION_HINT} (the time all of this task's commands may take together), not ${shown}${why ? `: ${why}` : ''}`)
  if (typeof raw !== 'string' && typeof raw !== 'number') throw bad()
  let ms: number
  try {
    ms = parseDuration(String(raw))
  } catch (error) {
    throw bad((error as Error).message)
  }
  if (ms <= 0) throw bad()
  return ms
}

// The YAML node an issue path points at, or the deepest existing ancestor.
function nodeAt(node: Node | null, path: PropertyKey[]): Node | undefined {
  let cur: Node | null | undefined = node
  let last: Node | undefined = node ?? undefined
  for (const key of path) {
    if (isMap(cur)) {
      const pair: Pair | undefined = cur.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(key))
      if (!pair) break
      // An unknown key points at the key itself; a bad value at the value.
      cur = (pair.value as Node | null) ?? (pair.key as Node)
    } else if (isSeq(cur) && typeof key === 'number') {
      cur = cur.items[key] as Node
    } else break
    if (cur) last = cur
  }
  return last
}

// The key node named `key` in a mapping node.
function keyNode(node: Node | undefined, key: string | undefined): Node | undefined {
  if (!isMap(node) || key === undefined) return node
  const pair: Pair | undefined = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === key)
  return (pair?.key as Node | undefined) ?? node
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown argument${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`
  return issue.message
}
