import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import type { InventoryHost } from '../../src/inventory/types.js'
import { bmcConfig } from '../../src/runner/bmc-config.js'

const host = (bmc: unknown): InventoryHost => ({
  name: 'p9-01',
  groups: ['all'],
  vars: bmc === undefined ? {} : { gpufleet_bmc: bmc },
  connection: 'ssh',
  ssh: { hostname: 'p9-01', hostnameFromInventory: false, identityFiles: [] },
  become: false,
  becomeUser: 'root',
  assignments: [],
  source: 'hosts.yaml:12',
})

describe('gpufleet_bmc host var', () => {
  it('reads url (origin only), user and password_file; none is fine', () => {
    expect(bmcConfig(host(undefined))).toBeUndefined()
    expect(bmcConfig(host({ url: 'https://10.1.2.3:8443/', user: 'root', password_file: '/etc/gpufleet/bmc.pw' }))).toEqual({ url: 'https://10.1.2.3:8443', user: 'root', passwordFile: '/etc/gpufleet/bmc.pw' })
  })

  it.each([
    ['bmc.example', "hosts.yaml:12: host 'p9-01': gpufleet_bmc must be a mapping {url, user, password_file}"],
    [{ url: 'http://bmc', user: 'root', password_file: '/x' }, "hosts.yaml:12: host 'p9-01': gpufleet_bmc.url must be https:// (the BMC password is sent with every request)"],
    [{ url: 'https://root:pw@bmc', user: 'root', password_file: '/x' }, "hosts.yaml:12: host 'p9-01': gpufleet_bmc.url must not carry credentials; use user and password_file"],
    [{ url: 'https://bmc', user: 'root' }, "hosts.yaml:12: host 'p9-01': gpufleet_bmc.password_file must be a non-empty string"],
    [{ url: 'https://bmc', user: 'root', password_file: '/x', password: 'no' }, "hosts.yaml:12: host 'p9-01': gpufleet_bmc: unknown key 'password' (keys: url, user, password_file)"],
    [{ url: 'not a url', user: 'root', password_file: '/x' }, 'hosts.yaml:12: host \'p9-01\': gpufleet_bmc.url is not a URL: "not a url"'],
  ])('rejects %j with file:line', (value, message) => {
    expect(() => bmcConfig(host(value))).toThrow(InventoryError)
    expect(() => bmcConfig(host(value))).toThrow(message)
  })
})
