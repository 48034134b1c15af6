import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectError } from '../../src/errors.js'
import { createConnector } from '../../src/transport/connect.js'
import type { Transport } from '../../src/transport/types.js'
import { sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

describe('ssh transport exec against real OpenSSH', () => {
  let sshd: TestSshd
  let t: Transport
  beforeAll(async () => {
    sshd = await startSshd()
    t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd))
  })
  afterAll(async () => {
    await t?.close()
    await sshd?.stop()
  })

  it('returns stdout, stderr and the exit code as values', async () => {
    const r = await t.exec('echo out; echo err >&2; exit 3')
    expect(r).toMatchObject({ command: 'echo out; echo err >&2; exit 3', exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n' })
    // durationMs is the command's own wall time: a 300 ms sleep cannot take less.
    expect((await t.exec('sleep 0.3')).durationMs).toBeGreaterThanOrEqual(300)
    expect((await t.exec('id -un')).stdout).toBe('gpufleet-test\n')
  })

  it('runs every command under umask 077 whatever the login umask: files it creates are private', async () => {
    expect((await t.exec('umask')).stdout).toBe('0077\n')
    const r = await t.exec('d=$(mktemp -d) && echo x > "$d/f" && stat -c %a "$d/f" && rm -rf "$d"')
    expect(r.stdout).toBe('600\n')
    expect(r.command).toBe('d=$(mktemp -d) && echo x > "$d/f" && stat -c %a "$d/f" && rm -rf "$d"') // reported as given
  })

  it('runs every exec as a channel on one connection', async () => {
    const before = sshd.counts().connections.get(sshd.port) ?? 0
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => t.exec(`echo ${i}`)))
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 15 }, (_, i) => `${i}\n`))
    expect(sshd.counts().connections.get(sshd.port)).toBe(before)
    expect(before).toBe(1)
  })

  it('reports a signal death', async () => {
    const r = await t.exec('kill -TERM $$')
    expect(r.exitCode).toBeNull()
    expect(r.signal).toBe('SIGTERM')
  })

  it('feeds stdin and streams complete lines', async () => {
    const lines: string[] = []
    const r = await t.exec('cat; printf "a\\nb\\npartial"; echo e1 >&2', { stdin: 'in1\nin2\n', onLine: (s, l) => lines.push(`${s}:${l}`) })
    expect(r.stdout).toBe('in1\nin2\na\nb\npartial')
    expect(lines.filter((l) => l.startsWith('stdout:'))).toEqual(['stdout:in1', 'stdout:in2', 'stdout:a', 'stdout:b', 'stdout:partial'])
    expect(lines).toContain('stderr:e1')
  })

  it('keeps a 1 MiB+ stdout intact', async () => {
    const r = await t.exec('head -c 1200000 /dev/zero | tr "\\0" x; echo; seq 1 20000')
    expect(r.exitCode).toBe(0)
    const [xs, ...rest] = r.stdout.split('\n')
    expect(xs).toBe('x'.repeat(1_200_000))
    expect(rest.slice(0, -1).map(Number)).toEqual(Array.from({ length: 20000 }, (_, i) => i + 1))
  })

  it('times out: closes the channel, exitCode null, says so in stderr', async () => {
    const started = Date.now()
    const r = await t.exec('echo started; sleep 30', { timeoutMs: 500 })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(r.exitCode).toBeNull()
    expect(r.stdout).toBe('started\n')
    expect(r.stderr).toMatch(/timed out after 500 ms/)
    expect(t.connected).toBe(true)
    expect((await t.exec('echo still')).stdout).toBe('still\n')
  })

  it('aborts through an AbortSignal', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 300)
    const r = await t.exec('sleep 30', { signal: ac.signal })
    expect(r.exitCode).toBeNull()
    expect(r.stderr).toMatch(/aborted/)
  })
})

describe('a connection the server drops mid-command', () => {
  it('throws ConnectError(unreachable) saying the command was interrupted, and flips connected', async () => {
    const sshd = await startSshd()
    try {
      const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd))
      const running = t.exec('echo begun; sleep 30')
      await new Promise((r) => setTimeout(r, 500))
      expect(sshd.dropConnections()).toBeGreaterThan(0)
      const error = await running.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ConnectError)
      expect((error as ConnectError).reason).toBe('unreachable')
      expect((error as ConnectError).message).toMatch(/interrupted/)
      expect(t.connected).toBe(false)
      await expect(t.exec('true')).rejects.toMatchObject({ reason: 'unreachable' })
      await t.close()
    } finally {
      await sshd.stop()
    }
  })

  it('reports a refused port as unreachable', async () => {
    const sshd = await startSshd()
    const port = sshd.port
    await sshd.stop()
    const error = await createConnector({ knownHostsFile: '/dev/null', agentSocket: null })
      .connect(sshdHost(sshd, { port }))
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(error).toBeInstanceOf(ConnectError)
    expect((error as ConnectError).reason).toBe('unreachable')
  })
})
