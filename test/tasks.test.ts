import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { facts as allFacts } from '../src/facts/index.js'
import { factKeysRead, type PlanContext, type Step } from '../src/tasks/define.js'
import { tasks } from '../src/tasks/index.js'
import { quote } from '../src/shell.js'

// pyinfra-style plan fixtures: test/tasks/<task.name>/<case>.json = {args, facts, ctx?, plan} or
// {args, error}. A fact is given as the parsed value, as {"$fixture": "<fact>/<case>"} (a fact
// fixture's stdout, parsed), or as {"$fact": "<fact>", "$stdout": "..."}. The expected plan lists
// only what matters: kind, a reason substring, and each step's kind plus the substrings its
// command/content must contain (or exact values).
interface StepMatch {
  kind: Step['kind']
  description?: string
  command?: string
  commandContains?: string[]
  commandExcludes?: string[]
  rawCommandContains?: string[] // matched against the exact shell text
  unquotedExcludes?: string[] // must not appear outside single quotes (hostile values stay data)
  path?: string
  content?: string
  contentContains?: string[]
  mode?: string
  timeoutMs?: number
  stabilityMs?: number
}
interface TaskFixture {
  args: unknown
  facts?: Record<string, unknown>
  ctx?: { host?: Partial<PlanContext['host']>; earlier?: PlanContext['earlier'] }
  plan?: { kind: 'noop' | 'change' | 'fail'; reason?: string; steps?: StepMatch[]; notesContain?: string[]; notesExclude?: string[]; rebootPending?: boolean; evidenceKeys?: string[]; diffContains?: string[] }
  error?: string
}

const root = join(import.meta.dirname, 'tasks')
const factRoot = join(import.meta.dirname, 'facts')
const dirs = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory())

function resolveFact(value: unknown): unknown {
  if (value && typeof value === 'object' && '$fixture' in value) {
    const ref = String((value as { $fixture: string }).$fixture)
    const [name, file] = ref.split('/')
    const fx = JSON.parse(readFileSync(join(factRoot, name, `${file}.json`), 'utf8')) as { stdout: string; exitCode?: number }
    return allFacts[name].parse(fx.stdout, fx.exitCode ?? 0)
  }
  if (value && typeof value === 'object' && '$stdout' in value) {
    const v = value as { $fact: string; $stdout: string; $exitCode?: number }
    return allFacts[v.$fact].parse(v.$stdout, v.$exitCode ?? 0)
  }
  return value
}

test('every task has no-op, change and error fixtures', () => {
  for (const name of Object.keys(tasks)) {
    expect(dirs, `fixtures for ${name}`).toContain(name)
    const kinds = readdirSync(join(root, name))
      .map((f) => JSON.parse(readFileSync(join(root, name, f), 'utf8')) as TaskFixture)
      .map((f) => (f.error ? 'error' : f.plan!.kind))
    expect(kinds, name).toContain('noop')
    expect(
      kinds.some((k) => k === 'change' || k === 'fail'),
      name,
    ).toBe(true)
    expect(
      kinds.some((k) => k === 'error' || k === 'fail'),
      name,
    ).toBe(true)
  }
})

for (const dir of dirs) {
  describe(dir, () => {
    for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.json'))) {
      test(file.replace(/\.json$/, ''), () => {
        const fx = JSON.parse(readFileSync(join(root, dir, file), 'utf8')) as TaskFixture
        const task = tasks[dir]
        expect(task, `no task named ${dir}`).toBeDefined()
        const parsed = task.args.safeParse(fx.args)
        if (fx.error !== undefined) {
          expect(parsed.success).toBe(false)
          expect(JSON.stringify(parsed.error?.issues)).toContain(fx.error)
          return
        }
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
        const ctx: PlanContext = {
          host: { name: 'host-1', vars: {}, assignments: [], ...fx.ctx?.host },
          earlier: fx.ctx?.earlier ?? [],
        }
        // As the runner does: a key the task says it does not read with these args is undefined.
        const read = factKeysRead(task, parsed.data, ctx.host)
        const facts: Record<string, unknown> = {}
        for (const key of Object.keys(task.facts)) {
          expect(fx.facts, `fixture lacks fact '${key}'`).toHaveProperty(key)
          facts[key] = read.has(key) ? resolveFact(fx.facts![key]) : undefined
        }
        const plan = task.plan(parsed.data, facts, ctx)
        const want = fx.plan!
        expect(plan.kind, JSON.stringify(plan, null, 1).slice(0, 2000)).toBe(want.kind)
        if (want.reason !== undefined) expect(plan.reason).toContain(want.reason)
        if (want.notesContain) for (const n of want.notesContain) expect((plan as { notes?: string[] }).notes?.join('\n') ?? '').toContain(n)
        for (const n of want.notesExclude ?? []) expect((plan as { notes?: string[] }).notes?.join('\n') ?? '').not.toContain(n)
        if (want.evidenceKeys) expect(Object.keys((plan as { evidence?: object }).evidence ?? {})).toEqual(expect.arrayContaining(want.evidenceKeys))
        if (plan.kind === 'change') {
          if (want.rebootPending !== undefined) expect(plan.rebootPending ?? false).toBe(want.rebootPending)
          if (want.diffContains) for (const d of want.diffContains) expect(plan.diff ?? '').toContain(d)
          // Every planned shell step must at least parse under sh (dash): the runner executes it there.
          // Fixtures that plant the marker 'pwned' in args, facts or inventory (hostile values) must
          // never see it reach the shell outside single quotes.
          const hostile = JSON.stringify(fx).includes('pwned')
          for (const step of plan.steps) {
            if (step.kind !== 'run') continue
            const syntax = spawnSync('sh', ['-n', '-c', step.command], { encoding: 'utf8' })
            expect(syntax.stderr, step.command).toBe('')
            if (hostile) expect(unquotedText(step.command), step.command).not.toContain('pwned')
          }
          if (want.steps) {
            expect(plan.steps.map((s) => s.kind)).toEqual(want.steps.map((s) => s.kind))
            want.steps.forEach((w, i) => matchStep(plan.steps[i], w))
          }
        } else {
          expect(want.steps ?? []).toEqual([])
        }
      })
    }
  })
}

function matchStep(step: Step, w: StepMatch): void {
  expect(step.kind).toBe(w.kind)
  if (w.description !== undefined) expect(step.description).toContain(w.description)
  if (step.kind === 'run') {
    if (w.command !== undefined) expect(step.command).toBe(w.command)
    // Substrings are matched against the script with quote()'s '"'"' escapes undone, so fixtures can
    // show XML and patterns as they are.
    const text = step.command.replace(/'"'"'/g, "'")
    for (const c of w.commandContains ?? []) expect(text).toContain(c)
    for (const c of w.commandExcludes ?? []) expect(text).not.toContain(c)
    for (const c of w.rawCommandContains ?? []) expect(step.command).toContain(c)
    const code = unquotedText(step.command)
    for (const c of w.unquotedExcludes ?? []) expect(code, `'${c}' outside single quotes in:\n${step.command}`).not.toContain(c)
    if (w.timeoutMs !== undefined) expect(step.timeoutMs).toBe(w.timeoutMs)
  } else if (step.kind === 'write') {
    if (w.path !== undefined) expect(step.path).toBe(w.path)
    if (w.content !== undefined) expect(step.content).toBe(w.content)
    for (const c of w.contentContains ?? []) expect(step.content).toContain(c)
    if (w.mode !== undefined) expect(step.mode).toBe(w.mode)
  } else {
    if (w.timeoutMs !== undefined) expect(step.timeoutMs).toBe(w.timeoutMs)
    if (w.stabilityMs !== undefined) expect(step.stabilityMs).toBe(w.stabilityMs)
  }
}

test('the hostile-text check sees what the shell interprets and only that', () => {
  expect(unquotedText(`dom=${quote("vm'; pwned; '$(pwned)")}; virsh start "$dom"`)).not.toContain('pwned')
  expect(unquotedText('dom=vm$(pwned)')).toContain('pwned')
  expect(unquotedText('say "it\'s $(pwned)"')).toContain('pwned')
  expect(unquotedText("printf '%s' x\\'pwned")).toContain('pwned')
})

// The shell text the shell itself interprets: everything except the inside of '...' strings and
// backslash-escaped characters (double-quoted text is kept: $(...) runs there). A value passed
// through quote() leaves nothing here.
function unquotedText(script: string): string {
  let out = ''
  let inDouble = false
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]
    if (ch === '\\') {
      i++
      out += ' '
    } else if (ch === '"') {
      inDouble = !inDouble
      out += ch
    } else if (ch === "'" && !inDouble) {
      const end = script.indexOf("'", i + 1)
      if (end < 0) throw new Error(`unterminated single quote in: ${script}`)
      i = end
      out += ' '
    } else out += ch
  }
  return out
}
