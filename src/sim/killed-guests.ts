// Guests still running when a host goes down die with it: what the rack records for each.
import fs from 'node:fs'
import path from 'node:path'
import { readGuests } from './guests.js'

// One detail line per guest running now in the host's tree `view`, with libvirt-guests' policy if enabled.
export function killedGuestDetails(view: string, reason: string): string[] {
  let lg = ''
  try {
    const conf = fs.readFileSync(path.join(view, 'etc/sysconfig/libvirt-guests'), 'utf8')
    // lstat: the link's absolute target only resolves inside the host's root
    const enabled = fs.lstatSync(path.join(view, 'etc/systemd/system/multi-user.target.wants/libvirt-guests.service'), { throwIfNoEntry: false }) !== undefined
    if (enabled) lg = ` (libvirt-guests ON_SHUTDOWN=${/^ON_SHUTDOWN=(\w+)/m.exec(conf)?.[1] ?? 'suspend'})`
  } catch {
    /* not configured */
  }
  return readGuests(view, Date.now())
    .filter((g) => g.running)
    .map((g) => `${g.name}: still running at ${reason}${lg}`)
}
