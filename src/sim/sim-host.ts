// One simulated host: an ssh2 Server on its own loopback address, whose sessions run real bash
// inside the host's tree (nsenter into its chrooted keeper process), plus its reboot life cycle.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { timingSafeEqual } from 'node:crypto'
import ssh2 from 'ssh2'
import type { Connection, ParsedKey, ServerChannel } from 'ssh2'
import { bootHost, chooseEntry, resolveBoot, type BootOutcome } from './boot.js'
import { parseGrubenv, renderBlsEntry, renderGrubenv, stockArgs } from './boot-config.js'
import type { Profile } from './profiles.js'
import { grubDir, kernelFile } from './os-layout.js'
import type { Faults } from './spec.js'
import { ADMIN_UID } from './layers.js'
import { readGuests } from './guests.js'
import { quote } from '../shell.js'

const { Server, utils } = ssh2

// up, rebooting (down for its reboot time), down (powered off / never came back), bricked, unreachable (fault).
export type HostState = 'up' | 'rebooting' | 'down' | 'bricked' | 'unreachable'

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

// What a host is made of.
export interface SimHostConfig {
  name: string
  rack: string
  address: string
  profile: Profile
  faults: Faults
  hostKey: string // OpenSSH private key
  clientPublicKey: ParsedKey
  rebootTimeMs: number
  dracutTimeMs: number
  root: string // the merged root path inside the namespace
  emit: (e: SimEvent) => void
}

const ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/root/bin'
const USER_PATH = '/usr/local/bin:/usr/bin:/usr/local/sbin:/usr/sbin:/home/admin/.local/bin:/home/admin/bin'
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

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
      if (this.cfg.faults.unreachable === 'timeout') await this.listenBlackhole()
      else await this.reservePort()
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

  private async reservePort(): Promise<void> {
    // a port that is allocated and closed again: connecting gets ECONNREFUSED
    const s = net.createServer()
    await new Promise<void>((resolve, reject) => s.listen(0, this.cfg.address, resolve).once('error', reject))
    this.port = (s.address() as net.AddressInfo).port
    await new Promise<void>((r) => s.close(() => r()))
  }

  private async listenBlackhole(): Promise<void> {
    // accepts TCP and never says a word: the client's handshake times out
    this.blackhole = net.createServer(() => undefined)
    await new Promise<void>((resolve, reject) => this.blackhole!.listen(0, this.cfg.address, resolve).once('error', reject))
    this.port = (this.blackhole.address() as net.AddressInfo).port
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
    ;(client as unknown as { _sock?: net.Socket })._sock?.setNoDelay(true)
    this.conns.add(client)
    client.on('close', () => this.conns.delete(client))
    client.on('error', () => undefined)
    let user = ''
    client.on('authentication', (ctx) => {
      const key = this.cfg.clientPublicKey
      const okUser = ctx.username === 'root' || ctx.username === 'admin'
      if (ctx.method !== 'publickey' || !okUser || this.cfg.faults.authRefused) return ctx.reject(['publickey'])
      const pub = key.getPublicSSH()
      const same = ctx.key.algo === key.type && ctx.key.data.length === pub.length && timingSafeEqual(ctx.key.data, pub)
      if (!same) return ctx.reject(['publickey'])
      if (!ctx.signature) return ctx.accept() // the client asks whether this key would do
      if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey'])
      user = ctx.username
      ctx.accept()
    })
    client.on('ready', () => {
      this.cfg.emit({ t: Date.now(), host: this.name, kind: 'connect', detail: user })
      client.on('session', (acceptSession) => {
        const session = acceptSession()
        const env: Record<string, string> = {}
        let pty = false
        session.on('env', (accept, _reject, info) => {
          if (ENV_NAME.test(info.key)) env[info.key] = info.val
          accept?.()
        })
        session.on('pty', (accept) => {
          pty = true
          accept?.()
        })
        session.on('window-change', (accept) => accept?.())
        session.on('signal', (accept, _reject, info) => {
          accept?.()
          for (const c of this.children) if ((c as ChildProcess & { session?: unknown }).session === session) c.kill(`SIG${info.name}` as NodeJS.Signals)
        })
        session.on('exec', (accept, _reject, info) => {
          const stream = accept()
          this.run(client, stream, user, info.command, env, false)
        })
        session.on('shell', (accept) => {
          const stream = accept()
          this.run(client, stream, user, null, env, pty)
        })
        session.on('subsystem', (accept, reject, info) => {
          if (info.name !== 'sftp') return reject()
          const stream = accept()
          this.spawnIn(user, ['/usr/lib/openssh/sftp-server'], env, stream, client)
        })
      })
    })
  }

  private envFor(user: string, extra: Record<string, string>, client?: Connection): Record<string, string> {
    const home = user === 'root' ? '/root' : `/home/${user}`
    const sock = (client as unknown as { _sock?: net.Socket } | undefined)?._sock
    const remote = sock ? `${sock.remoteAddress} ${sock.remotePort}` : '127.0.0.1 0'
    return {
      LANG: 'C.UTF-8',
      ...extra,
      PATH: user === 'root' ? ROOT_PATH : USER_PATH,
      HOME: home,
      USER: user,
      LOGNAME: user,
      SHELL: '/bin/bash',
      MAIL: `/var/spool/mail/${user}`,
      SSH_CLIENT: `${remote} ${this.port}`,
      SSH_CONNECTION: `${remote} ${this.cfg.address} ${this.port}`,
    }
  }

  private spawnIn(user: string, argv: string[], env: Record<string, string>, stream: ServerChannel, client: Connection): ChildProcess {
    const home = user === 'root' ? '/root' : `/home/${user}`
    // --wd is opened before entering the root: name the directory through the host's root
    const args = ['-t', String(this.pid), '-m', '-u', '-r', `--wd=${this.view}${home}`]
    if (user !== 'root') args.push('-S', String(ADMIN_UID), '-G', String(ADMIN_UID))
    args.push('--', ...argv)
    const child = spawn('nsenter', args, { env: this.envFor(user, env, client), stdio: ['pipe', 'pipe', 'pipe'] })
    this.children.add(child)
    ;(child as ChildProcess & { session?: unknown }).session = stream
    child.stdin!.on('error', () => undefined)
    stream.on('error', () => undefined)
    stream.pipe(child.stdin!)
    child.stdout!.pipe(stream, { end: false })
    child.stderr!.pipe(stream.stderr, { end: false })
    child.on('close', (code, signal) => {
      this.children.delete(child)
      if (!stream.writable) return
      if (signal) stream.exit(signal.replace(/^SIG/, ''), false, '')
      else stream.exit(code ?? 0)
      stream.end()
    })
    child.on('error', () => {
      this.children.delete(child)
      if (stream.writable) {
        stream.exit(127)
        stream.end()
      }
    })
    return child
  }

  private run(client: Connection, stream: ServerChannel, user: string, command: string | null, env: Record<string, string>, pty: boolean): void {
    const n = ++this.execCount
    // gpufleet starts every command with `umask 077` (src/transport/remote-umask.ts); records and
    // fault patterns (`^dracut`) see the command after it.
    const seen = command === null ? null : command.replace(/^umask 077\n/, '')
    if (seen !== null) this.cfg.emit({ t: Date.now(), host: this.name, kind: 'exec', detail: seen.length > 200 ? seen.slice(0, 200) + '…' : seen })
    const faults = this.cfg.faults
    const slow = faults.slowCommands && (!faults.slowCommands.pattern || new RegExp(faults.slowCommands.pattern).test(seen ?? ''))
    const start = () => {
      if (this.state !== 'up') return
      const argv = command === null ? (pty ? ['/usr/bin/script', '-qfec', '/bin/bash -l', '/dev/null'] : ['/bin/bash', '-l']) : ['/bin/bash', '-c', command]
      this.spawnIn(user, argv, env, stream, client)
      const drop = faults.dropConnection
      if (drop && this.drops < (drop.times ?? 1)) {
        const hit = drop.onExec !== undefined ? n === drop.onExec : drop.pattern !== undefined && new RegExp(drop.pattern).test(seen ?? '')
        if (hit) {
          this.drops++
          setTimeout(() => destroy(client), drop.afterMs ?? 100)
        }
      }
    }
    if (slow) setTimeout(start, faults.slowCommands!.delay)
    else start()
  }

  // Runs a command inside the host for the simulator itself (not counted as a client exec).
  runInternal(command: string): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn('nsenter', ['-t', String(this.pid), '-m', '-u', '-r', `--wd=${this.view}/root`, '--', '/bin/bash', '-c', command], {
        env: this.envFor('root', {}),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stderr!.on('data', (d: Buffer) => (stdout += d.toString()))
      let stdout = ''
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
      child.on('close', (code) => resolve({ code, stdout }))
      child.on('error', () => resolve({ code: null, stdout }))
    })
  }

  // A kernel update, as `dnf install kernel` / `apt install linux-image-…` would do it: the distro's
  // hooks add the boot entry and build the initramfs with the host's own tools and config
  // (sim-tools' install-kernel). `kver` defaults to the profile's next update kernel not installed.
  async installKernel(kver?: string): Promise<string> {
    const p = this.cfg.profile
    const installed = (k: string) => fs.existsSync(path.join(this.view, kernelFile(p, k)))
    const k = kver ? p.updateKernels.find((u) => u.kver === kver) : p.updateKernels.find((u) => !installed(u.kver))
    if (!k) throw new Error(kver ? `sim: ${this.name} (${p.name}) has no update kernel ${kver} (known: ${p.updateKernels.map((u) => u.kver).join(', ')})` : `sim: ${this.name}: every update kernel of ${p.name} is installed`)
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
    let lg = ''
    try {
      const conf = fs.readFileSync(path.join(this.view, 'etc/sysconfig/libvirt-guests'), 'utf8')
      // lstat: the link's absolute target only resolves inside the host's root
      const enabled = fs.lstatSync(path.join(this.view, 'etc/systemd/system/multi-user.target.wants/libvirt-guests.service'), { throwIfNoEntry: false }) !== undefined
      if (enabled) lg = ` (libvirt-guests ON_SHUTDOWN=${/^ON_SHUTDOWN=(\w+)/m.exec(conf)?.[1] ?? 'suspend'})`
    } catch {
      /* not configured */
    }
    for (const g of readGuests(this.view, Date.now())) if (g.running) this.cfg.emit({ t: Date.now(), host: this.name, kind: 'guest-killed', detail: `${g.name}: still running at ${reason}${lg}` })
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
    for (const c of this.conns) destroy(c)
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
    const p = this.cfg.profile
    const boot = path.join(this.view, 'boot')
    const stock = path.join(profileLayer, 'boot')
    for (const f of fs.readdirSync(stock)) if (/^(vmlinu[zx]|initramfs|initrd\.img)-/.test(f)) fs.copyFileSync(path.join(stock, f), path.join(boot, f))
    if (!resolveBoot(this.view, false).ok) {
      const gd = grubDir(p).replace(/^boot\//, '')
      fs.copyFileSync(path.join(stock, gd, 'grub.cfg'), path.join(boot, gd, 'grub.cfg'))
      const envFile = path.join(boot, gd, 'grubenv')
      const env = fs.existsSync(envFile) ? parseGrubenv(fs.readFileSync(envFile, 'utf8')) : {}
      delete env.next_entry
      if (p.bls) {
        const mid = fs.readFileSync(path.join(this.view, 'etc/machine-id'), 'utf8').trim()
        for (const k of p.kernels) {
          const f = path.join(boot, `loader/entries/${mid}-${k.kver}.conf`)
          if (!fs.existsSync(f)) fs.writeFileSync(f, p.os === 'el9' ? renderBlsEntry(k.title, k.kver, stockArgs(p)) : renderBlsEntry(k.title, k.kver).replace(/^id .*$/m, `id ${mid}-${k.kver}`))
        }
        env.saved_entry = `${mid}-${p.kernels[0]!.kver}`
        if (p.os !== 'el9') env.kernelopts ??= `${stockArgs(p)} `
      } else if (p.os !== 'ubuntu') env.saved_entry = p.kernels[0]!.title
      fs.writeFileSync(envFile, renderGrubenv(env))
    }
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
    const parsed = utils.parseKey(this.cfg.hostKey)
    const key = Array.isArray(parsed) ? parsed[0] : parsed
    if (key instanceof Error || !key) throw key ?? new Error('bad host key')
    return `${key.type} ${key.getPublicSSH().toString('base64')}`
  }
}

function destroy(c: Connection): void {
  const sock = (c as unknown as { _sock?: net.Socket })._sock
  if (sock) sock.destroy()
  else c.end()
}

// SIGKILLs every process whose UTS namespace is one of `uts` (one /proc scan), except `spare`.
export function killInNamespaces(uts: Set<string>, spare: Set<number>): void {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || spare.has(Number(entry))) continue
    try {
      if (uts.has(fs.readlinkSync(`/proc/${entry}/ns/uts`))) process.kill(Number(entry), 'SIGKILL')
    } catch {
      /* gone */
    }
  }
}
