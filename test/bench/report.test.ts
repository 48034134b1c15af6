// The benchmark's pure pieces: the lower bound, the window size, the table and the SVG chart.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCpuGroup, parseCpuUsageMs } from '../../bench/lib/host-cpu.js'
import { lowerBoundMs, stageMinMs, windowFor } from '../../bench/lib/lower-bound.js'
import { cpuBoundMs, niceAxis, renderScaling, renderSvg, renderTable, type Measure, type SizeResult } from '../../bench/lib/report.js'

const m = (wallMs: number, cpuMs: number, execsPerHost = 1, hostsCpuMs?: number): Measure => ({
  wallMs,
  cpuMs,
  peakRssKb: 102_400,
  execsPerHost,
  connectsPerHost: 1,
  exitCode: 0,
  ...(hostsCpuMs !== undefined ? { hostsCpuMs } : {}),
})

const result: SizeResult = {
  hosts: 20,
  window: 4,
  forks: 50,
  rebootMs: 3000,
  stabilityMs: 2000,
  cores: 2,
  floor: m(1000, 500),
  gpufleet: { plan: m(2000, 1000), prep: m(40_000, 4000, 6, 60_000), noop: m(1200, 900), verify: m(1300, 950) },
  ansible: { prep: m(200_000, 80_000, 30, 120_000), noop: m(30_000, 20_000, 12), verify: m(9000, 6000, 3) },
  stageMinMs: 3000,
  boundMs: 28_000,
}

describe('bench lower bound', () => {
  it('is T_stage,min + ceil(N/W)·(R + stability)', () => {
    expect(lowerBoundMs({ stageMinMs: 3000, hosts: 20, window: 4, rebootMs: 3000, stabilityMs: 2000 })).toBe(3000 + 5 * 5000)
    expect(lowerBoundMs({ stageMinMs: 3000, hosts: 21, window: 4, rebootMs: 3000, stabilityMs: 2000 })).toBe(3000 + 6 * 5000) // a partial wave is a wave
    expect(lowerBoundMs({ stageMinMs: 3000, hosts: 0, window: 4, rebootMs: 3000, stabilityMs: 2000 })).toBe(3000)
  })
  it('T_stage,min is the floor plus the tools staging cannot skip', () => {
    expect(stageMinMs(1000, { dracut: 1500, grubby: 150, ppc64_cpu: 20 })).toBe(2670)
  })
  it('sizes the window as a percentage of N, rounded down, at least 1 (as serial: N%)', () => {
    expect(windowFor(20, 20)).toBe(4)
    expect(windowFor(4, 20)).toBe(1)
    expect(windowFor(1000, 20)).toBe(200)
  })
})

describe('bench table', () => {
  it('puts gpufleet beside Ansible with the ratios, the floor ratio and the bound', () => {
    const t = renderTable(result)
    expect(t).toContain('| `plan prep` (fresh rack) | gpufleet | 2.0 s | 1.0 s | — | 100 MiB | 1.0 |  | 2.0× |')
    expect(t).toContain('| `prep` (stage + roll) | gpufleet | 40.0 s | 4.0 s | 60.0 s (3.00 s) | 100 MiB | 6.0 | 5.0×, 20.0× | 40.0× |')
    expect(t).toContain('| `prep` (stage + roll) | Ansible | 200.0 s | 80.0 s | 120.0 s (6.00 s) | 100 MiB | 30.0 |  | 200.0× |')
    expect(t).toContain('| `prep` again (no-op) | gpufleet | 1.2 s | 0.9 s | — | 100 MiB | 1.0 | 25.0×, 22.2× | 1.2× |')
    expect(t).toContain('= 3.0 s + 5·(3.0 s + 2.0 s) = **28.0 s**; gpufleet 40.0 s = **1.43×** the bound, Ansible 200.0 s = 7.14×.')
    // (60 + 4) s of CPU over 2 cores; Ansible (120 + 80) s over 2.
    expect(t).toContain("= 32.0 s for gpufleet's `prep`, 100.0 s for Ansible's;")
  })
  it('a size above --prep-max shows the floor and plan only', () => {
    const { prep: _p, noop: _n, verify: _v, ...planOnly } = result.gpufleet
    const t = renderTable({ ...result, gpufleet: planOnly, ansible: undefined })
    expect(t).toContain('`plan prep`')
    expect(t).not.toContain('`prep` (stage + roll)')
    expect(t).not.toContain('Lower bound')
    const row = renderScaling([{ ...result, hosts: 1000, gpufleet: planOnly }])
      .trim()
      .split('\n')[2]
    expect(row).toBe('| 1000 | 1.0 s | 2.0 s | 2.0× | 1.0 s | 100 MiB | 102 KiB | — | — | — | — | — | 1.0, —, — |')
  })
  it("scaling rows are sorted by N, with memory and hosts' CPU per host", () => {
    const t = renderScaling([
      { ...result, hosts: 200 },
      { ...result, gpufleet: { ...result.gpufleet, plan: m(2000, 1000, 1, 10_000) } },
    ])
    const rows = t.trim().split('\n').slice(2)
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| 20', '| 200'])
    expect(rows[0]).toContain('| 5120 KiB | 0.50 s | 40.0 s | 28.0 s | 1.43× | 1.2 s | 1.0, 6.0, 1.0 |')
  })
  it("the CPU bound needs both the hosts' CPU and the core count", () => {
    expect(cpuBoundMs(m(1, 4000, 1, 6000), 2)).toBe(5000)
    expect(cpuBoundMs(m(1, 4000), 2)).toBeUndefined()
    expect(cpuBoundMs(m(1, 4000, 1, 6000), undefined)).toBeUndefined()
  })
})

describe('bench host CPU accounting', () => {
  it('reads cgroup v2 cpu.stat (µs) and v1 cpuacct.usage (ns) as ms', () => {
    expect(parseCpuUsageMs('cpu.stat', 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n')).toBe(2500)
    expect(parseCpuUsageMs('cpuacct.usage', '36364673\n')).toBeCloseTo(36.364673)
    expect(() => parseCpuUsageMs('cpu.stat', 'user_usec 1\n')).toThrow(/usage_usec/)
  })
  it('gives no group (and leaves nothing behind) where the accounting file cannot be read', () => {
    const root = mkdtempSync(join(tmpdir(), 'gpufleet-cg-'))
    try {
      writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory\n') // looks like v2, but a plain directory has no cpu.stat
      expect(createCpuGroup('bench', root)).toBeUndefined()
      expect(readdirSync(root)).toEqual(['cgroup.controllers'])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('bench SVG chart', () => {
  it('picks round axis steps', () => {
    expect(niceAxis(47)).toEqual({ max: 50, step: 10 })
    expect(niceAxis(1000)).toEqual({ max: 1000, step: 200 })
    expect(niceAxis(0)).toEqual({ max: 1, step: 0.2 })
  })
  it('draws one line and one legend entry per series, escaped, inside the canvas', () => {
    const svg = renderSvg(
      [
        {
          name: 'gpufleet <prep>',
          color: '#1f77b4',
          points: [
            { x: 50, y: 10 },
            { x: 200, y: 20 },
          ],
        },
        { name: 'Ansible', color: '#d62728', points: [{ x: 50, y: 90 }] },
      ],
      'wall & N',
    )
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trim().endsWith('</svg>')).toBe(true)
    expect(svg).toContain('gpufleet &lt;prep&gt;')
    expect(svg).toContain('wall &amp; N')
    expect(svg.match(/<polyline /g)).toHaveLength(1) // a single point draws no line
    expect(svg.match(/<circle /g)).toHaveLength(3)
    for (const [, x, y] of svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)) {
      expect(Number(x)).toBeLessThanOrEqual(640)
      expect(Number(y)).toBeLessThanOrEqual(360)
    }
  })
})
