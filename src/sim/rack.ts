// The simulated rack: startRack() builds the layers, mounts every host inside one private mount
// namespace, boots them and starts one SSH server per host. The programmatic API for tests.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import ssh2 from 'ssh2'
import type { ParsedKey } from 'ssh2'
import { UsageError } from '../errors.js'
import { quote } from '../shell.js'
import { makeBmcCerts } from './bmc-certs.js'
import { seedGuests } from './guests.js'
import { buildDevLayer, buildOsUsrLayer, buildProfileLayer, buildUsrLayer, seedHostUpper } from './layers.js'
import { seedHostPlatform, usrMount } from './host-platform.js'
import { osFamily, type OsFamily } from './os-layout.js'
import { startBmc, type Bmc } from './redfish.js'
import { NamespaceKeeper } from './namespace.js'
import { getProfile, type Profile } from './profiles.js'
import { pssOf, rssOf, tmpfsUsed } from './proc-memory.js'
import { writeInventory } from './rack-inventory.js'
import { hostStatus, type SimHostStatus } from './rack-status.js'
import { killInNamespaces, SimHost, type SimEvent } from './sim-host.js'
import { loadSpec, resolveHost, type RackSpec } from './spec.js'
import { resolveToolCosts, seedToolCosts, wrapCostedTools, type ToolCostsSetting } from './tool-costs.js'

const { utils } = ssh2

export type { SimHostStatus }

// startRack()'s options (the shape in the team brief).
export interface RackOptions {
  hosts?: number
  profile?: string
  spec?: string // YAML file
  dir?: string
  rebootTimeMs?: number
  dracutTimeMs?: number // overrides the tool costs' dracut
  toolCosts?: ToolCostsSetting // overrides the spec's `toolCosts:` (default: none, tools answer at once)
}

// One host as the rack lists it.
export interface RackHost {
  name: string
  address: string
  port: number
  profile: string
  rack: string
}

// A running rack.
export interface Rack {
  dir: string
  inventoryFile: string
  knownHostsFile: string
  clientKeyFile: string
  bmcCaFile: string // the CA that signed every BMC's certificate (--bmc-ca-file)
  bmcPasswordFile: string // the password the BMCs accept (user root), unless a host's spec says otherwise
  hosts: RackHost[]
  events(): SimEvent[]
  status(name: string): Promise<SimHostStatus>
  // Reboots a host from outside (power cycle), as the BMC would.
  powerCycle(name: string): void
  // Restores /boot of a bricked host from the stock install and boots it.
  repair(name: string): Promise<void>
  // A kernel update on a running host (dnf/apt with the distro's hooks); returns the version.
  installKernel(name: string, kver?: string): Promise<string>
  // Memory of the simulator, bytes: RSS of this process + keeper, PSS of the host processes, tmpfs used.
  // The keeper's and every host process's pid (all gone after stop()).
  processIds(): number[]
  memory(): { simulatorRss: number; hostProcessesPss: number; tmpfsBytes: number }
  stop(): Promise<void>
}

// GPUFLEET_SIM_DEBUG=1 prints the rack's start/stop timings on stderr.
const debug = (msg: string) => {
  if (process.env.GPUFLEET_SIM_DEBUG) process.stderr.write(`[sim] ${msg}\n`)
}

function profilePrefix(p: string): string {
  return p === 's822lc' ? 'p8' : 'p9'
}

// Starts a rack. Every host is up (or faulty as its spec says) when the promise resolves.
export async function startRack(options: RackOptions = {}): Promise<Rack> {
  const dir = path.resolve(options.dir ?? '.gpufleet/sim')
  const spec: RackSpec = options.spec ? loadSpec(options.spec) : {}
  const count = options.hosts ?? spec.hosts ?? 8
  const perRack = spec.hostsPerRack ?? 8
  const defaultProfile = options.profile ?? spec.profile ?? 'ac922'
  getProfile(defaultProfile)
  const rebootTimeMs = options.rebootTimeMs ?? spec.rebootTime ?? 2000
  const costSetting = options.toolCosts ?? spec.toolCosts

  fs.mkdirSync(dir, { recursive: true })
  const lock = path.join(dir, 'rack.lock')
  try {
    const other = Number(fs.readFileSync(lock, 'utf8'))
    if (other && other !== process.pid) {
      process.kill(other, 0)
      throw new UsageError(`a simulated rack is already running in ${dir} (pid ${other}); run \`gpufleet sim down --dir ${dir}\``)
    }
  } catch (e) {
    if (e instanceof UsageError) throw e
  }
  fs.writeFileSync(lock, String(process.pid))
  await removeTrees(['ctl', 'fs'].map((d) => path.join(dir, d)))

  // plan
  const plan = Array.from({ length: count }, (_, i) => {
    const rackNo = Math.floor(i / perRack) + 1
    const idx = (i % perRack) + 1
    const name = `${profilePrefix(defaultProfile)}-r${rackNo}-${String(idx).padStart(2, '0')}`
    const r = resolveHost(spec, name, defaultProfile)
    const profile = getProfile(r.profile)
    const costs = resolveToolCosts(costSetting, profile)
    if (options.dracutTimeMs !== undefined) costs.ms.dracut = options.dracutTimeMs
    return { name, rack: `r${rackNo}`, address: `127.9.${rackNo}.${idx}`, profile, faults: r.faults, costs }
  })

  // keys
  const client = newKeyPair()
  const clientKeyFile = path.join(dir, 'id_ed25519')
  fs.rmSync(clientKeyFile, { force: true })
  fs.writeFileSync(clientKeyFile, client.private, { mode: 0o600 })
  fs.writeFileSync(clientKeyFile + '.pub', client.public.trim() + ' gpufleet-sim\n')
  const clientPublicKey = utils.parseKey(client.public) as ParsedKey

  let started: Awaited<ReturnType<NamespaceKeeper['run']>>
  const t0 = Date.now()
  // Layers and host trees live on a tmpfs mounted inside the rack's namespace (DIR/fs there, an
  // empty directory outside): RAM-speed writes, and nothing to delete when the namespace goes.
  const fsDir = path.join(dir, 'fs')
  fs.mkdirSync(fsDir, { recursive: true })
  const keeper = NamespaceKeeper.start()
  try {
    const r = await keeper.run([['tmpfs', fsDir, 'mode=755']])
    if (r.errors.length) throw new Error(`sim: cannot mount the rack's tmpfs: ${r.errors[0]}`)
  } catch (e) {
    await keeper.stop()
    throw e
  }
  const nsView = (p: string) => `/proc/${keeper.pid}/root${p}`
  const layer = (name: string) => path.join(fsDir, 'layers', name)
  try {
    buildUsrLayer(nsView(layer('usr')))
    // Wrappers only when some tool costs something: a free tool then costs no extra bash.
    if (plan.some((h) => Object.entries(h.costs.ms).some(([t, ms]) => t !== 'dracut' && ms > 0))) wrapCostedTools(nsView(layer('usr')))
    buildDevLayer(nsView(layer('dev')))
    const used = new Map<string, Profile>(plan.map((h) => [h.profile.name, h.profile]))
    for (const p of used.values()) buildProfileLayer(nsView(layer(p.name)), p)
    const families = new Set([...used.values()].map(osFamily))
    for (const f of families) buildOsUsrLayer(nsView(layer(`usr-${f}`)), f)

    debug(`layers built in ${Date.now() - t0} ms`)

    // per-host upper dirs
    const hashes = new Map<string, string>()
    const hashFor = (pw: string) => {
      if (!hashes.has(pw)) hashes.set(pw, execFileSync('perl', ['-e', 'print crypt($ARGV[0], q($6$) . $ARGV[1] . q($))', pw, randomBytes(6).toString('hex')]).toString())
      return hashes.get(pw)!
    }
    for (const h of plan) {
      const base = nsView(path.join(fsDir, 'hosts', h.name))
      for (const d of ['upper', 'work', 'root']) fs.mkdirSync(path.join(base, d), { recursive: true })
      fs.mkdirSync(path.join(dir, 'ctl', h.name), { recursive: true })
      const upper = path.join(base, 'upper')
      seedHostUpper(upper, {
        name: h.name,
        address: h.address,
        machineId: randomBytes(16).toString('hex'),
        profile: h.profile,
        sudoNoPassword: !h.faults.sudoPassword,
        ...(h.faults.sudoPassword ? { adminPasswordHash: hashFor(h.faults.sudoPassword) } : {}),
        profileLayer: nsView(layer(h.profile.name)),
      })
      fs.mkdirSync(path.join(upper, 'var/lib/sim-hw'), { recursive: true })
      seedToolCosts(upper, h.costs)
      if (h.faults.dracutNoSpace) fs.writeFileSync(path.join(upper, 'var/lib/sim-hw/fault-dracut-enospc'), '1\n')
      if (h.faults.bootFreeKiB !== undefined) fs.writeFileSync(path.join(upper, 'var/lib/sim-hw/fault-boot-free-kb'), `${h.faults.bootFreeKiB}\n`)
      seedGuests(upper, h.profile, h.faults)
      seedHostPlatform(upper, path.join(base, 'usr-hide'), h.faults)
    }

    debug(`upper dirs seeded in ${Date.now() - t0} ms`)
    // mounts + host processes
    // One /usr per OS family: its own tools over the shared ones over the real /usr.
    const usrMerged = (f: OsFamily) => path.join(fsDir, `usr-${f}`)
    const cmds: string[][] = []
    for (const f of families) {
      fs.mkdirSync(nsView(usrMerged(f)), { recursive: true })
      cmds.push(['overlay', `${layer(`usr-${f}`)}:${layer('usr')}:/usr`, '', '', usrMerged(f)])
    }
    for (const h of plan) {
      const base = path.join(fsDir, 'hosts', h.name)
      const root = path.join(base, 'root')
      const hw = path.join(root, 'var/lib/sim-hw')
      cmds.push(
        ['overlay', layer(h.profile.name), path.join(base, 'upper'), path.join(base, 'work'), root],
        usrMount(h.faults, path.join(base, 'usr-hide'), [layer(`usr-${osFamily(h.profile)}`), layer('usr')], usrMerged(osFamily(h.profile)), path.join(root, 'usr')),
        // /dev: the real one under the dev layer (/dev/kvm); its submounts are not seen through an overlay.
        ['overlay', `${layer('dev')}:/dev`, '', '', path.join(root, 'dev')],
        ['rbind', '/dev/pts', path.join(root, 'dev/pts')],
        ['rbind', '/dev/shm', path.join(root, 'dev/shm')],
        ['proc', `${hw}/kproc`],
        ['bind', path.join(dir, 'ctl', h.name), `${hw}/ctl`],
        ['host', h.name, root],
      )
    }
    started = await keeper.run(cmds)
    if (started.errors.length) throw new Error(`sim: mount setup failed: ${started.errors.slice(0, 3).join('; ')}`)
  } catch (e) {
    await keeper.stop()
    throw e
  }

  debug(`mounted in ${Date.now() - t0} ms`)
  // events
  const events: SimEvent[] = []
  const eventsFile = path.join(dir, 'events.jsonl')
  fs.writeFileSync(eventsFile, '')
  const eventsFd = fs.openSync(eventsFile, 'a')
  const emit = (e: SimEvent) => {
    events.push(e)
    fs.writeSync(eventsFd, JSON.stringify(e) + '\n')
  }

  const hosts = new Map<string, SimHost>()
  for (const h of plan) {
    const key = newKeyPair()
    hosts.set(
      h.name,
      new SimHost({
        name: h.name,
        rack: h.rack,
        address: h.address,
        profile: h.profile,
        faults: h.faults,
        hostKey: key.private,
        clientPublicKey,
        rebootTimeMs,
        dracutTimeMs: h.costs.ms.dracut,
        root: path.join(fsDir, 'hosts', h.name, 'root'),
        emit,
      }),
    )
  }
  try {
    await Promise.all(
      plan.map(async (h) => {
        const host = hosts.get(h.name)!
        const pid = started.pids.get(h.name)
        if (!pid) throw new Error(`sim: host ${h.name} did not start`)
        await host.powerOn(pid, h.faults.prepared ? prepareScript(h.profile) : undefined)
        // A stock install always boots; if it did not, the rack is broken, not the host: say why
        // now instead of writing an inventory with a host that has no port.
        if (host.state === 'bricked') {
          const reason = host.lastBoot && !host.lastBoot.ok ? host.lastBoot.reason : 'unknown'
          throw new Error(`sim: ${h.name} did not boot from its stock install: ${reason}`)
        }
      }),
    )
  } catch (e) {
    for (const h of hosts.values()) await h.stop()
    await keeper.stop()
    throw e
  }

  debug(`booted and listening in ${Date.now() - t0} ms`)
  // One Redfish endpoint per host, at the host's address on a port of its own.
  const certs = makeBmcCerts(
    dir,
    plan.map((h) => h.address),
  )
  const bmcPasswordFile = path.join(dir, 'bmc-password')
  fs.rmSync(bmcPasswordFile, { force: true })
  const bmcPassword = randomBytes(12).toString('base64url')
  fs.writeFileSync(bmcPasswordFile, bmcPassword + '\n', { mode: 0o600 })
  const bmcs = new Map<string, Bmc>()
  try {
    for (const h of plan) {
      const host = hosts.get(h.name)!
      bmcs.set(
        h.name,
        await startBmc({
          address: h.address,
          user: 'root',
          password: h.faults.bmcPassword ?? bmcPassword,
          key: certs.key,
          cert: certs.cert,
          host: { name: h.name, powerState: () => (Date.now() < host.powerOffUntil ? 'Off' : 'On'), forceRestart: () => host.powerCycle() },
          record: (detail) => emit({ t: Date.now(), host: h.name, kind: 'bmc', detail }),
        }),
      )
    }
  } catch (e) {
    for (const b of bmcs.values()) await b.close()
    for (const h of hosts.values()) await h.stop()
    await keeper.stop()
    throw e
  }
  // reboot requests from inside the hosts (reboot, shutdown -r, systemctl reboot)
  const checks: Array<() => void> = []
  const watchers = plan.map((h) => {
    const ctl = path.join(dir, 'ctl', h.name)
    const check = () => {
      const f = path.join(ctl, 'reboot')
      if (!fs.existsSync(f)) return
      const reason = fs.readFileSync(f, 'utf8').trim() || 'reboot'
      fs.rmSync(f, { force: true })
      hosts.get(h.name)!.reboot(reason)
    }
    checks.push(check)
    return fs.watch(ctl, check)
  })
  // inotify is the fast path; a slow poll makes sure no request is ever lost
  const poll = setInterval(() => checks.forEach((c) => c()), 1000)
  poll.unref()

  // outputs
  const inventoryFile = path.join(dir, 'inventory.yaml')
  const knownHostsFile = path.join(dir, 'known_hosts')
  writeInventory(inventoryFile, clientKeyFile, knownHostsFile, plan, hosts, (name) => ({ url: bmcs.get(name)!.url, user: 'root', password_file: bmcPasswordFile }))
  const known = plan.map((h) => {
    const host = hosts.get(h.name)!
    const line = h.faults.wrongHostKey ? otherKeyLine() : host.publicKeyLine()
    return `[${h.address}]:${host.port} ${line}`
  })
  fs.writeFileSync(knownHostsFile, known.join('\n') + '\n')

  let stopped = false
  const rack: Rack = {
    dir,
    inventoryFile,
    knownHostsFile,
    clientKeyFile,
    bmcCaFile: certs.caFile,
    bmcPasswordFile,
    hosts: plan.map((h) => ({ name: h.name, address: h.address, port: hosts.get(h.name)!.port, profile: h.profile.name, rack: h.rack })),
    events: () => events.slice(),
    status: async (name) => hostStatus(get(name)),
    powerCycle: (name) => get(name).powerCycle(),
    repair: (name) => get(name).repair(nsView(layer(get(name).cfg.profile.name))),
    installKernel: (name, kver) => get(name).installKernel(kver),
    processIds: () => [keeper.pid, ...[...hosts.values()].map((h) => h.pid)],
    memory: () => ({
      simulatorRss: process.memoryUsage().rss + rssOf(keeper.pid),
      hostProcessesPss: [...hosts.values()].reduce((s, h) => s + pssOf(h.pid), 0),
      tmpfsBytes: tmpfsUsed(nsView(fsDir)),
    }),
    async stop() {
      if (stopped) return
      stopped = true
      const t0 = Date.now()
      clearInterval(poll)
      for (const w of watchers) w.close()
      for (const b of bmcs.values()) await b.close()
      for (const h of hosts.values()) await h.stop(false)
      // one /proc scan for all hosts' leftover processes (the keeper kills the host processes)
      killInNamespaces(new Set([...hosts.values()].map((h) => h.uts).filter((u): u is string => !!u)), new Set([...hosts.values()].map((h) => h.pid)))
      debug(`hosts stopped in ${Date.now() - t0} ms`)
      await keeper.stop()
      debug(`keeper stopped in ${Date.now() - t0} ms`)
      fs.closeSync(eventsFd)
      await removeTrees(['ctl', 'fs'].map((d) => path.join(dir, d)))
      debug(`files removed in ${Date.now() - t0} ms`)
      fs.rmSync(path.join(dir, 'bmc'), { recursive: true, force: true })
      fs.rmSync(lock, { force: true })
    },
  }
  function get(name: string): SimHost {
    const h = hosts.get(name)
    if (!h) throw new UsageError(`no simulated host named '${name}'`)
    return h
  }
  return rack
}

// rm -rf in C: node's recursive rmSync is several times slower on thousands of small files.
function removeTrees(paths: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('rm', ['-rf', '--one-file-system', ...paths], { stdio: 'ignore' })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rm -rf ${paths.join(' ')} failed (${code})`))))
  })
}

// ssh2 occasionally generates an ed25519 key its own parser rejects ("Malformed OpenSSH private
// key"); such a key would crash Server creation, so draw again.
function newKeyPair(): { private: string; public: string } {
  for (;;) {
    const k = utils.generateKeyPairSync('ed25519')
    if (!(utils.parseKey(k.private) instanceof Error)) return k
  }
}

function otherKeyLine(): string {
  const k = newKeyPair()
  return k.public.trim().split(' ').slice(0, 2).join(' ')
}

// `host already prepared`: the seed guide's staging done before first boot (kernel arg in the boot
// config and /etc/default/grub, nouveau blacklisted in modprobe.d and the initramfs, SMT unit on POWER8).
// Runs inside the host with its own (emulated) tools before the first boot.
export function prepareScript(p: Profile): string {
  const kver = p.kernels[0]!.kver
  const lines = [
    'set -e',
    'grubby --update-kernel=ALL --args=vfio-pci.disable_idle_d3=1',
    `sed -i 's/^GRUB_CMDLINE_LINUX="\\(.*\\)"$/GRUB_CMDLINE_LINUX="\\1 vfio-pci.disable_idle_d3=1"/' /etc/default/grub`,
    "printf 'blacklist nouveau\\noptions nouveau modeset=0\\n' > /etc/modprobe.d/blacklist-nouveau.conf",
    `dracut -f --omit-drivers nouveau ${quote(`/boot/initramfs-${kver}.img`)} ${quote(kver)}`,
  ]
  if (p.cpu === 'POWER8') {
    lines.push(
      "printf '[Unit]\\nDescription=Turn SMT off for KVM\\nBefore=libvirtd.service\\n\\n[Service]\\nType=oneshot\\nExecStart=/usr/sbin/ppc64_cpu --smt=off\\nRemainAfterExit=yes\\n\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/smt-off.service",
      'systemctl enable smt-off.service 2>/dev/null',
    )
  }
  return lines.join('\n')
}
