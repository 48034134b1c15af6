import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { PlaybookError } from '../../src/errors.js'
import { loadPlaybook, parsePlaybook } from '../../src/playbook/load.js'
import { playbookJsonSchema } from '../../src/playbook/schema.js'
import { tasks } from '../../src/tasks/index.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'playbooks')
const file = (name: string) => join(fixtures, `${name}.yaml`)

// Loads a bad playbook and returns its PlaybookError message.
async function failure(name: string): Promise<string> {
  const error = await loadPlaybook(file(name)).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(PlaybookError)
  return (error as PlaybookError).message
}

describe('bad playbooks fail with file:line before anything connects', () => {
  test.each([
    ['bad-yaml', 5, 'YAML error: Map keys must be unique'],
    ['bad-yaml-indent', 4, 'YAML error'],
    ['unknown-task', 6, "unknown task 'kernel.args' (did you mean 'kernel.arg'?)"],
    ['wrong-arg-type', 6, 'kernel.arg: mode: Invalid option'],
    ['unknown-arg', 5, "modprobe.blacklist: unknown argument 'mode'"],
    ['roll-task-in-stage', 4, "'host.reboot' belongs in roll, not in stage"],
    ['bad-duration', 4, 'host.reboot: timeout:'],
    ['two-tasks-one-item', 4, "one task per item: 'cpu.smt' and 'modprobe.blacklist'"],
    ['unknown-top-key', 2, "unknown key 'stages' (did you mean 'stage'?)"],
    ['hostile-arg', 3, 'a kernel argument without spaces, quotes, $'],
  ])('%s → line %i', async (name, line, message) => {
    const msg = await failure(name)
    expect(msg.startsWith(`${file(name)}:${line}: `), msg).toBe(true)
    expect(msg).toContain(message)
  })

  test('an unknown bare name says which file it looked for', async () => {
    await expect(loadPlaybook('no-such-playbook')).rejects.toThrow("no playbook named 'no-such-playbook'; the bundled playbooks are attach, detach, prep, prep-trial, rollback, verify (or give a YAML file's path)")
    await expect(loadPlaybook('prpe')).rejects.toThrow("no playbook named 'prpe' (did you mean prep?); the bundled playbooks are attach, detach, prep, prep-trial, rollback, verify")
    await expect(loadPlaybook('verfy')).rejects.toThrow(/\(did you mean verify\?\)/)
  })
})

describe('good playbooks', () => {
  test('empty args, default name, durations in ms, source lines', async () => {
    const pb = await loadPlaybook(file('good-minimal'))
    expect(pb.name).toBe('good-minimal')
    expect(pb.stage.map((t) => [t.task.name, t.source])).toEqual([['modprobe.blacklist', `${file('good-minimal')}:3`]])
    expect(pb.stage[0].args).toEqual({ modules: ['nouveau'], file: '/etc/modprobe.d/blacklist-nouveau.conf', state: 'present' })
    expect(pb.roll[0].args).toMatchObject({ timeout: 90_000, stability: 10_000 })
    expect(pb.roll[1].title).toBe('host.verify')
  })

  test.each(['prep', 'prep-trial', 'verify', 'attach', 'detach', 'rollback'])('shipped playbook %s loads by bare name', async (name) => {
    const pb = await loadPlaybook(name)
    expect(pb.name).toBe(name)
    expect(pb.description.length).toBeGreaterThan(20)
    expect(pb.stage.length + pb.roll.length).toBeGreaterThan(0)
  })

  test('prep is the guide: four staged tasks, then reboot and verify', async () => {
    const pb = await loadPlaybook('prep')
    expect(pb.stage.map((t) => t.task.name)).toEqual(['kernel.arg', 'cpu.smt', 'modprobe.blacklist', 'initramfs.rebuild'])
    expect(pb.roll.map((t) => t.task.name)).toEqual(['host.reboot', 'host.verify'])
    expect(pb.stage[0].args).toMatchObject({ present: ['vfio-pci.disable_idle_d3=1'], mode: 'persistent' })
    expect(pb.stage[1].args).toMatchObject({ state: 'off', persist: true })
    expect(pb.roll[0].args).toMatchObject({ timeout: 15 * 60_000 })
    expect(pb.stage[0].title).toBe('Add vfio-pci.disable_idle_d3=1 to the next boot entry')
  })
})

describe('JSON Schema', () => {
  test('lists every task with its args, roll-only tasks only under roll', () => {
    const schema = playbookJsonSchema() as { properties: Record<string, { items: { anyOf: Array<{ required: string[]; properties: Record<string, unknown> }> } }> }
    const stageTasks = schema.properties.stage.items.anyOf.map((i) => i.required[0])
    const rollTasks = schema.properties.roll.items.anyOf.map((i) => i.required[0])
    for (const t of Object.values(tasks)) {
      if (t.phase !== 'roll') expect(stageTasks).toContain(t.name)
      if (t.phase !== 'stage') expect(rollTasks).toContain(t.name)
    }
    expect(stageTasks).not.toContain('host.reboot')
    const kernelArg = schema.properties.stage.items.anyOf.find((i) => i.required[0] === 'kernel.arg')!
    expect(JSON.stringify(kernelArg.properties['kernel.arg'])).toContain('"enum":["persistent","trial"]')
  })
})

describe("a task item's timeout:", () => {
  const text = (timeout: string) => `name: t\nstage:\n  - name: rebuild\n    timeout: ${timeout}\n    initramfs.rebuild: {}\nroll:\n  - host.reboot: { timeout: 20m }\n`

  test.each([
    ['10m', 600_000],
    ['90s', 90_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1h30m', 5_400_000],
  ])('%s → %i ms on the task, beside its args', (timeout, ms) => {
    const pb = parsePlaybook(text(timeout), '/pb/t.yaml')
    expect(pb.stage[0]).toMatchObject({ title: 'rebuild', timeoutMs: ms, source: '/pb/t.yaml:3' })
    expect(pb.roll[0].timeoutMs).toBeUndefined()
    expect(pb.roll[0].args).toMatchObject({ timeout: 20 * 60_000 }) // host.reboot's own arg is untouched
  })

  test.each(['soon', '0s', '0', '-5', '1.5', '45000', '10 m', '[10m]', '{ m: 10 }', "''", 'null'])('%s is refused with file:line', (timeout) => {
    let message = ''
    try {
      parsePlaybook(text(timeout), '/pb/t.yaml')
    } catch (error) {
      expect(error).toBeInstanceOf(PlaybookError)
      message = (error as Error).message
    }
    expect(message).toMatch(/^\/pb\/t\.yaml:4: 'timeout' must be a duration with a unit, e.g. 500ms, 90s, 15m, 1h30m \(the time all of this task's commands may take together\), not /)
  })

  test('a bare number says a unit is required, at file:line', () => {
    expect(() => parsePlaybook(text('15'), '/pb/t.yaml')).toThrow(/^\/pb\/t\.yaml:4: .*, not 15: '15' has no unit: write 15s, 15m or 15ms/)
    expect(() => parsePlaybook('roll:\n  - host.reboot:\n      timeout: 900\n', '/pb/r.yaml')).toThrow(/^\/pb\/r\.yaml:3: host\.reboot: timeout: '900' has no unit: write 900s, 900m or 900ms/)
  })

  test('a typo of timeout is pointed at it, and an item with only a timeout says so', () => {
    expect(() => parsePlaybook('stage:\n  - timout: 10m\n    cpu.smt: {}\n', '/pb/t.yaml')).toThrow(/^\/pb\/t\.yaml:2: unknown task 'timout' \(did you mean 'timeout'\?\)/)
    expect(() => parsePlaybook('stage:\n  - name: x\n    timeout: 10m\n', '/pb/t.yaml')).toThrow("/pb/t.yaml:2: item has no task (only 'name' and 'timeout')")
  })
})

describe('hypervisor keys: drain, drain_timeout, reboot_blockers', () => {
  test('are read as the playbook defaults', () => {
    const p = parsePlaybook("drain: shutdown\ndrain_timeout: 10m\nreboot_blockers:\n  - '! squeue -h -w $(hostname) | grep -q .'\n  - '! test -e /etc/maintenance'\nroll:\n  - host.reboot: {}\n", 'p.yaml')
    expect(p).toMatchObject({ drain: 'shutdown', drainTimeoutMs: 600_000, rebootBlockers: ['! squeue -h -w $(hostname) | grep -q .', '! test -e /etc/maintenance'] })
  })

  test.each([
    ['drain: migrate\n', "p.yaml:1: 'drain' must be refuse or shutdown (live migration is not supported: VFIO devices block it)"],
    ['drain_timeout: 300\n', "p.yaml:1: 'drain_timeout': '300' has no unit"],
    ['reboot_blockers: true\n', "p.yaml:1: 'reboot_blockers' must be a list of shell commands"],
    ["reboot_blockers:\n  - ''\n", 'p.yaml:2: each reboot blocker is a non-empty shell command (a string)'],
  ])('%j is refused with file:line', (text, message) => {
    expect(() => parsePlaybook(text, 'p.yaml')).toThrow(message)
  })
})
