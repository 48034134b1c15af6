import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { specFromFlags } from '../../src/commands/run.js'
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

describe('gpufleet run: hypervisor flags', () => {
  it('parse into the spec; the playbook supplies defaults and its reboot blockers run too', async () => {
    const dir = files(GOOD_INVENTORY, "drain: shutdown\ndrain_timeout: 10m\nreboot_blockers: ['! test -e /etc/maintenance']\nroll:\n  - host.reboot: {}\n")
    const spec = specFromFlags(join(dir, 'book.yaml'), flags(dir, { drainForce: true, rebootBlocker: ['! squeue -h -w $(hostname) | grep -q .'], rebootBlockerTimeout: '30m', bmcRecover: true }) as never, false, false)
    expect(spec).toMatchObject({ drainForce: true, rebootBlockers: ['! squeue -h -w $(hostname) | grep -q .'], blockerTimeoutMs: 1_800_000, bmcRecover: true })
    expect(spec.drain).toBeUndefined()
    const { hypervisorOptions, loadInputs } = await import('../../src/runner/execute.js')
    const { playbook } = await loadInputs(spec)
    expect(hypervisorOptions(spec, playbook)).toEqual({ drain: 'shutdown', drainTimeoutMs: 600_000, drainForce: true, rebootBlockers: ['! test -e /etc/maintenance', '! squeue -h -w $(hostname) | grep -q .'], blockerTimeoutMs: 1_800_000, bmcRecover: true })
    expect(hypervisorOptions({ ...spec, drain: 'refuse' }, playbook).drain).toBe('refuse')
  })

  it('a bad duration, a bad gpufleet_bmc or an unreadable password file stops the run before any connection', async () => {
    const dir = files(GOOD_INVENTORY)
    expect(() => specFromFlags('prep', flags(dir, { drainTimeout: '5' }) as never, false, false)).toThrow(UsageError)
    const bad = files("all:\n  hosts:\n    p9-01:\n      ansible_host: 127.0.0.1\n      gpufleet_bmc: { url: 'http://10.0.0.1', user: root, password_file: /nope }\n")
    await expect(runExpectingNoConnection(bad, 'prep')).rejects.toThrow(/gpufleet_bmc\.url must be https:\/\//)
    const missing = files("all:\n  hosts:\n    p9-01:\n      ansible_host: 127.0.0.1\n      gpufleet_bmc: { url: 'https://10.0.0.1', user: root, password_file: /nonexistent/bmc.pw }\n")
    await expect(runExpectingNoConnection(missing, 'prep', { bmcRecover: true })).rejects.toThrow(/gpufleet_bmc\.password_file: cannot read \/nonexistent\/bmc\.pw/)
    await expect(runExpectingNoConnection(missing, 'prep', { bmcRecover: true, bmcCaFile: '/nonexistent/ca.pem' })).rejects.toThrow(/--bmc-ca-file: cannot read/)
  })
})
