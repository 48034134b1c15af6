import { splitCmdline } from './kernel-cmdline.js'
import { section, type Section } from './sections.js'

// What decides how a host's boot configuration may be edited besides the config itself: the OS
// (EL7/EL8/EL9/Ubuntu), EL9's /etc/kernel/cmdline, and whether petitboot boots it, under signed
// boot or kernel lockdown, and may write grubenv.
export interface BootPlatform {
  os?: { id: string; idLike: string[]; versionId: string; prettyName: string } // /etc/os-release
  kernelCmdline?: string[] // /etc/kernel/cmdline words (EL9 kernel-install reads it); undefined = no file
  cpuPlatform?: string // /proc/cpuinfo `platform`: PowerNV = bare metal, booted by petitboot
  secureBoot: boolean // OPAL device tree says the OS secure boot is enforced
  lockdown?: string // the selected mode of /sys/kernel/security/lockdown (none, integrity, confidentiality)
  petitbootWrite?: boolean // NVRAM petitboot,write? (petitboot may write grubenv); undefined = not set
}

// Shell text appended to the boot.config fact's command (one exec).
//  - os-release: os-release(5);
//  - the secure-boot property: linux arch/powerpc/kernel/secure_boot.c is_ppc_secureboot_enabled()
//    and tools/testing/selftests/kexec/kexec_common_lib.sh get_ppc64_secureboot_mode() read
//    /proc/device-tree/ibm,secureboot/os-secureboot-enforcing (present = enforcing);
//  - lockdown: security/lockdown/lockdown.c prints every mode with the selected one in brackets;
//  - petitboot,write?: petitboot discover/platform.c, read with powerpc-utils' nvram(8).
export const bootPlatformCommand = [
  '[ -f /etc/os-release ] && { echo "@@ os-release"; cat /etc/os-release; echo; }',
  '[ -f /etc/kernel/cmdline ] && { echo "@@ kernel-cmdline"; cat /etc/kernel/cmdline; echo; }',
  'echo "@@ cpu-platform $(sed -n "s/^platform[[:space:]]*:[[:space:]]*//p" /proc/cpuinfo 2>/dev/null | head -n 1)"',
  '[ -e /proc/device-tree/ibm,secureboot/os-secureboot-enforcing ] && echo "@@ secureboot enforcing"',
  '[ -r /sys/kernel/security/lockdown ] && echo "@@ lockdown $(cat /sys/kernel/security/lockdown 2>/dev/null)"',
  'command -v nvram >/dev/null 2>&1 && echo "@@ petitboot-write $(nvram --print-config=\'petitboot,write?\' 2>/dev/null)"',
].join('\n')

// Parses the sections bootPlatformCommand printed.
export function parseBootPlatform(sections: Section[]): BootPlatform {
  const platform: BootPlatform = { secureBoot: section(sections, 'secureboot') !== undefined }
  const osr = section(sections, 'os-release')
  if (osr) {
    const v: Record<string, string> = {}
    for (const line of osr.lines) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim())
      if (m) v[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1')
    }
    platform.os = { id: v.ID ?? '', idLike: (v.ID_LIKE ?? '').split(/\s+/).filter(Boolean), versionId: v.VERSION_ID ?? '', prettyName: v.PRETTY_NAME ?? v.NAME ?? v.ID ?? '' }
  }
  const kc = section(sections, 'kernel-cmdline')
  if (kc) platform.kernelCmdline = splitCmdline(kc.lines.join(' '))
  const cpu = section(sections, 'cpu-platform')?.arg.trim()
  if (cpu) platform.cpuPlatform = cpu
  const lock = section(sections, 'lockdown')?.arg
  const selected = lock ? /\[(\w+)\]/.exec(lock)?.[1] : undefined
  if (selected) platform.lockdown = selected
  const pw = section(sections, 'petitboot-write')?.arg.trim().toLowerCase()
  if (pw === 'true' || pw === 'false') platform.petitbootWrite = pw === 'true'
  return platform
}
