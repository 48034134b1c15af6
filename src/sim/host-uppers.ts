// Each host's own writable layer (its overlay's upper dir), seeded with what makes it this host.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { seedGuests } from './guests.js'
import { seedHostPlatform } from './host-platform.js'
import { seedHostUpper } from './layers.js'
import type { RackFs } from './rack-fs.js'
import type { PlannedHost } from './rack-plan.js'
import { seedToolCosts } from './tool-costs.js'

// Creates every host's upper/work/root dirs and DIR/ctl/<host>, and seeds the upper dirs.
export function seedHostUppers(rfs: RackFs, dir: string, plan: PlannedHost[]): void {
  const { nsView, layer } = rfs
  const hashes = new Map<string, string>()
  const hashFor = (pw: string) => {
    if (!hashes.has(pw)) hashes.set(pw, execFileSync('perl', ['-e', 'print crypt($ARGV[0], q($6$) . $ARGV[1] . q($))', pw, randomBytes(6).toString('hex')]).toString())
    return hashes.get(pw)!
  }
  for (const h of plan) {
    const base = nsView(path.join(rfs.fsDir, 'hosts', h.name))
    for (const d of ['upper', 'work', 'root']) fs.mkdirSync(path.join(base, d), { recursive: true })
    fs.mkdirSync(path.join(dir, 'ctl', h.name), { recursive: true })
    const upper = path.join(base, 'upper')
    seedHostUpper(upper, {
      name: h.name,
      address: h.address,
      machineId: randomBytes(16).toString('hex'),
      profile: h.profile,
      sudoNoPassword: !h.faults.sudoPassword,
      ...(h.faults.sudoPassword ? { adminPasswordHash: hashFor(h.faults.sudoPassword) } : {}),
      profileLayer: nsView(layer(h.profile.name)),
    })
    fs.mkdirSync(path.join(upper, 'var/lib/sim-hw'), { recursive: true })
    seedToolCosts(upper, h.costs)
    if (h.faults.dracutNoSpace) fs.writeFileSync(path.join(upper, 'var/lib/sim-hw/fault-dracut-enospc'), '1\n')
    if (h.faults.bootFreeKiB !== undefined) fs.writeFileSync(path.join(upper, 'var/lib/sim-hw/fault-boot-free-kb'), `${h.faults.bootFreeKiB}\n`)
    seedGuests(upper, h.profile, h.faults)
    seedHostPlatform(upper, path.join(base, 'usr-hide'), h.faults) // signed boot, lockdown, NVRAM, missing tools, os-release
  }
}
