import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { specFromFlags } from '../../src/commands/run.js'
import type { AnsibleConfig } from '../../src/config/ansible-cfg.js'
import type { InventoryHost } from '../../src/inventory/types.js'
import { InventoryError, PlaybookError, UsageError } from '../../src/errors.js'
import { executeRun } from '../../src/runner/execute.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function files(inventory: string, playbook?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'gpufleet-runcmd-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'hosts.yaml'), inventory)
  if (playbook !== undefined) writeFileSync(join(dir, 'book.yaml'), playbook)
  return dir
}

const flags = (dir: string, extra: Record<string, unknown> = {}) => ({ inventory: join(dir, 'hosts.yaml'), forks: '50', commandTimeout: '30m', lockTtl: '2h', runDir: join(dir, 'runs'), ...extra })

// Every input error must surface before a single connection is attempted.
async function runExpectingNoConnection(dir: string, playbook: string, extra: Record<string, unknown> = {}) {
  let connects = 0
  const spec = specFromFlags(playbook, flags(dir, extra) as never, false, false)
  return executeRun(spec, {
    stdout: () => undefined,
    stderr: () => undefined,
    isTTY: false,
    installSignals: false,
    connect: async () => {
      connects++
      throw new Error('must not connect')
    },
  }).finally(() => expect(connects).toBe(0))
}

const GOOD_INVENTORY = 'all:\n  hosts:\n    p9-01:\n      ansible_host: 127.0.0.1\n      rack: r1\n'

describe('gpufleet run: inputs are checked before any connection', () => {
  it('rejects a malformed inventory with file:line', async () => {
    const dir = files('all:\n  hosts:\n    p9-[01:\n')
    await expect(runExpectingNoConnection(dir, 'prep')).rejects.toBeInstanceOf(InventoryError)
  })

  it('rejects an unknown playbook task', async () => {
    const dir = files(GOOD_INVENTORY, 'name: bad\nstage:\n  - no.such.task: {}\nroll: []\n')
    const error = await runExpectingNoConnection(dir, join(dir, 'book.yaml')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PlaybookError)
    expect((error as Error).message).toContain('book.yaml:3')
  })

  it('rejects an unknown --limit group', async () => {
    const dir = files(GOOD_INVENTORY)
    await expect(runExpectingNoConnection(dir, 'prep', { limit: 'nosuchgroup' })).rejects.toBeInstanceOf(UsageError)
  })

  it('rejects bad rolling flags as usage errors', () => {
    const dir = files(GOOD_INVENTORY)
    expect(() => specFromFlags('prep', flags(dir, { maxUnavailable: 'lots' }) as never, false, false)).toThrow(/--max-unavailable/)
    expect(() => specFromFlags('prep', flags(dir, { rebootTimeout: 'forever' }) as never, false, false)).toThrow(/--reboot-timeout/)
    expect(() => specFromFlags('prep', flags(dir, { batches: '1,0' }) as never, false, false)).toThrow(/--batches/)
    expect(() => specFromFlags('prep', flags(dir, { forks: '0' }) as never, false, false)).toThrow(/--forks/)
    expect(() => specFromFlags('prep', flags(dir, { maxUnavailable: '0' }) as never, false, false)).toThrow(/at least one host/)
  })

  it('turns flags into a saved spec with the rolling limits', () => {
    const dir = files(GOOD_INVENTORY)
    const spec = specFromFlags('prep', flags(dir, { maxUnavailable: '20%', perRack: '1', maxFail: '2', rackFailStop: true, rebootTimeout: '20m', batches: '1,5,20%' }) as never, true, false)
    expect(spec).toMatchObject({
      check: true,
      output: 'plain',
      roll: { maxUnavailable: { kind: 'percent', p: 20 }, perRack: 1, maxFail: { kind: 'count', n: 2 }, rackFailStop: true, batches: [{ n: 1 }, { n: 5 }, { p: 20 }] },
      rebootTimeoutMs: 1_200_000,
    })
  })
})

describe('gpufleet run: Ansible flags and settings reach the hosts', () => {
  const cfg: AnsibleConfig = { file: '/p/ansible.cfg', settings: { forks: 3, remoteUser: 'cfguser', privateKeyFile: '/keys/cfg', become: true }, origins: {}, warnings: [] }

  it('-u/--private-key/-b fill in below inventory vars; -e beats them all; forks from ansible.cfg', async () => {
    const dir = files('all:\n  hosts:\n    p9-01:\n      ansible_host: 127.0.0.1\n      ansible_user: invuser\n    p9-02:\n      ansible_host: 127.0.0.1\n')
    const base = { inventory: join(dir, 'hosts.yaml'), commandTimeout: '30m', lockTtl: '2h', runDir: join(dir, 'runs') }
    const seen = new Map<string, InventoryHost>()
    const run = (flags: Record<string, unknown>) =>
      executeRun(specFromFlags('verify', { ...base, ...flags } as never, true, false, cfg, () => undefined), {
        stdout: () => undefined,
        stderr: () => undefined,
        isTTY: false,
        installSignals: false,
        connect: async (host) => {
          seen.set(host.name, host)
          throw new Error('stop here: the host is what this test looks at')
        },
      })
    const spec = specFromFlags('verify', base as never, true, false, cfg, () => undefined)
    expect(spec).toMatchObject({ forks: 3, connection: { user: 'cfguser', privateKeyFile: '/keys/cfg', become: true } })
    await run({})
    expect([...seen.values()].map((h) => [h.name, h.ssh.user, h.ssh.identityFiles, h.become])).toEqual([
      ['p9-01', 'invuser', ['/keys/cfg'], true],
      ['p9-02', 'cfguser', ['/keys/cfg'], true],
    ])
    await run({ user: 'flaguser', extraVars: ['ansible_become=false'] })
    expect([...seen.values()].map((h) => [h.name, h.ssh.user, h.become])).toEqual([
      ['p9-01', 'invuser', false],
      ['p9-02', 'flaguser', false],
    ])
    await run({ extraVars: ['ansible_user=ops'] })
    expect([...seen.values()].map((h) => h.ssh.user)).toEqual(['ops', 'ops'])
  })

  it('-v and --diff pick plain output; --diff needs a check run', () => {
    const dir = files(GOOD_INVENTORY)
    expect(specFromFlags('prep', flags(dir, { verbose: 2 }) as never, true, true)).toMatchObject({ output: 'plain', verbosity: 2 })
    expect(specFromFlags('prep', flags(dir, { diff: true }) as never, true, true)).toMatchObject({ output: 'plain', diff: true })
    expect(specFromFlags('prep', flags(dir) as never, true, true)).toMatchObject({ output: 'tty' })
    expect(() => specFromFlags('prep', flags(dir, { diff: true }) as never, false, true)).toThrow(/--diff shows the file changes of a check run/)
  })
})
