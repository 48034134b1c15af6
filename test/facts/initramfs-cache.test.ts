import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { initramfsStatus, initramfsStatusCommand } from '../../src/facts/initramfs-status.js'
import { initramfsRebuildScript } from '../../src/tasks/lib/initramfs-script.js'

// The initramfs.status command run for real (bash and dash) against a temp /boot, with fake
// dracut/lsinitrd/grubby that log every call: a no-op gather must not decompress (list) an image
// gpufleet already checked, must list it again once anything rewrote it, and must list only the
// image that boots next.
const NEW = '4.14.0-49.10.1.el7a.ppc64le'
const OLD = '4.14.0-49.el7a.ppc64le'
const image = (kver: string) => `/boot/initramfs-${kver}.img`
const NOUVEAU = 'usr/lib/modules/x/kernel/drivers/gpu/drm/nouveau/nouveau.ko.xz\n'
let root: string
let bin: string
let shell = 'bash'

function fake(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`)
  chmodSync(join(bin, name), 0o755)
}

function run(script: string) {
  const r = spawnSync(shell, ['-c', script], { cwd: root, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const listed = () => readFileSync(join(root, 'lsinitrd.log'), { encoding: 'utf8', flag: 'a+' }).trim().split('\n').filter(Boolean)
const gather = () => {
  writeFileSync(join(root, 'lsinitrd.log'), '')
  const r = run(initramfsStatusCommand(root))
  expect(r.code, r.stderr).toBe(0)
  return initramfsStatus.parse(r.stdout, 0)
}
const find = (status: ReturnType<typeof gather>, kver: string) => status.images.find((i) => i.path === image(kver))!

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gpufleet-initramfs-cache-'))
  bin = join(root, 'fakebin')
  mkdirSync(bin)
  mkdirSync(join(root, 'boot/grub2'), { recursive: true })
  writeFileSync(join(root, image(NEW)), `Arguments: -f\n${NOUVEAU}`)
  writeFileSync(join(root, image(OLD)), `Arguments: -f\n${NOUVEAU}`)
  writeFileSync(join(root, 'boot/grub2/grubenv'), '# GRUB Environment Block\nsaved_entry=0\n')
  fake('lsinitrd', `echo "$1" >> "${root}/lsinitrd.log"; cat "$1"`)
  fake('dracut', `img=$5; printf 'Arguments: -f -v --omit-drivers %s\\nusr/lib/modules/x/kernel/drivers/vfio/vfio.ko.xz\\n' "$4" > "$img"`)
  fake('grubby', `[ "$1" = --info=DEFAULT ] && printf 'index=0\\nkernel=/boot/vmlinuz-${NEW}\\ninitrd=/boot/initramfs-${NEW}.img\\ntitle=CentOS\\n'`)
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

describe.each(['bash', 'sh'])('initramfs.status listing cache under %s', (sh) => {
  beforeEach(() => {
    shell = sh
  })

  test('first gather lists only the next-boot image; the others are skipped', () => {
    const s = gather()
    expect(listed()).toEqual([join(root, image(NEW))])
    expect(find(s, NEW)).toMatchObject({ listed: true, nouveauDriver: true })
    expect(find(s, NEW).cached).toBeUndefined()
    expect(find(s, OLD)).toMatchObject({ listed: false, skipped: true, nouveauDriver: false })
  })

  test('after gpufleet rebuilt the image a gather reuses its record and lists nothing', () => {
    const r = run(initramfsRebuildScript({ image: image(NEW), kver: NEW, omitDrivers: ['nouveau'], tool: 'dracut', minFreeFactor: 1, root }))
    expect(r.code, r.stderr).toBe(0)
    const s = gather()
    expect(listed()).toEqual([])
    expect(find(s, NEW)).toMatchObject({ listed: true, cached: true, nouveauDriver: false, dracutArgs: '-f -v --omit-drivers nouveau' })
    expect(find(s, NEW).builtInBootId).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('a hand rebuild (same size, mtime set back) changes the key: the image is listed again', () => {
    expect(run(initramfsRebuildScript({ image: image(NEW), kver: NEW, omitDrivers: ['nouveau'], tool: 'dracut', minFreeFactor: 1, root })).code).toBe(0)
    const p = join(root, image(NEW))
    const before = readFileSync(p, 'utf8')
    const { atime, mtime } = statSync(p)
    const same = before.replace('vfio/vfio.ko.xz', 'nv/nouveau.ko.x')
    expect(same.length).toBe(before.length)
    writeFileSync(p, same)
    utimesSync(p, atime, mtime) // same inode, size and mtime: only the ctime tells
    const s = gather()
    expect(listed()).toEqual([p])
    expect(find(s, NEW)).toMatchObject({ listed: true, nouveauDriver: true })
    expect(find(s, NEW).cached).toBeUndefined()
  })

  test('a one-shot next_entry or no grubby: every image is listed', () => {
    writeFileSync(join(root, 'boot/grub2/grubenv'), '# GRUB Environment Block\nsaved_entry=0\nnext_entry=1\n')
    gather()
    expect(listed().sort()).toEqual([join(root, image(NEW)), join(root, image(OLD))].sort())
    writeFileSync(join(root, 'boot/grub2/grubenv'), '# GRUB Environment Block\nsaved_entry=0\n')
    rmSync(join(bin, 'grubby'))
    gather()
    expect(listed()).toHaveLength(2)
  })

  test('BLS: the entry saved_entry names decides, without calling grubby', () => {
    rmSync(join(bin, 'grubby'))
    mkdirSync(join(root, 'boot/loader/entries'), { recursive: true })
    writeFileSync(join(root, 'boot/loader/entries/abc-4.14.0-49.el7a.ppc64le.conf'), `title Old\nversion ${OLD}\nlinux /vmlinuz-${OLD}\ninitrd /initramfs-${OLD}.img $tuned_initrd\noptions $kernelopts\n`)
    writeFileSync(join(root, 'boot/grub2/grubenv'), '# GRUB Environment Block\nsaved_entry=abc-4.14.0-49.el7a.ppc64le\nkernelopts=root=/dev/sda2 ro\n')
    const s = gather()
    expect(listed()).toEqual([join(root, image(OLD))])
    expect(find(s, NEW)).toMatchObject({ skipped: true })
  })

  test('check-first step: a clean unlisted image is recorded, not rebuilt', () => {
    writeFileSync(join(root, image(OLD)), 'Arguments: -f\nusr/lib/modules/x/kernel/drivers/vfio/vfio.ko.xz\n')
    const before = readFileSync(join(root, image(OLD)), 'utf8')
    const r = run(initramfsRebuildScript({ image: image(OLD), kver: OLD, omitDrivers: ['nouveau'], tool: 'dracut', minFreeFactor: 1, root, checkFirst: true }))
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('has no nouveau: not rebuilt')
    expect(readFileSync(join(root, image(OLD)), 'utf8')).toBe(before)
    const s = gather()
    expect(find(s, OLD)).toMatchObject({ listed: true, cached: true, nouveauDriver: false })
    expect(listed()).not.toContain(join(root, image(OLD)))
  })

  test('check-first step: an unlisted image with nouveau is rebuilt', () => {
    const r = run(initramfsRebuildScript({ image: image(OLD), kver: OLD, omitDrivers: ['nouveau'], tool: 'dracut', minFreeFactor: 1, root, checkFirst: true }))
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`rebuilt ${join(root, image(OLD))}`)
    expect(readFileSync(join(root, image(OLD)), 'utf8')).not.toContain('nouveau.ko')
  })
})
