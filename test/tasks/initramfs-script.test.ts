import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { INITRAMFS_EXIT, initramfsRebuildScript } from '../../src/tasks/lib/initramfs-script.js'
import { restoreFileScript } from '../../src/tasks/initramfs-restore.js'
import { backupFilesScript } from '../../src/tasks/lib/backup-script.js'
import { createHash } from 'node:crypto'

// The initramfs step script run for real under bash, in a temp root, with fake dracut/lsinitrd (and
// df for the full-disk case) on PATH. Nothing touches the real /boot.
const KVER = '4.14.0-49.10.1.el7a.ppc64le'
const IMAGE = `/boot/initramfs-${KVER}.img`
const OLD = 'old image\nusr/lib/modules/x/kernel/drivers/gpu/drm/nouveau/nouveau.ko.xz\n'.repeat(50)
let root: string
let bin: string

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex')

function fake(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`)
  chmodSync(join(bin, name), 0o755)
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gpufleet-initramfs-'))
  bin = join(root, 'fakebin')
  mkdirSync(bin)
  mkdirSync(join(root, 'boot'))
  writeFileSync(join(root, IMAGE), OLD)
  // dracut -f -v --omit-drivers LIST IMAGE KVER; behaviour from $FAKE_DRACUT.
  fake(
    'dracut',
    `echo "$@" >> "${root}/dracut.log"
img="\${@: -2:1}"
case "\${FAKE_DRACUT:-ok}" in
  ok) printf 'new image built by dracut %s\\n' "$*" > "$img" ;;
  enospc) printf 'TRUNC' > "$img"; echo "dracut: cp: error writing '$img': No space left on device" >&2; exit 1 ;;
  nouveau) printf 'new but usr/lib/modules/x/nouveau/nouveau.ko.xz\\n' > "$img" ;;
  corrupt-backup) printf 'TRUNC' > "$img"; printf 'garbage' > "$FAKE_PREV"; exit 1 ;;
esac`,
  )
  // lsinitrd IMAGE: one line per "file"; a truncated image cannot be read.
  fake('lsinitrd', `grep -q TRUNC "$1" && { echo "lsinitrd: cannot read $1" >&2; exit 1; }; cat "$1"`)
})

afterEach(() => rmSync(root, { recursive: true, force: true }))

// The runner's transport runs steps under `sh -c` (dash on Debian, bash on RHEL): both must work.
let shell = 'bash'
function run(script: string, env: Record<string, string> = {}) {
  const r = spawnSync(shell, ['-c', script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const script = (minFreeFactor = 2) => initramfsRebuildScript({ image: IMAGE, kver: KVER, omitDrivers: ['nouveau'], tool: 'dracut', minFreeFactor, root })
const prev = () => join(root, 'var/lib/gpufleet/backup/prev', IMAGE)
const orig = () => join(root, 'var/lib/gpufleet/backup/orig', IMAGE)

describe.each(['bash', 'sh'])('initramfs rebuild script under %s', (sh) => {
  beforeEach(() => {
    shell = sh
  })

  test('backs up, rebuilds the explicit kernel/image, verifies, marks the reboot', () => {
    const before = sha(join(root, IMAGE))
    const r = run(script())
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(join(root, 'dracut.log'), 'utf8').trim()).toBe(`-f -v --omit-drivers nouveau ${root}${IMAGE} ${KVER}`)
    expect(readFileSync(join(root, IMAGE), 'utf8')).toContain('new image built by dracut')
    expect(sha(prev())).toBe(before)
    expect(sha(orig())).toBe(before)
    expect(readFileSync(join(root, 'run/gpufleet/reboot-required'), 'utf8')).toMatch(new RegExp(`^[0-9a-f-]{36} initramfs.rebuild: ${IMAGE} rebuilt\n$`))
    expect(readFileSync(join(root, 'var/lib/gpufleet/state', `initramfs-${KVER}.img.boot-id`), 'utf8').trim()).toMatch(/^[0-9a-f-]{36}$/)
    expect(r.stderr).toContain(`backed up ${root}${IMAGE}`)
  })

  test('dracut fails with ENOSPC leaving a truncated image: the backup is restored and verified', () => {
    const before = sha(join(root, IMAGE))
    const r = run(script(), { FAKE_DRACUT: 'enospc' })
    expect(r.code).toBe(INITRAMFS_EXIT.restored)
    expect(sha(join(root, IMAGE))).toBe(before)
    expect(r.stderr).toContain('dracut failed with exit code 1; restoring')
    expect(r.stderr).toContain('the host boots the old image')
    expect(existsSync(join(root, 'run/gpufleet/reboot-required'))).toBe(false)
    expect(existsSync(join(root, `${IMAGE}.gpufleet-restore`))).toBe(false)
  })

  test('a new image that still lists nouveau is rolled back', () => {
    const before = sha(join(root, IMAGE))
    const r = run(script(), { FAKE_DRACUT: 'nouveau' })
    expect(r.code).toBe(INITRAMFS_EXIT.restored)
    expect(r.stderr).toContain('the new image still contains nouveau')
    expect(sha(join(root, IMAGE))).toBe(before)
  })

  test('a corrupted backup is detected after the restore (exit 3, do not reboot)', () => {
    const r = run(script(), { FAKE_DRACUT: 'corrupt-backup', FAKE_PREV: prev() })
    expect(r.code).toBe(INITRAMFS_EXIT.restoreFailed)
    expect(r.stderr).toContain('RESTORE FAILED')
  })

  test('not enough free space: nothing is touched', () => {
    fake('df', `echo "Filesystem 1024-blocks Used Available Capacity Mounted on"; echo "/dev/sda2 1038336 1038335 1 100% /boot"`)
    const before = sha(join(root, IMAGE))
    const r = run(script())
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('not enough free space')
    expect(sha(join(root, IMAGE))).toBe(before)
    expect(existsSync(prev())).toBe(false)
    expect(existsSync(join(root, 'dracut.log'))).toBe(false)
  })

  test('a second rebuild keeps the pristine orig copy and refreshes prev', () => {
    const pristine = sha(join(root, IMAGE))
    expect(run(script()).code).toBe(0)
    const firstNew = sha(join(root, IMAGE))
    writeFileSync(join(root, IMAGE), readFileSync(join(root, IMAGE), 'utf8') + 'nouveau.ko\n')
    const second = sha(join(root, IMAGE))
    expect(run(script()).code).toBe(0)
    expect(sha(orig())).toBe(pristine)
    expect(sha(prev())).toBe(second)
    expect(firstNew).not.toBe(second)
  })

  test('rollback from a damaged backup leaves the current image in place', () => {
    const pristine = sha(join(root, IMAGE))
    expect(run(script()).code).toBe(0)
    const rebuilt = sha(join(root, IMAGE))
    writeFileSync(orig(), 'damaged')
    const r = run(restoreFileScript({ kind: 'orig', path: IMAGE, backup: `/var/lib/gpufleet/backup/orig${IMAGE}`, sizeBytes: OLD.length, sha256: pristine }, root))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('no longer matches its sha256')
    expect(sha(join(root, IMAGE))).toBe(rebuilt)
    expect(existsSync(join(root, `${IMAGE}.gpufleet-restore`))).toBe(false)
  })

  test('rollback restores the pristine image from orig and verifies it', () => {
    const pristine = sha(join(root, IMAGE))
    expect(run(script()).code).toBe(0)
    const r = run(restoreFileScript({ kind: 'orig', path: IMAGE, backup: `/var/lib/gpufleet/backup/orig${IMAGE}`, sizeBytes: OLD.length, sha256: pristine }, root))
    expect(r.code, r.stderr).toBe(0)
    expect(sha(join(root, IMAGE))).toBe(pristine)
  })
})

describe('boot config backup script', () => {
  test('copies each existing file to prev and (once) to orig; skips missing ones', () => {
    mkdirSync(join(root, 'etc/default'), { recursive: true })
    writeFileSync(join(root, 'etc/default/grub'), 'GRUB_CMDLINE_LINUX="quiet"\n')
    const s = backupFilesScript(['/etc/default/grub', '/boot/grub2/grub.cfg'], root)
    expect(run(s).code).toBe(0)
    writeFileSync(join(root, 'etc/default/grub'), 'GRUB_CMDLINE_LINUX="quiet vfio-pci.disable_idle_d3=1"\n')
    expect(run(s).code).toBe(0)
    expect(readFileSync(join(root, 'var/lib/gpufleet/backup/orig/etc/default/grub'), 'utf8')).toBe('GRUB_CMDLINE_LINUX="quiet"\n')
    expect(readFileSync(join(root, 'var/lib/gpufleet/backup/prev/etc/default/grub'), 'utf8')).toContain('vfio-pci')
    expect(existsSync(join(root, 'var/lib/gpufleet/backup/orig/boot/grub2/grub.cfg'))).toBe(false)
  })
})

// Each backup copy gets a sha256 sidecar (sha256sum format) the gpufleet.backups fact reads instead
// of hashing the copy; an old backup without one keeps working (the fact hashes it).
describe.each(['bash', 'sh'])('backup sha256 sidecars under %s', (sh) => {
  beforeEach(() => {
    shell = sh
  })
  const check = (file: string) => spawnSync('sha256sum', ['-c', '--status', `${file}.sha256`], { encoding: 'utf8' }).status

  test('the rebuild writes prev and orig sidecars that sha256sum -c accepts, naming the copy', () => {
    const before = sha(join(root, IMAGE))
    expect(run(script()).code).toBe(0)
    for (const copy of [prev(), orig()]) {
      expect(readFileSync(`${copy}.sha256`, 'utf8')).toBe(`${before}  ${copy}\n`)
      expect(check(copy)).toBe(0)
      expect(existsSync(`${copy}.sha256.tmp`)).toBe(false)
    }
    // A second rebuild replaces prev and its sidecar together; orig and its sidecar stay.
    const second = sha(join(root, IMAGE))
    expect(run(script()).code).toBe(0)
    expect(readFileSync(`${prev()}.sha256`, 'utf8')).toBe(`${second}  ${prev()}\n`)
    expect(readFileSync(`${orig()}.sha256`, 'utf8')).toBe(`${before}  ${orig()}\n`)
  })

  test('the boot config backup writes sidecars; orig keeps its first one', () => {
    mkdirSync(join(root, 'etc/default'), { recursive: true })
    writeFileSync(join(root, 'etc/default/grub'), 'GRUB_CMDLINE_LINUX="quiet"\n')
    const first = sha(join(root, 'etc/default/grub'))
    const s = backupFilesScript(['/etc/default/grub'], root)
    expect(run(s).code).toBe(0)
    writeFileSync(join(root, 'etc/default/grub'), 'GRUB_CMDLINE_LINUX="quiet vfio-pci.disable_idle_d3=1"\n')
    expect(run(s).code).toBe(0)
    const b = join(root, 'var/lib/gpufleet/backup')
    expect(readFileSync(`${b}/orig/etc/default/grub.sha256`, 'utf8')).toBe(`${first}  ${b}/orig/etc/default/grub\n`)
    expect(readFileSync(`${b}/prev/etc/default/grub.sha256`, 'utf8')).toBe(`${sha(join(root, 'etc/default/grub'))}  ${b}/prev/etc/default/grub\n`)
    expect(check(`${b}/orig/etc/default/grub`)).toBe(0)
    expect(check(`${b}/prev/etc/default/grub`)).toBe(0)
  })

  test('an old orig backup without a sidecar is left as it is (the fact hashes it)', () => {
    mkdirSync(join(root, 'var/lib/gpufleet/backup/orig/boot'), { recursive: true })
    writeFileSync(orig(), OLD)
    expect(run(script()).code).toBe(0)
    expect(readFileSync(orig(), 'utf8')).toBe(OLD)
    expect(existsSync(`${orig()}.sha256`)).toBe(false)
    expect(check(prev())).toBe(0)
  })
})
