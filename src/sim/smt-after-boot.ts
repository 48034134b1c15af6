import fs from 'node:fs'
import path from 'node:path'
import type { Profile } from './profiles.js'
import { readOptional as read } from './read-optional.js'

// SMT threads per core after boot: on, unless an enabled unit runs `ppc64_cpu --smt=...`.
export function smtAfterBoot(root: string, p: Profile): number {
  let smt = p.threadsPerCore
  const sysd = path.join(root, 'etc/systemd/system')
  let wants: string[] = []
  try {
    wants = fs.readdirSync(sysd).filter((d) => d.endsWith('.wants'))
  } catch {
    return smt
  }
  for (const w of wants) {
    for (const unit of fs.readdirSync(path.join(sysd, w))) {
      const link = path.join(sysd, w, unit)
      let file = link
      try {
        const target = fs.readlinkSync(link)
        file = target.startsWith('/') ? path.join(root, target) : path.join(sysd, w, target)
      } catch {
        /* a regular file */
      }
      const text = read(file) ?? ''
      for (const line of text.split('\n')) {
        const m = /^\s*ExecStart\s*=.*ppc64_cpu\s+(?:-\w+\s+)*--smt(?:=|\s+)(\S+)/.exec(line)
        if (!m) continue
        const v = m[1]!
        const n = v === 'off' ? 1 : v === 'on' ? p.threadsPerCore : /^\d+$/.test(v) ? Number(v) : NaN
        if (n >= 1 && n <= p.threadsPerCore) smt = n
      }
    }
  }
  return smt
}
