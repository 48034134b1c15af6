import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Command } from 'commander'
import { registerRun, specFromFlags } from '../../src/commands/run.js'
import type { AnsibleConfig } from '../../src/config/ansible-cfg.js'
import type { InventoryHost } from '../../src/inventory/types.js'
import { writeRunFile } from '../../src/runner/journal.js'
import { ConnectError, InventoryError, PlaybookError, UsageError } from '../../src/errors.js'
import { executeRun } from '../../src/commands/execute.js'

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

const GOOD_INVENTORY = 'all:\n  hosts:\n    p9-01:\n      ansible_host: 127.0.0.1\n      gpufleet_rack: r1\n'

// Runs with a connect that always fails: the run gets as far as connecting (inputs were accepted).
async function runReachingConnect(dir: string, playbook: string, extra: Record<string, unknown> = {}) {
  const connected: string[] = []
  const stderr: string[] = []
  const spec = specFromFlags(playbook, flags(dir, extra) as never, true, false)
  const result = await executeRun(spec, {
    stdout: () => undefined,
    stderr: (t) => void stderr.push(t),
    isTTY: false,
    installSignals: false,
    connect: async (host) => {
      connected.push(host.name)
      throw new ConnectError(host.name, 'auth', 'test: no connection wanted')
    },
  })
  return { result, connected: connected.sort(), stderr: stderr.join('') }
}

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
      executeRun(
        specFromFlags('verify', { ...base, ...flags } as never, true, false, cfg, () => undefined),
        {
          stdout: () => undefined,
          stderr: () => undefined,
          isTTY: false,
          installSignals: false,
          connect: async (host) => {
            seen.set(host.name, host)
            throw new Error('stop here: the host is what this test looks at')
          },
        },
      )
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

describe('gpufleet run: gpufleet_* vars and --rack-by', () => {
  // The admin's own vars, with shapes gpufleet's vars would refuse, on every host.
  const FOREIGN = `all:
  vars:
    ansible_host: 127.0.0.1
    vms: [{name: train-1, gpus: 2}]
    gpus: 4
    rack: 12
  children:
    power9:
      children:
        rack_a:
          hosts:
            p9-a01:
            p9-a02:
        rack_b:
          hosts:
            p9-b01:
              gpufleet_gpus: 4
`

  it("loads and runs with foreign vms, gpus and rack vars: they are the admin's, never checked", async () => {
    const dir = files(FOREIGN)
    const { result, connected } = await runReachingConnect(dir, 'prep', { limit: 'rack_a' })
    expect(connected).toEqual(['p9-a01', 'p9-a02'])
    expect(result.exitCode).toBe(1) // the hosts failed to connect: not an input error
  })

  it('refuses a malformed gpufleet_* var on a selected host with file:line, before connecting', async () => {
    const dir = files(FOREIGN)
    const error = await runExpectingNoConnection(dir, 'prep', { limit: 'p9-b01' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InventoryError)
    expect((error as Error).message).toBe(`${join(dir, 'hosts.yaml')}:17: host 'p9-b01': gpufleet_gpus: gpufleet_gpus must be a mapping: {count: 4} or {addresses: [0004:04:00.0, ...]}`)
  })

  it("--rack-by group:'rack_*' is parsed, saved in the spec and used; a bad value is a usage error", () => {
    const dir = files(FOREIGN)
    expect(specFromFlags('prep', flags(dir, { rackBy: 'group:rack_*' }) as never, false, false).rackBy).toEqual({ kind: 'group', glob: 'rack_*' })
    expect(specFromFlags('prep', flags(dir, { rackBy: 'var:rack' }) as never, false, false).rackBy).toEqual({ kind: 'var', name: 'rack' })
    expect(() => specFromFlags('prep', flags(dir, { rackBy: 'rack_*' }) as never, false, false)).toThrow(UsageError)
  })

  it('refuses a host in two rack groups before connecting', async () => {
    const dir = files(FOREIGN + '        spare:\n          hosts:\n            p9-a01:\n')
    const error = await runExpectingNoConnection(dir, 'prep', { limit: 'rack_a', rackBy: 'group:*a*' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InventoryError)
    expect((error as Error).message).toMatch(/hosts\.yaml:\d+: host 'p9-a01' is in 2 groups matching --rack-by group:'\*a\*': rack_a, spare; a host must be in one rack/)
  })

  it('warns when --per-rack is given and the selected hosts have no rack', async () => {
    const dir = files(FOREIGN)
    const none = await runReachingConnect(dir, 'prep', { limit: 'rack_a', perRack: '1' })
    expect(none.stderr).toContain('warning: --per-rack 1: no selected host has a rack (--rack-by var:gpufleet_rack, the default), so all 2 share one failure domain')
    const racked = await runReachingConnect(dir, 'prep', { limit: 'rack_a', perRack: '1', rackBy: 'group:rack_*' })
    expect(racked.stderr).not.toContain('warning')
    expect(racked.result.summary.hosts['p9-a01']?.rack).toBe('rack_a')
  })

  it('resume --rack-by replaces the saved rack source (checked before connecting, like run)', async () => {
    const dir = files(FOREIGN + '        spare:\n          hosts:\n            p9-a01:\n')
    const spec = specFromFlags('prep', flags(dir, { limit: 'rack_a' }) as never, false, false)
    writeRunFile(join(dir, 'runs', 'run-1'), 'options.json', spec)
    const resume = (...args: string[]) => {
      const program = new Command('gpufleet').exitOverride()
      registerRun(program)
      return program.parseAsync(['node', 'gpufleet', 'resume', 'run-1', '--run-dir', join(dir, 'runs'), '--output', 'jsonl', ...args])
    }
    await expect(resume('--rack-by', 'group:*a*')).rejects.toThrow(/host 'p9-a01' is in 2 groups matching --rack-by group:'\*a\*'/)
    await expect(resume('--rack-by', 'rack_*')).rejects.toThrow(UsageError)
  })
})

describe('gpufleet run: hypervisor flags', () => {
  it('parse into the spec; the playbook supplies defaults and its reboot blockers run too', async () => {
    const dir = files(GOOD_INVENTORY, "drain: shutdown\ndrain_timeout: 10m\nreboot_blockers: ['! test -e /etc/maintenance']\nroll:\n  - host.reboot: {}\n")
    const spec = specFromFlags(join(dir, 'book.yaml'), flags(dir, { drainForce: true, rebootBlocker: ['! squeue -h -w $(hostname) | grep -q .'], rebootBlockerTimeout: '30m', bmcRecover: true }) as never, false, false)
    expect(spec).toMatchObject({ drainForce: true, rebootBlockers: ['! squeue -h -w $(hostname) | grep -q .'], blockerTimeoutMs: 1_800_000, bmcRecover: true })
    expect(spec.drain).toBeUndefined()
    const { hypervisorOptions, loadInputs } = await import('../../src/commands/execute.js')
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
