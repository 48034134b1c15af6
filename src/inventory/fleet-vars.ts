import { z } from 'zod'
import { InventoryError } from '../errors.js'
import type { GpuAssignment, InventoryHost } from './types.js'
import { inventoryError } from './origin.js'
import { CONTROL_CHAR } from '../terminal-text.js'
import type { MergedVars } from './connection.js'
import { SMT_POLICY_VAR, smtPolicySchema } from '../tasks/lib/smt-policy.js'

// gpufleet's own inventory vars carry the role-style prefix `gpufleet_`, so the admin's own `rack`,
// `gpus` or `vms` (used by their other playbooks) are never read, validated or refused.
export const FLEET_VARS = { rack: 'gpufleet_rack', gpus: 'gpufleet_gpus', vms: 'gpufleet_vms' } as const

// A host PCI address as lspci -D prints it: domain:bus:slot.function.
export const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i

const pciAddress = z
  .string({ error: "must be a PCI address string like '0004:04:00.0'" })
  .regex(PCI_ADDRESS, { error: (issue) => `'${String(issue.input)}' is not a PCI address (dddd:bb:ss.f, e.g. 0004:04:00.0)` })
  .transform((s) => s.toLowerCase())

const addressList = z.array(pciAddress, { error: 'addresses must be a list of PCI addresses' })

function unknownKeys(issue: { code?: string; keys?: string[] }, allowed: string): string | undefined {
  return issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys?.join(', ')} (allowed: ${allowed})` : undefined
}

// `gpufleet_rack: r1`: the failure domain for rolling reboots. INI gives `gpufleet_rack=1` as a number; accept it.
export const rackSchema = z.union([z.string().min(1), z.int()], { error: 'a rack must be a non-empty string (e.g. r1) or a whole number' }).transform(String)

// `gpufleet_gpus: {count: 4}` or `gpufleet_gpus: {addresses: [...]}`: the GPUs a host must have.
export const gpusSchema = z
  .strictObject(
    {
      count: z.int({ error: 'count must be a whole number' }).min(0, { error: 'count must be 0 or more' }).optional(),
      addresses: addressList.optional(),
    },
    { error: (issue) => unknownKeys(issue, 'count, addresses') ?? 'gpufleet_gpus must be a mapping: {count: 4} or {addresses: [0004:04:00.0, ...]}' },
  )
  .refine((g) => g.count !== undefined || g.addresses !== undefined, { error: 'gpufleet_gpus needs count or addresses' })
  .refine((g) => g.count === undefined || g.addresses === undefined || g.count === g.addresses.length, {
    error: 'gpufleet_gpus.count does not match the number of gpufleet_gpus.addresses',
    path: ['count'],
  })

const vmSchema = z
  .strictObject(
    {
      domain: z
        .string({ error: 'domain must be the libvirt domain name (a string)' })
        .min(1, { error: 'domain must not be empty' })
        .refine((d) => !CONTROL_CHAR.test(d), { error: 'domain must not contain control characters' }),
      count: z.int({ error: 'count must be a whole number' }).min(1, { error: 'count must be 1 or more' }).optional(),
      addresses: addressList.min(1, { error: 'addresses must not be empty' }).optional(),
    },
    { error: (issue) => unknownKeys(issue, 'domain, count, addresses') ?? 'each gpufleet_vms entry must be a mapping: {domain: vm1, count: 2} or {domain: vm1, addresses: [...]}' },
  )
  .refine((v) => (v.count === undefined) !== (v.addresses === undefined), { error: 'a gpufleet_vms entry needs exactly one of count or addresses' })

// `gpufleet_vms: [{domain: vm1, count: 2}, {domain: vm2, addresses: [0004:04:00.0]}]`: GPU→VM assignments.
// `gpufleet_smt: auto` (usually `-e gpufleet_smt=auto`): the SMT policy cpu.smt applies and
// host.verify checks (src/tasks/smt-policy.ts); `off`, the default, is SMT off everywhere.

export const vmsSchema = z.array(vmSchema, { error: 'gpufleet_vms must be a list of {domain, count} or {domain, addresses}' })

// The part of a host that resolveFleetVars fills in.
export type FleetVars = Pick<InventoryHost, 'rack' | 'expectedGpus' | 'assignments' | 'fleetVarErrors'>

// gpufleet's own vars (gpufleet_rack, gpufleet_gpus, gpufleet_vms) for one host. A bad value does not
// throw here: it is kept as "file:line: message" in fleetVarErrors (and the var is left unset), so a
// broken var on a host outside --limit stops nothing. requireFleetVars() refuses the selected hosts
// that have one; commands that do not use these vars print fleetVarWarnings() instead.
export function resolveFleetVars(name: string, vars: MergedVars): FleetVars {
  const errors: string[] = []
  const parse = <T>(key: string, schema: z.ZodType<T>): T | undefined => {
    if (!vars.values.has(key) || vars.values.get(key) === null) return undefined
    const result = schema.safeParse(vars.values.get(key))
    if (result.success) return result.data
    const issue = result.error.issues[0]!
    const origin = vars.origins.get(key) ?? { file: '<inventory>', line: 0 }
    const where = issue.path.length > 0 ? `${key}${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}` : key
    errors.push(inventoryError(origin, `host '${name}': ${where}: ${issue.message}`, issue.path).message)
    return undefined
  }
  const rack = parse(FLEET_VARS.rack, rackSchema)
  const gpus = parse(FLEET_VARS.gpus, gpusSchema)
  const vms = parse(FLEET_VARS.vms, vmsSchema) ?? []
  parse(SMT_POLICY_VAR, smtPolicySchema) // read by cpu.smt and host.verify (src/tasks/smt-policy.ts); checked here for file:line
  let assignments: GpuAssignment[] = vms.map((v) => (v.addresses ? { domain: v.domain, addresses: v.addresses } : { domain: v.domain, count: v.count }))
  // Cross-checks only make sense over values that parsed; a half-checked assignment is never kept.
  if (errors.length === 0) {
    try {
      checkAssignments(name, vars, gpus, assignments)
    } catch (error) {
      if (!(error instanceof InventoryError)) throw error
      errors.push(error.message)
    }
  }
  if (errors.length > 0) assignments = []
  return { rack, expectedGpus: gpus, assignments, ...(errors.length > 0 ? { fleetVarErrors: errors } : {}) }
}

// Refuses hosts (the selected ones) whose gpufleet_* vars are malformed: every problem, file:line.
export function requireFleetVars(hosts: readonly InventoryHost[]): void {
  const problems = hosts.flatMap((h) => h.fleetVarErrors ?? [])
  if (problems.length === 0) return
  const shown = problems.slice(0, 10)
  const more = problems.length > shown.length ? `\n(and ${problems.length - shown.length} more)` : ''
  throw new InventoryError(shown.join('\n') + more)
}

// The same problems as warnings, for commands that do not use gpufleet's vars (inventory, facts).
export function fleetVarWarnings(hosts: readonly InventoryHost[]): string[] {
  return hosts.flatMap((h) => h.fleetVarErrors ?? []).map((p) => `warning: ${p} (ignored here; run, plan and resume refuse it)`)
}

// Cross-checks a schema cannot express: no GPU given to two VMs, no VM named twice, and no more
// GPUs handed out than the host is expected to have.
function checkAssignments(name: string, vars: MergedVars, gpus: { count?: number; addresses?: string[] } | undefined, assignments: GpuAssignment[]): void {
  const origin = vars.origins.get(FLEET_VARS.vms) ?? { file: '<inventory>', line: 0 }
  const fail = (message: string, path: PropertyKey[]) => inventoryError(origin, `host '${name}': ${message}`, path)
  const domains = new Set<string>()
  const owner = new Map<string, string>()
  let total = 0
  assignments.forEach((vm, i) => {
    if (domains.has(vm.domain)) throw fail(`gpufleet_vms[${i}]: domain '${vm.domain}' is listed twice`, [i, 'domain'])
    domains.add(vm.domain)
    total += vm.count ?? vm.addresses?.length ?? 0
    vm.addresses?.forEach((address, j) => {
      const other = owner.get(address)
      if (other) throw fail(`gpufleet_vms[${i}].addresses[${j}]: GPU ${address} is already assigned to '${other}'`, [i, 'addresses', j])
      owner.set(address, vm.domain)
      if (gpus?.addresses && !gpus.addresses.includes(address)) {
        throw fail(`gpufleet_vms[${i}].addresses[${j}]: GPU ${address} is not in gpufleet_gpus.addresses`, [i, 'addresses', j])
      }
    })
  })
  const expected = gpus?.count ?? gpus?.addresses?.length
  if (expected !== undefined && total > expected) {
    throw fail(`gpufleet_vms assign ${total} GPUs but gpufleet_gpus expects only ${expected}`, [])
  }
}

export { SMT_POLICY_VAR, smtPolicySchema }
