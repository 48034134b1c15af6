// The /etc of a profile's stock install: the parts of the real /etc a host needs for its real
// tools (PAM, sudo, nsswitch, ld.so.cache, alternatives), re-branded as the profile's OS.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { BOOT_UUID, renderDefaultGrub, stockArgs } from './boot-config.js'
import { ADMIN_UID, symlink, write } from './layer-files.js'
import type { Profile } from './profiles.js'

// The parts of the real /etc a host needs for its real tools (bash, sudo + PAM, python, perl).
const ETC_FROM_HOST = [
  'passwd',
  'group',
  'shadow',
  'gshadow',
  'nsswitch.conf',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'pam.d',
  'pam.conf',
  'security',
  'login.defs',
  'sudoers',
  'sudo.conf',
  'sudo_logsrvd.conf',
  'bash.bashrc',
  'profile',
  'profile.d',
  'environment',
  'localtime',
  'timezone',
  'host.conf',
  'inputrc',
  'shells',
  'locale.alias',
  'locale.gen',
  'default',
  'python3',
  'python3.11',
  'perl',
  'ssl',
  'ca-certificates.conf',
  'gai.conf',
  'protocols',
  'services',
  'networks',
  'rpc',
  'ethertypes',
  'mime.types',
  'magic',
  'skel',
  'subuid',
  'subgid',
  'terminfo',
  'ld.so.preload',
]

// Writes the profile layer's /etc.
export function buildEtc(layerDir: string, p: Profile): void {
  const at = (rel: string) => path.join(layerDir, rel)
  fs.mkdirSync(at('etc/sudoers.d'), { recursive: true })
  const fromHost = ETC_FROM_HOST.filter((f) => fs.existsSync(`/etc/${f}`)).map((f) => `/etc/${f}`)
  execFileSync('cp', ['-a', ...fromHost, at('etc')])
  symlink('../proc/self/mounts', at('etc/mtab'))
  write(
    at('etc/fstab'),
    `/dev/mapper/${p.root.includes('centos') ? 'centos' : 'rhel'}-root /                       xfs     defaults        0 0\nUUID=${BOOT_UUID} /boot                   xfs     defaults        0 0\n/dev/mapper/${p.root.includes('centos') ? 'centos' : 'rhel'}-swap swap                    swap    defaults        0 0\n`,
  )
  const passwd = fs
    .readFileSync(at('etc/passwd'), 'utf8')
    .split('\n')
    .filter((l) => (l && Number(l.split(':')[2]) < 1000) || l.startsWith('nobody:'))
  passwd.push(`admin:x:${ADMIN_UID}:${ADMIN_UID}:admin:/home/admin:/bin/bash`)
  write(at('etc/passwd'), passwd.join('\n') + '\n')
  const group = fs
    .readFileSync(at('etc/group'), 'utf8')
    .split('\n')
    .filter((l) => (l && Number(l.split(':')[2]) < 1000) || l.startsWith('nogroup:'))
  group.push(`admin:x:${ADMIN_UID}:`)
  write(at('etc/group'), group.join('\n') + '\n')
  const shadow = fs
    .readFileSync(at('etc/shadow'), 'utf8')
    .split('\n')
    .filter((l) => l && passwd.some((p) => p.split(':')[0] === l.split(':')[0]))
  shadow.push('admin:!!:20228:0:99999:7:::')
  write(at('etc/shadow'), shadow.join('\n') + '\n', 0o640)
  write(at('etc/os-release'), p.osRelease)
  write(at(p.releaseFile.path), p.releaseFile.text)
  if (p.os !== 'ubuntu') {
    if (p.releaseFile.path !== 'etc/redhat-release') symlink(path.basename(p.releaseFile.path), at('etc/redhat-release'))
    symlink(path.basename(p.releaseFile.path), at('etc/system-release'))
  }
  fs.rmSync(at('etc/modprobe.d'), { recursive: true, force: true })
  fs.mkdirSync(at('etc/modprobe.d'))
  if (p.os === 'ubuntu') {
    write(at('etc/initramfs-tools/initramfs.conf'), 'MODULES=most\nBUSYBOX=auto\nCOMPRESS=zstd\nDEVICE=\nNFSROOT=auto\nRUNSIZE=10%\nFSTYPE=auto\n')
    // the kernel package's hooks (initramfs-tools, grub2-common): what `sim kernel-install` runs
    write(at('etc/kernel/postinst.d/initramfs-tools'), '#!/bin/sh\n# initramfs-tools: build the new kernel\'s initramfs\nexec update-initramfs -c -k "$1"\n', 0o755)
    write(at('etc/kernel/postinst.d/zz-update-grub'), '#!/bin/sh\n# grub2-common: regenerate grub.cfg with the new kernel\nexec update-grub\n', 0o755)
  } else {
    fs.mkdirSync(at('etc/dracut.conf.d'), { recursive: true })
    write(at('etc/dracut.conf'), '# PUT YOUR CONFIG IN separate files\n# in /etc/dracut.conf.d named "<name>.conf"\n# SEE man dracut.conf(5) for options\n')
    symlink('../boot/grub2/grub.cfg', at('etc/grub2.cfg'))
    // EL9: kernel-install's 20-grub.install writes these options into a new kernel's BLS entry.
    if (p.os === 'el9') write(at('etc/kernel/cmdline'), stockArgs(p) + '\n')
  }
  write(at('etc/default/grub'), renderDefaultGrub(p))
  fs.rmSync(at('etc/systemd'), { recursive: true, force: true })
  for (const u of ['libvirtd.service', 'sshd.service', 'kdump.service']) symlink(`/usr/lib/systemd/system/${u}`, at(`etc/systemd/system/multi-user.target.wants/${u}`))
  symlink('/usr/lib/systemd/system/multi-user.target', at('etc/systemd/system/default.target'))
}
