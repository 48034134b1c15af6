// `sim status` per host: the live state read from the host's tree (what its tools would print).
import fs from 'node:fs'
import path from 'node:path'
import type { SimHost } from './sim-host.js'
import type { HostState } from './sim-host-config.js'

// What `sim status` shows per host.
export interface SimHostStatus {
  name: string
  rack: string
  profile: string
  address: string
  port: number
  state: HostState
  bootCount: number
  bootId?: string
  kernel?: string
  cmdline?: string
  smt?: string // as `ppc64_cpu --smt` prints it
  gpuDrivers: Record<string, string | null> // GPU address -> bound driver
  modules: string[] // GPU-related modules loaded (nouveau, vfio_pci, ...)
  hostdevs: Array<{ domain: string; address: string; running: boolean }>
  bootEntry?: string
  bricked?: string // why it does not boot
}

// Reads the live state of a host from its tree.
export async function hostStatus(host: SimHost): Promise<SimHostStatus> {
  const p = host.cfg.profile
  const base: SimHostStatus = {
    name: host.name,
    rack: host.cfg.rack,
    profile: p.name,
    address: host.cfg.address,
    port: host.port,
    state: host.state,
    bootCount: host.bootCount,
    gpuDrivers: {},
    modules: [],
    hostdevs: [],
  }
  if (host.lastBoot && !host.lastBoot.ok) base.bricked = host.lastBoot.reason
  if (!host.pid) return base
  const v = host.view
  const rd = (f: string) => {
    try {
      return fs.readFileSync(path.join(v, f), 'utf8')
    } catch {
      return undefined
    }
  }
  base.bootId = rd('proc/sys/kernel/random/boot_id')?.trim()
  base.cmdline = rd('proc/cmdline')?.trim()
  base.kernel = rd('var/lib/sim-hw/kver')?.trim()
  if (host.lastBoot?.ok) base.bootEntry = host.lastBoot.entry.title
  // SMT from the per-CPU online files, as ppc64_cpu reads it
  const perCore: number[] = []
  for (let c = 0; c < p.cores; c++) {
    let n = 0
    for (let t = 0; t < p.threadsPerCore; t++) if ((rd(`sys/devices/system/cpu/cpu${c * p.threadsPerCore + t}/online`) ?? '1').trim() === '1') n++
    perCore.push(n)
  }
  const uniq = [...new Set(perCore)]
  base.smt = uniq.length === 1 ? (uniq[0] === 1 ? 'SMT is off' : `SMT=${uniq[0]}`) : 'mixed'
  for (const d of p.devices.filter((d) => d.gpu)) {
    try {
      base.gpuDrivers[d.address] = path.basename(fs.readlinkSync(path.join(v, `sys/bus/pci/devices/${d.address}/driver`)))
    } catch {
      base.gpuDrivers[d.address] = null
    }
  }
  const mods = (rd('proc/modules') ?? '').split('\n').map((l) => l.split(' ')[0]!)
  base.modules = mods.filter((m) => /^(nouveau|nvidia.*|vfio.*)$/.test(m))
  for (const [dirRel, running] of [
    ['etc/libvirt/qemu', false],
    ['run/libvirt/qemu', true],
  ] as const) {
    let files: string[] = []
    try {
      files = fs.readdirSync(path.join(v, dirRel)).filter((f) => f.endsWith('.xml'))
    } catch {
      /* none */
    }
    for (const f of files) {
      const xml = rd(`${dirRel}/${f}`) ?? ''
      for (const m of xml.matchAll(/<hostdev[\s\S]*?<source>\s*<address domain='0x([0-9a-f]+)' bus='0x([0-9a-f]+)' slot='0x([0-9a-f]+)' function='0x([0-7])'/g)) {
        base.hostdevs.push({ domain: f.replace(/\.xml$/, ''), address: `${m[1]!.padStart(4, '0')}:${m[2]!.padStart(2, '0')}:${m[3]!.padStart(2, '0')}.${m[4]}`, running })
      }
    }
  }
  return base
}
