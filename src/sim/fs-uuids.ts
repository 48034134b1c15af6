// Filesystem UUIDs of /boot and / in every simulated stock install (grub.cfg search hints, fstab,
// Ubuntu's root=UUID=). A module of their own: boot-config.ts and ubuntu-grub-cfg.ts both need them.
export const BOOT_UUID = '4d574a87-ece1-476c-8102-23df7ba53d35'
export const ROOT_UUID = '800c95d4-65ea-41c6-af9a-8dad6213a597'
