// Which hosts a rack has: name, rack, address, profile, faults and tool costs of each, from
// startRack()'s options over the spec.
import { getProfile, type Profile } from './profiles.js'
import { resolveHost, type Faults, type RackSpec } from './spec.js'
import { resolveToolCosts, type ToolCosts, type ToolCostsSetting } from './tool-costs.js'

// One host the rack will start.
export interface PlannedHost {
  name: string
  rack: string
  address: string
  profile: Profile
  faults: Faults
  costs: ToolCosts
}

// What the plan is made from (the options already merged over the spec).
export interface RackPlanInput {
  count: number
  perRack: number
  defaultProfile: string
  costSetting: ToolCostsSetting | undefined
  dracutTimeMs: number | undefined
}

function profilePrefix(p: string): string {
  return p === 's822lc' ? 'p8' : 'p9'
}

// Hosts `p9-r<rack>-<nn>` at 127.9.<rack>.<n>, `perRack` per rack.
export function planRack(spec: RackSpec, input: RackPlanInput): PlannedHost[] {
  const { count, perRack, defaultProfile, costSetting, dracutTimeMs } = input
  return Array.from({ length: count }, (_, i) => {
    const rackNo = Math.floor(i / perRack) + 1
    const idx = (i % perRack) + 1
    const name = `${profilePrefix(defaultProfile)}-r${rackNo}-${String(idx).padStart(2, '0')}`
    const r = resolveHost(spec, name, defaultProfile)
    const profile = getProfile(r.profile)
    const costs = resolveToolCosts(costSetting, profile)
    if (dracutTimeMs !== undefined) costs.ms.dracut = dracutTimeMs
    return { name, rack: `r${rackNo}`, address: `127.9.${rackNo}.${idx}`, profile, faults: r.faults, costs }
  })
}
