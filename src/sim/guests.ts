// A simulated host's guests as its spec describes them (`guests:`, `libvirtGuests:`), written into
// the host's own upper directory before its first boot, and read back from its live tree.
import fs from 'node:fs'
import path from 'node:path'
import { renderDomainXml } from './domain-xml.js'
import { domain, type Profile } from './profiles.js'
import type { Faults } from './spec.js'

// Where the emulated virsh reads how a guest answers ACPI: 'ignore' or a delay in ms.
export const GUEST_ACPI_DIR = 'var/lib/sim-hw/guests'

function write(file: string, content: string, mode?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
  if (mode !== undefined) fs.chmodSync(file, mode)
}

function link(target: string, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.rmSync(file, { force: true })
  fs.symlinkSync(target, file)
}

// Writes the guests' definitions, autostart links, ACPI behaviour and libvirt-guests settings into
// a host's upper directory. Autostart guests start at every boot; the other `running` ones are
// started once after the first boot (SimHost.powerOn).
export function seedGuests(upper: string, p: Profile, faults: Faults): void {
  const at = (rel: string) => path.join(upper, rel)
  let extra = p.domains.length
  for (const [name, g] of Object.entries(faults.guests ?? {})) {
    if (!p.domains.some((d) => d.name === name)) {
      extra++
      write(at(`etc/libvirt/qemu/${name}.xml`), renderDomainXml(p, domain(name, extra, false), extra), 0o600)
    }
    if (g.autostart) link(`/etc/libvirt/qemu/${name}.xml`, at(`etc/libvirt/qemu/autostart/${name}.xml`))
    if (g.acpi !== undefined) write(at(`${GUEST_ACPI_DIR}/${name}.acpi`), `${g.acpi}\n`)
  }
  const lg = faults.libvirtGuests
  if (lg) {
    const lines = ['# written by gpufleet sim', ...(lg.onShutdown ? [`ON_SHUTDOWN=${lg.onShutdown}`] : []), ...(lg.shutdownTimeout !== undefined ? [`SHUTDOWN_TIMEOUT=${lg.shutdownTimeout}`] : [])]
    write(at('etc/sysconfig/libvirt-guests'), lines.join('\n') + '\n')
    write(at('etc/systemd/system/libvirt-guests.service'), '[Unit]\nDescription=Suspend/Resume Running libvirt Guests\nAfter=libvirtd.service\n\n[Service]\nType=oneshot\nExecStart=/bin/true\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n')
    if (lg.enabled !== false) link('/etc/systemd/system/libvirt-guests.service', at('etc/systemd/system/multi-user.target.wants/libvirt-guests.service'))
  }
}

// One guest as the host's live tree says: running (live XML present, no ACPI shutdown completed).
export interface SimGuest {
  name: string
  running: boolean
  autostart: boolean
}

// The guests of a host from its root (as this process sees it), at time `now`.
export function readGuests(root: string, now: number): SimGuest[] {
  const conf = path.join(root, 'etc/libvirt/qemu')
  let names: string[] = []
  try {
    names = fs
      .readdirSync(conf)
      .filter((f) => f.endsWith('.xml'))
      .map((f) => f.replace(/\.xml$/, ''))
      .sort()
  } catch {
    return []
  }
  return names.map((name) => ({ name, running: liveRunning(root, name, now), autostart: fs.lstatSync(path.join(conf, 'autostart', `${name}.xml`), { throwIfNoEntry: false }) !== undefined }))
}

// A guest runs while its live XML exists and no ACPI shutdown it accepted has completed.
function liveRunning(root: string, name: string, now: number): boolean {
  const live = path.join(root, 'run/libvirt/qemu')
  if (!fs.existsSync(path.join(live, `${name}.xml`))) return false
  try {
    const due = Number(fs.readFileSync(path.join(live, `${name}.shutdown`), 'utf8').trim())
    return !(due <= now)
  } catch {
    return true
  }
}
