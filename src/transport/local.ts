// The Transport for `ansible_connection: local`: the same result shape, run with execa under `sh -c`.
import { execa } from 'execa'
import { writeFileAtomically } from './atomic-write.js'
import { abortedBeforeStart, watchForStop, withStopNote } from './exec-stop.js'
import { lineSplitter } from './line-splitter.js'
import type { CommandResult, ExecOptions, Transport } from './types.js'
import { withRemoteUmask } from './remote-umask.js'

// Runs commands on this machine as the current user (become is a no-op: gpufleet runs as root
// on the controller when it manages itself, as Ansible's local connection does without sudo).
export function createLocalTransport(host: string): Transport {
  let closed = false
  async function exec(command: string, opts: ExecOptions = {}): Promise<CommandResult> {
    const started = Date.now()
    if (opts.signal?.aborted) return abortedBeforeStart(command)
    // Its own process group, so a timeout or abort kills the command's children too (a `sleep`
    // holding our pipes open would otherwise keep us waiting).
    const child = execa('sh', ['-c', withRemoteUmask(command)], {
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
    const unwatch = watchForStop(opts, started, stop)
    if (opts.onLine) {
      for (const name of ['stdout', 'stderr'] as const) {
        // A splitter (and decoder) of our own: execa reads the same stream for the result, so leave its encoding.
        const lines = lineSplitter(name, opts.onLine)
        child[name]?.on('data', (chunk: Buffer) => lines.push(chunk))
        child[name]?.on('end', () => lines.end())
      }
    }
    const r = await child
    unwatch()
    let stderr = typeof r.stderr === 'string' ? r.stderr : ''
    if (stopped) stderr = withStopNote(stderr, stopped, 'the process was killed')
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
    writeFile: (path, content, options) => writeFileAtomically(exec, host, path, content, options),
    get connected() {
      return !closed
    },
    async close() {
      closed = true
    },
  }
}
