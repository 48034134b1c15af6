// The Transport over one authenticated ssh2 connection: every exec is a channel on it.
import type { Client, ClientChannel } from 'ssh2'
import { ConnectError, summarizeCommand } from '../errors.js'
import { createLimiter } from '../fan-out.js'
import { writeFileAtomically, type WriteFileOptions } from './atomic-write.js'
import { needsBecome, wrapBecome } from './become.js'
import { abortedBeforeStart } from './exec-stop.js'
import { attachChannel, type ChannelJob } from './ssh-channel.js'
import { withRemoteUmask } from './remote-umask.js'
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

  const lost = (command: string, cause?: unknown) => new ConnectError(host, 'unreachable', `connection lost while running \`${summarizeCommand(command)}\`: the command was interrupted and may or may not have completed`, { cause })

  async function exec(command: string, opts: ExecOptions = {}): Promise<CommandResult> {
    if (!connected) throw new ConnectError(host, 'unreachable', `not connected (the connection closed earlier); cannot run \`${summarizeCommand(command)}\``)
    const become = opts.become === true && needsBecome({ become: options.become.enabled, becomeUser: options.become.user }, options.loginUser)
    const wrap = become ? wrapBecome(withRemoteUmask(command), options.become.user, password !== undefined) : undefined
    const started = Date.now()
    return limit(async () => {
      if (opts.signal?.aborted) return abortedBeforeStart(command)
      return new Promise<CommandResult>((resolve, reject) => {
        const job: ChannelJob = {
          host,
          command,
          opts,
          ...(wrap ? { become: { wrap, user: options.become.user } } : {}),
          ...(password !== undefined ? { password } : {}),
          started,
          connected: () => connected,
          lost,
          resolve,
          reject,
        }
        openChannel(
          client,
          wrap?.command ?? withRemoteUmask(command),
          (stream) => attachChannel(stream, job),
          () => connected,
        ).catch((error: unknown) => {
          if (!connected) reject(lost(command, error))
          else reject(new ConnectError(host, 'other', `could not open a channel for \`${summarizeCommand(command)}\`: ${(error as Error).message}`, { cause: error }))
        })
      })
    })
  }

  const writeFile = (path: string, content: string | Buffer, options?: WriteFileOptions) => writeFileAtomically(exec, host, path, content, options)

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

// Opens an exec channel and calls `attach` in the same tick: output, exit status and close can
// arrive in the same TCP read as the open confirmation, before any promise continuation runs.
// sshd frees a session slot (MaxSessions) only after our CHANNEL_CLOSE reaches it, so a channel
// opened right after another closed can be refused for a moment: try again (up to 20 times).
async function openChannel(client: Client, remote: string, attach: (stream: ClientChannel) => void, connected: () => boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<void>((resolve, reject) => {
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
    } catch (error) {
      if (!connected() || attempt >= 20 || !/open failed|administratively prohibited/i.test((error as Error).message)) throw error
      await new Promise((r) => setTimeout(r, 25 * (attempt + 1)))
    }
  }
}
