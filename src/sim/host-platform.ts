// How one host presents its boot platform beyond its profile, from the spec's knobs (spec.ts): the
// combinations gpufleet refuses before any change (facts/boot-stack.ts bootRefusal), each shown the
// way a real host shows it, at the paths the boot.config fact reads (facts/boot-platform.ts).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { write } from './layer-files.js'
import type { Faults } from './spec.js'

// /etc/os-release of OSes gpufleet does not handle, as their releases ship it.
export const foreignOsReleases = {
  // SUSE Linux Enterprise Server 15 SP5 (ppc64le)
  sles15: {
    osRelease: 'NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\nID="sles"\nID_LIKE="suse"\nANSI_COLOR="0;32"\nCPE_NAME="cpe:/o:suse:sles:15:sp5"\nDOCUMENTATION_URL="https://documentation.suse.com/"\n',
    extra: {} as Record<string, string>,
  },
  // Debian 12 (ppc64el)
  debian12: {
    osRelease: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n',
    extra: { 'etc/debian_version': '12.5\n' } as Record<string, string>,
  },
} as const
export type ForeignOs = keyof typeof foreignOsReleases

// Release files of the profile's own OS, hidden on a host that runs another one.
const PROFILE_RELEASE_FILES = ['etc/redhat-release', 'etc/system-release', 'etc/centos-release', 'etc/lsb-release']

// Lockdown modes in the order security/lockdown/lockdown.c prints them.
const LOCKDOWN_MODES = ['none', 'integrity', 'confidentiality'] as const
export type LockdownMode = (typeof LOCKDOWN_MODES)[number]

// An overlay whiteout (a 0/0 character device): hides the lower layers' file of that name.
function whiteout(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.rmSync(file, { force: true })
  execFileSync('mknod', [file, 'c', '0', '0'])
}

// Writes the host's platform knobs into its (not yet mounted) upper directory, and into `usrHide`
// the whiteouts of its missing tools (a layer over its /usr, see usrMount).
export function seedHostPlatform(upper: string, usrHide: string, faults: Faults): void {
  const at = (rel: string) => path.join(upper, rel)
  if (faults.osRelease) {
    const os = foreignOsReleases[faults.osRelease]
    write(at('etc/os-release'), os.osRelease)
    for (const f of PROFILE_RELEASE_FILES) whiteout(at(f))
    for (const [f, text] of Object.entries(os.extra)) write(at(f), text)
  }
  if (faults.secureBoot) {
    // OPAL's device tree (linux arch/powerpc/kernel/secure_boot.c): the property's presence means
    // enforcing; /proc/device-tree is a link to the firmware's tree in sysfs, as on a real host.
    write(at('sys/firmware/devicetree/base/ibm,secureboot/compatible'), 'ibm,secureboot-v1\0')
    write(at('sys/firmware/devicetree/base/ibm,secureboot/os-secureboot-enforcing'), '')
    fs.rmSync(at('proc/device-tree'), { force: true })
    fs.mkdirSync(at('proc'), { recursive: true })
    fs.symlinkSync('/sys/firmware/devicetree/base', at('proc/device-tree'))
  }
  if (faults.lockdown) {
    const selected = faults.lockdown
    write(at('sys/kernel/security/lockdown'), LOCKDOWN_MODES.map((m) => (m === selected ? `[${m}]` : m)).join(' ') + '\n')
  }
  if (faults.petitbootWrite !== undefined) {
    // The NVRAM "common" partition powerpc-utils' nvram(8) prints (sim-tools/usr/sbin/nvram).
    write(at('var/lib/sim-hw/nvram-common'), `auto-boot?=true\npetitboot,write?=${faults.petitbootWrite}\n`)
  }
  for (const tool of faults.missingTools ?? []) for (const d of ['bin', 'sbin']) whiteout(path.join(usrHide, d, tool))
}

// The mount of a host's /usr: its OS family's merged /usr, read-only; a host with missing tools
// gets a read-only overlay of its whiteouts over the same layers instead.
export function usrMount(faults: Faults, usrHide: string, familyLayers: string[], merged: string, target: string): string[] {
  if (!faults.missingTools?.length) return ['bind', merged, target, 'ro']
  return ['overlay', [usrHide, ...familyLayers, '/usr'].join(':'), '', '', target]
}
