// Which update kernel a simulated kernel update installs.
import fs from 'node:fs'
import path from 'node:path'
import { kernelFile } from './os-layout.js'
import type { Profile } from './profiles.js'

// `kver`, else the profile's next update kernel not installed in the host's tree `view`; throws if none.
export function pickUpdateKernel(view: string, p: Profile, host: string, kver?: string): Profile['updateKernels'][number] {
  const installed = (k: string) => fs.existsSync(path.join(view, kernelFile(p, k)))
  const k = kver ? p.updateKernels.find((u) => u.kver === kver) : p.updateKernels.find((u) => !installed(u.kver))
  if (!k) throw new Error(kver ? `sim: ${host} (${p.name}) has no update kernel ${kver} (known: ${p.updateKernels.map((u) => u.kver).join(', ')})` : `sim: ${host}: every update kernel of ${p.name} is installed`)
  return k
}
