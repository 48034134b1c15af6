// The rack's hosts: one SimHost per planned host, powered on in its keeper-started process.
import path from 'node:path'
import type { ParsedKey } from 'ssh2'
import { newKeyPair } from './key-pairs.js'
import { prepareScript } from './prepare-script.js'
import type { PlannedHost } from './rack-plan.js'
import { SimHost, type SimEvent } from './sim-host.js'

// What every host shares.
export interface HostCommon {
  fsDir: string
  clientPublicKey: ParsedKey
  rebootTimeMs: number
  emit: (e: SimEvent) => void
}

// One SimHost per planned host, each with a host key of its own.
export function createSimHosts(plan: PlannedHost[], common: HostCommon): Map<string, SimHost> {
  const hosts = new Map<string, SimHost>()
  for (const h of plan) {
    const key = newKeyPair()
    hosts.set(
      h.name,
      new SimHost({
        name: h.name,
        rack: h.rack,
        address: h.address,
        profile: h.profile,
        faults: h.faults,
        hostKey: key.private,
        clientPublicKey: common.clientPublicKey,
        rebootTimeMs: common.rebootTimeMs,
        dracutTimeMs: h.costs.ms.dracut,
        root: path.join(common.fsDir, 'hosts', h.name, 'root'),
        emit: common.emit,
      }),
    )
  }
  return hosts
}

// Boots every host in its process (`pids` from the keeper) and starts its SSH server.
export async function powerOnHosts(plan: PlannedHost[], hosts: Map<string, SimHost>, pids: Map<string, number>): Promise<void> {
  await Promise.all(
    plan.map(async (h) => {
      const host = hosts.get(h.name)!
      const pid = pids.get(h.name)
      if (!pid) throw new Error(`sim: host ${h.name} did not start`)
      await host.powerOn(pid, h.faults.prepared ? prepareScript(h.profile) : undefined)
      // A stock install always boots; if it did not, the rack is broken, not the host: say why
      // now instead of writing an inventory with a host that has no port.
      if (host.state === 'bricked') {
        const reason = host.lastBoot && !host.lastBoot.ok ? host.lastBoot.reason : 'unknown'
        throw new Error(`sim: ${h.name} did not boot from its stock install: ${reason}`)
      }
    }),
  )
}
