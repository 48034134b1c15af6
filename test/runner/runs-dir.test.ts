import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultRunsDir, mkdirPrivate } from '../../src/runner/runs-dir.js'

describe('where run directories live', () => {
  it('GPUFLEET_RUN_DIR, else $XDG_STATE_HOME/gpufleet/runs, else ~/.local/state/gpufleet/runs', () => {
    expect(defaultRunsDir({ GPUFLEET_RUN_DIR: '/srv/runs', XDG_STATE_HOME: '/x', HOME: '/home/a' })).toBe('/srv/runs')
    expect(defaultRunsDir({ XDG_STATE_HOME: '/var/state/a', HOME: '/home/a' })).toBe('/var/state/a/gpufleet/runs')
    expect(defaultRunsDir({ HOME: '/home/a' })).toBe('/home/a/.local/state/gpufleet/runs')
    // A relative XDG_STATE_HOME is invalid per the XDG spec and ignored.
    expect(defaultRunsDir({ XDG_STATE_HOME: 'state', HOME: '/home/a' })).toBe('/home/a/.local/state/gpufleet/runs')
  })

  it('creates run directories readable by their owner only', () => {
    const base = mkdtempSync(join(tmpdir(), 'gpufleet-runs-dir-'))
    const old = process.umask(0o022)
    try {
      const dir = join(base, 'state', 'gpufleet', 'runs')
      mkdirPrivate(dir)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
    } finally {
      process.umask(old)
      rmSync(base, { recursive: true, force: true })
    }
  })
})
