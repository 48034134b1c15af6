import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { specFromFlags } from '../../src/commands/run.js'
import { ConnectError, UsageError } from '../../src/errors.js'
import { executeRun, findUnfinishedRun, loadRunSpec, type RunSpec } from '../../src/commands/execute.js'
import { Journal, writeRunFile } from '../../src/runner/journal.js'

// A local user other than root (the tests run as root, as gpufleet does on a controller) plants
// directories, runs and symlinks; root's runs must refuse or ignore them and never write through a
// link. `nobody` is the other user.
const NOBODY = 65534

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpufleet-local-state-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'hosts.yaml'), 'all:\n  hosts:\n    p9-01:\n      ansible_host: 127.0.0.1\n      gpufleet_rack: r1\n')
  // A file only root may read or write: what an attacker would like root to overwrite.
  writeFileSync(join(dir, 'secret'), 'root only\n', { mode: 0o600 })
  return dir
}

const flags = (dir: string, extra: Record<string, unknown> = {}) => ({ inventory: join(dir, 'hosts.yaml'), forks: '50', commandTimeout: '30m', lockTtl: '2h', runDir: join(dir, 'runs'), ...extra })

// `plan` (or `run` with check false) with a connect that refuses: everything local happens, no host is touched.
async function plan(dir: string, extra: Record<string, unknown> = {}, check = true) {
  const connected: string[] = []
  const stderr: string[] = []
  const spec = specFromFlags('verify', flags(dir, extra) as never, check, false)
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
  return { result, connected, stderr: stderr.join('') }
}

async function planError(dir: string, extra: Record<string, unknown> = {}): Promise<Error> {
  const error = await plan(dir, extra).then(
    () => new Error('plan succeeded'),
    (e: unknown) => e as Error,
  )
  expect(error).toBeInstanceOf(UsageError)
  return error
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid)
  if (lstatSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid)
}

function modes(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (p: string) => {
    out[p.slice(root.length) || '/'] = (statSync(p).mode & 0o777).toString(8)
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e))
  }
  walk(root)
  return out
}

describe('report directories', () => {
  it("a --report-dir another user owns is refused before any connection; root's file behind its symlink is untouched", async () => {
    const dir = workdir()
    const reports = join(dir, 'reports')
    mkdirSync(reports)
    symlinkSync(join(dir, 'secret'), join(reports, 'summary.json'))
    symlinkSync(join(dir, 'secret'), join(reports, 'plan.txt'))
    chownTree(reports, NOBODY)
    const error = await planError(dir, { reportDir: reports })
    expect(error.message).toContain(`--report-dir ${reports} is owned by uid ${NOBODY}`)
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('root only\n')
    expect(existsSync(join(dir, 'runs'))).toBe(false)
  })

  it('a group- or world-writable --report-dir is refused', async () => {
    const dir = workdir()
    const reports = join(dir, 'reports')
    mkdirSync(reports)
    chmodSync(reports, 0o777)
    expect((await planError(dir, { reportDir: reports })).message).toMatch(/writable by every user \(mode 777\)/)
    chmodSync(reports, 0o775)
    expect((await planError(dir, { reportDir: reports })).message).toMatch(/writable by its group/)
  })

  it('a --report-dir below a directory another user owns is refused (they could swap it)', async () => {
    const dir = workdir()
    const theirs = join(dir, 'theirs')
    mkdirSync(join(theirs, 'reports'), { recursive: true })
    chownSync(theirs, NOBODY, NOBODY)
    expect((await planError(dir, { reportDir: join(theirs, 'reports') })).message).toContain(`${theirs} is owned by uid ${NOBODY}`)
  })

  it('a symlink another user planted on the way to --report-dir is not followed', async () => {
    const dir = workdir()
    mkdirSync(join(dir, 'mine'), { mode: 0o700 })
    symlinkSync(join(dir, 'mine'), join(dir, 'link'))
    lchownSync(join(dir, 'link'), NOBODY, NOBODY) // the link itself
    expect((await planError(dir, { reportDir: join(dir, 'link', 'reports') })).message).toContain(`${join(dir, 'link')} is a symlink owned by uid ${NOBODY}`)
    expect(readdirSync(join(dir, 'mine'))).toEqual([])
  })

  it('plan never writes through a symlink in its own report directory, and creates everything private', async () => {
    const dir = workdir()
    const reports = join(dir, 'reports')
    mkdirSync(join(reports, 'hosts'), { recursive: true, mode: 0o700 })
    for (const name of ['summary.json', 'plan.txt', 'report.html', join('hosts', 'p9-01.json')]) symlinkSync(join(dir, 'secret'), join(reports, name))
    const old = process.umask(0o022)
    try {
      const { result, connected } = await plan(dir, { reportDir: join(reports, 'new', 'deeper') })
      expect(connected).toEqual(['p9-01'])
      // A second plan into the directory with the planted links.
      await plan(dir, { reportDir: reports })
      expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('root only\n')
      expect(lstatSync(join(reports, 'summary.json')).isFile()).toBe(true)
      expect(lstatSync(join(reports, 'hosts', 'p9-01.json')).isFile()).toBe(true)
      // Directories 0700, files 0600, whatever the umask: the run directory and the report directories.
      for (const root of [result.runDir, join(reports, 'new'), reports]) {
        for (const [path, mode] of Object.entries(modes(root))) expect(`${path} ${mode}`).toBe(`${path} ${statSync(join(root, path)).isDirectory() ? '700' : '600'}`)
      }
      expect((statSync(join(dir, 'runs')).mode & 0o777).toString(8)).toBe('700')
    } finally {
      process.umask(old)
    }
  })
})

describe('run directories', () => {
  it('a world-writable shared --run-dir is refused with a message', async () => {
    const dir = workdir()
    mkdirSync(join(dir, 'runs'))
    chmodSync(join(dir, 'runs'), 0o1777)
    expect((await planError(dir)).message).toMatch(/--run-dir .*runs is writable by every user \(mode 1777\)/)
  })

  it('an unfinished run another user planted under the run dir is never adopted, resumed or written to', async () => {
    const dir = workdir()
    const runs = join(dir, 'runs')
    mkdirSync(runs, { mode: 0o700 })
    const spec = specFromFlags('verify', flags(dir) as never, false, false)
    const forged = join(runs, '29991231T000000Z-ffffff')
    writeRunFile(forged, 'options.json', spec)
    const j = new Journal(forged)
    j.append({ t: 1, kind: 'run-started', runId: '29991231T000000Z-ffffff', pid: 1, controller: 'evil', resumed: false })
    j.append({ t: 2, kind: 'reboot', host: 'p9-01', bootIdBefore: 'forged' })
    j.close()
    symlinkSync(join(dir, 'secret'), join(forged, 'events.jsonl'))
    chownTree(forged, NOBODY)
    expect(findUnfinishedRun(spec)).toBeUndefined()
    const { result, stderr } = await plan(dir, {}, false)
    expect(result.runId).not.toBe('29991231T000000Z-ffffff')
    expect(stderr).not.toContain('continuing unfinished run')
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('root only\n')
    expect(() => loadRunSpec(runs, '29991231T000000Z-ffffff')).toThrow(/no run 29991231T000000Z-ffffff of yours/)
  })

  it('an empty or truncated options.json is reported with its path and skipped, not an internal error', async () => {
    const dir = workdir()
    const runs = join(dir, 'runs')
    const spec = specFromFlags('verify', flags(dir) as never, false, false)
    writeRunFile(join(runs, '20260101T000000Z-aaaaaa'), 'options.json', spec)
    writeFileSync(join(runs, '20260101T000000Z-aaaaaa', 'options.json'), '', { mode: 0o600 })
    writeRunFile(join(runs, '20260101T000000Z-bbbbbb'), 'options.json', spec)
    writeFileSync(join(runs, '20260101T000000Z-bbbbbb', 'options.json'), '{"playbook": "ver', { mode: 0o600 })
    const warnings: string[] = []
    expect(findUnfinishedRun(spec, (t) => void warnings.push(t))).toBeUndefined()
    expect(warnings.join('')).toContain(`${join(runs, '20260101T000000Z-aaaaaa', 'options.json')} is empty`)
    expect(warnings.join('')).toContain(`${join(runs, '20260101T000000Z-bbbbbb', 'options.json')} is not valid JSON`)
    const { result, stderr } = await plan(dir, {}, false)
    expect(result.exitCode).toBe(1) // the host failed to connect: the run itself went ahead
    expect(stderr).toContain('warning: skipping run 20260101T000000Z-aaaaaa')
    expect(() => loadRunSpec(runs, '20260101T000000Z-bbbbbb')).toThrow(UsageError)
  })
})

describe('resume re-validates what it loads', () => {
  function saved(dir: string, patch: (s: Record<string, unknown>) => void = () => {}): { runs: string; id: string; file: string } {
    const runs = join(dir, 'runs')
    const id = '20260101T000000Z-cccccc'
    const spec = specFromFlags('verify', flags(dir) as never, false, false) as unknown as Record<string, unknown>
    patch(spec)
    writeRunFile(join(runs, id), 'options.json', spec)
    return { runs, id, file: join(runs, id, 'options.json') }
  }

  it('loads a run of ours as it was saved', () => {
    const dir = workdir()
    const { runs, id } = saved(dir)
    const spec: RunSpec = loadRunSpec(runs, id)
    expect(spec.inventory).toBe(join(dir, 'hosts.yaml'))
    expect(spec.acceptNewHostKeys).toBe(false)
  })

  it('refuses options.json owned by another user or writable by others', () => {
    const dir = workdir()
    const { runs, id, file } = saved(dir)
    chownSync(file, NOBODY, NOBODY)
    expect(() => loadRunSpec(runs, id)).toThrow(/options.json is not a regular file that only you can write \(owner uid 65534/)
    chownSync(file, 0, 0)
    chmodSync(file, 0o666)
    expect(() => loadRunSpec(runs, id)).toThrow(/mode 666/)
  })

  it('refuses options.json that is a symlink', () => {
    const dir = workdir()
    const { runs, id, file } = saved(dir)
    rmSync(file)
    symlinkSync(join(dir, 'secret'), file)
    expect(() => loadRunSpec(runs, id)).toThrow(/is a symlink; refusing to read it/)
  })

  it('checks every saved value like the command line: paths absolute, types right', () => {
    const dir = workdir()
    const cases: Array<[(s: Record<string, unknown>) => void, RegExp]> = [
      [(s) => void (s.inventory = 'hosts.yaml'), /inventory: must be an absolute path or a host list/],
      [(s) => void (s.playbook = '../../tmp/evil.yaml'), /playbook: must be a bundled playbook name or an absolute path/],
      [(s) => void (s.acceptNewHostKeys = 'yes'), /acceptNewHostKeys/],
      [(s) => void (s.knownHosts = 'known_hosts'), /knownHosts: must be an absolute path/],
      [(s) => void (s.forks = 0), /forks/],
      [(s) => void delete s.lockTtlMs, /lockTtlMs/],
    ]
    for (const [patch, message] of cases) {
      const { runs, id } = saved(dir, patch)
      expect(() => loadRunSpec(runs, id)).toThrow(message)
    }
  })

  it('a run id that leaves the run dir is no run', () => {
    const dir = workdir()
    const { runs } = saved(dir)
    expect(() => loadRunSpec(runs, '..')).toThrow(/no run \.\. of yours/)
  })
})
