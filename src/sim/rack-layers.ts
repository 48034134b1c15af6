// The shared, read-only layers of a rack: /usr tools, /dev, one stock install per profile and
// one /usr per OS family.
import { buildDevLayer, buildOsUsrLayer, buildProfileLayer, buildUsrLayer } from './layers.js'
import { osFamily, type OsFamily } from './os-layout.js'
import type { Profile } from './profiles.js'
import type { RackFs } from './rack-fs.js'
import type { PlannedHost } from './rack-plan.js'
import { wrapCostedTools } from './tool-costs.js'

// Builds every layer the planned hosts use; returns their OS families.
export function buildRackLayers(rfs: RackFs, plan: PlannedHost[]): Set<OsFamily> {
  const { nsView, layer } = rfs
  buildUsrLayer(nsView(layer('usr')))
  // Wrappers only when some tool costs something: a free tool then costs no extra bash.
  const costed = plan.some((h) => Object.entries(h.costs.ms).some(([t, ms]) => t !== 'dracut' && ms > 0))
  if (costed) wrapCostedTools(nsView(layer('usr')))
  buildDevLayer(nsView(layer('dev')))
  const used = new Map<string, Profile>(plan.map((h) => [h.profile.name, h.profile]))
  for (const p of used.values()) buildProfileLayer(nsView(layer(p.name)), p)
  const families = new Set([...used.values()].map(osFamily))
  for (const f of families) {
    buildOsUsrLayer(nsView(layer(`usr-${f}`)), f)
    // The family's own tools (EL's grubby and lsinitrd, Ubuntu's grub-*) pay their costs too.
    if (costed) wrapCostedTools(nsView(layer(`usr-${f}`)))
  }
  return families
}
