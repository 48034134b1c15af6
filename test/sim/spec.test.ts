// Pure parts: durations, spec files, the initramfs format, grubenv.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseGrubenv, renderGrubenv } from '../../src/sim/boot-config.js'
import { parseInitramfs, renderInitramfs } from '../../src/sim/initramfs.js'
import { loadSpec, resolveHost } from '../../src/sim/spec.js'

describe('spec', () => {
  const write = (text: string) => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spec-')), 'spec.yaml')
    fs.writeFileSync(f, text)
    return f
  }
  it('merges rules by glob, later rules winning', () => {
    const spec = loadSpec(write('hosts: 4\nprofile: pcie\nrules:\n  - { match: "p9-r1-0[12]", profile: s822lc, rebootTime: 10s }\n  - { match: "*-02", authRefused: true, rebootTime: 1s }\n'))
    expect(resolveHost(spec, 'p9-r1-01', 'ac922')).toEqual({ profile: 's822lc', faults: { rebootTime: 10000 } })
    expect(resolveHost(spec, 'p9-r1-02', 'ac922')).toEqual({ profile: 's822lc', faults: { rebootTime: 1000, authRefused: true } })
    expect(resolveHost(spec, 'p9-r1-03', 'ac922')).toEqual({ profile: 'pcie', faults: {} })
  })
  it('rejects unknown keys and bad values with the file name', () => {
    const f = write('rules:\n  - { match: a, explode: true }\n')
    expect(() => loadSpec(f)).toThrow(new RegExp(`${f}: rules.0: .*explode`))
    expect(() => loadSpec(write('rebootTime: whenever\n'))).toThrow(/rebootTime: 'whenever' is not a duration/)
    // A bare number used to mean milliseconds here and seconds elsewhere: now it needs a unit.
    expect(() => loadSpec(write('rules:\n  - { match: a, rebootTime: 250 }\n'))).toThrow(/rules.0.rebootTime: '250' has no unit: write 250s, 250m or 250ms/)
  })
  it('takes the boot-platform knobs and names a bad one', () => {
    const spec = loadSpec(write('rules:\n  - { match: "*", secureBoot: true, lockdown: integrity, petitbootWrite: false, missingTools: [grubby], osRelease: sles15 }\n'))
    expect(resolveHost(spec, 'p9-r1-01', 'ac922').faults).toEqual({ secureBoot: true, lockdown: 'integrity', petitbootWrite: false, missingTools: ['grubby'], osRelease: 'sles15' })
    expect(() => loadSpec(write('rules:\n  - { match: a, lockdown: strict }\n'))).toThrow(/rules.0.lockdown: /)
    expect(() => loadSpec(write('rules:\n  - { match: a, osRelease: gentoo }\n'))).toThrow(/rules.0.osRelease: /)
    expect(() => loadSpec(write('rules:\n  - { match: a, missingTools: ["../bin/sh"] }\n'))).toThrow(/rules.0.missingTools.0: a tool name/)
  })
})

describe('initramfs format', () => {
  it('round-trips and treats a truncated image as unreadable', () => {
    const img = { kver: '4.18.0-305.el8.ppc64le', args: "-f --omit-drivers 'nouveau'", modules: ['xfs', 'drm'], files: { 'etc/modprobe.d/b.conf': 'blacklist nouveau\n' } }
    const text = renderInitramfs(img)
    expect(parseInitramfs(text)).toEqual(img)
    expect(parseInitramfs(text.slice(0, Math.floor(text.length / 2)))).toBeUndefined()
    expect(parseInitramfs('garbage')).toBeUndefined()
  })
})

describe('grubenv', () => {
  it('is a 1024-byte block', () => {
    const text = renderGrubenv({ saved_entry: 'x', next_entry: '' })
    expect(Buffer.byteLength(text)).toBe(1024)
    expect(parseGrubenv(text)).toEqual({ saved_entry: 'x', next_entry: '' })
  })
})
