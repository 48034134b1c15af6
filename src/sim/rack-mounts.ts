// The mounts that assemble each host's root, and the host processes, as the keeper's commands.
import fs from 'node:fs'
import path from 'node:path'
import { usrMount } from './host-platform.js'
import { osFamily, type OsFamily } from './os-layout.js'
import type { RackFs } from './rack-fs.js'
import type { PlannedHost } from './rack-plan.js'

// The keeper commands for every host (creates the per-family /usr mount points first).
export function mountCommands(rfs: RackFs, dir: string, plan: PlannedHost[], families: Set<OsFamily>): string[][] {
  const { fsDir, nsView, layer } = rfs
  // One /usr per OS family: its own tools over the shared ones over the real /usr.
  const usrMerged = (f: OsFamily) => path.join(fsDir, `usr-${f}`)
  const cmds: string[][] = []
  for (const f of families) {
    fs.mkdirSync(nsView(usrMerged(f)), { recursive: true })
    cmds.push(['overlay', `${layer(`usr-${f}`)}:${layer('usr')}:/usr`, '', '', usrMerged(f)])
  }
  for (const h of plan) {
    const base = path.join(fsDir, 'hosts', h.name)
    const root = path.join(base, 'root')
    const hw = path.join(root, 'var/lib/sim-hw')
    cmds.push(
      ['overlay', layer(h.profile.name), path.join(base, 'upper'), path.join(base, 'work'), root],
      usrMount(h.faults, path.join(base, 'usr-hide'), [layer(`usr-${osFamily(h.profile)}`), layer('usr')], usrMerged(osFamily(h.profile)), path.join(root, 'usr')),
      // /dev: the real one under the dev layer (/dev/kvm); its submounts are not seen through an overlay.
      ['overlay', `${layer('dev')}:/dev`, '', '', path.join(root, 'dev')],
      ['rbind', '/dev/pts', path.join(root, 'dev/pts')],
      ['rbind', '/dev/shm', path.join(root, 'dev/shm')],
      ['proc', `${hw}/kproc`],
      ['bind', path.join(dir, 'ctl', h.name), `${hw}/ctl`],
      ['host', h.name, root],
    )
  }
  return cmds
}
