// DIR/known_hosts: `[addr]:port key` for every host (a `wrongHostKey` host gets another key).
import fs from 'node:fs'
import { otherKeyLine } from './key-pairs.js'
import type { PlannedHost } from './rack-plan.js'
import type { SimHost } from './sim-host.js'

export function writeKnownHosts(file: string, plan: PlannedHost[], hosts: Map<string, SimHost>): void {
  const known = plan.map((h) => {
    const host = hosts.get(h.name)!
    const line = h.faults.wrongHostKey ? otherKeyLine() : host.publicKeyLine()
    return `[${h.address}]:${host.port} ${line}`
  })
  fs.writeFileSync(file, known.join('\n') + '\n')
}
