// The exec faults of a host's spec: slow commands and dropped connections. `seen` is the command
// as the host records it (after gpufleet's `umask 077` line); null for a login shell.
import type { Faults } from './spec.js'

// How long an exec waits before it starts (slowCommands), or undefined when it starts at once.
export function slowDelay(faults: Faults, seen: string | null): number | undefined {
  const slow = faults.slowCommands && (!faults.slowCommands.pattern || new RegExp(faults.slowCommands.pattern).test(seen ?? ''))
  return slow ? faults.slowCommands!.delay : undefined
}

// After how many ms exec number `n` drops the connection (dropConnection, `drops` already done), or undefined.
export function dropAfter(faults: Faults, n: number, seen: string | null, drops: number): number | undefined {
  const drop = faults.dropConnection
  if (!drop || drops >= (drop.times ?? 1)) return undefined
  const hit = drop.onExec !== undefined ? n === drop.onExec : drop.pattern !== undefined && new RegExp(drop.pattern).test(seen ?? '')
  return hit ? (drop.afterMs ?? 100) : undefined
}
