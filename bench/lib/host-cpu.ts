// CPU used by the simulated hosts. On one machine the rack's sshds, shells and emulated tools share
// the cores with the controller, so a wall time there is bounded by everyone's CPU, not only by
// SSH and reboots. The simulator is started inside a cgroup of its own (v2: cpu.stat usage_usec;
// v1: cpuacct.usage), which every host process inherits, so the hosts' CPU is counted apart from
// the controller's.
import fs from 'node:fs'
import path from 'node:path'

export interface CpuGroup {
  procsFile: string // write a pid here to move it (and its future children) into the group
  usageMs(): number
  remove(): void
}

// The CPU usage (ms) in a cgroup's accounting file: v2's cpu.stat (usage_usec) or v1's cpuacct.usage (ns).
export function parseCpuUsageMs(file: 'cpu.stat' | 'cpuacct.usage', text: string): number {
  if (file === 'cpuacct.usage') return Number(text.trim()) / 1e6
  const m = /^usage_usec (\d+)$/m.exec(text)
  if (!m) throw new Error(`no usage_usec in cpu.stat`)
  return Number(m[1]) / 1000
}

// A fresh cgroup named `name`, or undefined where this machine has no writable CPU accounting
// (then the bench reports no host CPU rather than a guess).
export function createCpuGroup(name: string, root = '/sys/fs/cgroup'): CpuGroup | undefined {
  const v2 = fs.existsSync(path.join(root, 'cgroup.controllers'))
  const dir = v2 ? path.join(root, name) : path.join(root, 'cpuacct', name)
  const file = v2 ? 'cpu.stat' : 'cpuacct.usage'
  try {
    fs.mkdirSync(dir)
    parseCpuUsageMs(file, fs.readFileSync(path.join(dir, file), 'utf8'))
  } catch {
    try {
      fs.rmdirSync(dir)
    } catch {
      /* never made */
    }
    return undefined
  }
  return {
    procsFile: path.join(dir, 'cgroup.procs'),
    usageMs: () => parseCpuUsageMs(file, fs.readFileSync(path.join(dir, file), 'utf8')),
    remove: () => {
      try {
        fs.rmdirSync(dir) // empty once the rack is down
      } catch {
        /* a straggler still inside: the kernel removes nothing under it; leave the empty group */
      }
    },
  }
}
