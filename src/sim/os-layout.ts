// Where each simulated OS keeps its boot files: EL in /boot/grub2 with vmlinuz/initramfs images,
// Ubuntu in /boot/grub with vmlinux (ppc64el kernels are uncompressed) and initrd.img.
import type { Profile } from './profiles.js'

// Which emulated tool set a host gets in /usr (dracut + grubby + grub2-*, or initramfs-tools + grub-*).
export type OsFamily = 'el' | 'ubuntu'

export const osFamily = (p: Pick<Profile, 'os'>): OsFamily => (p.os === 'ubuntu' ? 'ubuntu' : 'el')

// The grub directory under the root, without a leading slash.
export const grubDir = (p: Pick<Profile, 'os'>): string => (p.os === 'ubuntu' ? 'boot/grub' : 'boot/grub2')

// A kernel image under the root, without a leading slash.
export const kernelFile = (p: Pick<Profile, 'os'>, kver: string): string => (p.os === 'ubuntu' ? `boot/vmlinux-${kver}` : `boot/vmlinuz-${kver}`)

// An initramfs image under the root, without a leading slash.
export const initrdFile = (p: Pick<Profile, 'os'>, kver: string): string => (p.os === 'ubuntu' ? `boot/initrd.img-${kver}` : `boot/initramfs-${kver}.img`)
