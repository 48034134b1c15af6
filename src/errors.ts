import type { CommandResult } from './transport/types.js'

// Expected, user-facing errors. Only cli.ts maps them to exit codes.
export class FleetError extends Error {
  override name = this.constructor.name
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

// A bad inventory file (YAML/INI error, bad range, unknown group). Raised before any connection.
export class InventoryError extends FleetError {}

// A bad playbook (YAML error, unknown task, wrong arg type). Raised before any connection.
export class PlaybookError extends FleetError {}

// Bad command-line usage (unknown --limit group, bad duration). Raised before any connection.
export class UsageError extends FleetError {}

// Per host: refused, timed out, auth failed, host key unknown or changed.
export class ConnectError extends FleetError {
  readonly host: string
  // 'hostkey-changed' | 'hostkey-unknown' | 'auth' | 'unreachable' | 'timeout' | 'proxy' | 'other'
  readonly reason: ConnectFailure
  constructor(host: string, reason: ConnectFailure, message: string, options?: { cause?: unknown }) {
    super(`[${host}] ${message}`, options)
    this.host = host
    this.reason = reason
  }
  // Host key and auth failures are permanent: retrying them only hides an attack or a typo.
  get retryable(): boolean {
    return this.reason === 'unreachable' || this.reason === 'timeout' || this.reason === 'other'
  }
}
// 'config': the ssh config is one ssh itself would refuse (bad Match, unknown %-token): permanent.
export type ConnectFailure = 'hostkey-changed' | 'hostkey-unknown' | 'auth' | 'unreachable' | 'timeout' | 'proxy' | 'config' | 'other'

// Per host: a step exited with a code it did not allow.
export class CommandError extends FleetError {
  readonly host: string
  readonly result: CommandResult
  constructor(host: string, result: CommandResult, what?: string) {
    super(formatCommandFailure(host, result, what))
    this.host = host
    this.result = result
  }
}

// A fact's parser could not read the command output; carries the raw text for a new fixture.
export class FactParseError extends FleetError {
  readonly fact: string
  readonly stdout: string
  constructor(fact: string, stdout: string, message: string) {
    super(`cannot parse fact ${fact}: ${message}`)
    this.fact = fact
    this.stdout = stdout
  }
}

// The one message for a command that ended badly: `[host] <what> failed with exit code N: <command>`
// (or `was killed by SIGKILL`), then the last lines of its stderr. `oneLine` joins that tail with
// `; ` for one-row listings; `command: false` leaves out a script the reader did not write (the
// fact-gathering script).
export function formatCommandFailure(host: string, r: CommandResult, what?: string, options: { command?: boolean; tailLines?: number; oneLine?: boolean } = {}): string {
  const how = r.exitCode === null ? `was killed by ${r.signal ?? 'a signal'}` : `failed with exit code ${r.exitCode}`
  const tail = r.stderr
    .trim()
    .split('\n')
    .slice(-(options.tailLines ?? 5))
  const head = `[${host}] ${what ?? 'Command'} ${how}${options.command === false ? '' : `: ${summarizeCommand(r.command)}`}`
  if (tail.join('') === '') return head
  return options.oneLine ? `${head}${options.command === false ? ':' : ';'} ${tail.join('; ')}` : `${head}\n${tail.join('\n')}`
}

// A step's command may be a long script (the initramfs rebuild is ~80 lines): a message shows its
// first line and its length; the full text stays on the error's `result` for reports.
export function summarizeCommand(command: string): string {
  const lines = command.trim().split('\n')
  const first = lines[0] ?? ''
  if (lines.length === 1 && first.length <= 200) return first
  const head = first.length > 120 ? `${first.slice(0, 120)}…` : first
  return lines.length === 1 ? head : `${head} … (${lines.length}-line script)`
}
