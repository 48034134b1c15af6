import { describe, expect, it } from 'vitest'
import { ConnectError, type ConnectFailure } from '../../src/errors.js'
import type { FleetEvent } from '../../src/events.js'
import type { InventoryHost } from '../../src/inventory/types.js'
import { connectWithRetry } from '../../src/runner/connect-retry.js'
import { createEventBus } from '../../src/runner/emit.js'
import type { Transport } from '../../src/transport/types.js'

const host = { name: 'h1' } as InventoryHost
const transport = { host: 'h1' } as Transport

function flaky(failures: ConnectFailure[]) {
  let calls = 0
  const connect = async () => {
    const reason = failures[calls++]
    if (reason) throw new ConnectError('h1', reason, `failed: ${reason}`)
    return transport
  }
  return { connect, calls: () => calls }
}

describe('connectWithRetry', () => {
  it('retries transient failures with backoff, reporting each retry', async () => {
    const f = flaky(['unreachable', 'timeout'])
    const events: FleetEvent[] = []
    const t = await connectWithRetry(f.connect, host, { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, createEventBus([(e) => events.push(e)]))
    expect(t).toBe(transport)
    expect(f.calls()).toBe(3)
    expect(events.map((e) => e.kind === 'connect-retry' && [e.attempt, e.reason])).toEqual([
      [1, 'unreachable'],
      [2, 'timeout'],
    ])
  })

  it('gives up after the last attempt', async () => {
    const f = flaky(['unreachable', 'unreachable', 'unreachable'])
    await expect(connectWithRetry(f.connect, host, { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, () => undefined)).rejects.toMatchObject({ reason: 'unreachable' })
    expect(f.calls()).toBe(2)
  })

  it.each(['hostkey-changed', 'hostkey-unknown', 'auth'] as const)('never retries %s', async (reason) => {
    const f = flaky([reason])
    await expect(connectWithRetry(f.connect, host, { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 }, () => undefined)).rejects.toMatchObject({ reason })
    expect(f.calls()).toBe(1)
  })
})
