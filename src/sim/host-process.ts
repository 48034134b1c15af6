// Processes inside a simulated host: nsenter into the keeper-started host process's mount and
// UTS namespaces and its root.
import { spawn, type ChildProcess } from 'node:child_process'
import type { ServerChannel } from 'ssh2'
import { ADMIN_UID } from './layers.js'

// The host: its process and its tree as this process sees it (/proc/<pid>/root).
export interface HostProcessTarget {
  pid: number
  view: string
}

// Runs `argv` as `user` wired to an SSH channel: stdin from it, stdout/stderr and the exit status
// (or signal) to it. `children` holds the process while it runs.
export function spawnInHost(host: HostProcessTarget, user: string, argv: string[], env: Record<string, string>, stream: ServerChannel, children: Set<ChildProcess>): ChildProcess {
  const home = user === 'root' ? '/root' : `/home/${user}`
  // --wd is opened before entering the root: name the directory through the host's root
  const args = ['-t', String(host.pid), '-m', '-u', '-r', `--wd=${host.view}${home}`]
  if (user !== 'root') args.push('-S', String(ADMIN_UID), '-G', String(ADMIN_UID))
  args.push('--', ...argv)
  const child = spawn('nsenter', args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
  children.add(child)
  ;(child as ChildProcess & { session?: unknown }).session = stream
  child.stdin!.on('error', () => undefined)
  stream.on('error', () => undefined)
  stream.pipe(child.stdin!)
  child.stdout!.pipe(stream, { end: false })
  child.stderr!.pipe(stream.stderr, { end: false })
  child.on('close', (code, signal) => {
    children.delete(child)
    if (!stream.writable) return
    if (signal) stream.exit(signal.replace(/^SIG/, ''), false, '')
    else stream.exit(code ?? 0)
    stream.end()
  })
  child.on('error', () => {
    children.delete(child)
    if (stream.writable) {
      stream.exit(127)
      stream.end()
    }
  })
  return child
}

// Runs a bash command as root in the host; resolves with its exit code and output (stderr mixed in).
export function runInHost(host: HostProcessTarget, command: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn('nsenter', ['-t', String(host.pid), '-m', '-u', '-r', `--wd=${host.view}/root`, '--', '/bin/bash', '-c', command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stderr!.on('data', (d: Buffer) => (stdout += d.toString()))
    let stdout = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.on('close', (code) => resolve({ code, stdout }))
    child.on('error', () => resolve({ code: null, stdout }))
  })
}
