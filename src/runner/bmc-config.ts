import { InventoryError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'

// A host's BMC, from the `gpufleet_bmc: {url, user, password_file}` host var. The password stays in
// its file: it is read only when a request is made, and never copied into options, events or reports.
export interface BmcConfig {
  url: string // https://bmc-host[:port]
  user: string
  passwordFile: string
}

// The host's BMC settings, or undefined when it has none; a malformed var is an InventoryError
// naming where the host is defined (raised before any connection).
export function bmcConfig(host: InventoryHost): BmcConfig | undefined {
  const raw = host.vars.gpufleet_bmc
  if (raw === undefined || raw === null) return undefined
  const where = `${host.source ?? host.name}: host '${host.name}': gpufleet_bmc`
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InventoryError(`${where} must be a mapping {url, user, password_file}`)
  const v = raw as Record<string, unknown>
  const unknown = Object.keys(v).filter((k) => !['url', 'user', 'password_file'].includes(k))
  if (unknown.length) throw new InventoryError(`${where}: unknown key '${unknown[0]}' (keys: url, user, password_file)`)
  for (const k of ['url', 'user', 'password_file']) if (typeof v[k] !== 'string' || (v[k] as string).trim() === '') throw new InventoryError(`${where}.${k} must be a non-empty string`)
  let url: URL
  try {
    url = new URL(v.url as string)
  } catch {
    throw new InventoryError(`${where}.url is not a URL: ${JSON.stringify(v.url)}`)
  }
  if (url.protocol !== 'https:') throw new InventoryError(`${where}.url must be https:// (the BMC password is sent with every request)`)
  if (url.username || url.password) throw new InventoryError(`${where}.url must not carry credentials; use user and password_file`)
  return { url: url.origin, user: v.user as string, passwordFile: v.password_file as string }
}
