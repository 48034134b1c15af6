import fs from 'node:fs'

// SIGKILLs every process whose UTS namespace is one of `uts` (one /proc scan), except `spare`.
export function killInNamespaces(uts: Set<string>, spare: Set<number>): void {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || spare.has(Number(entry))) continue
    try {
      if (uts.has(fs.readlinkSync(`/proc/${entry}/ns/uts`))) process.kill(Number(entry), 'SIGKILL')
    } catch {
      /* gone */
    }
  }
}
