// The background rack behind `gpufleet sim up`: a detached process of the same CLI that holds the
// rack and answers `sim status|repair|down` on a unix socket in the rack's directory.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { startRack, type Rack, type RackOptions, type SimHostStatus } from './rack.js'

// Files of a running daemon in the rack directory.
export const SOCKET = 'sim.sock'
export const PID_FILE = 'sim.pid'
export const READY_FILE = 'ready.json'

// What `sim up` prints and `sim status` starts from.
export interface ReadyInfo {
  pid: number
  dir: string
  inventoryFile: string
  knownHostsFile: string
  clientKeyFile: string
  hosts: Rack['hosts']
  startedMs: number
}

// The control protocol: one JSON line each way.
export type ControlRequest = { cmd: 'status' } | { cmd: 'repair'; host: string } | { cmd: 'power-cycle'; host: string } | { cmd: 'kernel-install'; host: string; kver?: string } | { cmd: 'stop' }
export type ControlResponse = { ok: true; hosts?: SimHostStatus[]; memory?: ReturnType<Rack['memory']>; kver?: string } | { ok: false; error: string }

// Serves a started rack until asked to stop (or SIGTERM/SIGINT); resolves when everything is down.
export async function serveRack(rack: Rack, startedMs: number): Promise<void> {
  const sock = path.join(rack.dir, SOCKET)
  fs.rmSync(sock, { force: true })
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    server.close()
    await rack.stop()
    for (const f of [SOCKET, PID_FILE, READY_FILE]) fs.rmSync(path.join(rack.dir, f), { force: true })
    done()
  }
  const server = net.createServer((conn) => {
    let buf = ''
    conn.on('error', () => undefined)
    conn.on('data', async (d) => {
      buf += d.toString()
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      let res: ControlResponse
      let after: (() => Promise<void>) | undefined
      try {
        const req = JSON.parse(buf.slice(0, nl)) as ControlRequest
        if (req.cmd === 'status') res = { ok: true, hosts: await Promise.all(rack.hosts.map((h) => rack.status(h.name))), memory: rack.memory() }
        else if (req.cmd === 'repair') {
          await rack.repair(req.host)
          res = { ok: true }
        } else if (req.cmd === 'kernel-install') {
          res = { ok: true, kver: await rack.installKernel(req.host, req.kver) }
        } else if (req.cmd === 'power-cycle') {
          rack.powerCycle(req.host)
          res = { ok: true }
        } else {
          res = { ok: true }
          after = stop
        }
      } catch (e) {
        res = { ok: false, error: (e as Error).message }
      }
      conn.end(JSON.stringify(res) + '\n', () => void after?.())
    })
  })
  await new Promise<void>((resolve) => server.listen(sock, resolve))
  const info: ReadyInfo = {
    pid: process.pid,
    dir: rack.dir,
    inventoryFile: rack.inventoryFile,
    knownHostsFile: rack.knownHostsFile,
    clientKeyFile: rack.clientKeyFile,
    hosts: rack.hosts,
    startedMs,
  }
  fs.writeFileSync(path.join(rack.dir, PID_FILE), `${process.pid}\n`)
  fs.writeFileSync(path.join(rack.dir, READY_FILE), JSON.stringify(info, null, 2) + '\n')
  process.once('SIGTERM', () => void stop())
  process.once('SIGINT', () => void stop())
  await finished
}

// The daemon's main: start, serve, exit.
export async function runDaemon(options: RackOptions): Promise<void> {
  const t0 = Date.now()
  const rack = await startRack(options)
  await serveRack(rack, Date.now() - t0)
}

// One request to a running rack's daemon.
export function controlRequest(dir: string, req: ControlRequest, timeoutMs = 60_000): Promise<ControlResponse> {
  const sock = path.join(path.resolve(dir), SOCKET)
  if (!fs.existsSync(sock)) throw new UsageError(`no simulated rack is running in ${path.resolve(dir)} (start one with \`gpufleet sim up --dir ${dir}\`)`)
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(sock)
    let buf = ''
    const t = setTimeout(() => {
      conn.destroy()
      reject(new Error(`sim daemon did not answer within ${timeoutMs} ms`))
    }, timeoutMs)
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'))
    conn.on('data', (d) => (buf += d.toString()))
    conn.on('end', () => {
      clearTimeout(t)
      try {
        resolve(JSON.parse(buf) as ControlResponse)
      } catch {
        reject(new Error('sim daemon sent a bad answer'))
      }
    })
    conn.on('error', (e) => {
      clearTimeout(t)
      reject(new UsageError(`cannot reach the sim daemon in ${path.resolve(dir)}: ${e.message}`))
    })
  })
}
