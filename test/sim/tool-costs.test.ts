// Tool costs on the simulated rack: a costed tool is behind its wrapper, answers exactly as the
// free one does, and takes at least its cost (a lower bound: load only makes it slower).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { loadSpec } from '../../src/sim/spec.js'
import { resolveToolCosts } from '../../src/sim/tool-costs.js'
import { ssh } from './helpers.js'

let costly: Rack
let free: Rack
let dir: string

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-costs-'))
  const spec = path.join(dir, 'spec.yaml')
  fs.writeFileSync(spec, 'hosts: 2\ntoolCosts: { preset: none, grubby: 700ms, virsh: 50ms }\nrules:\n  - { match: p9-r1-02, profile: s822lc }\n')
  ;[costly, free] = await Promise.all([startRack({ dir: path.join(dir, 'costly'), spec, rebootTimeMs: 200 }), startRack({ dir: path.join(dir, 'free'), hosts: 1, rebootTimeMs: 200 })])
})
afterAll(async () => {
  await costly?.stop()
  await free?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('tool costs', () => {
  it('reads toolCosts from the spec and refuses unknown tools', () => {
    const good = path.join(dir, 'good.yaml')
    fs.writeFileSync(good, 'toolCosts: { preset: realistic, lsinitrd: 3s, cpu: true }\n')
    expect(loadSpec(good).toolCosts).toEqual({ preset: 'realistic', lsinitrd: 3000, cpu: true })
    const bad = path.join(dir, 'bad.yaml')
    fs.writeFileSync(bad, 'toolCosts: { lsinitd: 3s }\n')
    expect(() => loadSpec(bad)).toThrow(/toolCosts/)
    // presets per OS, explicit keys over the preset, none by default
    expect(resolveToolCosts('realistic', { os: 'el8' }).ms.grubby).toBe(150)
    expect(resolveToolCosts('realistic', { os: 'el7' }).ms.grubby).toBe(15)
    expect(resolveToolCosts({ preset: 'realistic', lsinitrd: 3000, cpu: true }, { os: 'el8' })).toMatchObject({ cpu: true, ms: { lsinitrd: 3000, virsh: 40 } })
    expect(Object.values(resolveToolCosts(undefined, { os: 'el8' }).ms).every((ms) => ms === 0)).toBe(true)
  })

  it("puts a wrapper in front of a costed tool, with the host's cost file", async () => {
    const r = await ssh(costly, 'p9-r1-01', 'head -2 /usr/sbin/grubby; cat /var/lib/sim-hw/cost/grubby /var/lib/sim-hw/cost/lsinitrd /var/lib/sim-hw/dracut-time-ms')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('gpufleet sim: pay this tool')
    expect(r.stdout.split('\n').slice(2, 5)).toEqual(['700 sleep', '0 sleep', '0'])
    // a rack where nothing costs anything has no wrappers at all
    const f = await ssh(free, 'p9-r1-01', 'head -1 /usr/sbin/grubby; test -e /usr/lib/gpufleet-sim/real/grubby && echo wrapped || echo plain')
    expect(f.stdout).toBe('#!/usr/bin/perl\nplain\n')
  })

  it('answers like the free tool, keeps its name in messages, and takes at least its cost', async () => {
    const cmd = 'grubby --default-kernel; grubby --bogus-flag 2>&1 | head -1; modprobe -n no_such_module 2>&1; echo rc=$?'
    const started = Date.now()
    const a = await ssh(costly, 'p9-r1-01', cmd)
    const tookMs = Date.now() - started
    const b = await ssh(free, 'p9-r1-01', cmd)
    expect(a.code).toBe(0)
    expect(a.stdout).toBe(b.stdout)
    expect(a.stdout).toContain('/boot/vmlinuz-')
    expect(tookMs).toBeGreaterThanOrEqual(2 * 700) // lower bound only: two grubby calls
  })

  it('EL7 hosts get the same wrapper (the cost comes from the file)', async () => {
    const r = await ssh(costly, 'p9-r1-02', 'cat /var/lib/sim-hw/cost/grubby; virsh list --all | head -1')
    expect(r.stdout.split('\n')[0]).toBe('700 sleep')
    expect(r.stdout).toContain('Id')
  })
})
