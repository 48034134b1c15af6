// The benchmark's pure pieces: the lower bound, the window size, the table and the SVG chart.
import { describe, expect, it } from 'vitest'
import { lowerBoundMs, stageMinMs, windowFor } from '../../bench/lib/lower-bound.js'
import { niceAxis, renderScaling, renderSvg, renderTable, type Measure, type SizeResult } from '../../bench/lib/report.js'

const m = (wallMs: number, cpuMs: number, execsPerHost = 1): Measure => ({ wallMs, cpuMs, peakRssKb: 102_400, execsPerHost, connectsPerHost: 1, exitCode: 0 })

const result: SizeResult = {
  hosts: 20,
  window: 4,
  forks: 50,
  rebootMs: 3000,
  stabilityMs: 2000,
  floor: m(1000, 500),
  gpufleet: { prep: m(40_000, 4000, 6), noop: m(1200, 900), verify: m(1300, 950) },
  ansible: { prep: m(200_000, 80_000, 30), noop: m(30_000, 20_000, 12), verify: m(9000, 6000, 3) },
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
    expect(t).toContain('| `prep` (stage + roll) | gpufleet | 40.0 s | 4.0 s | 100 MiB | 6.0 | 5.0×, 20.0× | 40.0× |')
    expect(t).toContain('| `prep` (stage + roll) | Ansible | 200.0 s | 80.0 s | 100 MiB | 30.0 |  | 200.0× |')
    expect(t).toContain('| `prep` again (no-op) | gpufleet | 1.2 s | 0.9 s | 100 MiB | 1.0 | 25.0×, 22.2× | 1.2× |')
    expect(t).toContain('= 3.0 s + 5·(3.0 s + 2.0 s) = **28.0 s**; gpufleet 40.0 s = **1.43×** the bound, Ansible 200.0 s = 7.14×.')
  })
  it('scaling rows are sorted by N, with memory per host', () => {
    const t = renderScaling([{ ...result, hosts: 200 }, result])
    const rows = t.trim().split('\n').slice(2)
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| 20', '| 200'])
    expect(rows[0]).toContain('| 5120 KiB |')
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
