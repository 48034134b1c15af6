// What a technician with a rescue image restores on a host that does not boot (`sim repair`).
import fs from 'node:fs'
import path from 'node:path'
import { resolveBoot } from './boot.js'
import { parseGrubenv, renderBlsEntry, renderGrubenv, stockArgs } from './boot-config.js'
import { grubDir } from './os-layout.js'
import type { Profile } from './profiles.js'

// Copies the stock kernels and initramfs images back into the host's /boot (`view` is its root)
// and, if the default entry still cannot boot, the stock boot config.
export function restoreStockBoot(view: string, p: Profile, profileLayer: string): void {
  const boot = path.join(view, 'boot')
  const stock = path.join(profileLayer, 'boot')
  for (const f of fs.readdirSync(stock)) if (/^(vmlinu[zx]|initramfs|initrd\.img)-/.test(f)) fs.copyFileSync(path.join(stock, f), path.join(boot, f))
  if (resolveBoot(view, false).ok) return
  const gd = grubDir(p).replace(/^boot\//, '')
  fs.copyFileSync(path.join(stock, gd, 'grub.cfg'), path.join(boot, gd, 'grub.cfg'))
  const envFile = path.join(boot, gd, 'grubenv')
  const env = fs.existsSync(envFile) ? parseGrubenv(fs.readFileSync(envFile, 'utf8')) : {}
  delete env.next_entry
  if (p.bls) {
    const mid = fs.readFileSync(path.join(view, 'etc/machine-id'), 'utf8').trim()
    for (const k of p.kernels) {
      const f = path.join(boot, `loader/entries/${mid}-${k.kver}.conf`)
      if (!fs.existsSync(f)) fs.writeFileSync(f, p.os === 'el9' ? renderBlsEntry(k.title, k.kver, stockArgs(p)) : renderBlsEntry(k.title, k.kver).replace(/^id .*$/m, `id ${mid}-${k.kver}`))
    }
    env.saved_entry = `${mid}-${p.kernels[0]!.kver}`
    if (p.os !== 'el9') env.kernelopts ??= `${stockArgs(p)} `
  } else if (p.os !== 'ubuntu') env.saved_entry = p.kernels[0]!.title
  fs.writeFileSync(envFile, renderGrubenv(env))
}
