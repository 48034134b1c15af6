import { quote } from '../../shell.js'
import { hostdevXml, sourcePattern } from './hostdev-xml.js'
import type { PciTuple } from '../../facts/parse-domain-xml.js'
import { phbXml, type NewPhb } from './guest-phbs.js'

// One device to attach or detach and in which XMLs (config, live).
export interface HostdevChange {
  source: string // host PCI address
  guest?: PciTuple // attach only: chosen guest address (undefined: libvirt chooses)
  config: boolean // apply with --config (persistent definition)
  live: boolean // apply with --live (running domain)
}

// One script that attaches (or detaches) a whole IOMMU group's devices to one domain with
// `virsh attach-device DOM FILE --config [--live]`, undoing what it did if any device fails (a half-
// attached group makes the domain unstartable: "group N is not viable"), then checks `dumpxml`.
// On attach, `phbs` are PHB controllers added to the definition first (--config: PHBs cannot be
// hot-plugged), and removed again if the group fails.
export function hostdevScript(action: 'attach' | 'detach', domain: string, changes: HostdevChange[], phbs: NewPhb[] = []): string {
  const lines = ['set -u', `dom=${quote(domain)}`, 'say() { echo "gpufleet: $*" >&2; }', 'd=$(mktemp -d) || exit 1', 'trap \'rm -rf "$d"\' EXIT']
  phbs.forEach((p) => lines.push(`printf '%s\\n' ${quote(phbXml(p))} > "$d/phb${p.index}.xml" || exit 1`))
  changes.forEach((c, i) => lines.push(`printf '%s\\n' ${quote(hostdevXml(c.source, action === 'attach' ? c.guest : undefined))} > "$d/${i}.xml" || exit 1`))
  const flags = (c: HostdevChange) => [c.config ? '--config' : '', c.live ? '--live' : ''].filter(Boolean).join(' ')
  const undoVerb = action === 'attach' ? 'detach-device' : 'attach-device'
  lines.push('undo() {')
  for (let i = changes.length - 1; i >= 0; i--) lines.push(`  [ -z "\${done${i}:-}" ] || virsh ${undoVerb} "$dom" "$d/${i}.xml" ${flags(changes[i])} >&2 || say ${quote(`could not undo ${changes[i].source}`)}`)
  for (const p of [...phbs].reverse()) lines.push(`  [ -z "\${phb${p.index}:-}" ] || virsh detach-device "$dom" "$d/phb${p.index}.xml" --config >&2 || say ${quote(`could not remove PHB ${p.index}`)}`)
  lines.push('  :', '}')
  for (const p of phbs) {
    lines.push(`virsh attach-device "$dom" "$d/phb${p.index}.xml" --config || { say ${quote(`adding PHB ${p.index} (spapr-pci-host-bridge) failed; undoing this group`)}; undo; exit 1; }`, `phb${p.index}=1`)
  }
  changes.forEach((c, i) => {
    lines.push(`virsh ${action}-device "$dom" "$d/${i}.xml" ${flags(c)} || { say ${quote(`${action} of ${c.source} failed; undoing this group`)}; undo; exit 1; }`, `done${i}=1`)
  })
  const check = (which: 'config' | 'live', list: HostdevChange[]) => {
    if (list.length === 0) return
    const dump = which === 'config' ? 'virsh dumpxml --inactive "$dom"' : 'virsh dumpxml "$dom"'
    lines.push(`xml=$(${dump} | tr -d '\\n') || { say "cannot read back the ${which} XML of $dom"; exit 1; }`)
    for (const c of list) {
      const test = `printf '%s' "$xml" | grep -Eq -- ${quote(sourcePattern(c.source))}`
      lines.push(action === 'attach' ? `${test} || { say ${quote(`${c.source} is not in the ${which} XML of ${domain} after attach`)}; exit 1; }` : `! ${test} || { say ${quote(`${c.source} is still in the ${which} XML of ${domain} after detach`)}; exit 1; }`)
      // Print what libvirt recorded (the guest address it chose when we left it out).
      if (action === 'attach' && which === 'config') lines.push(`printf '%s' "$xml" | grep -Eo -- ${quote(`<hostdev[^>]*>[[:space:]]*${sourcePattern(c.source)}[^>]*>[[:space:]]*</source>[[:space:]]*<address[^>]*>`)} || true`)
    }
  }
  if (phbs.length) lines.push(`xml=$(virsh dumpxml --inactive "$dom" | tr -d '\\n') || { say "cannot read back the config XML of $dom"; exit 1; }`)
  for (const p of phbs) lines.push(`printf '%s' "$xml" | grep -Eq -- ${quote(`<controller type='pci' index='${p.index}' model='pci-root'>`)} || { say ${quote(`PHB ${p.index} is not in the config XML of ${domain} after attach`)}; exit 1; }`)
  check(
    'config',
    changes.filter((c) => c.config),
  )
  check(
    'live',
    changes.filter((c) => c.live),
  )
  return lines.join('\n') + '\n'
}
