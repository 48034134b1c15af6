import { z } from 'zod'
import type { CpuInfo } from '../../facts/cpu-info.js'
import type { LibvirtDomains } from '../../facts/libvirt-domains.js'
import type { PlanContext } from '../define.js'

// The SMT policy of a run, from the `gpufleet_smt` var (usually `-e gpufleet_smt=auto`):
//   off  (default) SMT off on every host, as the guide does;
//   auto           SMT off only where KVM needs it: POWER8 (KVM-HV needs host SMT off), and POWER9
//                  hosts with a POWER8-compat guest defined (such guests need SMT off there too).
// Elsewhere `auto` leaves SMT as it is: POWER9 KVM treats threads as independent.
// The inventory var and its values; checked with file:line by inventory/fleet-vars.ts.
export const SMT_POLICY_VAR = 'gpufleet_smt'
export const smtPolicySchema = z.enum(['off', 'auto'], { error: "gpufleet_smt must be 'off' (SMT off everywhere, the default) or 'auto' (off only where KVM needs it)" })
export type SmtPolicy = z.output<typeof smtPolicySchema>

// The policy for one host (the inventory loader has already refused a bad value).
export function smtPolicy(ctx: Pick<PlanContext, 'host'>): SmtPolicy {
  const v = ctx.host.vars?.[SMT_POLICY_VAR]
  return v === 'auto' ? 'auto' : 'off'
}

// Guests whose CPU model is POWER8 (`<model>power8</model>` in <cpu>): POWER8-compat mode.
export function power8CompatGuests(libvirt: LibvirtDomains): string[] {
  return libvirt.domains.filter((d) => /^power8/i.test(d.config.cpuModel ?? '')).map((d) => d.name)
}

// Under `auto`: why this host needs SMT off, or undefined when KVM does not need it.
// `libvirt` is gathered only under `auto` (the tasks' reads()); undefined there is a runner bug.
export function smtOffNeeded(cpu: CpuInfo, libvirt: LibvirtDomains | undefined): string | undefined {
  if (cpu.generation === 'POWER8') return 'POWER8: KVM-HV needs host SMT off'
  if (!libvirt) throw new Error('gpufleet_smt=auto needs the libvirt.domains fact, which was not gathered')
  const compat = power8CompatGuests(libvirt)
  if (compat.length) return `POWER8-compat guest(s) ${compat.join(', ')} on ${cpu.generation ?? 'this CPU'} need host SMT off (and kvm_hv indep_threads_mode=N)`
  return undefined
}

// Whether a plan with this SMT state reads the guests (libvirt.domains): only when `auto` may leave
// SMT as it is, which depends on POWER8-compat guests.
export function readsGuests(state: unknown, host: PlanContext['host']): boolean {
  return state === 'off' && smtPolicy({ host }) === 'auto'
}
