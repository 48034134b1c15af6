// The simulated firmware: what a host boots into, decided from its own files the way petitboot and
// the kernel would (see README.md "Boot rules"). Reads and writes the host's tree at `root`
// (a path the simulator process can reach, e.g. /proc/<host pid>/root).
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseGrubenv, renderGrubenv } from './boot-config.js'
import { parseInitramfs, type InitramfsImage } from './initramfs.js'
import { moduleCatalog } from './module-catalog.js'
import type { Profile } from './profiles.js'

// A boot entry as petitboot lists it.
export interface BootEntry {
  index: number
  title: string
  id: string
  linux: string // as written in the config (relative to the /boot partition or absolute)
  initrd?: string
  args: string // variables expanded
}

// What a boot produced (or why the host did not come back).
export type BootOutcome = { ok: true; entry: BootEntry; kver: string; cmdline: string; bootId: string; smt: number; modules: string[]; nouveau: boolean; startDomains: string[] } | { ok: false; reason: string; entry?: BootEntry }

const read = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function expandVars(text: string, env: Record<string, string>): string {
  return text
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => env[name] ?? '')
    .replace(/\s+/g, ' ')
    .trim()
}

// rpm-ish version compare, enough for kernel versions in BLS file names.
function verCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true })
}

function blsEntries(root: string, env: Record<string, string>): Array<Omit<BootEntry, 'index'>> {
  const dir = path.join(root, 'boot/loader/entries')
  let files: string[] = []
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.conf'))
  } catch {
    return []
  }
  const entries = files.map((f) => {
    const kv: Record<string, string> = {}
    for (const line of (read(path.join(dir, f)) ?? '').split('\n')) {
      const m = /^(\S+)\s+(.*)$/.exec(line.trim())
      if (m && !(m[1]! in kv)) kv[m[1]!] = m[2]!
    }
    const initrd = kv.initrd ? expandVars(kv.initrd, env).split(' ')[0] : undefined
    return {
      file: f,
      version: kv.version ?? f,
      title: kv.title ?? f,
      id: f.replace(/\.conf$/, ''),
      linux: kv.linux ?? '',
      ...(initrd ? { initrd } : {}),
      args: expandVars(kv.options ?? '', env),
    }
  })
  // blscfg lists the newest version first
  entries.sort((a, b) => verCompare(b.version, a.version) || verCompare(b.file, a.file))
  return entries.map(({ title, id, linux, initrd, args }) => ({ title, id, linux, ...(initrd ? { initrd } : {}), args }))
}

function menuEntries(cfg: string, env: Record<string, string>): Array<Omit<BootEntry, 'index'> & { at: number }> {
  const out: Array<Omit<BootEntry, 'index'> & { at: number }> = []
  const re = /^[ \t]*menuentry[ \t]+(['"])(.*?)\1([^{\n]*)\{([\s\S]*?)^[ \t]*\}/gm
  for (let m = re.exec(cfg); m; m = re.exec(cfg)) {
    const id = /\$menuentry_id_option\s+(['"])(.*?)\1/.exec(m[3]!)?.[2] ?? m[2]!
    const linux = /^[ \t]*linux(?:16|efi)?[ \t]+(\S+)[ \t]*(.*)$/m.exec(m[4]!)
    const initrd = /^[ \t]*initrd(?:16|efi)?[ \t]+(\S+)/m.exec(m[4]!)
    out.push({ at: m.index, title: m[2]!, id, linux: linux?.[1] ?? '', ...(initrd ? { initrd: initrd[1]! } : {}), args: expandVars(linux?.[2] ?? '', env) })
  }
  return out
}

// The grub directory petitboot finds first ([PB] discover/grub2/grub2.c tries /boot/grub/grub.cfg
// before /boot/grub2/grub.cfg): Ubuntu's /boot/grub, EL's /boot/grub2.
export function grubDirOf(root: string): string {
  return fs.existsSync(path.join(root, 'boot/grub/grub.cfg')) ? 'boot/grub' : 'boot/grub2'
}

// Every entry petitboot would list, and the grubenv it read.
export function readBootEntries(root: string): { entries: BootEntry[]; env: Record<string, string>; cfg: string } {
  const dir = grubDirOf(root)
  const cfg = read(path.join(root, dir, 'grub.cfg')) ?? ''
  const env = parseGrubenv(read(path.join(root, dir, 'grubenv')) ?? '')
  const menus = menuEntries(cfg, env)
  const blsAt = /^[ \t]*blscfg[ \t]*$/m.exec(cfg)?.index
  let list: Array<Omit<BootEntry, 'index'>> = menus
  if (blsAt !== undefined) {
    const bls = blsEntries(root, env)
    list = [...menus.filter((e) => e.at < blsAt), ...bls, ...menus.filter((e) => e.at > blsAt)]
  }
  return { entries: list.map((e, index) => ({ index, title: e.title, id: e.id, linux: e.linux, ...(e.initrd ? { initrd: e.initrd } : {}), args: e.args })), env, cfg }
}

// The entry petitboot boots: next_entry (one-shot, cleared), else saved_entry, else `set default`.
export function chooseEntry(root: string, consume: boolean): { entry?: BootEntry; entries: BootEntry[] } {
  const { entries, env, cfg } = readBootEntries(root)
  let spec: string | undefined
  if (/\$\{?next_entry\}?/.test(cfg) && env.next_entry) {
    spec = env.next_entry
    if (consume) {
      env.next_entry = ''
      fs.writeFileSync(path.join(root, grubDirOf(root), 'grubenv'), renderGrubenv(env))
    }
  } else if (/set default="?\$\{?saved_entry\}?"?/.test(cfg)) spec = env.saved_entry
  // a literal `set default="0"` (Ubuntu's GRUB_DEFAULT=0), not the "${next_entry}" line before it
  else spec = /^[ \t]*set default="?([^"\s$]+)"?[ \t]*$/m.exec(cfg)?.[1]
  let entry: BootEntry | undefined
  if (spec !== undefined && /^\d+$/.test(spec)) entry = entries[Number(spec)]
  else if (spec) entry = entries.find((e) => e.id === spec || e.title === spec)
  return { entry: entry ?? entries[0], entries }
}

const onBoot = (root: string, p: string) => path.join(root, 'boot', p.replace(/^\/boot\//, '/'))

// Modprobe config in a set of files: blacklisted/forbidden modules and options.
export function modprobeConfig(texts: string[]): { blacklist: Set<string>; forbidden: Set<string>; options: Record<string, Record<string, string>> } {
  const blacklist = new Set<string>()
  const forbidden = new Set<string>()
  const options: Record<string, Record<string, string>> = {}
  for (const text of texts) {
    for (const raw of text.split('\n')) {
      const words = raw.replace(/#.*/, '').trim().split(/\s+/)
      const mod = (words[1] ?? '').replace(/-/g, '_')
      if (words[0] === 'blacklist' && mod) blacklist.add(mod)
      else if (words[0] === 'install' && mod && /^\/(usr\/)?bin\/(false|true)$/.test(words[2] ?? '')) forbidden.add(mod)
      else if (words[0] === 'options' && mod)
        for (const kv of words.slice(2)) {
          const i = kv.indexOf('=')
          ;(options[mod] ??= {})[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '1' : kv.slice(i + 1)
        }
    }
  }
  return { blacklist, forbidden, options }
}

function etcModprobe(root: string): string[] {
  const dir = path.join(root, 'etc/modprobe.d')
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .map((f) => read(path.join(dir, f)) ?? '')
  } catch {
    return []
  }
}

function cmdlineList(words: string[], key: string): string[] {
  return words
    .filter((w) => w.startsWith(key + '='))
    .flatMap((w) => w.slice(key.length + 1).split(','))
    .map((m) => m.replace(/-/g, '_'))
}

// SMT threads per core after boot: on, unless an enabled unit runs `ppc64_cpu --smt=...`.
function smtAfterBoot(root: string, p: Profile): number {
  let smt = p.threadsPerCore
  const sysd = path.join(root, 'etc/systemd/system')
  let wants: string[] = []
  try {
    wants = fs.readdirSync(sysd).filter((d) => d.endsWith('.wants'))
  } catch {
    return smt
  }
  for (const w of wants) {
    for (const unit of fs.readdirSync(path.join(sysd, w))) {
      const link = path.join(sysd, w, unit)
      let file = link
      try {
        const target = fs.readlinkSync(link)
        file = target.startsWith('/') ? path.join(root, target) : path.join(sysd, w, target)
      } catch {
        /* a regular file */
      }
      const text = read(file) ?? ''
      for (const line of text.split('\n')) {
        const m = /^\s*ExecStart\s*=.*ppc64_cpu\s+(?:-\w+\s+)*--smt(?:=|\s+)(\S+)/.exec(line)
        if (!m) continue
        const v = m[1]!
        const n = v === 'off' ? 1 : v === 'on' ? p.threadsPerCore : /^\d+$/.test(v) ? Number(v) : NaN
        if (n >= 1 && n <= p.threadsPerCore) smt = n
      }
    }
  }
  return smt
}

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

// Boots the host: picks the entry, checks kernel + initramfs, and lays down the new live state.
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
  const nouveau = hasNvidia && !kernelBlock.includes('nouveau') && (inInitrd || inRoot || !!opts.forceNouveau)

  const smt = smtAfterBoot(root, p)
  const order = loadOrder([...p.baseModules, ...(nouveau ? ['nouveau'] : [])])

  // /run is a tmpfs on a real host: a boot starts it empty.
  const run = path.join(root, 'run')
  if (!opts.firstBoot) for (const f of fs.readdirSync(run)) fs.rmSync(path.join(run, f), { recursive: true, force: true })
  fs.mkdirSync(path.join(run, 'libvirt/qemu'), { recursive: true })
  fs.mkdirSync(path.join(run, 'systemd/sim-active'), { recursive: true })

  const bootId = randomUUID()
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
  // the stock layer already holds the all-threads-online CPU state
  if (!(opts.firstBoot && smt === p.threadsPerCore)) writeCpuState(root, p, smt, true)
  writeModulesAndDrivers(root, p, order, words, { ...initrdConf.options, ...etc.options }, nouveau, opts.firstBoot)

  // systemd: enabled units are active after boot
  const sysd = path.join(root, 'etc/systemd/system')
  try {
    for (const w of fs.readdirSync(sysd).filter((d) => d.endsWith('.wants'))) for (const u of fs.readdirSync(path.join(sysd, w))) fs.writeFileSync(path.join(run, 'systemd/sim-active', u), '')
  } catch {
    /* no units */
  }

  // libvirt autostart: domains without host devices start here; the others via `virsh start`.
  const startDomains: string[] = []
  const auto = path.join(root, 'etc/libvirt/qemu/autostart')
  let autos: string[] = []
  try {
    autos = fs.readdirSync(auto).filter((f) => f.endsWith('.xml'))
  } catch {
    /* none */
  }
  let id = 1
  for (const f of autos) {
    const xml = read(path.join(root, 'etc/libvirt/qemu', f))
    if (!xml) continue
    if (xml.includes('<hostdev')) startDomains.push(f.replace(/\.xml$/, ''))
    else fs.writeFileSync(path.join(run, 'libvirt/qemu', f), xml.replace(/<!--[\s\S]*?-->\n\n/, '').replace("<domain type='kvm'>", `<domain type='kvm' id='${id++}'>`))
  }
  fs.writeFileSync(path.join(root, 'var/lib/sim-hw/next-domain-id'), `${id}\n`)
  return { ok: true, entry, kver, cmdline, bootId, smt, modules: order, nouveau, startDomains }
}
