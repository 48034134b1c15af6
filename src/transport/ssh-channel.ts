// One command on one ssh2 exec channel: feeds stdin (after sudo's ready marker when a password is
// used), collects output, stops the command on timeout or abort, and settles with its CommandResult.
import { StringDecoder } from 'node:string_decoder'
import type { ClientChannel } from 'ssh2'
import { explainSudoFailure, scrubSecret, secretFor, type BecomeWrap } from './become.js'
import { watchForStop, withStopNote } from './exec-stop.js'
import { lineSplitter } from './line-splitter.js'
import { createSudoGate } from './sudo-gate.js'
import type { CommandResult, ExecOptions } from './types.js'

export interface ChannelJob {
  host: string
  command: string // as the caller gave it (the result's `command`)
  opts: ExecOptions
  become?: { wrap: BecomeWrap; user: string } // the command runs through sudo
  password?: string // the become password: masked in output, sent only at sudo's prompt
  started: number // when exec was called (its timeout counts from here)
  connected(): boolean
  lost(command: string): Error // the connection dropped under the command
  resolve(result: CommandResult): void
  reject(error: unknown): void
}

// Wires `stream` to `job`. Called in the same tick the channel opens: output, exit status and close
// can arrive in the same TCP read as the open confirmation.
export function attachChannel(stream: ClientChannel, job: ChannelJob): void {
  // One function on purpose: the handlers share the channel's state (exit, stop, finalize order).
  const { opts, password } = job
  const out: Buffer[] = []
  let err = ''
  let exitCode: number | null = null
  let exitSignal: string | null = null
  let sawExit = false
  let stopped: string | undefined
  const outLines = lineSplitter('stdout', opts.onLine, password)
  const errLines = lineSplitter('stderr', opts.onLine, password)
  const errDecoder = new StringDecoder('utf8')
  const writeStdin = () => {
    if (opts.stdin !== undefined && opts.stdin.length > 0) stream.write(opts.stdin)
    stream.end()
  }
  const gate = createSudoGate(job.become?.wrap, {
    sendPassword: () => stream.write(`${password}\n`),
    endStdin: () => stream.end(),
    opened: writeStdin,
    pass: (text) => {
      err += text
      errLines.push(text)
    },
  })

  const stop = (why: string) => {
    if (stopped || sawExit) return
    stopped = why
    // sshd delivers it to the session's process group (killpg), so children die too.
    sendSignal(stream, 'KILL')
    stream.close()
    // sshd only confirms the close once the process has exited; if it ignored the signal
    // (a forced command, an old server), we stop waiting and leave the channel behind.
    setTimeout(() => finalize(), 2000).unref()
  }
  const unwatch = watchForStop(opts, job.started, stop)

  stream.on('data', (chunk: Buffer) => {
    out.push(chunk)
    outLines.push(chunk)
  })
  stream.stderr.on('data', (chunk: Buffer) => gate.push(errDecoder.write(chunk)))
  stream.on('exit', (code: number | null, signal?: string) => {
    sawExit = true
    exitCode = code
    exitSignal = code === null ? (signal ?? null) : null
  })
  stream.on('error', () => {
    // Surfaced through 'close' below (with the connection state deciding what it means).
  })
  const finish = () => {
    if (!sawExit && !stopped && !job.connected()) return job.reject(job.lost(job.command))
    let stderr = scrubSecret(err, password)
    // Only sudo's own refusal gets an explanation, never the command's failure.
    const become = job.become
    const sudoRefused = become?.wrap.readyMarker ? !gate.sawReady : exitCode === 1 && /^sudo: /m.test(stderr)
    if (become && exitCode !== 0 && sudoRefused) {
      const why = explainSudoFailure(stderr, job.host, become.user)
      if (why) stderr = `${why}\n${stderr}`
    }
    if (stopped) stderr = withStopNote(stderr, stopped, 'the channel was closed')
    job.resolve({
      command: job.command,
      exitCode: stopped ? null : exitCode,
      signal: stopped ? null : exitSignal,
      stdout: scrubSecret(Buffer.concat(out).toString('utf8'), secretFor('stdout', password)),
      stderr,
      durationMs: Date.now() - job.started,
    })
  }
  let finalized = false
  const finalize = () => {
    if (finalized) return
    finalized = true
    unwatch()
    gate.push(errDecoder.end())
    gate.end()
    outLines.end()
    errLines.end()
    // The connection's own 'close' may land just after the channel's: look once more.
    if (!sawExit && !stopped && job.connected()) setImmediate(finish)
    else finish()
  }
  stream.on('close', finalize)
  if (gate.ready) writeStdin()
}

// Sends a signal request even after our side sent EOF (ssh2's own signal() refuses once stdin
// has ended, which is exactly when a long command needs stopping).
function sendSignal(stream: ClientChannel, name: string): void {
  const channel = stream as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, s: string): void } } }
  const state = channel.outgoing?.state
  if (channel.outgoing && (state === 'open' || state === 'eof')) {
    try {
      channel._client?._protocol?.signal(channel.outgoing.id, name)
    } catch {
      // Closing the channel below still ends our side.
    }
  }
}
