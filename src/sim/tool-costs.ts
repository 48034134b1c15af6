// What each emulated tool costs on a simulated host. Real hosts pay for their tools (lsinitrd
// decompresses a whole image, EL8's grubby is a shell script, every virsh call is an RPC to
// libvirtd); the emulations answer in a few ms. A rack with costs makes each call take as long as
// on a real host, so benchmarks and timing-sensitive behaviour see realistic numbers.
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { durationSchema as duration } from '../duration.js'
import type { Profile } from './profiles.js'

// The tools a cost can be set for (dracut's cost is its build time: `--dracut-time` / dracutTimeMs).
export const COSTED_TOOLS = ['lsinitrd', 'grubby', 'virsh', 'dracut', 'lspci', 'ppc64_cpu', 'modprobe', 'systemctl', 'grub2-mkconfig', 'grub2-editenv'] as const
export type CostedTool = (typeof COSTED_TOOLS)[number]

// Per call, wall time. Sources: typical timings on RHEL 8 / CentOS 7 POWER hosts (see README.md
// "Tool costs"): lsinitrd decompresses the whole xz/gzip image even to print one file; grubby on
// EL8 is grubby-bls, a bash script reading every BLS entry and grubenv; virsh opens a libvirtd
// connection per call; dracut rebuilds an image; grub2-mkconfig runs every /etc/grub.d script;
// ppc64_cpu reads (or writes) one online file per hardware thread.
export function realisticToolCosts(profile: Pick<Profile, 'os'>): Record<CostedTool, number> {
  return {
    lsinitrd: 1500,
    grubby: profile.os === 'el7' ? 15 : 150, // EL7's grubby is the C binary
    virsh: 40,
    dracut: 1500,
    lspci: 25,
    ppc64_cpu: 20,
    modprobe: 15,
    systemctl: 20,
    'grub2-mkconfig': 1000,
    'grub2-editenv': 5,
  }
}

const costsObject = z
  .object({
    preset: z.enum(['realistic', 'none']).optional(), // the base the other keys override (default none)
    cpu: z.boolean().optional(), // burn CPU for the cost instead of sleeping
    ...(Object.fromEntries(COSTED_TOOLS.map((t) => [t, duration.optional()])) as Record<CostedTool, z.ZodOptional<typeof duration>>),
  })
  .strict()

// The spec's `toolCosts:` — `realistic`, `none`, or { preset?, cpu?, <tool>: duration }.
export const toolCostsSchema = z.union([z.enum(['realistic', 'none']), costsObject])
export type ToolCostsSetting = z.infer<typeof toolCostsSchema>

// Resolved costs of one host.
export interface ToolCosts {
  ms: Record<CostedTool, number>
  cpu: boolean
}

// The costs of one host of this profile: the preset, then the explicit keys.
export function resolveToolCosts(setting: ToolCostsSetting | undefined, profile: Pick<Profile, 'os'>): ToolCosts {
  const none = Object.fromEntries(COSTED_TOOLS.map((t) => [t, 0])) as Record<CostedTool, number>
  if (setting === undefined || setting === 'none') return { ms: none, cpu: false }
  if (setting === 'realistic') return { ms: realisticToolCosts(profile), cpu: false }
  const base = setting.preset === 'realistic' ? realisticToolCosts(profile) : none
  const ms = { ...base }
  for (const t of COSTED_TOOLS) if (setting[t] !== undefined) ms[t] = setting[t]
  return { ms, cpu: setting.cpu ?? false }
}

// The wrapper installed in place of a costed tool (the tool itself moves to REAL_DIR under the
// same name, so its messages keep their name). It reads the host's cost file, pays the cost, and
// execs the tool: bash, so a zero cost costs one `read`.
export const REAL_DIR = 'lib/gpufleet-sim/real' // under /usr
export function wrapperScript(tool: string): string {
  return `#!/bin/bash
# gpufleet sim: pay this tool's cost on a real host (/var/lib/sim-hw/cost/${tool}: "<ms> sleep|cpu"), then run it.
if read -r ms how < /var/lib/sim-hw/cost/${tool} 2>/dev/null && (( ms > 0 )); then
  if [[ $how == cpu ]]; then
    end=$(( \${EPOCHREALTIME/./} + ms * 1000 )); while (( \${EPOCHREALTIME/./} < end )); do :; done
  else
    printf -v s '%d.%03d' $(( ms / 1000 )) $(( ms % 1000 )); sleep "$s"
  fi
fi
exec /usr/${REAL_DIR}/${tool} "$@"
`
}

// Moves every costed tool of a built /usr layer behind its wrapper (dracut pays its build time
// itself, from /var/lib/sim-hw/dracut-time-ms, between its log lines).
export function wrapCostedTools(usrLayer: string): void {
  const real = path.join(usrLayer, REAL_DIR)
  fs.mkdirSync(real, { recursive: true })
  for (const tool of COSTED_TOOLS) {
    if (tool === 'dracut') continue
    const at = ['bin', 'sbin'].map((d) => path.join(usrLayer, d, tool)).find((p) => fs.existsSync(p))
    if (!at) continue
    fs.renameSync(at, path.join(real, tool))
    fs.writeFileSync(at, wrapperScript(tool), { mode: 0o755 })
  }
}

// Writes a host's cost files into its upper dir (read by the wrappers and by dracut).
export function seedToolCosts(upper: string, costs: ToolCosts): void {
  const dir = path.join(upper, 'var/lib/sim-hw/cost')
  fs.mkdirSync(dir, { recursive: true })
  for (const t of COSTED_TOOLS) fs.writeFileSync(path.join(dir, t), `${Math.round(costs.ms[t])} ${costs.cpu ? 'cpu' : 'sleep'}\n`)
  fs.writeFileSync(path.join(upper, 'var/lib/sim-hw/dracut-time-ms'), `${Math.round(costs.ms.dracut)}\n`)
}
