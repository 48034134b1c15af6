// The reboot cycle costs the reboot and little more: asserted on the order of events, never on
// wall time. The stability window runs beside verify's gather; the next host's slot comes the
// moment the previous one is verified and stable, before its lock release and end report.
import { describe, expect, it } from 'vitest'
import { probeDelayMs, RebootEstimate, tcpProbeFor } from '../../src/runner/reboot-wait.js'
import type { FleetEvent } from '../../src/events.js'
import type { InventoryHost } from '../../src/inventory/types.js'
import { createEventBus } from '../../src/runner/emit.js'
import net from 'node:net'
import { fakeFleets, runFake } from './fake-fleet.js'

const fleet = fakeFleets()
const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id'

describe('reboot cycle', () => {
  it("runs the stability window beside verify's gather and hands the slot on before the lock release", async () => {
    const f = fleet({ h1: { rebootMs: 30 }, h2: { rebootMs: 30 } })
    const at: Array<{ event: string; records: number }> = []
    const events: FleetEvent[] = []
    const { result } = await runFake(f, {
      roll: { maxUnavailable: { kind: 'count', n: 1 }, rackFailStop: false },
      rebootWait: { pollMinMs: 10, pollMaxMs: 40, probeEveryMs: 50, stabilityMs: 400 },
      emit: createEventBus([
        (e) => {
          events.push(e)
          if (e.kind === 'slot-released' || e.kind === 'slot-acquired') at.push({ event: `${e.kind} ${e.host}`, records: f.records.length })
        },
      ]),
    })
    expect(result.outcomes).toEqual({ h1: 'changed', h2: 'changed' })
    for (const h of ['h1', 'h2']) {
      const mine = f.records.map((r, i) => ({ ...r, i })).filter((r) => r.host === h)
      const up = mine.findIndex((r) => r.kind === 'up')
      const after = mine.slice(up + 1).filter((r) => r.kind === 'exec')
      // login check, then verify's gather, then the stability check: the gather did not wait for the window
      expect(after[0]!.detail).toBe(BOOT_ID)
      expect(after[1]!.detail).not.toBe(BOOT_ID)
      expect(after[2]!.detail).toBe(BOOT_ID)
      // the slot is held until the stability check ran
      const released = at.find((a) => a.event === `slot-released ${h}`)!
      expect(released.records).toBeGreaterThan(after[2]!.i)
    }
    // h2 gets the slot before h1's lock release (one exec) and end report
    const kinds = events.map((e) => `${e.kind} ${'host' in e ? e.host : ''}`)
    expect(kinds.indexOf('slot-acquired h2')).toBeLessThan(kinds.indexOf('lock-released h1'))
    expect(kinds.indexOf('slot-acquired h2')).toBeLessThan(kinds.indexOf('host-finished h1'))
  })

  it('probes fast near the expected reboot time, sleeps toward it before, backs off long after', () => {
    expect(probeDelayMs(0, undefined, 200, 5000)).toBe(200) // no estimate: fast from the start
    expect(probeDelayMs(179_000, undefined, 200, 5000)).toBe(200)
    expect(probeDelayMs(0, 60_000, 200, 5000)).toBe(5000) // 42 s before the fast window: capped sleep
    expect(probeDelayMs(41_000, 60_000, 200, 5000)).toBe(1000) // sleeps exactly up to the fast window
    expect(probeDelayMs(50_000, 60_000, 200, 5000)).toBe(200)
    expect(probeDelayMs(129_000, 60_000, 200, 5000)).toBe(200)
    const late = [140_000, 160_000, 200_000, 400_000].map((e) => probeDelayMs(e, 60_000, 200, 5000))
    expect(late).toEqual([...late].sort((a, b) => a - b)) // backs off
    expect(late[late.length - 1]).toBe(5000)
  })

  it('expects the median reboot time seen so far', () => {
    const e = new RebootEstimate()
    expect(e.expectedMs).toBeUndefined()
    for (const ms of [3000, 90_000, 3200]) e.observe(ms)
    expect(e.expectedMs).toBe(3200)
  })

  it('probes the SSH port over TCP only where the inventory gives the address', async () => {
    const server = net.createServer((s) => s.destroy())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    const host = (ssh: Partial<InventoryHost['ssh']>): InventoryHost => ({ name: 'h', groups: ['all'], vars: {}, connection: 'ssh', ssh: { hostname: '127.0.0.1', hostnameFromInventory: true, identityFiles: [], port, ...ssh }, become: false, becomeUser: 'root', assignments: [] })
    try {
      expect(await tcpProbeFor(host({}))).toBe(true)
      expect(tcpProbeFor(host({ hostnameFromInventory: false }))).toBeUndefined() // ~/.ssh/config decides
      expect(tcpProbeFor(host({ proxyJump: 'bastion' }))).toBeUndefined()
    } finally {
      await new Promise((r) => server.close(r))
    }
    expect(await tcpProbeFor(host({}))).toBe(false) // refused: still down
  })
})
