import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'

// Every usage error of every subcommand exits 2 (README "Exit codes"), whether commander finds it
// (unknown command/option, missing argument, bad choice) or gpufleet does (bad value, no inventory,
// unknown playbook): the built CLI, a clean environment (no ANSIBLE_*, an empty HOME, a private cwd).
const cli = join(import.meta.dirname, '../dist/cli.js')
const root = mkdtempSync(join(tmpdir(), 'gpufleet-cli-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const home = join(root, 'home')
const cwd = join(root, 'work')
mkdirSync(home)
mkdirSync(cwd)
const inv = join(root, 'hosts.yaml')
writeFileSync(inv, 'all:\n  children:\n    rack_a:\n      hosts:\n        p9-a01.gpu.example.com:\n          ansible_host: 127.0.0.1\n')
const runs = join(root, 'runs')

function gpufleet(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return execa(process.execPath, [cli, ...args], {
    cwd: options.cwd ?? cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...options.env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  })
}

const USAGE_ERRORS: Array<[string, string[], RegExp]> = [
  ['no command', [], /Usage: gpufleet/],
  ['unknown command', ['bogus'], /unknown command 'bogus'/],
  ['unknown command, near one', ['rnu'], /\(Did you mean run\?\)/],
  ['unknown top-level option', ['--bogus'], /unknown option '--bogus'/],
  ['run: missing playbook', ['run'], /missing required argument 'playbook'/],
  ['run: no inventory anywhere', ['run', 'prep'], /no inventory: pass -i <file>, or set ANSIBLE_INVENTORY/],
  ['run: unknown option', ['run', 'prep', '-i', inv, '--bogus'], /unknown option '--bogus'/],
  ['run: misspelled option', ['run', 'prep', '-i', inv, '--froks', '3'], /\(Did you mean --forks\?\)/],
  ['run: Ansible option gpufleet spells differently', ['run', 'prep', '-i', inv, '--key-file', 'k'], /hint: --key-file is an ansible-playbook option: gpufleet calls it --private-key/],
  ['run: Ansible option gpufleet does not need', ['run', 'prep', '-i', inv, '--tags', 'x'], /hint: --tags .* no tags/],
  ['run: bad choice', ['run', 'prep', '-i', inv, '--output', 'json'], /argument 'json' is invalid. Allowed choices are tty, plain, jsonl/],
  ['run: option missing its value', ['run', 'prep', '-i', inv, '--forks'], /option '-f, --forks <n>' argument missing/],
  ['run: too many arguments', ['run', 'prep', 'verify', '-i', inv], /too many arguments for 'run'/],
  ['run: bad number', ['run', 'prep', '-i', inv, '-f', '0'], /--forks: expected a whole number of at least 1/],
  ['run: duration without unit', ['run', 'prep', '-i', inv, '--reboot-timeout', '15'], /--reboot-timeout: '15' has no unit: write 15s, 15m or 15ms/],
  ['run: unknown playbook', ['run', 'prpe', '-i', inv], /no playbook named 'prpe' \(did you mean prep\?\); the bundled playbooks are attach, detach, prep, prep-trial, rollback, verify/],
  ['run: --limit short name', ['run', 'prep', '-i', inv, '--limit', 'p9-a01'], /--limit pattern 'p9-a01' matches no host or group in .* \(did you mean p9-a01\.gpu\.example\.com\?\)/],
  ['run: --diff without --check', ['run', 'prep', '-i', inv, '--diff'], /--diff shows the file changes of a check run: add --check/],
  ['run: bad -e', ['run', 'prep', '-i', inv, '-e', 'justaword'], /-e "justaword": 'justaword' is not key=value/],
  ['run: missing inventory file', ['run', 'prep', '-i', join(root, 'nope.yaml')], /cannot read inventory: no such file/],
  ['plan: missing playbook', ['plan'], /missing required argument 'playbook'/],
  ['plan: bad choice', ['plan', 'prep', '-i', inv, '--output', 'yaml'], /argument 'yaml' is invalid/],
  ['plan: unknown option', ['plan', 'prep', '-i', inv, '--max-unavailabel', '2'], /\(Did you mean --max-unavailable\?\)/],
  ['resume: missing run id', ['resume'], /missing required argument 'run-id'/],
  ['resume: unknown run', ['resume', 'nosuchrun', '--run-dir', runs], /no run nosuchrun (of yours )?in /],
  ['resume: unknown option', ['resume', 'x', '--check'], /unknown option '--check'/],
  ['resume: a secret -e not given again', ['resume', 'run-with-secret', '--run-dir', runs, '-e', 'other=1'], /run run-with-secret was started with secret extra vars that are not saved: give them again, e.g. -e 'ansible_become_password=...'/],
  ['demo: bad number', ['demo', '--hosts', '0'], /--hosts: expected a whole number of at least 1/],
  ['demo: duration without unit', ['demo', '--reboot-time', '2'], /--reboot-time: '2' has no unit/],
  ['demo: bad choice', ['demo', '--output', 'json'], /argument 'json' is invalid/],
  ['inventory: no inventory anywhere', ['inventory'], /no inventory: pass -i/],
  ['inventory: conflicting options', ['inventory', '-i', inv, '--json', '--graph'], /option '--json' cannot be used with option '--graph'/],
  ['inventory: --limit typo', ['inventory', '-i', inv, '--limit', 'rakc_a'], /\(did you mean rack_a\?\)/],
  ['inventory: unknown option', ['inventory', '-i', inv, '--list'], /unknown option '--list'/],
  ['facts: no inventory anywhere', ['facts'], /no inventory: pass -i/],
  ['facts: bad number', ['facts', '-i', inv, '--forks', 'many'], /--forks: expected a whole number/],
  ['facts: duration without unit', ['facts', '-i', inv, '--connect-timeout', '10'], /--connect-timeout: '10' has no unit: write 10s, 10m or 10ms/],
  ['facts: option missing its value', ['facts', '-i', inv, '-u'], /option '-u, --user <name>' argument missing/],
  ['sim: unknown subcommand', ['sim', 'bogus'], /unknown command 'bogus'/],
  ['sim up: option missing its value', ['sim', 'up', '--hosts'], /argument missing/],
  ['sim up: bad number', ['sim', 'up', '--hosts', '0', '--dir', join(root, 'sim')], /--hosts must be a whole number from 1 to 5000/],
  ['sim up: duration without unit', ['sim', 'up', '--reboot-time', '15', '--dir', join(root, 'sim')], /--reboot-time: '15' has no unit/],
  ['sim up: bad spec duration', ['sim', 'up', '--spec', join(root, 'spec.yaml'), '--dir', join(root, 'sim')], /spec\.yaml: rebootTime: '3' has no unit/],
  ['sim status: unknown option', ['sim', 'status', '--bogus'], /unknown option '--bogus'/],
  ['sim down: too many arguments', ['sim', 'down', 'extra'], /too many arguments/],
  ['sim repair: missing host', ['sim', 'repair'], /missing required argument 'host'/],
  ['schema: too many arguments', ['schema', 'extra'], /too many arguments for 'schema'/],
  ['schema: unknown option', ['schema', '--task'], /\(Did you mean --tasks\?\)/],
]
writeFileSync(join(root, 'spec.yaml'), 'rebootTime: 3\n')
// A run started with `-e ansible_become_password=... -e gpufleet_rack=r1`, as its directory saved it.
mkdirSync(join(runs, 'run-with-secret'), { recursive: true })
writeFileSync(
  join(runs, 'run-with-secret', 'options.json'),
  JSON.stringify({
    playbook: 'prep',
    inventory: inv,
    check: false,
    forks: 50,
    acceptNewHostKeys: false,
    askBecomePass: false,
    output: 'plain',
    roll: { maxUnavailable: { kind: 'count', n: 1 }, rackFailStop: false },
    commandTimeoutMs: 600000,
    lockTtlMs: 3600000,
    runsDir: runs,
    extraVars: ['{"ansible_become_password":"<redacted>"}', 'gpufleet_rack=r1'],
  }),
)

describe('usage errors exit 2, with a message and no stack', () => {
  it.each(USAGE_ERRORS)('%s', async (_name, args, message) => {
    const r = await gpufleet(args)
    expect({ exitCode: r.exitCode, stdout: r.stdout }).toEqual({ exitCode: 2, stdout: '' })
    expect(r.stderr).toMatch(message)
    expect(r.stderr).not.toMatch(/internal error \(please report it\)|^\s+at .+:\d+:\d+\)?$/m)
  })

  it('a bad ansible.cfg is a usage error too, with file:line', async () => {
    const dir = mkdtempSync(join(root, 'cfg-'))
    writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nforks = many\n')
    const r = await gpufleet(['inventory'], { cwd: dir })
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain(`${join(dir, 'ansible.cfg')}:2: forks: expected a whole number, got "many"`)
  })
})

describe('what is not an error exits 0', () => {
  it.each([[['--help']], [['run', '--help']], [['sim', 'up', '--help']], [['--version']]])('%j', async (args) => {
    expect((await gpufleet(args)).exitCode).toBe(0)
  })

  it('--list-hosts prints the selected hosts and connects to nothing; -i may come from ANSIBLE_INVENTORY', async () => {
    const r = await gpufleet(['run', 'prep', '--list-hosts', '--limit', 'rack_a'], { env: { ANSIBLE_INVENTORY: inv } })
    expect({ exitCode: r.exitCode, stdout: r.stdout }).toEqual({ exitCode: 0, stdout: '  hosts (1):\n    p9-a01.gpu.example.com' })
  })

  it("a world-writable directory's ansible.cfg is ignored with a warning", async () => {
    const dir = mkdtempSync(join(root, 'ww-'))
    writeFileSync(join(dir, 'ansible.cfg'), `[defaults]\ninventory = ${inv}\n`)
    chmodSync(dir, 0o777)
    const r = await gpufleet(['inventory'], { cwd: dir })
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain(`warning: ignoring ${join(dir, 'ansible.cfg')}: the directory ${dir} is world-writable`)
    expect(r.stderr).toContain('no inventory: pass -i')
    const named = await gpufleet(['inventory'], { cwd: dir, env: { ANSIBLE_CONFIG: join(dir, 'ansible.cfg') } })
    expect({ exitCode: named.exitCode, warned: named.stderr.includes('world-writable') }).toEqual({ exitCode: 0, warned: false })
    expect(named.stdout).toContain('p9-a01.gpu.example.com')
  })
})
