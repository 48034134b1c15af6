import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { Command } from 'commander'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { parse } from 'yaml'
import { registerSchema } from '../../src/commands/schema.js'
import { loadPlaybook, parsePlaybook, PLAYBOOK_DIR } from '../../src/playbook/load.js'
import { tasks } from '../../src/tasks/index.js'

// `gpufleet schema` is what editors check playbooks with, so every shipped playbook must pass it,
// and playbooks the loader rejects for their content must fail it. A small validator for exactly
// the JSON Schema keywords the generator emits; any other keyword fails the test, so a schema
// change cannot slip past it unchecked.
type Schema = Record<string, unknown>
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default'])

function validate(schema: Schema, value: unknown, path = '$'): string[] {
  const errors: string[] = []
  for (const key of Object.keys(schema)) {
    if (ANNOTATIONS.has(key)) continue
    const s = schema[key]
    switch (key) {
      case 'type': {
        const t = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
        const ok = s === t || (s === 'integer' && Number.isInteger(value)) || (s === 'number' && t === 'number')
        if (!ok) errors.push(`${path}: ${t}, not ${String(s)}`)
        break
      }
      case 'properties':
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          for (const [k, sub] of Object.entries(s as Record<string, Schema>)) if (k in value) errors.push(...validate(sub, (value as Record<string, unknown>)[k], `${path}.${k}`))
        }
        break
      case 'required':
        if (value && typeof value === 'object') for (const k of s as string[]) if (!(k in value)) errors.push(`${path}: missing ${k}`)
        break
      case 'additionalProperties':
        if (s === false && value && typeof value === 'object' && !Array.isArray(value)) {
          const known = Object.keys((schema.properties as object | undefined) ?? {})
          for (const k of Object.keys(value)) if (!known.includes(k)) errors.push(`${path}: unknown key ${k}`)
        } else if (s !== false) throw new Error(`additionalProperties ${JSON.stringify(s)} not handled`)
        break
      case 'items':
        if (Array.isArray(value)) value.forEach((v, i) => errors.push(...validate(s as Schema, v, `${path}[${i}]`)))
        break
      case 'anyOf': {
        const all = (s as Schema[]).map((sub) => validate(sub, value, path))
        if (!all.some((e) => e.length === 0)) errors.push(`${path}: matches no alternative (${all.map((e) => e[0]).join(' | ')})`)
        break
      }
      case 'enum':
        if (!(s as unknown[]).includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(s)}`)
        break
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(s as string, 'u').test(value)) errors.push(`${path}: ${JSON.stringify(value)} does not match ${String(s)}`)
        break
      case 'minLength':
        if (typeof value === 'string' && value.length < (s as number)) errors.push(`${path}: shorter than ${String(s)}`)
        break
      case 'minItems':
        if (Array.isArray(value) && value.length < (s as number)) errors.push(`${path}: fewer than ${String(s)} items`)
        break
      case 'minimum':
        if (typeof value === 'number' && value < (s as number)) errors.push(`${path}: below ${String(s)}`)
        break
      case 'maximum':
        if (typeof value === 'number' && value > (s as number)) errors.push(`${path}: above ${String(s)}`)
        break
      default:
        throw new Error(`JSON Schema keyword '${key}' at ${path} is not handled by this test's validator`)
    }
  }
  return errors
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

const shipped = readdirSync(PLAYBOOK_DIR).filter((f) => f.endsWith('.yaml')).sort()
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
    const header = text.slice(0, text.search(/^[^#\n]/m)).split('\n').filter((l) => l.startsWith('#'))
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

  test.each(['unknown-task', 'wrong-arg-type', 'unknown-arg', 'roll-task-in-stage', 'bad-duration', 'two-tasks-one-item', 'unknown-top-key', 'hostile-arg'])(
    'fixture %s, which the loader rejects, fails the schema too',
    async (name) => {
      const schema = await schemaOutput()
      const file = join(fixtures, `${name}.yaml`)
      await expect(loadPlaybook(file)).rejects.toThrow()
      expect(validate(schema, parse(readFileSync(file, 'utf8'))).length).toBeGreaterThan(0)
    },
  )

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
