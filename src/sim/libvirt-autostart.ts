// libvirt's autostart at boot, in a simulated host's tree `root` (`run` is its /run).
import fs from 'node:fs'
import path from 'node:path'
import { readOptional as read } from './read-optional.js'

// Domains without host devices start here (their live XML in /run, numbered ids); returns the
// others, which the host starts with `virsh start` once up.
export function autostartDomains(root: string, run: string): string[] {
  const startDomains: string[] = []
  const auto = path.join(root, 'etc/libvirt/qemu/autostart')
  let autos: string[] = []
  try {
    autos = fs.readdirSync(auto).filter((f) => f.endsWith('.xml'))
  } catch {
    /* none */
  }
  let id = 1
  for (const f of autos) {
    const xml = read(path.join(root, 'etc/libvirt/qemu', f))
    if (!xml) continue
    if (xml.includes('<hostdev')) startDomains.push(f.replace(/\.xml$/, ''))
    else fs.writeFileSync(path.join(run, 'libvirt/qemu', f), xml.replace(/<!--[\s\S]*?-->\n\n/, '').replace("<domain type='kvm'>", `<domain type='kvm' id='${id++}'>`))
  }
  fs.writeFileSync(path.join(root, 'var/lib/sim-hw/next-domain-id'), `${id}\n`)
  return startDomains
}
