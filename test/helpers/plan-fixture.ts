// Plans a task from one of its fixtures (test/tasks/<task>/<case>.json), resolving fact references
// the way test/tasks.test.ts does, for tests that run the planned steps against real tools.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { facts as allFacts } from '../../src/facts/index.js'
import { factKeysRead, type Plan, type PlanContext } from '../../src/tasks/define.js'
import { tasks } from '../../src/tasks/index.js'

const testRoot = join(import.meta.dirname, '..')

export interface TaskFixture {
  args: unknown
  facts: Record<string, unknown>
  ctx?: { host?: Partial<PlanContext['host']>; earlier?: PlanContext['earlier'] }
}

export function readTaskFixture(task: string, name: string): TaskFixture {
  return JSON.parse(readFileSync(join(testRoot, 'tasks', task, `${name}.json`), 'utf8')) as TaskFixture
}

// The fact's stdout as the fixture gives it ({$fixture} or {$stdout}); undefined for a parsed value.
export function factStdout(value: unknown): string | undefined {
  if (value && typeof value === 'object' && '$fixture' in value) {
    const [name, file] = String((value as { $fixture: string }).$fixture).split('/')
    const fx = JSON.parse(readFileSync(join(testRoot, 'facts', name, `${file}.json`), 'utf8')) as { stdout: string | string[] }
    return Array.isArray(fx.stdout) ? fx.stdout.join('\n') + '\n' : fx.stdout
  }
  if (value && typeof value === 'object' && '$stdout' in value) return (value as { $stdout: string }).$stdout
  return undefined
}

function resolveFact(value: unknown): unknown {
  if (value && typeof value === 'object' && ('$fixture' in value || '$stdout' in value)) {
    const name = '$fact' in value ? String((value as { $fact: string }).$fact) : String((value as { $fixture: string }).$fixture).split('/')[0]
    return allFacts[name].parse(factStdout(value)!, 0)
  }
  return value
}

// The plan the task makes for the fixture's args, facts and context.
export function planFixture(task: string, fx: TaskFixture): Plan {
  const t = tasks[task]
  const ctx: PlanContext = { host: { name: 'host-1', vars: {}, assignments: [], ...fx.ctx?.host }, earlier: fx.ctx?.earlier ?? [] }
  const args = t.args.parse(fx.args)
  // As the runner does: a key the task says it does not read with these args is undefined.
  const read = factKeysRead(t, args, ctx.host)
  const facts: Record<string, unknown> = {}
  for (const key of Object.keys(t.facts)) facts[key] = read.has(key) ? resolveFact(fx.facts[key]) : undefined
  return t.plan(args, facts, ctx)
}
