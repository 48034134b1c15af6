// A check of the open-file limit before a large run: each SSH connection costs a socket plus
// channel and log descriptors, and running out mid-run fails hosts with confusing EMFILE errors.
import { readFileSync } from 'node:fs'

// Descriptors each concurrently connected host needs (socket, jump streams, spare for logs).
export const FDS_PER_HOST = 3
// What node, the TTY, vitest/report files and libraries hold already.
const BASELINE = 64

// The soft "Max open files" limit of this process (from /proc/self/limits), or undefined.
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8')
    } catch {
      return undefined
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text)
  if (!m) return undefined
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1])
}

// ok:false when `hostCount` connections would not fit in the soft limit; message says how to fix it.
export function checkOpenFileLimit(hostCount: number, limitsText?: string): { ok: boolean; message?: string } {
  const limit = openFileLimit(limitsText)
  if (limit === undefined) return { ok: true }
  const needed = BASELINE + FDS_PER_HOST * hostCount
  if (needed <= limit) return { ok: true }
  return {
    ok: false,
    message:
      `open-file limit too low: ${hostCount} hosts need about ${needed} file descriptors but the soft limit ` +
      `(ulimit -n) is ${limit}. Raise it for this shell with \`ulimit -n ${Math.max(needed * 2, 4096)}\` ` +
      `(up to the hard limit, \`ulimit -Hn\`; raise that in /etc/security/limits.conf), or lower --forks / use --limit.`,
  }
}
