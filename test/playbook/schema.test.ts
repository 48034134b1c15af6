import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { Command } from 'commander'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { parse } from 'yaml'
import { Ajv, type ValidateFunction } from 'ajv'
import { registerSchema } from '../../src/commands/schema.js'
import { loadPlaybook, parsePlaybook, PLAYBOOK_DIR } from '../../src/playbook/load.js'
import { tasks } from '../../src/tasks/index.js'

// `gpufleet schema` is what editors check playbooks with, so every shipped playbook must pass it,
// and playbooks the loader rejects for their content must fail it. Checked with ajv, a real JSON
// Schema validator, in strict mode: a keyword it does not know (or a malformed schema) fails the
// test instead of being ignored.
type Schema = Record<string, unknown>

const compiled = new Map<string, ValidateFunction>()
function validate(schema: Schema, value: unknown): string[] {
  const key = JSON.stringify(schema)
  let check = compiled.get(key)
  if (!check) compiled.set(key, (check = new Ajv({ allErrors: true, strict: true }).compile(schema)))
  return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath || '$'}: ${e.message ?? e.keyword}`)
}

// The JSON the real `gpufleet schema` command prints.
async function schemaOutput(): Promise<Schema> {
  let out = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  try {
    const program = new Command().exitOverride()
    registerSchema(program)
    await program.parseAsync(['node', 'gpufleet', 'schema'])
  } finally {
    write.mockRestore()
  }
  return JSON.parse(out) as Schema
}

afterEach(() => vi.restoreAllMocks())

const shipped = readdirSync(PLAYBOOK_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'playbooks')

describe('shipped playbooks', () => {
  test('all six are there', () => {
    expect(shipped).toEqual(['attach.yaml', 'detach.yaml', 'prep-trial.yaml', 'prep.yaml', 'rollback.yaml', 'verify.yaml'])
  })

  test.each(shipped)('%s validates against `gpufleet schema` and loads', async (file) => {
    const schema = await schemaOutput()
    const text = readFileSync(join(PLAYBOOK_DIR, file), 'utf8')
    expect(validate(schema, parse(text))).toEqual([])
    const pb = await loadPlaybook(join(PLAYBOOK_DIR, file))
    expect(pb.name).toBe(basename(file, '.yaml'))
  })

  test.each(shipped)('%s opens with a header saying what it does and when to use it', (file) => {
    const text = readFileSync(join(PLAYBOOK_DIR, file), 'utf8')
    const header = text
      .slice(0, text.search(/^[^#\n]/m))
      .split('\n')
      .filter((l) => l.startsWith('#'))
    expect(header[0]).toMatch(new RegExp(`^# ${basename(file, '.yaml')}: \\S`))
    expect(header.length).toBeGreaterThanOrEqual(3)
    expect(header.join('\n')).toMatch(/When to use it: \S/)
  })
})

describe('the schema agrees with the loader', () => {
  test('names every task under each phase it may appear in', async () => {
    const schema = await schemaOutput()
    const items = (phase: string) => ((schema.properties as Record<string, Schema>)[phase].items as { anyOf: Array<{ required: string[] }> }).anyOf.map((i) => i.required[0])
    for (const t of Object.values(tasks)) {
      expect(items('stage').includes(t.name), `${t.name} in stage`).toBe(t.phase !== 'roll')
      expect(items('roll').includes(t.name), `${t.name} in roll`).toBe(t.phase !== 'stage')
    }
  })

  test.each(['unknown-task', 'wrong-arg-type', 'unknown-arg', 'roll-task-in-stage', 'bad-duration', 'two-tasks-one-item', 'unknown-top-key', 'hostile-arg'])('fixture %s, which the loader rejects, fails the schema too', async (name) => {
    const schema = await schemaOutput()
    const file = join(fixtures, `${name}.yaml`)
    await expect(loadPlaybook(file)).rejects.toThrow()
    expect(validate(schema, parse(readFileSync(file, 'utf8'))).length).toBeGreaterThan(0)
  })

  test.each([
    ['10m', true],
    ['0.5s', true],
    ['1h30m', true],
    [90000, false],
    ['90', false],
    ['0s', false],
    [0, false],
    ['soon', false],
    [1.5, false],
  ])("a task item's timeout: %j passes both or fails both (%s)", async (timeout, ok) => {
    const doc = { stage: [{ name: 'rebuild', timeout, 'initramfs.rebuild': {} }] }
    const errors = validate(await schemaOutput(), doc)
    let loaded = true
    try {
      parsePlaybook(JSON.stringify(doc), '/pb/t.yaml')
    } catch {
      loaded = false
    }
    expect({ schema: errors.length === 0, loader: loaded }).toEqual({ schema: ok, loader: ok })
  })

  test('good-minimal passes both', async () => {
    const file = join(fixtures, 'good-minimal.yaml')
    await loadPlaybook(file)
    expect(validate(await schemaOutput(), parse(readFileSync(file, 'utf8')))).toEqual([])
  })
})
