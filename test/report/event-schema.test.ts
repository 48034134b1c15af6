import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { eventsJsonSchema, eventsMarkdownTable } from '../../src/report/event-schema.js'
import { resumedRun } from './resumed-run.js'

type Variant = { title: string; properties: Record<string, { type?: string | string[]; enum?: string[]; const?: string; items?: { type: string } }>; required: string[] }

// A minimal check of an event against its variant: required fields present, no field the schema
// does not know, JSON types and enums respected.
function violations(event: Record<string, unknown>, variants: Variant[]): string[] {
  const v = variants.find((x) => x.title === event.kind)
  if (!v) return [`unknown kind ${String(event.kind)}`]
  const out: string[] = []
  for (const r of v.required) if (!(r in event)) out.push(`${v.title}: missing ${r}`)
  for (const [k, value] of Object.entries(event)) {
    const p = v.properties[k]
    if (!p) {
      out.push(`${v.title}: unknown field ${k}`)
      continue
    }
    const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value
    const allowed = p.const !== undefined ? ['string'] : ([] as string[]).concat(p.type ?? [])
    if (!allowed.includes(type) && !(type === 'integer' && allowed.includes('number')) && !(type === 'object' && allowed.includes('object'))) out.push(`${v.title}.${k}: ${type} is not ${allowed.join('|')}`)
    if (p.enum && !p.enum.includes(value as string)) out.push(`${v.title}.${k}: ${String(value)} not in ${p.enum.join('|')}`)
  }
  return out
}

describe('the documented event schema', () => {
  it('accepts every event of a recorded run, field by field', () => {
    const variants = eventsJsonSchema().oneOf as Variant[]
    expect(resumedRun.flatMap((e) => violations(e as unknown as Record<string, unknown>, variants))).toEqual([])
    expect(violations({ t: 1, kind: 'host-finished', host: 'h', outcome: 'exploded' }, variants)).toEqual(['host-finished.outcome: exploded not in ok|changed|failed|unreachable|skipped|not-started|needs-drain|blocked'])
  })

  it('docs/events.md carries the generated table', () => {
    expect(readFileSync('docs/events.md', 'utf8')).toContain(eventsMarkdownTable())
  })
})
