// Real modprobe (kmod) against the modprobe.d file gpufleet writes: the guide's four lines keep
// nouveau off a GPU both ways it could load (udev's `modprobe -b <modalias>` and a plain
// `modprobe nouveau`), and gpufleet's modprobe.config fact reads the directory the way kmod does.
// Everything runs dry (-n, -R, -c) against a stub module tree: nothing is ever inserted.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { modprobeConfig } from '../../src/facts/modprobe-config.js'
import { blacklistContent } from '../../src/tasks/modprobe-blacklist.js'
import { pathWith, runOk, sh, STUB_KVER, stubKernelTree, V100_MODALIAS } from '../helpers/real-tools.js'

let dir: string
let root: string
let modules: string
let guide: string // a modprobe.d holding only gpufleet's blacklist file
let empty: string

const env = () => ({ ...process.env, PATH: pathWith() })
// modprobe on the stub tree with `conf` as its only configuration directory.
const modprobe = (conf: string, ...args: string[]) => runOk('modprobe', ['-d', root, '-S', STUB_KVER, '-C', conf, ...args], { env: env() })
// The fact's own shell text, pointed at a temp directory instead of /etc/modprobe.d.
const gatherFrom = async (conf: string) => {
  const r = await sh(modprobeConfig.command.replaceAll('/etc/modprobe.d', conf), { env: env() })
  expect(r.code, r.stderr).toBe(0)
  return modprobeConfig.parse(r.stdout, 0)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpufleet-real-kmod-'))
  root = join(dir, 'root')
  modules = await stubKernelTree(root)
  guide = join(dir, 'guide.d')
  empty = join(dir, 'empty.d')
  mkdirSync(guide)
  mkdirSync(empty)
  writeFileSync(join(guide, 'blacklist-nouveau.conf'), blacklistContent(['nouveau']))
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("modprobe with gpufleet's blacklist file", () => {
  test("without it, udev's modalias lookup and a plain modprobe both load nouveau (the control)", async () => {
    expect(await modprobe(empty, '-R', V100_MODALIAS)).toBe('nouveau\n')
    expect(await modprobe(empty, '-n', '-v', '-b', V100_MODALIAS)).toBe(`insmod ${modules}/kernel/drivers/gpu/drm/nouveau/nouveau.ko \n`)
    expect(await modprobe(empty, '-n', '-v', 'nouveau')).toBe(`insmod ${modules}/kernel/drivers/gpu/drm/nouveau/nouveau.ko \n`)
  })

  test('blacklist stops the modalias autoload; alias nouveau off stops `modprobe nouveau`', async () => {
    // The alias still resolves (blacklist only applies with -b, as udev runs it)...
    expect(await modprobe(guide, '-R', V100_MODALIAS)).toBe('nouveau\n')
    // ...but udev's load is blocked,
    expect(await modprobe(guide, '-n', '-v', '-b', V100_MODALIAS)).toBe('')
    // and the name itself now resolves to a module that does not exist, so nothing is inserted.
    expect(await modprobe(guide, '-R', 'nouveau')).toBe('off\n')
    expect(await modprobe(guide, '-n', '-v', 'nouveau')).toBe('')
    expect(await modprobe(guide, '--show-depends', 'nouveau')).toBe('')
  })

  test('--showconfig holds the four directives; the fact reads the same blacklist (names folded like kmod)', async () => {
    const shown = (await modprobe(guide, '--showconfig')).split('\n')
    expect(shown).toEqual(expect.arrayContaining(['blacklist nouveau', 'blacklist lbm_nouveau', 'options nouveau modeset=0', 'alias nouveau off']))
    const fact = await gatherFrom(guide)
    const kmodBlacklist = shown
      .filter((l) => l.startsWith('blacklist '))
      .map((l) => l.slice('blacklist '.length))
      .sort()
    expect(fact.blacklisted).toEqual(kmodBlacklist)
    const kmodOptions = shown.filter((l) => /^options (nouveau|vfio_pci) /.test(l))
    expect(fact.options.map((o) => `options ${o.module} ${o.param}=${o.value}`)).toEqual(kmodOptions)
  })

  test('options for vfio-pci in either spelling reach the module; the fact reads them alike', async () => {
    const opts = join(dir, 'opts.d')
    mkdirSync(opts)
    for (const [file, line] of [
      ['dash.conf', 'options vfio-pci disable_idle_d3=1'],
      ['underscore.conf', 'options vfio_pci disable_idle_d3=Y'],
    ]) {
      rmSync(join(opts, 'x.conf'), { force: true })
      writeFileSync(join(opts, 'x.conf'), line + '\n')
      const value = line.split('=')[1]
      expect(await modprobe(opts, '-n', '-v', 'vfio-pci'), file).toBe(`insmod ${modules}/kernel/drivers/vfio/pci/vfio-pci.ko disable_idle_d3=${value} \n`)
      const fact = await gatherFrom(opts)
      expect(fact.options).toEqual([{ file: join(opts, 'x.conf'), module: 'vfio_pci', param: 'disable_idle_d3', value, line }])
    }
  })
})
