import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { createEventBus } from '../../src/runner/emit.js'
import { rebootAndWait, rebootCommand, RebootWaitError } from '../../src/runner/reboot-wait.js'
import { fakeFleets, type FakeHostOptions } from './fake-fleet.js'

const fleet = fakeFleets()

async function reboot(options: FakeHostOptions, timeoutMs = 1000, stabilityMs = 0) {
  const f = fleet({ h: options })
  const host = f.inventory()[0]!
  const events: FleetEvent[] = []
  const journal: string[] = []
  const t = await f.connect(host)
  const before = f.hosts.get('h')!.bootId
  const promise = rebootAndWait(
    t,
    before,
    {
      host,
      connect: f.connect,
      emit: createEventBus([(e) => events.push(e)]),
      runId: 'run-9',
      become: false,
      beforeIssue: (b) => journal.push(`reboot ${b}`),
      afterUp: (a) => journal.push(`rebooted ${a}`),
    },
    { timeoutMs, stabilityMs, pollMinMs: 10, pollMaxMs: 50, probeEveryMs: 50 },
  )
  return { f, events, journal, before, promise }
}

describe('rebootAndWait', () => {
  it('requires the host to go down and return with a new boot_id, journaling before the reboot', async () => {
    const { f, events, journal, before, promise } = await reboot({ rebootMs: 60 }, 2000, 30)
    const result = await promise
    const after = f.hosts.get('h')!.bootId
    expect(result.bootIdAfter).toBe(after)
    expect(after).not.toBe(before)
    expect(events.map((e) => e.kind)).toEqual(['reboot-issued', 'host-down', 'host-up'])
    expect(journal).toEqual([`reboot ${before}`, `rebooted ${after}`])
    expect(result.transport.connected).toBe(true)
    await result.transport.close()
  })

  it('fails, host still up, when the host never goes down', async () => {
    const { promise } = await reboot({ ignoresReboot: true }, 300)
    const error = await promise.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RebootWaitError)
    expect((error as RebootWaitError).hostDown).toBe(false)
    expect((error as Error).message).toMatch(/never went down/)
  })

  it('fails, host down, when the host never comes back', async () => {
    // 2 s: long enough for the host to be seen going down on a loaded machine.
    const { promise, events } = await reboot({ neverReturns: true }, 2000)
    const error = await promise.catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/^\[h\] did not come back within 2s after the reboot \(last: .+\)$/)
    expect((error as RebootWaitError).hostDown).toBe(true)
    expect(events.map((e) => e.kind)).toEqual(['reboot-issued', 'host-down'])
  })

  it('fails at once, without retrying, when the host key changed across the reboot', async () => {
    const started = Date.now()
    const { promise } = await reboot({ rebootMs: 20, hostKeyChangesOnReboot: true }, 5000)
    await expect(promise).rejects.toMatchObject({ reason: 'hostkey-changed' })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('issues a detached reboot that leaves a marker with the run id in /run', () => {
    const cmd = rebootCommand("run-'x")
    expect(cmd).toContain(`printf '%s\\n' 'run-'"'"'x' > /run/gpufleet/reboot-issued`)
    expect(cmd).toMatch(/nohup sh -c 'systemctl reboot \|\| reboot' >\/dev\/null 2>&1 <\/dev\/null &$/) // no delay before the reboot
  })
})
