import { z } from 'zod'
import type { GpuAssignment, InventoryHost } from './types.js'
import { inventoryError } from './origin.js'
import type { MergedVars } from './connection.js'

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

// `rack: r1`: the failure domain for rolling reboots. INI gives `rack=1` as a number; accept it.
export const rackSchema = z.union([z.string().min(1), z.int()], { error: 'rack must be a string (e.g. r1)' }).transform(String)

// `gpus: {count: 4}` or `gpus: {addresses: [...]}`: the GPUs a host must have.
export const gpusSchema = z
  .strictObject(
    {
      count: z.int({ error: 'count must be a whole number' }).min(0, { error: 'count must be 0 or more' }).optional(),
      addresses: addressList.optional(),
    },
    { error: (issue) => unknownKeys(issue, 'count, addresses') ?? 'gpus must be a mapping: {count: 4} or {addresses: [0004:04:00.0, ...]}' },
  )
  .refine((g) => g.count !== undefined || g.addresses !== undefined, { error: 'gpus needs count or addresses' })
  .refine((g) => g.count === undefined || g.addresses === undefined || g.count === g.addresses.length, {
    error: 'gpus.count does not match the number of gpus.addresses',
    path: ['count'],
  })

const vmSchema = z
  .strictObject(
    {
      domain: z.string({ error: 'domain must be the libvirt domain name (a string)' }).min(1, { error: 'domain must not be empty' }),
      count: z.int({ error: 'count must be a whole number' }).min(1, { error: 'count must be 1 or more' }).optional(),
      addresses: addressList.min(1, { error: 'addresses must not be empty' }).optional(),
    },
    { error: (issue) => unknownKeys(issue, 'domain, count, addresses') ?? 'each vms entry must be a mapping: {domain: vm1, count: 2} or {domain: vm1, addresses: [...]}' },
  )
  .refine((v) => (v.count === undefined) !== (v.addresses === undefined), { error: 'a vms entry needs exactly one of count or addresses' })

// `vms: [{domain: vm1, count: 2}, {domain: vm2, addresses: [0004:04:00.0]}]`: GPU→VM assignments.
export const vmsSchema = z.array(vmSchema, { error: 'vms must be a list of {domain, count} or {domain, addresses}' })

// gpufleet's own vars (rack, gpus, vms) for one host, validated; errors point at the value.
export function resolveFleetVars(name: string, vars: MergedVars): Pick<InventoryHost, 'rack' | 'expectedGpus' | 'assignments'> {
  const parse = <T>(key: string, schema: z.ZodType<T>): T | undefined => {
    if (!vars.values.has(key) || vars.values.get(key) === null) return undefined
    const result = schema.safeParse(vars.values.get(key))
    if (result.success) return result.data
    const issue = result.error.issues[0]
    const origin = vars.origins.get(key) ?? { file: '<inventory>', line: 0 }
    const where = issue.path.length > 0 ? `${key}${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}` : key
    throw inventoryError(origin, `host '${name}': ${where}: ${issue.message}`, issue.path)
  }
  const rack = parse('rack', rackSchema)
  const gpus = parse('gpus', gpusSchema)
  const vms = parse('vms', vmsSchema) ?? []
  const assignments: GpuAssignment[] = vms.map((v) => (v.addresses ? { domain: v.domain, addresses: v.addresses } : { domain: v.domain, count: v.count }))
  checkAssignments(name, vars, gpus, assignments)
  return { rack, expectedGpus: gpus, assignments }
}

// Cross-checks a schema cannot express: no GPU given to two VMs, no VM named twice, and no more
// GPUs handed out than the host is expected to have.
function checkAssignments(name: string, vars: MergedVars, gpus: { count?: number; addresses?: string[] } | undefined, assignments: GpuAssignment[]): void {
  const origin = vars.origins.get('vms') ?? { file: '<inventory>', line: 0 }
  const fail = (message: string, path: PropertyKey[]) => inventoryError(origin, `host '${name}': ${message}`, path)
  const domains = new Set<string>()
  const owner = new Map<string, string>()
  let total = 0
  assignments.forEach((vm, i) => {
    if (domains.has(vm.domain)) throw fail(`vms[${i}]: domain '${vm.domain}' is listed twice`, [i, 'domain'])
    domains.add(vm.domain)
    total += vm.count ?? vm.addresses?.length ?? 0
    vm.addresses?.forEach((address, j) => {
      const other = owner.get(address)
      if (other) throw fail(`vms[${i}].addresses[${j}]: GPU ${address} is already assigned to '${other}'`, [i, 'addresses', j])
      owner.set(address, vm.domain)
      if (gpus?.addresses && !gpus.addresses.includes(address)) {
        throw fail(`vms[${i}].addresses[${j}]: GPU ${address} is not in gpus.addresses`, [i, 'addresses', j])
      }
    })
  })
  const expected = gpus?.count ?? gpus?.addresses?.length
  if (expected !== undefined && total > expected) {
    throw fail(`vms assign ${total} GPUs but gpus expects only ${expected}`, [])
  }
}
