// The Transport for `ansible_connection: local`: the same result shape, run with execa under `sh -c`.
import { StringDecoder } from 'node:string_decoder'
import { execa } from 'execa'
import { CommandError } from '../errors.js'
import { atomicWriteScript } from './ssh.js'
import type { CommandResult, ExecOptions, Transport } from './types.js'

// Runs commands on this machine as the current user (become is a no-op: gpufleet runs as root
// on the controller when it manages itself, as Ansible's local connection does without sudo).
export function createLocalTransport(host: string): Transport {
  let closed = false
  async function exec(command: string, opts: ExecOptions = {}): Promise<CommandResult> {
    const started = Date.now()
    if (opts.signal?.aborted) {
      return { command, exitCode: null, signal: null, stdout: '', stderr: 'gpufleet: aborted before the command started', durationMs: 0 }
    }
    // Its own process group, so a timeout or abort kills the command's children too (a `sleep`
    // holding our pipes open would otherwise keep us waiting).
    const child = execa('sh', ['-c', command], {
      reject: false,
      stripFinalNewline: false,
      encoding: 'utf8',
      detached: true,
      ...(opts.stdin !== undefined ? { input: opts.stdin } : { stdin: 'ignore' as const }),
      maxBuffer: 512 * 1024 * 1024,
    })
    let stopped: string | undefined
    const stop = (why: string) => {
      if (stopped) return
      stopped = why
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already exited.
      }
    }
    const timer = opts.timeoutMs ? setTimeout(() => stop(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs) : undefined
    const onAbort = () => stop('aborted')
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    if (opts.onLine) {
      for (const name of ['stdout', 'stderr'] as const) {
        let buf = ''
        // A decoder of our own: execa reads the same stream for the result, so leave its encoding.
        const decoder = new StringDecoder('utf8')
        child[name]?.on('data', (chunk: Buffer) => {
          buf += decoder.write(chunk)
          let nl: number
          while ((nl = buf.indexOf('\n')) >= 0) {
            opts.onLine!(name, buf.slice(0, nl).replace(/\r$/, ''))
            buf = buf.slice(nl + 1)
          }
        })
        child[name]?.on('end', () => {
          buf += decoder.end()
          if (buf) opts.onLine!(name, buf)
        })
      }
    }
    const r = await child
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
    let stderr = typeof r.stderr === 'string' ? r.stderr : ''
    if (stopped) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}gpufleet: command ${stopped}; the process was killed\n`
    return {
      command,
      exitCode: stopped ? null : (r.exitCode ?? null),
      signal: stopped ? null : (r.signal ?? null),
      stdout: typeof r.stdout === 'string' ? r.stdout : '',
      stderr,
      durationMs: Date.now() - started,
    }
  }
  return {
    host,
    exec,
    async writeFile(path, content, options = {}) {
      if (options.mode !== undefined && !/^[0-7]{3,4}$/.test(options.mode)) throw new Error(`bad file mode ${JSON.stringify(options.mode)} for ${path}`)
      const data = typeof content === 'string' ? Buffer.from(content) : content
      const result = await exec(atomicWriteScript(path, { ...options, size: data.length }), { stdin: data })
      if (result.exitCode !== 0) throw new CommandError(host, result, `Writing ${path}`)
    },
    get connected() {
      return !closed
    },
    async close() {
      closed = true
    },
  }
}
