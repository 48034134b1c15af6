import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectError } from '../../src/errors.js'
import { createConnector } from '../../src/transport/connect.js'
import { checkOpenFileLimit, openFileLimit } from '../../src/transport/fd-limit.js'
import { sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

// A TCP server that accepts and never says a word (a wedged sshd, or a firewall that accepts).
async function silentServer(): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => undefined)
    s.resume() // read (and drop) what the client sends, so its close is seen
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

describe('connect timeouts, handshake cap and keepalives', () => {
  let sshd: TestSshd
  beforeAll(async () => {
    sshd = await startSshd()
  })
  afterAll(async () => {
    await sshd?.stop()
  })

  it('gives up on a server that never speaks with reason timeout', async () => {
    const silent = await silentServer()
    try {
      const started = Date.now()
      const error = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, connectTimeoutMs: 400 })
        .connect(sshdHost(sshd, { port: silent.port }))
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(error).toBeInstanceOf(ConnectError)
      expect((error as ConnectError).reason).toBe('timeout')
      expect(Date.now() - started).toBeLessThan(3000)
    } finally {
      await silent.close()
    }
  })

  it('caps concurrent handshakes across all connects of one connector', async () => {
    const silent = await silentServer()
    try {
      const connector = createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, connectTimeoutMs: 300, maxConcurrentHandshakes: 2 })
      const log: string[] = []
      silent.server.on('connection', () => log.push('accept'))
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          connector.connect(sshdHost(sshd, { name: `h${i}`, port: silent.port })).catch((e: unknown) => {
            log.push('timeout')
            throw e
          }),
        ),
      )
      expect(results.every((r) => r.status === 'rejected' && (r.reason as ConnectError).reason === 'timeout')).toBe(true)
      // Two handshakes at a time: two accepts, then each timeout frees one slot for the next.
      expect(log.slice(0, 3)).toEqual(['accept', 'accept', 'timeout'])
      expect(log.filter((e) => e === 'accept')).toHaveLength(6)
      let inFlight = 0
      for (const e of log) {
        inFlight += e === 'accept' ? 1 : -1
        expect(inFlight).toBeLessThanOrEqual(2)
      }
    } finally {
      await silent.close()
    }
  })

  it('notices a host that hangs silently within seconds (keepalive) and fails its running command', async () => {
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, keepaliveIntervalMs: 300 }).connect(sshdHost(sshd))
    const running = t.exec('sleep 60')
    await new Promise((r) => setTimeout(r, 200))
    const started = Date.now()
    expect(sshd.signalConnections('SIGSTOP')).toBeGreaterThan(0)
    try {
      const error = await running.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ConnectError)
      expect((error as ConnectError).reason).toBe('unreachable')
      expect(Date.now() - started).toBeLessThan(5000)
      expect(t.connected).toBe(false)
    } finally {
      sshd.signalConnections('SIGCONT')
      sshd.dropConnections()
      await t.close()
    }
  })

  it('aborts a connect through an AbortSignal', async () => {
    const silent = await silentServer()
    try {
      const ac = new AbortController()
      setTimeout(() => ac.abort(), 100)
      const error = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, connectTimeoutMs: 10_000 })
        .connect(sshdHost(sshd, { port: silent.port }), ac.signal)
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect((error as ConnectError).message).toMatch(/aborted/)
    } finally {
      await silent.close()
    }
  })
})

describe('open-file limit check', () => {
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 1048576              files\n`
  it('passes when the hosts fit, and explains the fix when they do not', () => {
    expect(openFileLimit(limits('1024'))).toBe(1024)
    expect(checkOpenFileLimit(100, limits('1024'))).toEqual({ ok: true })
    const bad = checkOpenFileLimit(1000, limits('1024'))
    expect(bad.ok).toBe(false)
    expect(bad.message).toMatch(/1000 hosts need about 3064 file descriptors but the soft limit \(ulimit -n\) is 1024/)
    expect(bad.message).toMatch(/ulimit -n 6128/)
    expect(checkOpenFileLimit(1_000_000, limits('unlimited'))).toEqual({ ok: true })
    expect(openFileLimit()).toBeGreaterThan(0) // this process's real limit
  })
})
