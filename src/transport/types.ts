// The one interface every effect on a host goes through. ssh.ts (ssh2) and local.ts (execa) implement it.

export interface CommandResult {
  command: string
  exitCode: number | null // null when killed by a signal or the connection dropped
  signal: string | null
  stdout: string
  stderr: string
  durationMs: number
}

export interface ExecOptions {
  // Run as the become user (sudo -n, or sudo -S with the password fed on stdin). The command string
  // is passed to `sh -c` as one quoted word, so it may be any shell text.
  become?: boolean
  stdin?: string | Buffer
  timeoutMs?: number
  signal?: AbortSignal
  // Called for each complete output line as it arrives (progress); stdout/stderr are still collected.
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void
}

export interface Transport {
  readonly host: string
  // A non-zero exit is a result, not an exception (execa's reject: false). Throws ConnectError only
  // when the connection itself is gone.
  exec(command: string, options?: ExecOptions): Promise<CommandResult>
  // Write a file atomically: upload to a temp file beside `path`, chmod/chown, then rename over it.
  writeFile(path: string, content: string | Buffer, options?: { mode?: string; owner?: string; become?: boolean }): Promise<void>
  // True until the connection drops (e.g. the host rebooted).
  readonly connected: boolean
  close(): Promise<void>
}
