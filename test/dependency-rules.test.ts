import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'

// The layering rules of .dependency-cruiser.cjs (`npm run lint:deps`, run by .ci/run): the real
// tree passes, and a throwaway tree with one wrong-way import per rule fails on exactly those.

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
const depcruise = join(repo, 'node_modules/.bin/depcruise')

// Runs what `npm run lint:deps` runs; returns its exit code and its violation lines.
async function cruise(cwd: string, config: string): Promise<{ exitCode: number; violations: string[] }> {
  const r = await execa(depcruise, ['src', '--config', config], { cwd, reject: false })
  const violations = r.stdout.split('\n').flatMap((line) => (/^\s+error /.test(line) ? [line.trim()] : []))
  return { exitCode: r.exitCode ?? -1, violations }
}

const tmp = mkdtempSync(join(tmpdir(), 'gpufleet-layers-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('dependency rules', () => {
  it('the real src/ tree passes', async () => {
    const r = await cruise(repo, '.dependency-cruiser.cjs')
    expect(r.violations).toEqual([])
    expect(r.exitCode).toBe(0)
  }, 120_000)

  it('fail on a wrong-way import, naming the rule, for every layer', async () => {
    const files: Record<string, string> = {
      'src/shell.ts': 'export const quote = (s: string) => s\n',
      'src/runner/run-fleet.ts': "import { registerRun } from '../commands/run.js'\nexport const runFleet = registerRun\n",
      'src/commands/run.ts': "import { startRack } from '../sim/rack.js'\nimport { quote } from '../shell.js'\nexport const registerRun = () => [startRack, quote]\n",
      'src/sim/rack.ts': 'export const startRack = 1\n',
      'src/transport/ssh.ts': "import { runFleet } from '../runner/run-fleet.js'\nexport const ssh = runFleet\n",
      'src/render/plain.ts': "import { startRack } from '../sim/rack.js'\nexport const plain = startRack\n",
      'src/tasks/cpu-smt.ts': "import { readFileSync } from 'node:fs'\nimport { quote } from '../shell.js'\nexport const smt = [readFileSync, quote]\n",
      'src/facts/a.ts': "import { b } from './b.js'\nexport const a = () => b\n",
      'src/facts/b.ts': "import { a } from './a.js'\nexport const b = () => a\n",
    }
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(tmp, dirname(file)), { recursive: true })
      writeFileSync(join(tmp, file), text)
    }
    writeFileSync(join(tmp, 'tsconfig.json'), readFileSync(join(repo, 'tsconfig.json')))
    const r = await cruise(tmp, join(repo, '.dependency-cruiser.cjs'))
    expect(r.violations.sort()).toEqual([
      'error commands-only-from-cli: src/runner/run-fleet.ts → src/commands/run.ts',
      'error no-circular: src/facts/a.ts →',
      'error outer-layers-not-runner: src/transport/ssh.ts → src/runner/run-fleet.ts',
      'error runner-not-commands: src/runner/run-fleet.ts → src/commands/run.ts',
      'error sim-only-from-commands: src/render/plain.ts → src/sim/rack.ts',
      'error tasks-facts-pure: src/tasks/cpu-smt.ts → fs',
    ])
    // depcruise exits with the number of errors: CI fails.
    expect(r.exitCode).toBe(6)
  }, 120_000)
})

describe('exits', () => {
  // Everything else returns an exit code; cli.ts owns the process (see src/README.md).
  it('only src/cli.ts calls process.exit', () => {
    const src = join(repo, 'src')
    const callers = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /\bprocess\.exit\s*\(/.test(readFileSync(join(src, f), 'utf8')))
      .map((f) => relative(repo, join(src, f)))
    expect(callers).toEqual(['src/cli.ts'])
  })
})
