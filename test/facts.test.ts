import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { facts } from '../src/facts/index.js'

// pyinfra-style fact fixtures: test/facts/<fact.name>/<case>.json holds the command's stdout as the
// real tool prints it and the parsed fact ({fact} exact, {factMatch} partial, {error} a parse error).
interface FactFixture {
  comment?: string // where the format comes from
  command?: string
  stdout: string | string[]
  exitCode?: number
  fact?: unknown
  factMatch?: unknown
  error?: string
}

const root = join(import.meta.dirname, 'facts')
const dirs = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory())

test('every fact has fixtures', () => {
  expect(Object.keys(facts).filter((n) => !dirs.includes(n) && !['host.hostname', 'kernel.release', 'kernel.boot-id', 'kernel.modules'].includes(n))).toEqual([])
})

for (const dir of dirs) {
  describe(dir, () => {
    for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.json'))) {
      test(file.replace(/\.json$/, ''), () => {
        const fx = JSON.parse(readFileSync(join(root, dir, file), 'utf8')) as FactFixture
        const fact = facts[dir]
        expect(fact, `no fact named ${dir}`).toBeDefined()
        if (fx.command !== undefined) expect(fact.command).toBe(fx.command)
        const stdout = Array.isArray(fx.stdout) ? fx.stdout.join('\n') + '\n' : fx.stdout
        if (fx.error !== undefined) {
          expect(() => fact.parse(stdout, fx.exitCode ?? 0)).toThrow(fx.error)
          return
        }
        const got = fact.parse(stdout, fx.exitCode ?? 0)
        if (fx.fact !== undefined) expect(got).toEqual(fx.fact)
        if (fx.factMatch !== undefined) expect(got).toMatchObject(fx.factMatch as object)
        expect(fx.fact !== undefined || fx.factMatch !== undefined).toBe(true)
      })
    }
  })
}
