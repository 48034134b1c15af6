import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { FleetError } from '../../src/errors.js'
import { requireFleetVars } from '../../src/inventory/fleet-vars.js'
import { loadInventory } from '../../src/inventory/load.js'
import { selectHosts } from '../../src/inventory/select.js'
import { parsePlaybook } from '../../src/playbook/load.js'

// Fault matrix, bad input row: random mutations of real inventory and playbook files end either in
// a loaded inventory/playbook or in gpufleet's own error naming the file (exit 2) — never in an
// uncaught exception (exit 70). Many mutations in-process, then a sample through the built CLI.

const run = promisify(execFile)
const CLI = join(process.cwd(), 'dist', 'cli.js')
const work = mkdtempSync(join(tmpdir(), 'gpufleet-fuzz-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

// A gpufleet inventory as `gpufleet sim` writes one (every gpufleet_* var), in YAML and INI.
const FLEET_YAML = `all:
  vars:
    ansible_ssh_private_key_file: /root/.ssh/id_ed25519
    ansible_ssh_common_args: -o StrictHostKeyChecking=yes
  children:
    r1:
      vars: {ansible_user: root}
      hosts:
        p9-r1-01:
          ansible_host: 127.9.1.1
          ansible_port: 2201
          gpufleet_rack: r1
          gpufleet_gpus: {addresses: ['0004:04:00.0', '0004:05:00.0']}
          gpufleet_vms:
            - {domain: vm1, addresses: ['0004:04:00.0']}
            - {domain: vm2, count: 1}
          gpufleet_bmc: {url: 'https://127.9.1.1:8443', user: root, password_file: /etc/bmc-pass}
        p9-r1-[02:04]:
          gpufleet_gpus: {count: 4}
`
const FLEET_INI = `p9-r1-01 ansible_host=127.9.1.1 ansible_port=2201 gpufleet_rack=r1
[r2]
p9-r2-[01:03] ansible_user=admin ansible_become=true
[r2:vars]
gpufleet_rack=r2
gpufleet_gpus="{'count': 2}"
[gpu:children]
r2
`

// Tokens that matter to YAML, INI, Ansible ranges and patterns, and the shell.
const TOKENS = [
  ':',
  ': ',
  '-',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '<<: *a',
  '!vault ',
  '!!binary ',
  '|',
  '>',
  '?',
  '#',
  '=',
  '"',
  "'",
  '\\',
  '\t',
  '\n',
  '\n  ',
  '\n- ',
  '   ',
  '[1:3]',
  '[a:z:2]',
  '[01:99999]',
  '%',
  '@',
  '!',
  '$(id)',
  '`id`',
  ';',
  '../',
  '\x1b]0;x\x07',
  '\x00',
  '\ufeff',
  'null',
  '~',
  'true',
  '0x1F',
  '1e999',
  '[children]',
  '[x:vars]',
  ':children',
  'hosts:',
  'vars:',
  'children:',
  'gpufleet_vms: ',
  'gpufleet_gpus: ',
  'gpufleet_rack: ',
  'stage:',
  'roll:',
  'reboot:',
  'timeout: ',
  '5s',
  '-1',
  '999999999999999999999',
]
const mutation = fc.record({
  kind: fc.constantFrom('insert', 'delete', 'duplicate-line', 'swap-lines', 'replace'),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 12 }),
  token: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4 })),
})
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function mutate(text: string, ops: Mutation[]): string {
  for (const op of ops) {
    const at = text.length === 0 ? 0 : op.at % (text.length + 1)
    const lines = text.split('\n')
    const li = lines.length === 0 ? 0 : op.at % lines.length
    if (op.kind === 'insert') text = text.slice(0, at) + op.token + text.slice(at)
    else if (op.kind === 'delete') text = text.slice(0, at) + text.slice(at + op.len)
    else if (op.kind === 'replace') text = text.slice(0, at) + op.token + text.slice(at + op.len)
    else if (op.kind === 'duplicate-line') text = [...lines.slice(0, li + 1), lines[li]!, ...lines.slice(li + 1)].join('\n')
    else {
      const lj = (li + op.len) % lines.length
      ;[lines[li], lines[lj]] = [lines[lj]!, lines[li]!]
      text = lines.join('\n')
    }
  }
  return text
}
const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 })

// The outcome a user sees: loaded, or a FleetError naming the file. Anything else is an internal error.
function expectFleetErrorNaming(error: unknown, file: string): void {
  if (!(error instanceof FleetError)) throw new Error(`internal error (exit 70) on ${file}: ${error instanceof Error ? error.stack : String(error)}`)
  expect(error.message, error.message).toContain(basename(file))
}

// The inventory sources fuzzed: file name in the temp dir -> original text (and a directory to copy beside it).
const inventories: Array<{ name: string; text: string; dir?: string }> = [
  { name: 'fleet.yaml', text: FLEET_YAML },
  { name: 'fleet.ini', text: FLEET_INI },
  { name: 'hosts.yaml', text: readFileSync('test/fixtures/inventory/compat/hosts.yaml', 'utf8'), dir: 'test/fixtures/inventory/compat' },
  { name: 'hosts.ini', text: readFileSync('test/fixtures/inventory/compat/hosts.ini', 'utf8'), dir: 'test/fixtures/inventory/compat' },
  { name: 'limits.yaml', text: readFileSync('test/fixtures/inventory/limits.yaml', 'utf8') },
  { name: 'docs-example.ini', text: readFileSync('test/fixtures/inventory/docs-example.ini', 'utf8') },
]
const playbooks = ['prep', 'attach', 'detach', 'rollback', 'verify', 'prep-trial'].map((n) => ({ name: `${n}.yaml`, text: readFileSync(`playbooks/${n}.yaml`, 'utf8') }))

let sample = 0
function place(name: string, text: string, dir?: string): string {
  const d = join(work, `s${++sample}`)
  if (dir) cpSync(dir, d, { recursive: true })
  else mkdirSync(d)
  const file = join(d, name)
  writeFileSync(file, text, { flag: 'w' })
  return file
}

describe('loader fuzz: random mutations never end in an internal error', () => {
  it('the unmutated sources load (the fuzz starts from valid input)', async () => {
    for (const inv of inventories) {
      const loaded = await loadInventory(place(inv.name, inv.text, inv.dir))
      expect(loaded.hosts.length, inv.name).toBeGreaterThan(0)
    }
    for (const pb of playbooks) expect(parsePlaybook(pb.text, pb.name).stage.length + parsePlaybook(pb.text, pb.name).roll.length, pb.name).toBeGreaterThan(0)
  })

  it('inventories (YAML, INI, with group_vars/host_vars): loaded, or an InventoryError with file:line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...inventories), mutations, async (inv, ops) => {
        const file = place(inv.name, mutate(inv.text, ops), inv.dir)
        try {
          const inventory = await loadInventory(file)
          // what run/plan do next with the selected hosts: their gpufleet_* vars are checked
          requireFleetVars(selectHosts(inventory))
        } catch (error) {
          expectFleetErrorNaming(error, file)
          expect((error as Error).message).toMatch(/:\d+: /) // file:line
        }
        rmSync(join(file, '..'), { recursive: true, force: true })
      }),
      { numRuns: 600 },
    )
  }, 300_000)

  it('playbooks: parsed, or a PlaybookError "file:line: ..."', () => {
    fc.assert(
      fc.property(fc.constantFrom(...playbooks), mutations, (pb, ops) => {
        const file = `/fuzz/${pb.name}`
        try {
          parsePlaybook(mutate(pb.text, ops), file)
        } catch (error) {
          expectFleetErrorNaming(error, file)
          expect((error as Error).message).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+: `))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('through the built CLI: a sample of mutated inventories and playbooks exits 0, 1 or 2, never 70', async () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true)
    const samples = fc.sample(fc.tuple(fc.constantFrom(...inventories), fc.constantFrom(...playbooks), mutations, mutations), { numRuns: 6, seed: 12 })
    for (const [inv, pb, invOps, pbOps] of samples) {
      const inventory = place(inv.name, mutate(inv.text, invOps), inv.dir)
      const playbook = join(inventory, '..', `pb-${pb.name}`)
      writeFileSync(playbook, mutate(pb.text, pbOps))
      const listed = await run('node', [CLI, 'inventory', '-i', inventory], { encoding: 'utf8' }).then(
        () => 0,
        (e: { code: number; stderr: string }) => {
          expect(e.stderr).not.toContain('internal error')
          return e.code
        },
      )
      expect([0, 2]).toContain(listed)
      // plan against a port nothing listens on: bad input is refused before connecting (2); good input fails the hosts (1)
      const planned = await run('node', [CLI, 'plan', playbook, '-i', inventory, '--run-dir', join(inventory, '..', 'runs'), '-e', 'ansible_host=127.0.0.1 ansible_port=1', '--output', 'jsonl'], { encoding: 'utf8' }).then(
        () => 0,
        (e: { code: number; stderr: string }) => {
          expect(e.stderr).not.toContain('internal error')
          return e.code
        },
      )
      expect([0, 1, 2]).toContain(planned)
    }
  }, 300_000)
})
