// Memory of the simulator's processes and its tmpfs, from /proc and statfs (rack.memory()).
import fs from 'node:fs'

export function tmpfsUsed(p: string): number {
  try {
    const st = fs.statfsSync(p)
    return (st.blocks - st.bfree) * st.bsize
  } catch {
    return 0
  }
}

// Proportional set size: shared pages (libc of 500 `sleep`s) counted once overall.
export function pssOf(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}
