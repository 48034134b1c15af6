import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { DRACUT_CONF_DIR, dracutConfig } from '../../src/facts/dracut-config.js'
import { DRACUT_OMIT_CONF, dracutOmitContent, omittedDrivers, sameDracutSettings } from '../../src/tasks/lib/dracut-omit-conf.js'

const tmp = mkdtempSync(join(tmpdir(), 'gpufleet-dracut-conf-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('gpufleet-omit-nouveau.conf', () => {
  test('says who wrote it and why, then one spaced omit_drivers+= line', () => {
    const text = dracutOmitContent(['nouveau'])
    expect(DRACUT_OMIT_CONF).toBe('/etc/dracut.conf.d/gpufleet-omit-nouveau.conf')
    expect(text).toMatch(/^# Written by gpufleet \(initramfs\.rebuild/)
    expect(text).toContain('kernel')
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['omit_drivers+=" nouveau "'])
    expect(text.endsWith('\n')).toBe(true)
    expect(omittedDrivers(text)).toEqual(['nouveau'])
    expect(sameDracutSettings(text, ['nouveau'])).toBe(true)
    expect(sameDracutSettings(dracutOmitContent(['nouveau', 'nvidia']), ['nvidia', 'nouveau'])).toBe(true)
  })

  test('the fact fixture holds exactly what gpufleet writes', () => {
    const fx = JSON.parse(readFileSync(join(import.meta.dirname, '../facts/dracut.config/gpufleet-conf.json'), 'utf8')) as { fact: { files: Array<{ path: string; content: string }> } }
    expect(fx.fact.files.find((f) => f.path === DRACUT_OMIT_CONF)?.content).toBe(dracutOmitContent(['nouveau']))
  })

  test('omit_drivers: += appends, = resets, comments ignored', () => {
    expect(omittedDrivers('omit_drivers+=" a "\nomit_drivers+=" b c " # x\n')).toEqual(['a', 'b', 'c'])
    expect(omittedDrivers('omit_drivers+=" a "\nomit_drivers=" b "\n')).toEqual(['b'])
    expect(omittedDrivers('omit_drivers+=\' a \'\n# omit_drivers+=" z "\n')).toEqual(['a'])
    expect(omittedDrivers('add_drivers+=" a "\n')).toEqual([])
  })

  test('anything but exactly these drivers in spaced += lines is rewritten', () => {
    expect(sameDracutSettings('', ['nouveau'])).toBe(false)
    expect(sameDracutSettings('omit_drivers+=" nvidia "\n', ['nouveau'])).toBe(false)
    expect(sameDracutSettings('omit_drivers+=" nouveau nvidia "\n', ['nouveau'])).toBe(false)
    expect(sameDracutSettings('omit_drivers=" nouveau "\n', ['nouveau'])).toBe(false) // resets others' omits
    expect(sameDracutSettings('omit_drivers+="nouveau"\n', ['nouveau'])).toBe(false) // glues to the previous value
    expect(sameDracutSettings('omit_drivers+=" nouveau "\nadd_drivers+=" nouveau "\n', ['nouveau'])).toBe(false)
    expect(sameDracutSettings('  omit_drivers += " nouveau "  # mine\n', ['nouveau'])).toBe(true)
  })
})

// The fact command run for real against a directory standing in for /etc/dracut.conf.d.
describe('dracut.config command', () => {
  const run = (dir: string) => {
    const r = spawnSync('sh', ['-c', dracutConfig.command.replaceAll(DRACUT_CONF_DIR, dir)], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    return dracutConfig.parse(r.stdout, 0)
  }

  test('no directory: dir false, no files', () => {
    expect(run(join(tmp, 'missing'))).toEqual({ dir: false, files: [] })
  })

  test('files with their mtimes, with and without a final newline; other names skipped', () => {
    const dir = mkdtempSync(join(tmp, 'conf-'))
    writeFileSync(join(dir, 'gpufleet-omit-nouveau.conf'), dracutOmitContent(['nouveau']))
    writeFileSync(join(dir, '01-dist.conf'), 'hostonly="yes"')
    writeFileSync(join(dir, 'notes.txt'), 'not a drop-in\n')
    utimesSync(join(dir, 'gpufleet-omit-nouveau.conf'), 1700000000, 1700000000)
    utimesSync(join(dir, '01-dist.conf'), 1600000000, 1600000000)
    expect(run(dir)).toEqual({
      dir: true,
      files: [
        { path: `${dir}/01-dist.conf`, mtime: 1600000000, content: 'hostonly="yes"\n' },
        { path: `${dir}/gpufleet-omit-nouveau.conf`, mtime: 1700000000, content: dracutOmitContent(['nouveau']) },
      ],
    })
  })
})
