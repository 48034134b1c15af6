// The Transport over one authenticated ssh2 connection: every exec is a channel on it.
import { randomBytes } from 'node:crypto'
import { basename, dirname } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import type { Client, ClientChannel } from 'ssh2'
import { CommandError, ConnectError } from '../errors.js'
import { createLimiter } from '../runner/fan-out.js'
import { quote } from '../shell.js'
import { explainSudoFailure, needsBecome, scrubSecret, secretFor, wrapBecome } from './become.js'
import type { CommandResult, ExecOptions, Transport } from './types.js'

export interface SshTransportOptions {
  host: string // inventory name, for messages
  loginUser: string
  become: { enabled: boolean; user: string } // host.become / host.becomeUser
  becomePassword?: string
  // OpenSSH's MaxSessions (default 10) caps open channels per connection; we queue beyond 8.
  maxSessions?: number
}

// Wraps a ready ssh2 Client as a Transport.
export function createSshTransport(client: Client, options: SshTransportOptions): Transport {
  let connected = true
  let closing = false
  const markDown = () => {
    connected = false
  }
  client.on('end', markDown)
  client.on('close', markDown)
  // An error after the handshake (keepalive timeout, reset) ends the connection; 'close' follows.
  client.on('error', markDown)
  const limit = createLimiter(options.maxSessions ?? 8)
  const host = options.host
  const password = options.becomePassword

  // Opens an exec channel and calls `attach` in the same tick: output, exit status and close can
  // arrive in the same TCP read as the open confirmation, before any promise continuation runs.
  const openChannel = (remote: string, attach: (stream: ClientChannel) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      try {
        client.exec(remote, (err, stream) => {
          if (err) return reject(err)
          attach(stream)
          resolve()
        })
      } catch (error) {
        reject(error)
      }
    })

  const lost = (command: string, cause?: unknown) =>
    new ConnectError(host, 'unreachable', `connection lost while running \`${brief(command)}\`: the command was interrupted and may or may not have completed`, { cause })

  async function exec(command: string, opts: ExecOptions = {}): Promise<CommandResult> {
    if (!connected) throw new ConnectError(host, 'unreachable', `not connected (the connection closed earlier); cannot run \`${brief(command)}\``)
    const become = opts.become === true && needsBecome({ become: options.become.enabled, becomeUser: options.become.user }, options.loginUser)
    const wrap = become ? wrapBecome(command, options.become.user, password !== undefined) : undefined
    const started = Date.now()
    return limit(async () => {
      if (opts.signal?.aborted) {
        return { command, exitCode: null, signal: null, stdout: '', stderr: 'gpufleet: aborted before the command started', durationMs: 0 }
      }
      let settle!: { resolve(r: CommandResult): void; reject(e: unknown): void }
      const done = new Promise<CommandResult>((resolve, reject) => (settle = { resolve, reject }))
      // sshd frees a session slot (MaxSessions) only after our CHANNEL_CLOSE reaches it, so a
      // channel opened right after another closed can be refused for a moment: try again.
      for (let attempt = 0; ; attempt++) {
        try {
          await openChannel(wrap?.command ?? command, (stream) => attach(stream, settle.resolve, settle.reject))
          break
        } catch (error) {
          if (!connected) throw lost(command, error)
          if (attempt >= 20 || !/open failed|administratively prohibited/i.test((error as Error).message)) {
            throw new ConnectError(host, 'other', `could not open a channel for \`${brief(command)}\`: ${(error as Error).message}`, { cause: error })
          }
          await new Promise((r) => setTimeout(r, 25 * (attempt + 1)))
        }
      }
      return done
    })

    function attach(stream: ClientChannel, resolve: (r: CommandResult) => void, reject: (e: unknown) => void): void {
      const out: Buffer[] = []
      let err = ''
      let pre = '' // stderr before sudo's ready marker (password mode)
      let ready = !wrap?.readyMarker
      let sawReady = false
      let prompts = 0
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
      const addErr = (text: string) => {
        err += text
        errLines.push(text)
      }
      const onErrText = (text: string) => {
        if (ready) return addErr(text)
        pre += text
        const prompt = wrap!.promptMarker!
        while (pre.includes(prompt)) {
          pre = pre.replace(prompt, '')
          // A second prompt means the password was wrong: end stdin so sudo gives up.
          if (++prompts === 1) stream.write(`${password}\n`)
          else stream.end()
        }
        const at = pre.indexOf(`${wrap!.readyMarker}\n`)
        if (at >= 0) {
          const before = pre.slice(0, at)
          const after = pre.slice(at + wrap!.readyMarker!.length + 1)
          pre = ''
          ready = true
          sawReady = true
          if (before) addErr(before)
          if (after) addErr(after)
          writeStdin()
        }
      }

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
      const timer = opts.timeoutMs !== undefined && opts.timeoutMs > 0
        ? setTimeout(() => stop(`timed out after ${opts.timeoutMs} ms`), Math.max(0, opts.timeoutMs - (Date.now() - started)))
        : undefined
      const onAbort = () => stop('aborted')
      opts.signal?.addEventListener('abort', onAbort, { once: true })

      stream.on('data', (chunk: Buffer) => {
        out.push(chunk)
        outLines.push(chunk)
      })
      stream.stderr.on('data', (chunk: Buffer) => onErrText(errDecoder.write(chunk)))
      stream.on('exit', (code: number | null, signal?: string) => {
        sawExit = true
        exitCode = code
        exitSignal = code === null ? (signal ?? null) : null
      })
      stream.on('error', () => {
        // Surfaced through 'close' below (with the connection state deciding what it means).
      })
      let finalized = false
      const finalize = () => {
        if (finalized) return
        finalized = true
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        onErrText(errDecoder.end())
        if (!ready && pre) {
          // sudo never let the command run: its own messages are the whole stderr.
          ready = true
          addErr(pre)
        }
        outLines.end()
        errLines.end()
        const finish = () => {
          if (!sawExit && !stopped && !connected) return reject(lost(command))
          let stderr = scrubSecret(err, password)
          // Only sudo's own refusal gets an explanation, never the command's failure.
          const sudoRefused = wrap?.readyMarker ? !sawReady : exitCode === 1 && /^sudo: /m.test(stderr)
          if (become && exitCode !== 0 && sudoRefused) {
            const why = explainSudoFailure(stderr, host, options.become.user)
            if (why) stderr = `${why}\n${stderr}`
          }
          if (stopped) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}gpufleet: command ${stopped}; the channel was closed\n`
          resolve({
            command,
            exitCode: stopped ? null : exitCode,
            signal: stopped ? null : exitSignal,
            stdout: scrubSecret(Buffer.concat(out).toString('utf8'), secretFor('stdout', password)),
            stderr,
            durationMs: Date.now() - started,
          })
        }
        // The connection's own 'close' may land just after the channel's: look once more.
        if (!sawExit && !stopped && connected) setImmediate(finish)
        else finish()
      }
      stream.on('close', finalize)
      if (ready) writeStdin()
    }
  }

  async function writeFile(path: string, content: string | Buffer, options: { mode?: string; owner?: string; become?: boolean } = {}): Promise<void> {
    if (options.mode !== undefined && !/^[0-7]{3,4}$/.test(options.mode)) throw new Error(`bad file mode ${JSON.stringify(options.mode)} for ${path}`)
    const data = typeof content === 'string' ? Buffer.from(content) : content
    const result = await exec(atomicWriteScript(path, { ...options, size: data.length }), { stdin: data, become: options.become ?? true })
    if (result.exitCode !== 0) throw new CommandError(host, result, `Writing ${path}`)
  }

  async function close(): Promise<void> {
    if (closing) return
    closing = true
    await new Promise<void>((resolve) => {
      if (!connected) return resolve()
      const timer = setTimeout(() => {
        client.destroy()
        resolve()
      }, 2000)
      client.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      client.end()
    })
    connected = false
  }

  return {
    host,
    exec,
    writeFile,
    get connected() {
      return connected
    },
    close,
  }
}

// The shell text that writes stdin to a temp file beside `path`, sets mode and owner, then renames
// it over the target (same directory, same filesystem: rename(2) is atomic). With no mode/owner
// given, an existing target's are kept; a new file gets 0644.
// `size`: the bytes the caller sends; input cut short (a connection dropped mid-stdin ends `cat` as a
// plain EOF) is then refused instead of renamed into place half-written.
export function atomicWriteScript(path: string, options: { mode?: string; owner?: string; size?: number } = {}): string {
  const dir = dirname(path)
  const tmp = `${dir}/.${basename(path)}.gpufleet-${randomBytes(6).toString('hex')}.tmp`
  const q = quote(path)
  const t = quote(tmp)
  const lines = [
    'set -e',
    'umask 077',
    `trap ${quote(`rm -f -- ${t}`)} EXIT`,
    `cat > ${t}`,
    ...(options.size !== undefined ? [`got=$(stat -c %s ${t}); [ "$got" = ${options.size} ] || { echo ${quote(`gpufleet: ${path}: input cut short: got`)} "$got" ${quote(`of ${options.size} bytes; not replaced`)} >&2; exit 1; }`] : []),
    options.mode !== undefined
      ? `chmod ${options.mode} ${t}`
      : `if [ -e ${q} ]; then chmod "$(stat -c %a ${q})" ${t}; else chmod 0644 ${t}; fi`,
    options.owner !== undefined
      ? `chown ${quote(options.owner)} ${t}`
      : `if [ -e ${q} ] && [ "$(id -u)" = 0 ]; then chown "$(stat -c %u:%g ${q})" ${t}; fi`,
    `mv -f -- ${t} ${q}`,
    'trap - EXIT',
  ]
  return lines.join('\n')
}

// A command as it fits in one error line (gather scripts run to many lines).
function brief(command: string): string {
  const first = command.split('\n')[0]!
  const more = first.length > 100 || first.length < command.length
  return more ? `${first.slice(0, 100)} …` : first
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

// Splits a byte or text stream into complete lines for onLine (the last partial line on end).
function lineSplitter(stream: 'stdout' | 'stderr', onLine: ExecOptions['onLine'], secret: string | undefined) {
  const decoder = new StringDecoder('utf8')
  let buf = ''
  const emit = (line: string) => onLine?.(stream, scrubSecret(line.replace(/\r$/, ''), secretFor(stream, secret)))
  return {
    push(chunk: Buffer | string) {
      if (!onLine) return
      buf += typeof chunk === 'string' ? chunk : decoder.write(chunk)
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        emit(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
      }
    },
    end() {
      if (!onLine) return
      buf += decoder.end()
      if (buf) emit(buf)
      buf = ''
    },
  }
}
