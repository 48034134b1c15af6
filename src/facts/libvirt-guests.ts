import { defineFact } from './define.js'
import { splitSections } from './sections.js'

// One defined guest, as the drain before a reboot needs it.
export interface LibvirtGuest {
  name: string
  active: boolean // running or paused: it dies if the host reboots under it
  autostart: boolean // libvirt starts it itself at boot
  hostdevs: number // <hostdev> entries in its persistent XML (VFIO devices: no live migration, no managed save); read for active guests only, 0 for the others (the drain never touches them)
}

// libvirt-guests.service, which acts on guests at host shutdown.
export interface LibvirtGuestsService {
  enabled: boolean
  onShutdown: string // ON_SHUTDOWN; libvirt's default when unset is 'suspend'
  shutdownTimeoutS?: number
  file?: string // the config file read
}

// The guests of a hypervisor, active ones in libvirt's order (by domain id: the order they started).
export interface LibvirtGuests {
  available: boolean // virsh installed
  guests: LibvirtGuest[] // active first (in start order), then the rest by name
  service: LibvirtGuestsService
}

// Active guests (`virsh list --name`, by id), inactive and autostart ones, each active guest's
// host-device count, and libvirt-guests' enablement and ON_SHUTDOWN/SHUTDOWN_TIMEOUT (RHEL:
// /etc/sysconfig, Debian: /etc/default). Cheap: only the active guests' XML is read (one dumpxml
// each), so a host with no guests running costs three `virsh list` and no XML at all.
export const libvirtGuests = defineFact({
  name: 'libvirt.guests',
  command: [
    'command -v virsh >/dev/null 2>&1 || { echo "@@ no-virsh"; exit 0; }',
    'echo "@@ active"; virsh list --name',
    'echo "@@ autostart"; virsh list --all --autostart --name',
    'echo "@@ inactive"; virsh list --inactive --name',
    'virsh list --name | while IFS= read -r d; do',
    '  [ -n "$d" ] || continue',
    '  echo "@@ hostdevs $(virsh dumpxml --inactive "$d" | grep -c "<hostdev ") $d"',
    'done',
    'echo "@@ service $(systemctl is-enabled libvirt-guests.service 2>/dev/null)"',
    'for f in /etc/sysconfig/libvirt-guests /etc/default/libvirt-guests; do',
    '  [ -r "$f" ] && { echo "@@ config $f"; grep -E "^[[:space:]]*(ON_SHUTDOWN|SHUTDOWN_TIMEOUT)=" "$f"; }',
    'done',
    'true',
  ].join('\n'),
  parse(stdout): LibvirtGuests {
    const sections = splitSections(stdout)
    const service: LibvirtGuestsService = { enabled: false, onShutdown: 'suspend' }
    if (sections.some((s) => s.name === 'no-virsh')) return { available: false, guests: [], service }
    const names = (name: string) => (sections.find((s) => s.name === name)?.lines ?? []).map((l) => l.trim()).filter(Boolean)
    const active = names('active')
    const autostart = new Set(names('autostart'))
    const hostdevs = new Map<string, number>()
    for (const s of sections.filter((x) => x.name === 'hostdevs')) {
      const m = /^(\d+) (.+)$/.exec(s.arg)
      if (m) hostdevs.set(m[2]!, Number(m[1]))
    }
    const rest = new Set([...names('inactive'), ...hostdevs.keys()].filter((n) => !active.includes(n)))
    const all = [...active, ...[...rest].sort()]
    const guests = all.map((name) => ({ name, active: active.includes(name), autostart: autostart.has(name), hostdevs: hostdevs.get(name) ?? 0 }))
    const svc = sections.find((s) => s.name === 'service')
    service.enabled = /^(enabled|enabled-runtime|alias)$/.test(svc?.arg.trim() ?? '')
    const config = sections.find((s) => s.name === 'config')
    if (config) {
      service.file = config.arg
      for (const line of config.lines) {
        const m = /^\s*(ON_SHUTDOWN|SHUTDOWN_TIMEOUT)=["']?([^"'\s#]*)["']?/.exec(line)
        if (!m) continue
        if (m[1] === 'ON_SHUTDOWN' && m[2]) service.onShutdown = m[2]
        if (m[1] === 'SHUTDOWN_TIMEOUT' && /^\d+$/.test(m[2]!)) service.shutdownTimeoutS = Number(m[2])
      }
    }
    return { available: true, guests, service }
  },
})
