import { nonEmptyLines } from '../shell.js'
import { defineFact } from './define.js'

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
