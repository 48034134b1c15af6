import { nonEmptyLines } from '../shell.js'
import { defineFact } from './define.js'

// The facts `gpufleet facts` prints and every run records: who the host is and what it booted.

export const hostname = defineFact({
  name: 'host.hostname',
  command: 'cat /proc/sys/kernel/hostname 2>/dev/null || hostname',
  parse: (stdout) => stdout.trim(),
})

export const kernelRelease = defineFact({
  name: 'kernel.release',
  command: 'uname -r',
  parse: (stdout) => stdout.trim(),
})

// boot_id: a random UUID the kernel makes once per boot; a new value proves a reboot happened.
export const bootId = defineFact({
  name: 'kernel.boot-id',
  command: 'cat /proc/sys/kernel/random/boot_id',
  parse(stdout) {
    const id = stdout.trim()
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not a boot_id: ${JSON.stringify(id)}`)
    return id
  },
})

export interface CmdlineFact {
  raw: string
  bootImage?: string // GRUB prefixes BOOT_IMAGE=; petitboot (PowerNV) does not
  args: string[] // every other word, in order
}

// /proc/cmdline, tolerant of both GRUB's BOOT_IMAGE= prefix and petitboot's bare form.
export const kernelCmdline = defineFact({
  name: 'kernel.cmdline',
  command: 'cat /proc/cmdline',
  parse(stdout): CmdlineFact {
    const raw = stdout.trim()
    const words = splitCmdline(raw)
    const first = words[0]
    if (first?.startsWith('BOOT_IMAGE=')) return { raw, bootImage: first.slice('BOOT_IMAGE='.length), args: words.slice(1) }
    return { raw, args: words }
  },
})

// Splits a kernel command line into words; double quotes group (the kernel's own rule).
export function splitCmdline(text: string): string[] {
  const words: string[] = []
  let cur = ''
  let inQuote = false
  let has = false
  for (const ch of text) {
    if (ch === '"') {
      inQuote = !inQuote
      cur += ch
      has = true
    } else if (/\s/.test(ch) && !inQuote) {
      if (has) words.push(cur)
      cur = ''
      has = false
    } else {
      cur += ch
      has = true
    }
  }
  if (has) words.push(cur)
  return words
}

export interface CpuInfo {
  model: string // 'POWER9, altivec supported'
  generation?: 'POWER8' | 'POWER9' | 'POWER10' | string // from `cpu : POWER9 (raw), altivec supported`
  platform?: string // 'PowerNV' (bare metal) or 'pSeries' (LPAR)
  machine?: string // 'PowerNV 8335-GTH'
  threads: number // processor entries online
}

// /proc/cpuinfo on ppc64le: `processor : N` blocks with `cpu : POWER9 ...`, then a trailer with
// `platform`, `model`, `machine`. On x86 `model name` is used instead.
export const cpuInfo = defineFact({
  name: 'cpu.info',
  command: 'cat /proc/cpuinfo',
  parse(stdout): CpuInfo {
    let model = ''
    let platform: string | undefined
    let machine: string | undefined
    let threads = 0
    for (const line of nonEmptyLines(stdout)) {
      const idx = line.indexOf(':')
      if (idx < 0) continue
      const key = line.slice(0, idx).trim()
      const value = line.slice(idx + 1).trim()
      if (key === 'processor') threads++
      else if ((key === 'cpu' || key === 'model name') && !model) model = value
      else if (key === 'platform') platform = value
      else if (key === 'machine') machine = value
    }
    const gen = /\b(POWER\d+)/i.exec(model)?.[1]?.toUpperCase()
    return { model, ...(gen ? { generation: gen } : {}), ...(platform ? { platform } : {}), ...(machine ? { machine } : {}), threads }
  },
})

export interface LoadedModule {
  sizeBytes: number
  usedBy: string[]
}

// Loaded modules from /proc/modules (what lsmod formats): `name size refcount deps state offset`.
export const kernelModules = defineFact({
  name: 'kernel.modules',
  command: 'cat /proc/modules',
  parse(stdout): Record<string, LoadedModule> {
    const modules: Record<string, LoadedModule> = {}
    for (const line of nonEmptyLines(stdout)) {
      const [name, size, , deps] = line.split(/\s+/)
      if (!name) continue
      modules[name] = { sizeBytes: Number(size), usedBy: deps && deps !== '-' ? deps.split(',').filter(Boolean) : [] }
    }
    return modules
  },
})

export const hostBasics = { hostname, kernelRelease, bootId, kernelCmdline, cpuInfo, kernelModules }
