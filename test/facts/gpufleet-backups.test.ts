import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { BACKUP_DIR, gpufleetBackups, gpufleetBackupsCommand } from '../../src/facts/gpufleet-backups.js'
import { backupFilesScript } from '../../src/tasks/lib/backup-script.js'
import { restoreFileScript } from '../../src/tasks/initramfs-restore.js'

// The gpufleet.backups command run for real against a temp root: the backup's checksum comes from
// its sha256 sidecar (no hashing of a ~60 MB image per gather), the live file is hashed, and a
// backup without a usable sidecar (older gpufleet) is hashed as before.
let root: string
const sha = (text: string) => createHash('sha256').update(text).digest('hex')
const put = (path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), text)
}
const gather = () => {
  const r = spawnSync('sh', ['-c', gpufleetBackupsCommand(root)], { encoding: 'utf8' })
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  return gpufleetBackups.parse(r.stdout, 0)
}
const IMG = '/boot/initramfs-4.14.0-49.10.1.el7a.ppc64le.img'

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gpufleet-backups-'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

test('the on-host command is the rooted one with no root', () => {
  expect(gpufleetBackups.command).toBe(gpufleetBackupsCommand())
  expect(gpufleetBackups.command).toContain(`${BACKUP_DIR}/orig`)
})

test('no backup directory: no backups', () => {
  expect(gather()).toEqual([])
})

test('a sidecar is read, not recomputed: its recorded sum is what the fact reports', () => {
  put(IMG, 'rebuilt image\n')
  put(`${BACKUP_DIR}/orig${IMG}`, 'stock image\n')
  // The recorded sum of the copy as it was taken; the copy changed since (damaged on disk).
  const recorded = sha('stock image\n')
  put(`${BACKUP_DIR}/orig${IMG}`, 'stock imagX\n')
  put(`${BACKUP_DIR}/orig${IMG}.sha256`, `${recorded}  ${root}${BACKUP_DIR}/orig${IMG}\n`)
  expect(gather()).toEqual([{ kind: 'orig', path: IMG, backup: `${BACKUP_DIR}/orig${IMG}`, sizeBytes: 12, sha256: recorded, currentSha256: sha('rebuilt image\n') }])
})

test('a backup without a sidecar, or with a malformed one, is hashed; sidecars and temp files are not backups', () => {
  put('/etc/default/grub', 'GRUB_CMDLINE_LINUX="quiet vfio-pci.disable_idle_d3=1"\n')
  put(`${BACKUP_DIR}/orig/etc/default/grub`, 'GRUB_CMDLINE_LINUX="quiet"\n')
  put(`${BACKUP_DIR}/orig/boot/grub2/grub.cfg`, 'menuentry x {}\n')
  put(`${BACKUP_DIR}/orig/boot/grub2/grub.cfg.sha256`, 'not a checksum  grub.cfg\n')
  put(`${BACKUP_DIR}/orig/boot/grub2/grubenv.tmp`, 'half\n')
  put(`${BACKUP_DIR}/orig/boot/grub2/grubenv.sha256.tmp`, 'half\n')
  expect(gather()).toEqual([
    { kind: 'orig', path: '/boot/grub2/grub.cfg', backup: `${BACKUP_DIR}/orig/boot/grub2/grub.cfg`, sizeBytes: 15, sha256: sha('menuentry x {}\n') },
    { kind: 'orig', path: '/etc/default/grub', backup: `${BACKUP_DIR}/orig/etc/default/grub`, sizeBytes: 27, sha256: sha('GRUB_CMDLINE_LINUX="quiet"\n'), currentSha256: sha('GRUB_CMDLINE_LINUX="quiet vfio-pci.disable_idle_d3=1"\n') },
  ])
})

test('backups taken by the backup step: sums from their sidecars match the files; an unchanged file matches its backup', () => {
  put('/etc/default/grub', 'GRUB_CMDLINE_LINUX="quiet"\n')
  put('/boot/grub2/grub.cfg', 'menuentry x {}\n')
  expect(spawnSync('sh', ['-c', backupFilesScript(['/etc/default/grub', '/boot/grub2/grub.cfg'], root)]).status).toBe(0)
  put('/etc/default/grub', 'GRUB_CMDLINE_LINUX="quiet vfio-pci.disable_idle_d3=1"\n')
  const facts = gather()
  expect(facts.map((b) => [b.path, b.sha256 === b.currentSha256])).toEqual([
    ['/boot/grub2/grub.cfg', true],
    ['/etc/default/grub', false],
  ])
  for (const b of facts)
    expect(b.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(root, b.backup)))
        .digest('hex'),
    )
})

test('a backup damaged since it was taken is refused by the restore (the sidecar keeps the original sum)', () => {
  put(IMG, 'stock image\n')
  expect(spawnSync('sh', ['-c', backupFilesScript([IMG], root)]).status).toBe(0)
  put(IMG, 'rebuilt image\n')
  put(`${BACKUP_DIR}/orig${IMG}`, 'stock imagX\n')
  const [b] = gather()
  expect(b!.sha256).toBe(sha('stock image\n'))
  const r = spawnSync('sh', ['-c', restoreFileScript(b!, root)], { encoding: 'utf8' })
  expect(r.status).toBe(1)
  expect(r.stderr).toContain('no longer matches its sha256')
  expect(readFileSync(join(root, IMG), 'utf8')).toBe('rebuilt image\n')
})
