// Real dracut + lsinitrd (dracut-core) against gpufleet's initramfs code: a stock image built the
// way a distro builds it (the drm dracut module takes nouveau), gpufleet's own rebuild script run
// with the real dracut, and gpufleet's dracut.conf.d drop-in read by the real dracut. The listing
// each time goes through initramfs.status's real shell text and parser.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { initramfsStatus, initramfsStatusCommand, INITRAMFS_STATE_DIR } from '../../src/facts/initramfs-status.js'
import { dracutOmitContent } from '../../src/tasks/lib/dracut-omit-conf.js'
import { initramfsRebuildScript } from '../../src/tasks/lib/initramfs-script.js'
import { dracutWrapper, pathWith, run, runOk, sh, STUB_KVER, stubKernelTree } from '../helpers/real-tools.js'

let dir: string
let root: string
let bin: string
let confdir: string
const IMAGE = `/boot/initramfs-${STUB_KVER}.img`

const env = () => ({ ...process.env, PATH: pathWith(bin) })
const dracut = (...args: string[]) => runOk('dracut', args, { env: env() })
const lsinitrd = (img: string) => runOk('lsinitrd', [img], { env: env() })
// initramfs.status's own shell text, run by sh against the temp root with the real lsinitrd.
const gather = async (path = IMAGE) => {
  const r = await sh(initramfsStatusCommand(root), { env: env() })
  expect(r.code, r.stderr).toBe(0)
  return initramfsStatus.parse(r.stdout, 0).images.find((i) => i.path === path)!
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpufleet-real-dracut-'))
  root = join(dir, 'root')
  mkdirSync(join(root, 'boot'), { recursive: true })
  confdir = join(dir, 'dracut.conf.d')
  bin = dracutWrapper(dir, await stubKernelTree(root), confdir)
  // The distro's image: what the kernel package's hook builds.
  await dracut('-f', join(root, IMAGE), STUB_KVER)
}, 180_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('dracut + lsinitrd', () => {
  test('a stock image carries nouveau.ko; initramfs.status finds it', async () => {
    const listing = await lsinitrd(join(root, IMAGE))
    expect(listing).toMatch(new RegExp(`usr/lib/modules/${STUB_KVER}/kernel/drivers/gpu/drm/nouveau/nouveau\\.ko\\n`))
    const image = await gather()
    expect(image).toMatchObject({ kver: STUB_KVER, listed: true, nouveauDriver: true, nouveauBlacklist: false })
    expect(image.dracutArgs).toContain("--add 'drm'")
  })

  test("gpufleet's rebuild script with the real dracut leaves nouveau out, and the fact agrees", async () => {
    const script = initramfsRebuildScript({ image: IMAGE, kver: STUB_KVER, omitDrivers: ['nouveau'], tool: 'dracut', minFreeFactor: 1, root })
    const r = await sh(script, { env: env() })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`rebuilt ${join(root, IMAGE)} for ${STUB_KVER} without nouveau`)
    const listing = await lsinitrd(join(root, IMAGE))
    expect(listing).not.toContain('nouveau.ko')
    expect(listing).toMatch(/^Arguments: .* -f -v --omit-drivers 'nouveau'$/m)
    // The script recorded its check: the gather reuses it. Drop the record and list for real.
    expect(await gather()).toMatchObject({ cached: true, listed: true, nouveauDriver: false })
    rmSync(join(root, INITRAMFS_STATE_DIR), { recursive: true, force: true })
    const image = await gather()
    expect(image.cached).toBeUndefined()
    expect(image).toMatchObject({ listed: true, nouveauDriver: false })
    expect(image.dracutArgs).toContain("--omit-drivers 'nouveau'")
  }, 180_000)

  // The stock image (built by the same wrapper without the drop-in) is the control: it has nouveau.
  test("gpufleet's dracut.conf.d drop-in keeps nouveau out of an image a kernel update builds later", async () => {
    writeFileSync(join(confdir, 'gpufleet-omit-nouveau.conf'), dracutOmitContent(['nouveau']))
    try {
      const later = join(root, 'boot/initramfs-later.img')
      await dracut('-f', later, STUB_KVER)
      const listing = await lsinitrd(later)
      expect(listing).toContain(`usr/lib/modules/${STUB_KVER}/modules.dep`)
      expect(listing).not.toContain('nouveau.ko')
      expect(listing).not.toMatch(/^Arguments: .*omit/m)
      rmSync(later)
    } finally {
      rmSync(join(confdir, 'gpufleet-omit-nouveau.conf'), { force: true })
    }
    expect(readdirSync(confdir)).toEqual([])
  }, 180_000)

  test('a truncated image: lsinitrd fails and the fact says not listed', async () => {
    const broken = join(root, `boot/initramfs-${STUB_KVER}-broken.img`)
    writeFileSync(broken, readFileSync(join(root, IMAGE)).subarray(0, 4096))
    const r = await run('lsinitrd', [broken], { env: env() })
    expect(r.code).not.toBe(0)
    const image = await gather(`/boot/initramfs-${STUB_KVER}-broken.img`)
    expect(image).toMatchObject({ listed: false, nouveauDriver: false })
    rmSync(broken)
  })
})
