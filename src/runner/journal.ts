import { closeSync, constants, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { openAppendPrivate, writeFileAtomic } from '../atomic-file.js'
import { UsageError } from '../errors.js'
import { readJsonLines } from '../jsonl-file.js'
import { ensurePrivateDir, isOwnPrivateEntry } from '../private-dir.js'
import type { HostOutcome } from '../events.js'

// The run's durable memory. Every record is appended and fsynced BEFORE the side effect it names,
// so after a SIGKILL the journal over-approximates what happened ("intended, maybe done"); resume
// then asks the hosts (fresh facts, boot_id) which intentions were carried out.

export type JournalRecord = { t: number } & (
  | { kind: 'run-started'; runId: string; pid: number; controller: string; resumed: boolean }
  | { kind: 'lock'; host: string; expiresAt: number }
  | { kind: 'task'; host: string; task: string }
  | { kind: 'step'; host: string; task: string; step: string }
  | { kind: 'reboot'; host: string; bootIdBefore: string }
  | { kind: 'rebooted'; host: string; bootIdAfter: string }
  | { kind: 'unlock'; host: string }
  | { kind: 'host-finished'; host: string; outcome: HostOutcome }
  | { kind: 'run-finished'; outcomes: Record<string, HostOutcome> }
)

// What the journal says about one host, for reconciliation on resume.
export interface JournalHostState {
  // The last reboot this run issued: its boot_id before, and the boot_id seen after (if it was seen).
  reboot?: { bootIdBefore: string; issuedAt: number; bootIdAfter?: string }
  stepsSinceReboot: number // side-effect steps journaled after that reboot (a new reboot may be due)
  outcome?: HostOutcome // last recorded outcome
}

// Appends fsynced records to <runDir>/journal.jsonl.
export class Journal {
  readonly file: string
  private fd: number
  constructor(runDir: string) {
    ensurePrivateDir(runDir, 'run directory', { tighten: true })
    this.file = join(runDir, 'journal.jsonl')
    this.fd = openAppendPrivate(this.file)
  }
  // Durable before returning: the caller performs the side effect only after this.
  append(record: JournalRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n')
    fsyncSync(this.fd)
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
  }
}

// Reads a journal, tolerating a torn last line (the controller died mid-write).
export function readJournal(runDir: string): JournalRecord[] {
  return readJsonLines<JournalRecord>(join(runDir, 'journal.jsonl'))
}

// Folds journal records into per-host reconciliation state.
export function hostStates(records: JournalRecord[]): Map<string, JournalHostState> {
  const states = new Map<string, JournalHostState>()
  const get = (host: string): JournalHostState => {
    let s = states.get(host)
    if (!s) states.set(host, (s = { stepsSinceReboot: 0 }))
    return s
  }
  for (const r of records) {
    if (r.kind === 'reboot') {
      const s = get(r.host)
      s.reboot = { bootIdBefore: r.bootIdBefore, issuedAt: r.t }
      s.stepsSinceReboot = 0
    } else if (r.kind === 'rebooted') {
      const s = get(r.host)
      if (s.reboot) s.reboot.bootIdAfter = r.bootIdAfter
    } else if (r.kind === 'step') {
      get(r.host).stepsSinceReboot++
    } else if (r.kind === 'host-finished') {
      get(r.host).outcome = r.outcome
    }
  }
  return states
}

// True when the journal ends without a run-finished record (the controller died or was killed).
export function isUnfinished(records: JournalRecord[]): boolean {
  let finished = false
  for (const r of records) {
    if (r.kind === 'run-started') finished = false
    if (r.kind === 'run-finished') finished = true
  }
  return records.length > 0 && !finished
}

// A run id sorts by time and is unique across controllers: 20261126T031502Z-3f9a1c.
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${randomBytes(3).toString('hex')}`
}

// Default parent of run directories, relative to the working directory (like .git).
export const DEFAULT_RUNS_DIR = join('.gpufleet', 'runs')

// Writes a JSON file into the run directory (options, reports): atomically (temp + fsync + rename
// + directory fsync), 0600, never through a symlink.
export function writeRunFile(runDir: string, name: string, value: unknown): void {
  ensurePrivateDir(runDir, 'run directory', { tighten: true })
  writeFileAtomic(join(runDir, name), JSON.stringify(value, null, 2) + '\n')
}

// A run file that cannot be trusted or read: not ours, writable by others, a symlink, or not JSON
// (empty or truncated by a crash). The message names the file.
export class RunFileError extends UsageError {}

// Reads a JSON file from the run directory, or undefined when it is missing. Throws RunFileError
// for a file that is not a regular file of ours, only we can write, or that is not valid JSON.
export function readRunFile<T>(runDir: string, name: string): T | undefined {
  const file = join(runDir, name)
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP') throw new RunFileError(`${file} is a symlink; refusing to read it`)
    throw error
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile() || st.uid !== (process.geteuid?.() ?? 0) || st.mode & 0o022) throw new RunFileError(`${file} is not a regular file that only you can write (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}); refusing to trust it`)
    const text = readFileSync(fd, 'utf8')
    try {
      return JSON.parse(text) as T
    } catch {
      throw new RunFileError(`${file} is ${text.trim() ? 'not valid JSON (truncated?)' : 'empty'}`)
    }
  } finally {
    closeSync(fd)
  }
}

// Lists run ids under a runs directory, newest first.
export function listRuns(runsDir: string): string[] {
  if (!existsSync(runsDir)) return []
  // Only runs that are ours: a run directory another user planted (or can write) is never listed,
  // adopted or resumed.
  return readdirSync(runsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && isOwnPrivateEntry(join(runsDir, d.name)))
    .map((d) => d.name)
    .sort()
    .reverse()
}
