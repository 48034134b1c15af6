import { createHash } from 'node:crypto'
import { defineFact } from '../facts/define.js'
import { quote } from '../shell.js'

// The fleet lock: a directory on the host, /var/lib/gpufleet/lock, created with mkdir (atomic on
// every POSIX filesystem) and holding an `owner` file (run id, controller, pid, expiry). It lives
// on persistent storage, not /run, so it survives the reboot it protects (kured holds its lock
// across the reboot for the same reason). Reading it is a fact, folded into the one gather exec,
// so checking the lock costs nothing on a no-op run; taking it is one exec, done only before the
// first change on that host.

export const LOCK_DIR = '/var/lib/gpufleet/lock'

// Who holds a host's lock, as written by lockCommand.
export interface LockOwner {
  runId: string
  controller: string // controller hostname
  pid: number
  playbook: string
  expiresAt: number // ms since the epoch, controller clock
}

// The lock as gathered: absent, held (with the raw owner text, needed to take an expired lock
// over without racing a fresh holder), or a lock directory whose owner file could not be read.
export type LockFact = { state: 'free' } | { state: 'held'; raw: string; owner?: LockOwner }

// Fact: the current lock holder, if any.
export const lockFact = defineFact({
  name: 'gpufleet.lock',
  command: `if [ -d ${LOCK_DIR} ]; then echo held; cat ${LOCK_DIR}/owner; fi`,
  parse(stdout): LockFact {
    const [first, ...rest] = stdout.split('\n')
    if (first?.trim() !== 'held') return { state: 'free' }
    const raw = rest.join('\n').trim()
    try {
      const owner = JSON.parse(raw) as LockOwner
      if (typeof owner.runId === 'string' && typeof owner.expiresAt === 'number') return { state: 'held', raw, owner }
    } catch {
      // An unreadable owner is still a lock: refuse rather than guess (half-written by a crash).
    }
    return { state: 'held', raw }
  },
})

// Fact: the marker the reboot command writes to /run just before rebooting. /run is emptied by a
// reboot, so "marker present with our run id" means "our reboot was issued on this very boot and
// has not happened yet" — resume then waits instead of rebooting a second time.
export const REBOOT_MARKER = '/run/gpufleet/reboot-issued'
export const rebootMarkerFact = defineFact({
  name: 'gpufleet.reboot-marker',
  command: `cat ${REBOOT_MARKER}`,
  parse: (stdout, exitCode): string | null => (exitCode === 0 && stdout.trim() ? stdout.trim() : null),
})

// What to do with a host given its gathered lock: take it (free, expired, or ours) or refuse.
export type LockDecision = { kind: 'take'; replace?: string; takenOverFrom?: LockOwner } | { kind: 'refuse'; message: string }

// Decides whether this run may lock a host. Pure: the clock is passed in.
export function decideLock(fact: LockFact, runId: string, now: number): LockDecision {
  if (fact.state === 'free') return { kind: 'take' }
  const owner = fact.owner
  if (!owner) return { kind: 'refuse', message: `host is locked (${LOCK_DIR} exists but its owner file is unreadable); remove ${LOCK_DIR} on the host if no gpufleet run is using it` }
  if (owner.runId === runId) return { kind: 'take', replace: fact.raw }
  if (owner.expiresAt <= now) return { kind: 'take', replace: fact.raw, takenOverFrom: owner }
  return {
    kind: 'refuse',
    message:
      `host is locked by run ${owner.runId} (playbook ${owner.playbook}, controller ${owner.controller} pid ${owner.pid}) ` +
      `until ${new Date(owner.expiresAt).toISOString()}; wait for that run, resume it with \`gpufleet resume ${owner.runId}\`, ` +
      `or remove ${LOCK_DIR} on the host if that run is gone`,
  }
}

// Shell text that takes the lock atomically. `replace` is the exact owner text of a lock we may
// replace (ours, or expired). Exit 0 = taken; exit 3 = held (owner printed).
//
// Replacing is a compare-and-swap, and "compare the owner, then rm -rf" in two steps is not one:
// two controllers that both judged the same lock expired could both pass the compare, and the
// second's rm would destroy the first one's fresh lock. So every removal of a given lock happens
// inside a mutex named after that lock's exact text (lockRemoval): `mkdir` of the mutex is atomic,
// so one controller only ever compares and removes that instance; the lock is moved out of the way
// by one atomic rename (no half-removed lock directory is ever visible), and a new lock is taken by
// the usual atomic mkdir, which exactly one controller wins.
export function lockCommand(owner: LockOwner, replace?: string): string {
  const d = quote(LOCK_DIR)
  const text = quote(JSON.stringify(owner))
  const lines = [`mkdir -p ${quote(LOCK_PARENT)} || exit 4`]
  if (replace !== undefined) lines.push(lockRemoval(replace))
  lines.push(`if mkdir ${d} 2>/dev/null; then printf '%s\\n' ${text} > ${d}/owner.tmp && mv ${d}/owner.tmp ${d}/owner; else cat ${d}/owner 2>/dev/null; exit 3; fi`)
  return lines.join('\n')
}

// Shell text that releases the lock only if it is still ours (exactly the text we wrote).
export function unlockCommand(owner: LockOwner): string {
  return `mkdir -p ${quote(LOCK_PARENT)} || exit 4\n${lockRemoval(JSON.stringify(owner))}`
}

const LOCK_PARENT = LOCK_DIR.replace(/\/[^/]+$/, '')

// Shell text that removes the lock if its owner is exactly `text`, under a mutex only one
// controller can hold for that lock instance. A controller that finds the mutex taken waits (up to
// 10 s) for its holder to finish, then goes on: the lock it wanted gone is gone or still there,
// and the following mkdir decides. The lock leaves by one rename into the mutex directory, so no
// half-removed lock is ever visible.
function lockRemoval(text: string): string {
  const d = quote(LOCK_DIR)
  const m = quote(`${LOCK_DIR}.removing.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`)
  return `if mkdir ${m} 2>/dev/null; then ` + `if [ "$(cat ${d}/owner 2>/dev/null)" = ${quote(text)} ]; then mv -T ${d} ${m}/old; fi; rm -rf ${m}; ` + `else i=0; while [ -d ${m} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; fi`
}
