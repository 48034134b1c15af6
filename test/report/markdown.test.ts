import { describe, expect, it } from 'vitest'
import { formatMarkdown } from '../../src/report/markdown.js'
import { formatRetry } from '../../src/report/retry.js'
import { summarize } from '../../src/report/summarize.js'
import { firstPart, resumedRun } from './resumed-run.js'

describe('summary.md and retry.txt', () => {
  const s = summarize(resumedRun)

  it('has the recap table, what changed, what failed and why, and the exact retry command', () => {
    const md = formatMarkdown(s, { runDir: '/runs/run-1', retryFile: '/runs/run-1/retry.txt' })
    expect(md).toContain('# gpufleet run run-1: prep')
    expect(md).toContain('over 2 parts (resumed 1×)')
    expect(md).toContain('| h1 | r1 | changed | 0 | 2 | 0 | 0 | yes (5.0s) |')
    expect(md).toContain('| h2 | r1 | changed | 0 | 2 | 0 | 0 | yes (4.0s) |')
    expect(md).toMatch(/^\| h3 \| r2 \| failed \| 0 \| 0 \| 1 \| 0 \|  \| Rebuild initramfs: not enough free space in \/boot \|$/m)
    expect(md).toContain('- **initramfs.rebuild** on 2 hosts: h1, h2')
    expect(md).toContain('### h3 (failed, rack r2)')
    expect(md).toContain('Task `initramfs.rebuild`: not enough free space in /boot')
    expect(md).toContain('`gpufleet run prep -i /etc/gpufleet/hosts.yaml --limit @/runs/run-1/retry.txt`')
  })

  it('retry.txt lists the failed and unreachable hosts, one per line (for --limit @retry.txt)', () => {
    expect(formatRetry(s)).toBe('h3\n')
  })

  it('names the failing step and its stderr when a step failed', () => {
    const md = formatMarkdown(summarize(firstPart))
    expect(md).toContain('Task `initramfs.rebuild` failed at step **rebuild initramfs** (exit 1).')
    expect(md).toContain('```\ndracut: cpio: write error\nno space left on device\n```')
  })
})
