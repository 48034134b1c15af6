// The simulated firmware: what a host boots into, decided from its own files the way petitboot and
// the kernel would (see README.md "Boot rules"). Reads and writes the host's tree at `root`
// (a path the simulator process can reach, e.g. /proc/<host pid>/root).
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { chooseEntry, type BootEntry } from './boot-entries.js'
import { parseInitramfs, type InitramfsImage } from './initramfs.js'
import { moduleCatalog } from './module-catalog.js'
import { autostartDomains } from './libvirt-autostart.js'
import { cmdlineList, etcModprobe, modprobeConfig } from './modprobe-config.js'
import type { Profile } from './profiles.js'
import { readOptional as read } from './read-optional.js'
import { smtAfterBoot } from './smt-after-boot.js'

// What a boot produced (or why the host did not come back).
export type BootOutcome = { ok: true; entry: BootEntry; kver: string; cmdline: string; bootId: string; smt: number; modules: string[]; nouveau: boolean; startDomains: string[] } | { ok: false; reason: string; entry?: BootEntry }

const onBoot = (root: string, p: string) => path.join(root, 'boot', p.replace(/^\/boot\//, '/'))

// Writes /proc/cpuinfo for `smt` threads online per core (also the per-CPU online files when asked).
export function writeCpuState(root: string, p: Profile, smt: number, writeOnline: boolean): void {
  let text = ''
  for (let c = 0; c < p.cores; c++) {
    for (let t = 0; t < p.threadsPerCore; t++) {
      const cpu = c * p.threadsPerCore + t
      const online = t < smt
      if (writeOnline) fs.writeFileSync(path.join(root, `sys/devices/system/cpu/cpu${cpu}/online`), online ? '1\n' : '0\n')
      if (online) text += `processor\t: ${cpu}\ncpu\t\t: ${p.cpuLine}\nclock\t\t: ${p.clock}\nrevision\t: ${p.revision}\n\n`
    }
  }
  text += `timebase\t: ${p.timebase}\nplatform\t: ${p.platform}\nmodel\t\t: ${p.model}\nmachine\t\t: ${p.machine}\nfirmware\t: OPAL\nMMU\t\t: ${p.cpu === 'POWER9' ? 'Radix' : 'Hash'}\n`
  writeInPlace(path.join(root, 'proc/cpuinfo'), text)
}

// Bind-mounted /proc files must keep their inode: truncate and write, never rename.
function writeInPlace(file: string, text: string): void {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.ftruncateSync(fd, 0)
    fs.writeSync(fd, text, 0)
  } finally {
    fs.closeSync(fd)
  }
}

// Modules in load order, dependencies first.
export function loadOrder(wanted: string[]): string[] {
  const order: string[] = []
  const visit = (m: string) => {
    if (order.includes(m) || !moduleCatalog[m]) return
    for (const d of moduleCatalog[m]!.deps) visit(d)
    order.push(m)
  }
  wanted.forEach(visit)
  return order
}

function sysValue(def: string, given: string | undefined): string {
  if (given === undefined) return def
  if (def === 'Y' || def === 'N') return /^(1|y|Y|on)$/.test(given) ? 'Y' : 'N'
  return given
}

// Resets /sys/module and the PCI driver links for a fresh boot. `fromStock`: the tree is the
// stock layer's (base modules loaded, no GPU driver), so only the GPU stack needs adding.
export function writeModulesAndDrivers(root: string, p: Profile, order: string[], words: string[], options: Record<string, Record<string, string>>, nouveau: boolean, fromStock = false): void {
  const lines = order
    .slice()
    .reverse()
    .map((m) => {
      const holders = order.filter((o) => moduleCatalog[o]!.deps.includes(m))
      return `${m} ${moduleCatalog[m]!.size} ${holders.length} ${holders.length ? holders.join(',') + ',' : '-'} Live 0x0000000000000000`
    })
  writeInPlace(path.join(root, 'proc/modules'), lines.join('\n') + (lines.length ? '\n' : ''))
  const sysModule = path.join(root, 'sys/module')
  if (!fromStock) fs.rmSync(sysModule, { recursive: true, force: true })
  for (const m of order) {
    if (fromStock && p.baseModules.includes(m) && !moduleCatalog[m]!.params) continue
    const dir = path.join(sysModule, m)
    fs.mkdirSync(path.join(dir, 'holders'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'initstate'), 'live\n')
    fs.writeFileSync(path.join(dir, 'refcnt'), `${order.filter((o) => moduleCatalog[o]!.deps.includes(m)).length}\n`)
    const params = moduleCatalog[m]!.params
    if (params) {
      fs.mkdirSync(path.join(dir, 'parameters'))
      for (const [k, def] of Object.entries(params)) {
        const fromCmd = words
          .filter((w) => w.replace(/-/g, '_').startsWith(`${m}.${k}=`))
          .pop()
          ?.split('=')
          .slice(1)
          .join('=')
        fs.writeFileSync(path.join(dir, 'parameters', k), sysValue(def, fromCmd ?? options[m]?.[k]) + '\n')
      }
    }
  }
  for (const d of p.devices) {
    if (fromStock && !d.gpu) continue
    const devDir = path.join(root, `sys/devices/pci${d.address.slice(0, 4)}:00/${d.address}`)
    if (!fromStock) fs.rmSync(path.join(devDir, 'driver'), { force: true })
    if (!fromStock) {
      for (const drv of fs.readdirSync(path.join(root, 'sys/bus/pci/drivers'))) fs.rmSync(path.join(root, 'sys/bus/pci/drivers', drv, d.address), { force: true })
      fs.writeFileSync(path.join(devDir, 'driver_override'), '(null)\n')
    }
    const drv = d.gpu ? (nouveau ? 'nouveau' : undefined) : d.driver
    if (!drv) continue
    fs.symlinkSync(`../../../bus/pci/drivers/${drv}`, path.join(devDir, 'driver'))
    fs.symlinkSync(`../../../../devices/pci${d.address.slice(0, 4)}:00/${d.address}`, path.join(root, 'sys/bus/pci/drivers', drv, d.address))
  }
}

// Options of a boot beyond the host's own files (faults from the spec).
export interface BootOptions {
  forceNouveau?: boolean
  firstBoot?: boolean
}

// What the firmware would load: the entry, its kernel version and initramfs, or why it cannot boot.
export function resolveBoot(root: string, consume: boolean): { ok: true; entry: BootEntry; kver: string; image: InitramfsImage } | { ok: false; reason: string; entry?: BootEntry } {
  const { entry } = chooseEntry(root, consume)
  if (!entry) return { ok: false, reason: 'petitboot: no boot options found' }
  const kernelText = entry.linux ? read(onBoot(root, entry.linux)) : undefined
  const kver = /^SIMKERNEL (\S+)/.exec(kernelText ?? '')?.[1]
  if (!kver) return { ok: false, reason: `kexec: cannot load kernel ${entry.linux || '(none)'}`, entry }
  if (!entry.initrd) return { ok: false, reason: 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)', entry }
  const imageText = read(onBoot(root, entry.initrd))
  if (imageText === undefined) return { ok: false, reason: `kexec: cannot load initrd ${entry.initrd}`, entry }
  const image = parseInitramfs(imageText)
  if (!image) return { ok: false, reason: 'Initramfs unpacking failed: junk in compressed archive; Kernel panic - not syncing: VFS: Unable to mount root fs', entry }
  if (image.kver !== kver) return { ok: false, reason: `dracut: FATAL: modules for ${kver} missing from initramfs built for ${image.kver}; Kernel panic - not syncing: Attempted to kill init!`, entry }
  return { ok: true, entry, kver, image }
}

// Boots the host: picks the entry, checks kernel + initramfs, and lays down the new live state.
export function bootHost(root: string, p: Profile, opts: BootOptions = {}): BootOutcome {
  const resolved = resolveBoot(root, true)
  if (!resolved.ok) return resolved
  const { entry, kver, image } = resolved

  const words = entry.args.split(' ').filter(Boolean)
  const cmdline = (p.bootImagePrefix ? `BOOT_IMAGE=${entry.linux} ` : '') + entry.args
  const { nouveau, options } = nouveauDecision(root, p, words, image, !!opts.forceNouveau)
  const smt = smtAfterBoot(root, p)
  const order = loadOrder([...p.baseModules, ...(nouveau ? ['nouveau'] : [])])

  // /run is a tmpfs on a real host: a boot starts it empty.
  const run = path.join(root, 'run')
  if (!opts.firstBoot) for (const f of fs.readdirSync(run)) fs.rmSync(path.join(run, f), { recursive: true, force: true })
  fs.mkdirSync(path.join(run, 'libvirt/qemu'), { recursive: true })
  fs.mkdirSync(path.join(run, 'systemd/sim-active'), { recursive: true })

  const bootId = randomUUID()
  writeKernelState(root, p, kver, cmdline, bootId)
  // the stock layer already holds the all-threads-online CPU state
  if (!(opts.firstBoot && smt === p.threadsPerCore)) writeCpuState(root, p, smt, true)
  writeModulesAndDrivers(root, p, order, words, options, nouveau, opts.firstBoot)
  activateEnabledUnits(root, run)
  const startDomains = autostartDomains(root, run)
  return { ok: true, entry, kver, cmdline, bootId, smt, modules: order, nouveau, startDomains }
}

// Whether nouveau binds the GPUs this boot (not blocked on the command line, in the initramfs
// or in /etc), and the module options from the initramfs and /etc (/etc wins).
function nouveauDecision(root: string, p: Profile, words: string[], image: InitramfsImage, forceNouveau: boolean): { nouveau: boolean; options: Record<string, Record<string, string>> } {
  const etc = modprobeConfig(etcModprobe(root))
  const initrdConf = modprobeConfig(
    Object.entries(image.files)
      .filter(([f]) => /^(etc|usr\/lib)\/modprobe\.d\//.test(f))
      .map(([, t]) => t),
  )
  const kernelBlock = cmdlineList(words, 'module_blacklist')
  const modprobeBlock = cmdlineList(words, 'modprobe.blacklist')
  const rdBlock = cmdlineList(words, 'rd.driver.blacklist')
  const blockedIn = (c: ReturnType<typeof modprobeConfig>) => c.blacklist.has('nouveau') || c.forbidden.has('nouveau')
  const hasNvidia = p.devices.some((d) => d.gpu && d.vendorId === '10de')
  const inInitrd = image.modules.includes('nouveau') && !blockedIn(initrdConf) && !rdBlock.includes('nouveau') && !modprobeBlock.includes('nouveau')
  const inRoot = !blockedIn(etc) && !modprobeBlock.includes('nouveau')
  const nouveau = hasNvidia && !kernelBlock.includes('nouveau') && (inInitrd || inRoot || forceNouveau)
  return { nouveau, options: { ...initrdConf.options, ...etc.options } }
}

// The kernel's own view of this boot: boot_id, cmdline, osrelease, /proc/version (and sim-hw's kver).
function writeKernelState(root: string, p: Profile, kver: string, cmdline: string, bootId: string): void {
  writeInPlace(path.join(root, 'proc/sys/kernel/random/boot_id'), bootId + '\n')
  writeInPlace(path.join(root, 'proc/cmdline'), cmdline + '\n')
  fs.writeFileSync(path.join(root, 'var/lib/sim-hw/kver'), kver + '\n')
  writeInPlace(path.join(root, 'proc/sys/kernel/osrelease'), kver + '\n')
  writeInPlace(
    path.join(root, 'proc/version'),
    p.os === 'ubuntu'
      ? `Linux version ${kver} (buildd@bos02-ppc64el-011) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #101-Ubuntu SMP Tue Nov 14 13:29:11 UTC 2023\n`
      : `Linux version ${kver} (mockbuild@ppc64le-builder) (gcc version 8.4.1 20200928 (Red Hat 8.4.1-1) (GCC)) #1 SMP ${p.os === 'el7' ? 'Wed May 2 17:03:48 GMT 2018' : 'Thu Apr 29 08:54:30 EDT 2021'}\n`,
  )
}

// systemd: enabled units are active after boot
function activateEnabledUnits(root: string, run: string): void {
  const sysd = path.join(root, 'etc/systemd/system')
  try {
    for (const w of fs.readdirSync(sysd).filter((d) => d.endsWith('.wants'))) for (const u of fs.readdirSync(path.join(sysd, w))) fs.writeFileSync(path.join(run, 'systemd/sim-active', u), '')
  } catch {
    /* no units */
  }
}
