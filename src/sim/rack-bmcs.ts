// One Redfish endpoint per host, at the host's address on a port of its own.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { makeBmcCerts } from './bmc-certs.js'
import type { PlannedHost } from './rack-plan.js'
import { startBmc, type Bmc } from './redfish.js'
import type { SimEvent, SimHost } from './sim-host.js'

export interface RackBmcs {
  bmcs: Map<string, Bmc>
  caFile: string
  passwordFile: string
}

// Writes the CA and DIR/bmc-password, then starts every BMC (the started ones closed on failure).
export async function startRackBmcs(dir: string, plan: PlannedHost[], hosts: Map<string, SimHost>, emit: (e: SimEvent) => void): Promise<RackBmcs> {
  const certs = makeBmcCerts(
    dir,
    plan.map((h) => h.address),
  )
  const passwordFile = path.join(dir, 'bmc-password')
  fs.rmSync(passwordFile, { force: true })
  const bmcPassword = randomBytes(12).toString('base64url')
  fs.writeFileSync(passwordFile, bmcPassword + '\n', { mode: 0o600 })
  const bmcs = new Map<string, Bmc>()
  try {
    for (const h of plan) {
      const host = hosts.get(h.name)!
      bmcs.set(
        h.name,
        await startBmc({
          address: h.address,
          user: 'root',
          password: h.faults.bmcPassword ?? bmcPassword,
          key: certs.key,
          cert: certs.cert,
          host: { name: h.name, powerState: () => (Date.now() < host.powerOffUntil ? 'Off' : 'On'), forceRestart: () => host.powerCycle() },
          record: (detail) => emit({ t: Date.now(), host: h.name, kind: 'bmc', detail }),
        }),
      )
    }
  } catch (e) {
    for (const b of bmcs.values()) await b.close()
    throw e
  }
  return { bmcs, caFile: certs.caFile, passwordFile }
}
