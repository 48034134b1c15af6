// One simulated host: an ssh2 Server on its own loopback address, whose sessions run real bash
// inside the host's tree (nsenter into its chrooted keeper process), plus its reboot life cycle.
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import ssh2 from 'ssh2'
import type { Connection, ServerChannel } from 'ssh2'
import { execDetail } from './exec-detail.js'
import { bootHost, type BootOutcome } from './boot.js'
import { chooseEntry } from './boot-entries.js'
import { authDecision } from './client-auth.js'
import { dropAfter, slowDelay } from './exec-faults.js'
import { serveSessions } from './host-sessions.js'
import { killedGuestDetails } from './killed-guests.js'
import { killInNamespaces } from './kill-in-namespaces.js'
import { pickUpdateKernel } from './update-kernel.js'
import { publicKeyLine } from './key-pairs.js'
import { clientSocket, destroyConnection, sessionEnv } from './session-env.js'
import type { HostState, SimHostConfig } from './sim-host-config.js'
import { restoreStockBoot } from './stock-boot.js'
import { runInHost, spawnInHost } from './host-process.js'
import { listenBlackhole, reserveClosedPort } from './unreachable-port.js'
import { quote } from '../shell.js'

const { Server } = ssh2

// One record of the rack's ground truth.
export interface SimEvent {
  t: number
  host: string
  // guest-killed: a guest still running when the host went down (reboot or power cycle) died with
  // it; hung: the host hangs in IPL after a reboot; bmc: a request to the host's Redfish endpoint.
  // kernel-installed: a kernel update (sim kernel-install) added a kernel, its entry and initramfs.
  kind: 'down' | 'up' | 'bricked' | 'exec' | 'connect' | 'guest-killed' | 'hung' | 'bmc' | 'kernel-installed'
  detail?: string
}

// A simulated host. `pid` is its keeper process (chrooted into its root, own UTS namespace).
export class SimHost {
  readonly cfg: SimHostConfig
  pid = 0
  port = 0
  state: HostState = 'down'
  bootCount = 0
  lastBoot?: BootOutcome
  private server?: InstanceType<typeof Server>
  private blackhole?: net.Server
  private readonly conns = new Set<Connection>()
  private readonly children = new Set<ChildProcess>()
  private execCount = 0
  private drops = 0
  private rebootTimer?: NodeJS.Timeout
  private utsIno?: string
  private hung = false // hangsAfterReboot: hung in IPL once, until a power cycle
  powerOffUntil = 0 // a power cycle shows PowerState Off until then (Redfish)

  constructor(cfg: SimHostConfig) {
    this.cfg = cfg
  }

  get name(): string {
    return this.cfg.name
  }

  // The host's tree as this process sees it.
  get view(): string {
    return `/proc/${this.pid}/root`
  }

  // First power-on: boot, then listen.
  async powerOn(pid: number, setup?: string): Promise<void> {
    this.pid = pid
    this.utsIno = fs.readlinkSync(`/proc/${pid}/ns/uts`)
    if (setup) {
      const r = await this.runInternal(setup)
      if (r.code !== 0) throw new Error(`sim: preparing ${this.name} failed (exit ${r.code}): ${r.stdout.trim()}`)
    }
    const ik = this.cfg.faults.installKernel
    if (ik) await this.installKernel(ik === true ? undefined : ik)
    if (this.cfg.faults.unreachable) {
      this.state = 'unreachable'
      if (this.cfg.faults.unreachable === 'timeout') ({ server: this.blackhole, port: this.port } = await listenBlackhole(this.cfg.address))
      else this.port = await reserveClosedPort(this.cfg.address)
      return
    }
    this.boot(true)
    // Guests the spec wants running that libvirt would not start on its own (no autostart).
    for (const g of Object.entries(this.cfg.faults.guests ?? {})) {
      const [name, spec] = g
      if (this.state === 'up' && spec.running && !spec.autostart) {
        const r = await this.runInternal(`virsh start ${quote(name)}`)
        if (r.code !== 0) throw new Error(`sim: starting guest ${name} on ${this.name} failed: ${r.stdout.trim()}`)
      }
    }
    if (this.state === 'up') await this.listen()
  }

  private boot(first: boolean): void {
    const faults = this.cfg.faults
    const outcome = bootHost(this.view, this.cfg.profile, { firstBoot: first, forceNouveau: first && !!faults.nouveauLoaded })
    this.lastBoot = outcome
    if (!outcome.ok) {
      this.state = 'bricked'
      this.cfg.emit({ t: Date.now(), host: this.name, kind: 'bricked', detail: outcome.reason })
      return
    }
    this.bootCount++
    this.state = 'up'
    this.cfg.emit({ t: Date.now(), host: this.name, kind: 'up', detail: `boot ${this.bootCount}: ${outcome.entry.title}` })
    for (const d of outcome.startDomains) void this.runInternal(`virsh start ${quote(d)} >/dev/null 2>&1`)
  }

  private listen(): Promise<void> {
    const server = new Server({ hostKeys: [this.cfg.hostKey] }, (client) => this.onClient(client))
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, this.cfg.address, () => {
        server.off('error', reject)
        this.port = (server.address() as net.AddressInfo).port
        resolve()
      })
    })
  }

  private onClient(client: Connection): void {
    if (this.state !== 'up') {
      client.end()
      return
    }
    // small request/response round trips: Nagle + delayed ACK would add ~40 ms to every exec
    clientSocket(client)?.setNoDelay(true)
    this.conns.add(client)
    client.on('close', () => this.conns.delete(client))
    client.on('error', () => undefined)
    let user = ''
    client.on('authentication', (ctx) => {
      const decision = authDecision(ctx, this.cfg.clientPublicKey, !!this.cfg.faults.authRefused)
      if (decision === 'reject') return ctx.reject(['publickey'])
      if (decision === 'accept') user = ctx.username
      ctx.accept()
    })
    client.on('ready', () => {
      this.cfg.emit({ t: Date.now(), host: this.name, kind: 'connect', detail: user })
      serveSessions(client, {
        run: (stream, command, env, pty) => this.run(client, stream, user, command, env, pty),
        sftp: (stream, env) => this.spawnIn(user, ['/usr/lib/openssh/sftp-server'], env, stream, client),
        signal: (session, name) => {
          for (const c of this.children) if ((c as ChildProcess & { session?: unknown }).session === session) c.kill(`SIG${name}` as NodeJS.Signals)
        },
      })
    })
  }

  private envFor(user: string, extra: Record<string, string>, client?: Connection): Record<string, string> {
    return sessionEnv(user, extra, { address: this.cfg.address, port: this.port }, client)
  }

  private spawnIn(user: string, argv: string[], env: Record<string, string>, stream: ServerChannel, client: Connection): ChildProcess {
    return spawnInHost(this, user, argv, this.envFor(user, env, client), stream, this.children)
  }

  private run(client: Connection, stream: ServerChannel, user: string, command: string | null, env: Record<string, string>, pty: boolean): void {
    const n = ++this.execCount
    // gpufleet starts every command with `umask 077` (src/transport/remote-umask.ts); records and
    // fault patterns (`^dracut`) see the command after it.
    const seen = command === null ? null : command.replace(/^umask 077\n/, '')
    if (seen !== null) this.cfg.emit({ t: Date.now(), host: this.name, kind: 'exec', detail: execDetail(seen) })
    const delay = slowDelay(this.cfg.faults, seen)
    const start = () => {
      if (this.state !== 'up') return
      const argv = command === null ? (pty ? ['/usr/bin/script', '-qfec', '/bin/bash -l', '/dev/null'] : ['/bin/bash', '-l']) : ['/bin/bash', '-c', command]
      this.spawnIn(user, argv, env, stream, client)
      const after = dropAfter(this.cfg.faults, n, seen, this.drops)
      if (after !== undefined) {
        this.drops++
        setTimeout(() => destroyConnection(client), after)
      }
    }
    if (delay !== undefined) setTimeout(start, delay)
    else start()
  }

  // Runs a command inside the host for the simulator itself (not counted as a client exec).
  runInternal(command: string): Promise<{ code: number | null; stdout: string }> {
    return runInHost(this, command, this.envFor('root', {}))
  }

  // A kernel update, as `dnf install kernel` / `apt install linux-image-…` would do it: the distro's
  // hooks add the boot entry and build the initramfs with the host's own tools and config
  // (sim-tools' install-kernel). `kver` defaults to the profile's next update kernel not installed.
  async installKernel(kver?: string): Promise<string> {
    const k = pickUpdateKernel(this.view, this.cfg.profile, this.name, kver)
    const r = await this.runInternal(`/usr/lib/gpufleet-sim/install-kernel ${quote(k.kver)} ${quote(k.title)}`)
    if (r.code !== 0) throw new Error(`sim: installing kernel ${k.kver} on ${this.name} failed (exit ${r.code}): ${r.stdout.trim()}`)
    this.cfg.emit({ t: Date.now(), host: this.name, kind: 'kernel-installed', detail: k.kver })
    return k.kver
  }

  // The host asked to reboot (reboot/shutdown -r/systemctl reboot wrote its ctl file).
  reboot(reason = 'reboot'): void {
    if (this.state !== 'up') return
    this.state = 'rebooting'
    this.recordKilledGuests(reason)
    this.cfg.emit({ t: Date.now(), host: this.name, kind: 'down', detail: reason })
    this.takeDown()
    this.bootAfterDelay(reason)
  }

  // The BMC's ForceRestart: works whatever state the host is in (up, hung, rebooting, down).
  powerCycle(): void {
    if (this.state === 'unreachable') return
    if (this.rebootTimer) clearTimeout(this.rebootTimer)
    this.rebootTimer = undefined
    if (this.state === 'up') this.recordKilledGuests('power cycle')
    this.cfg.emit({ t: Date.now(), host: this.name, kind: 'down', detail: 'power cycle' })
    this.takeDown()
    this.state = 'rebooting'
    this.hung = false
    this.powerOffUntil = Date.now() + 300
    this.bootAfterDelay('power cycle')
  }

  // Every guest still running now dies with the host: recorded, so tests can prove none did.
  private recordKilledGuests(reason: string): void {
    if (!this.pid) return
    for (const detail of killedGuestDetails(this.view, reason)) this.cfg.emit({ t: Date.now(), host: this.name, kind: 'guest-killed', detail })
  }

  private bootAfterDelay(reason: string): void {
    const wait = this.cfg.faults.rebootTime ?? this.cfg.rebootTimeMs
    this.rebootTimer = setTimeout(() => {
      this.rebootTimer = undefined
      if (this.cfg.faults.neverComesBack || reason === 'poweroff') {
        this.state = 'down'
        return
      }
      if (this.cfg.faults.hangsAfterReboot && !this.hung && reason !== 'power cycle') {
        // Petitboot picked its entry (a one-time next_entry is used up) and the IPL hung.
        this.hung = true
        chooseEntry(this.view, true)
        this.state = 'down'
        this.cfg.emit({ t: Date.now(), host: this.name, kind: 'hung', detail: 'hangs in IPL until a power cycle' })
        return
      }
      this.boot(false)
      if (this.state === 'up') this.listen().catch((e) => this.cfg.emit({ t: Date.now(), host: this.name, kind: 'bricked', detail: `listen: ${(e as Error).message}` }))
    }, wait)
  }

  // Drops every connection, stops listening and kills every process of the host.
  private takeDown(scan = true): void {
    this.server?.close()
    this.server = undefined
    for (const c of this.conns) destroyConnection(c)
    this.conns.clear()
    for (const c of this.children) c.kill('SIGKILL')
    if (scan && this.utsIno) killInNamespaces(new Set([this.utsIno]), new Set([this.pid]))
  }

  // The host's UTS namespace: every process of the host (sessions and what they left) is in it.
  get uts(): string | undefined {
    return this.utsIno
  }

  // Power-cycles a bricked or dead host after restoring /boot from the stock install, as a
  // technician with a rescue image would (`sim repair`): stock kernels and initramfs images, and
  // if the default entry still cannot boot, the stock boot config.
  async repair(profileLayer: string): Promise<void> {
    if (this.rebootTimer) clearTimeout(this.rebootTimer)
    this.takeDown()
    restoreStockBoot(this.view, this.cfg.profile, profileLayer)
    this.cfg.emit({ t: Date.now(), host: this.name, kind: 'down', detail: 'repair' })
    this.state = 'rebooting'
    this.boot(false)
    if ((this.state as HostState) === 'up') await this.listen()
  }

  // Stops the host; `scan: false` when the caller kills the host's processes itself (rack stop).
  async stop(scan = true): Promise<void> {
    if (this.rebootTimer) clearTimeout(this.rebootTimer)
    this.takeDown(scan)
    this.blackhole?.close()
    this.state = 'down'
  }

  // The public key line for known_hosts.
  publicKeyLine(): string {
    return publicKeyLine(this.cfg.hostKey)
  }
}
