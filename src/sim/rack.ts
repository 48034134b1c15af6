// The simulated rack: startRack() builds the layers, mounts every host inside one private mount
// namespace, boots them and starts one SSH server per host. The programmatic API for tests.
import fs from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { openEventLog, type EventLog } from './event-log.js'
import { seedHostUppers } from './host-uppers.js'
import { writeClientKey } from './key-pairs.js'
import { writeKnownHosts } from './known-hosts-file.js'
import { getProfile } from './profiles.js'
import { pssOf, rssOf, tmpfsUsed } from './proc-memory.js'
import { startRackBmcs, type RackBmcs } from './rack-bmcs.js'
import { startRackFs, type RackFs } from './rack-fs.js'
import { createSimHosts, powerOnHosts } from './rack-hosts.js'
import { writeInventory } from './rack-inventory.js'
import { buildRackLayers } from './rack-layers.js'
import { claimRackLock } from './rack-lock.js'
import { mountCommands } from './rack-mounts.js'
import { planRack, type PlannedHost } from './rack-plan.js'
import { hostStatus, type SimHostStatus } from './rack-status.js'
import { watchRebootRequests } from './reboot-requests.js'
import { removeTrees } from './remove-trees.js'
import { killInNamespaces } from './kill-in-namespaces.js'
import type { SimEvent, SimHost } from './sim-host.js'
import { loadSpec, type RackSpec } from './spec.js'
import type { ToolCostsSetting } from './tool-costs.js'

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

// Starts a rack. Every host is up (or faulty as its spec says) when the promise resolves.
export async function startRack(options: RackOptions = {}): Promise<Rack> {
  const dir = path.resolve(options.dir ?? '.gpufleet/sim')
  const spec: RackSpec = options.spec ? loadSpec(options.spec) : {}
  const defaultProfile = options.profile ?? spec.profile ?? 'ac922'
  getProfile(defaultProfile)
  const rebootTimeMs = options.rebootTimeMs ?? spec.rebootTime ?? 2000

  fs.mkdirSync(dir, { recursive: true })
  const lock = claimRackLock(dir)
  await removeTrees(['ctl', 'fs'].map((d) => path.join(dir, d)))
  const plan = planRack(spec, { count: options.hosts ?? spec.hosts ?? 8, perRack: spec.hostsPerRack ?? 8, defaultProfile, costSetting: options.toolCosts ?? spec.toolCosts, dracutTimeMs: options.dracutTimeMs })
  const { clientKeyFile, clientPublicKey } = writeClientKey(dir)

  const t0 = Date.now()
  const rfs = await startRackFs(dir)
  const pids = await mountHosts(rfs, dir, plan, t0)
  debug(`mounted in ${Date.now() - t0} ms`)
  const log = openEventLog(dir)
  const hosts = createSimHosts(plan, { fsDir: rfs.fsDir, clientPublicKey, rebootTimeMs, emit: log.emit })
  try {
    await powerOnHosts(plan, hosts, pids)
  } catch (e) {
    for (const h of hosts.values()) await h.stop()
    await rfs.keeper.stop()
    throw e
  }
  debug(`booted and listening in ${Date.now() - t0} ms`)
  let bmcs: RackBmcs
  try {
    bmcs = await startRackBmcs(dir, plan, hosts, log.emit)
  } catch (e) {
    for (const h of hosts.values()) await h.stop()
    await rfs.keeper.stop()
    throw e
  }
  const rebootRequests = watchRebootRequests(
    dir,
    plan.map((h) => h.name),
    (name, reason) => hosts.get(name)!.reboot(reason),
  )

  // outputs
  const inventoryFile = path.join(dir, 'inventory.yaml')
  const knownHostsFile = path.join(dir, 'known_hosts')
  writeInventory(inventoryFile, clientKeyFile, knownHostsFile, plan, hosts, (name) => ({ url: bmcs.bmcs.get(name)!.url, user: 'root', password_file: bmcs.passwordFile }))
  writeKnownHosts(knownHostsFile, plan, hosts)

  const stop = async () => {
    const t0 = Date.now()
    rebootRequests.close()
    for (const b of bmcs.bmcs.values()) await b.close()
    await stopHosts(rfs, hosts, log, dir, lock, t0)
  }
  return rackHandle({ dir, inventoryFile, knownHostsFile, clientKeyFile, bmcCaFile: bmcs.caFile, bmcPasswordFile: bmcs.passwordFile }, plan, hosts, rfs, log, stop)
}

// Builds the layers, seeds every host's upper dir and mounts the hosts; returns the host pids.
async function mountHosts(rfs: RackFs, dir: string, plan: PlannedHost[], t0: number): Promise<Map<string, number>> {
  try {
    const families = buildRackLayers(rfs, plan)
    debug(`layers built in ${Date.now() - t0} ms`)
    seedHostUppers(rfs, dir, plan)
    debug(`upper dirs seeded in ${Date.now() - t0} ms`)
    const started = await rfs.keeper.run(mountCommands(rfs, dir, plan, families))
    if (started.errors.length) throw new Error(`sim: mount setup failed: ${started.errors.slice(0, 3).join('; ')}`)
    return started.pids
  } catch (e) {
    await rfs.keeper.stop()
    throw e
  }
}

// Stops every host, the keeper (the namespace and its mounts go with it) and removes the rack's files.
async function stopHosts(rfs: RackFs, hosts: Map<string, SimHost>, log: EventLog, dir: string, lock: string, t0: number): Promise<void> {
  for (const h of hosts.values()) await h.stop(false)
  // one /proc scan for all hosts' leftover processes (the keeper kills the host processes)
  killInNamespaces(new Set([...hosts.values()].map((h) => h.uts).filter((u): u is string => !!u)), new Set([...hosts.values()].map((h) => h.pid)))
  debug(`hosts stopped in ${Date.now() - t0} ms`)
  await rfs.keeper.stop()
  debug(`keeper stopped in ${Date.now() - t0} ms`)
  log.close()
  await removeTrees(['ctl', 'fs'].map((d) => path.join(dir, d)))
  debug(`files removed in ${Date.now() - t0} ms`)
  fs.rmSync(path.join(dir, 'bmc'), { recursive: true, force: true })
  fs.rmSync(lock, { force: true })
}

// The running rack as callers see it; `stop` runs once.
function rackHandle(files: Pick<Rack, 'dir' | 'inventoryFile' | 'knownHostsFile' | 'clientKeyFile' | 'bmcCaFile' | 'bmcPasswordFile'>, plan: PlannedHost[], hosts: Map<string, SimHost>, rfs: RackFs, log: EventLog, stopRack: () => Promise<void>): Rack {
  const { keeper, nsView, layer, fsDir } = rfs
  const get = (name: string): SimHost => {
    const h = hosts.get(name)
    if (!h) throw new UsageError(`no simulated host named '${name}'`)
    return h
  }
  let stopped = false
  return {
    ...files,
    hosts: plan.map((h) => ({ name: h.name, address: h.address, port: hosts.get(h.name)!.port, profile: h.profile.name, rack: h.rack })),
    events: () => log.events.slice(),
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
      await stopRack()
    },
  }
}
