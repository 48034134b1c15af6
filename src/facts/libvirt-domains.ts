import { defineFact } from './define.js'
import { parseDomainXml, type DomainXml } from './parse-domain-xml.js'
import { splitSections } from './sections.js'

// One defined domain with its persistent and (when running) live XML.
export interface LibvirtDomain {
  name: string
  state: string // virsh domstate: 'running', 'shut off', 'paused', ...
  config: DomainXml // `dumpxml --inactive`: what the next start uses (--config changes land here)
  live?: DomainXml // `dumpxml` of a running/paused domain (--live changes land here)
}

// Every defined libvirt domain on the host.
export interface LibvirtDomains {
  available: boolean // virsh installed
  domains: LibvirtDomain[]
}

// Every defined domain (`virsh list --all --name`) with its persistent and live XML. A domain's
// <description> and <metadata> are free text whoever defines the VM writes, so a line there starting
// with '@' is indented: it can then fake neither this fact's `@@` sections nor the gather script's
// fact markers (the XML reader does not care about leading blanks).
export const libvirtDomains = defineFact({
  name: 'libvirt.domains',
  command: [
    'command -v virsh >/dev/null 2>&1 || { echo "@@ no-virsh"; exit 0; }',
    'virsh list --all --name | while IFS= read -r d; do',
    '  [ -n "$d" ] || continue',
    '  s=$(virsh domstate "$d" 2>/dev/null | head -n 1)',
    '  echo "@@ domain $d"; echo "@@ state $s"',
    '  echo "@@ config"; virsh dumpxml --inactive "$d" | sed "s/^@/ @/"; echo',
    '  case "$s" in running|paused) echo "@@ live"; virsh dumpxml "$d" | sed "s/^@/ @/"; echo;; esac',
    'done',
  ].join('\n'),
  parse(stdout): LibvirtDomains {
    const sections = splitSections(stdout)
    if (sections.some((s) => s.name === 'no-virsh')) return { available: false, domains: [] }
    const domains: LibvirtDomain[] = []
    let cur: LibvirtDomain | null = null
    for (const s of sections) {
      if (s.name === 'domain') {
        cur = { name: s.arg, state: '', config: { hostdevs: [], pciAddresses: [] } }
        domains.push(cur)
      } else if (cur && s.name === 'state') cur.state = s.arg.trim()
      else if (cur && s.name === 'config') cur.config = parseDomainXml(s.lines.join('\n'))
      else if (cur && s.name === 'live') cur.live = parseDomainXml(s.lines.join('\n'))
    }
    return { available: true, domains }
  },
})
