// Test helpers: run commands on a simulated host with the real OpenSSH client.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import type { Rack } from '../../src/sim/rack.js'
import type { SimEvent } from '../../src/sim/sim-host.js'

export interface SshResult {
  code: number | null
  stdout: string
  stderr: string
}

// `ssh -i <dir>/id_ed25519 -o UserKnownHostsFile=<dir>/known_hosts -p <port> <user>@<addr> <command>`
export function ssh(rack: Rack, host: string, command: string, opts: { user?: string; input?: string; timeoutMs?: number; extra?: string[] } = {}): Promise<SshResult> {
  const h = rack.hosts.find((x) => x.name === host)
  if (!h) throw new Error(`no host ${host}`)
  // ssh takes the first value of an option: extras go first
  const args = [...(opts.extra ?? []), '-i', rack.clientKeyFile, '-o', `UserKnownHostsFile=${rack.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', '-p', String(h.port), `${opts.user ?? 'root'}@${h.address}`, command]
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
    child.on('close', (code) => {
      clearTimeout(t)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(opts.input ?? '')
  })
}

// Polls until the host answers over SSH again (after a reboot).
export async function waitUp(rack: Rack, host: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await rack.status(host)).state === 'up') {
      const r = await ssh(rack, host, 'true', { timeoutMs: 5000 })
      if (r.code === 0) return
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${host} did not come back within ${timeoutMs} ms`)
}

// Waits for the simulator's own record to say how the host's next boot after `mark` (an index into
// rack.events(), taken before the reboot) ended: 'up' or 'bricked'. No fixed sleep: the assertion
// that follows reads what the simulator decided, whenever it decided it.
export async function bootOutcome(rack: Rack, host: string, mark: number, timeoutMs = 20_000): Promise<SimEvent> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const e = rack
      .events()
      .slice(mark)
      .find((x) => x.host === host && (x.kind === 'up' || x.kind === 'bricked'))
    if (e) return e
    if (Date.now() > deadline) throw new Error(`${host}: no boot outcome in the simulator's record within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

// Processes and mounts a stopped rack could have left behind (mount namespaces are private, so
// leftovers show as keeper/host processes; the rack's own dir must hold no mount in this namespace).
export function leftovers(dir: string, keeperPids: number[]): { processes: number[]; mounts: string[] } {
  const processes = keeperPids.filter((p) => {
    try {
      process.kill(p, 0)
      return true
    } catch {
      return false
    }
  })
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir))
  return { processes, mounts }
}

// Runs a local program asynchronously (the rack lives in this process: never block the loop).
export function runLocal(cmd: string, args: string[], input = ''): Promise<SshResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}
