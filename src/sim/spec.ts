// The `--spec` YAML of a simulated rack: size, profiles per host (glob), and injected faults.
import fs from 'node:fs'
import YAML from 'yaml'
import { z } from 'zod'
import { UsageError } from '../errors.js'
import { globToRegExp } from '../glob.js'
import { durationSchema as duration } from '../duration.js'
import { toolCostsSchema } from './tool-costs.js'

// Faults a host can carry; see README.md "Faults".
export const faultsSchema = z
  .object({
    unreachable: z.union([z.literal(true), z.enum(['refused', 'timeout'])]).optional(),
    wrongHostKey: z.boolean().optional(),
    authRefused: z.boolean().optional(),
    sudoPassword: z.string().min(1).optional(),
    rebootTime: duration.optional(),
    neverComesBack: z.boolean().optional(),
    dracutNoSpace: z.boolean().optional(),
    bootFreeKiB: z.number().int().nonnegative().optional(), // df reports this much free for /boot (sim-tools/usr/bin/df)
    dropConnection: z.object({ onExec: z.number().int().positive().optional(), pattern: z.string().optional(), afterMs: z.number().int().nonnegative().optional(), times: z.number().int().positive().optional() }).optional(),
    slowCommands: z.object({ pattern: z.string().optional(), delay: duration }).optional(),
    nouveauLoaded: z.boolean().optional(),
    prepared: z.boolean().optional(),
    // A kernel update before the first boot (after `prepared`), as dnf/apt with the distro's hooks:
    // true = the profile's update kernel, or its version.
    installKernel: z.union([z.literal(true), z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+~-]*$/, 'a kernel version')]).optional(),
    // Guests: state at first boot, autostart, and how the guest answers an ACPI shutdown
    // (`virsh shutdown`): off after a delay, or never ('ignore'). A name the profile does not
    // define becomes a plain guest without host devices.
    guests: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a guest name is letters, digits, . _ -'), z.object({ running: z.boolean().optional(), autostart: z.boolean().optional(), acpi: z.union([z.literal('ignore'), duration]).optional() }).strict()).optional(),
    // libvirt-guests.service: enabled or not, and its ON_SHUTDOWN (libvirt's default is suspend).
    libvirtGuests: z
      .object({ enabled: z.boolean().optional(), onShutdown: z.enum(['suspend', 'shutdown']).optional(), shutdownTimeout: z.number().int().nonnegative().optional() })
      .strict()
      .optional(),
    // After its next reboot the host hangs in IPL (power on, no OS) until a power cycle (BMC).
    hangsAfterReboot: z.boolean().optional(),
    // The password its BMC accepts instead of the rack's (so the inventory's one is wrong).
    bmcPassword: z.string().min(1).optional(),
    // The boot platform as the host presents it (host-platform.ts): OPAL's OS secure boot enforced,
    // the kernel's lockdown mode, NVRAM petitboot,write?, tools absent from its /usr, and an
    // /etc/os-release of another OS than its profile's.
    secureBoot: z.boolean().optional(),
    lockdown: z.enum(['none', 'integrity', 'confidentiality']).optional(),
    petitbootWrite: z.boolean().optional(),
    missingTools: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'a tool name')).optional(),
    osRelease: z.enum(['sles15', 'debian12']).optional(),
  })
  .strict()
// Faults of one host, durations in ms.
export type Faults = z.infer<typeof faultsSchema>

const hostRuleSchema = faultsSchema.extend({ match: z.string().min(1), profile: z.string().optional() }).strict()

// The whole spec file.
export const specSchema = z
  .object({
    hosts: z.number().int().positive().optional(),
    hostsPerRack: z.number().int().positive().optional(),
    profile: z.string().optional(),
    rebootTime: duration.optional(),
    toolCosts: toolCostsSchema.optional(), // what each emulated tool costs per call (tool-costs.ts)
    rules: z.array(hostRuleSchema).optional(),
  })
  .strict()
// A parsed spec.
export type RackSpec = z.infer<typeof specSchema>

// Reads and validates a spec file; errors name the file and the field.
export function loadSpec(file: string): RackSpec {
  let raw: unknown
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'))
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`)
  }
  const r = specSchema.safeParse(raw ?? {})
  if (!r.success) throw new UsageError(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`)
  return r.data
}

// The profile and merged faults of one host (later rules win).
export function resolveHost(spec: RackSpec, name: string, defaultProfile: string): { profile: string; faults: Faults } {
  let profile = spec.profile ?? defaultProfile
  let faults: Faults = {}
  for (const rule of spec.rules ?? []) {
    if (!globToRegExp(rule.match, { classes: true }).test(name)) continue
    const { match: _m, profile: p, ...f } = rule
    if (p) profile = p
    faults = { ...faults, ...f }
  }
  return { profile, faults }
}
