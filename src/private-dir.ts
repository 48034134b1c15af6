import { chmodSync, lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs'
import { dirname, isAbsolute, join, resolve, sep } from 'node:path'
import { UsageError } from './errors.js'

// Local directories gpufleet writes (run directories, report directories) hold hosts' facts,
// command output and the fleet's layout, and gpufleet often runs as root. A directory another
// local user can write to lets that user plant symlinks (root then writes through them), forge a
// run to be adopted, or swap the directory between a check and a write. The rule, as OpenSSH's
// StrictModes applies it to ~/.ssh: the directory is ours and not group/world-writable; every
// directory above it is ours or root's and not writable by others (a sticky directory such as
// /tmp is fine: others cannot rename or remove what we put there); a symlink on the way is ours or
// root's. Checked on every use, not only on creation.

const euid = (): number => process.geteuid?.() ?? 0

// Why a path fails the rule, or undefined when it passes. `what` names it in the message.
export function privateDirProblem(dir: string, what: string): string | undefined {
  const me = euid()
  const path = resolve(dir)
  // The given path, component by component: a symlink planted by another user must not steer us.
  let prefix: string = sep
  for (const part of path.split(sep).filter(Boolean)) {
    prefix = join(prefix, part)
    let st: Stats
    try {
      st = lstatSync(prefix)
    } catch {
      break // the rest is created by ensurePrivateDir
    }
    if (st.isSymbolicLink() && st.uid !== 0 && st.uid !== me) return `${what} ${dir}: ${prefix} is a symlink owned by uid ${st.uid}, not by you or root; refusing to follow it`
  }
  // The real path, component by component, up to the deepest part that exists.
  let real: string
  let existing = path
  for (;;) {
    try {
      real = realpathSync(existing)
      break
    } catch {
      const up = dirname(existing)
      if (up === existing) return undefined
      existing = up
    }
  }
  const parts = real.split(sep).filter(Boolean)
  let cur: string = sep
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) cur = join(cur, parts[i - 1]!)
    const st = lstatSync(cur)
    const isTarget = existing === path && i === parts.length
    if (!st.isDirectory()) return `${what} ${dir}: ${cur} is not a directory`
    if (isTarget) {
      if (st.uid !== me) return `${what} ${dir} is owned by uid ${st.uid}, not by you (uid ${me}); refusing to use a directory another user controls (create your own, e.g. mkdir -m 700)`
      if (st.mode & 0o022) return `${what} ${dir} is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)}); refusing to use it (chmod go-w ${dir})`
    } else {
      if (st.uid !== 0 && st.uid !== me) return `${what} ${dir}: ${cur} is owned by uid ${st.uid}, who could replace what gpufleet writes below it; use a directory under one you or root own`
      if (st.mode & 0o022 && !(st.mode & 0o1000)) return `${what} ${dir}: ${cur} is writable by others (mode ${(st.mode & 0o7777).toString(8)}) without the sticky bit; use a directory under one only you or root can write`
    }
  }
  return undefined
}

// Throws a UsageError (exit 2, nothing touched) when `dir` fails the rule.
export function checkPrivateDir(dir: string, what: string): void {
  const problem = privateDirProblem(dir, what)
  if (problem) throw new UsageError(problem)
}

// Checks `dir` and creates what is missing of it 0700, whatever the umask. With `tighten`, an
// existing directory of ours is set to 0700 as well (gpufleet's own state directories; a report
// directory the user chose keeps its mode).
export function ensurePrivateDir(dir: string, what: string, opts: { tighten?: boolean } = {}): void {
  if (!isAbsolute(dir)) dir = resolve(dir)
  checkPrivateDir(dir, what)
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (created !== undefined) {
    // Every directory mkdir made, from the first one down, gets exactly 0700.
    for (let d = dir; d.length >= created.length; d = dirname(d)) chmodSync(d, 0o700)
    checkPrivateDir(dir, what)
  } else if (opts.tighten) {
    chmodSync(dir, 0o700)
  }
}

// True when a directory entry (a run directory under the runs directory) belongs to us and only
// we can write it: a real directory, not a symlink, owned by us, not group/world-writable.
export function isOwnPrivateEntry(path: string): boolean {
  try {
    const st = lstatSync(path)
    return st.uid === euid() && (st.mode & 0o022) === 0
  } catch {
    return false
  }
}
