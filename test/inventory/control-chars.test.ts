import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import { requireFleetVars } from '../../src/inventory/fleet-vars.js'
import { loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

// A host name or guest domain with a control character would reach terminals, file names and
// messages: refused at load with file:line (an InventoryError: exit 2, nothing touched).
async function failure(files: Record<string, string>, main: string): Promise<string> {
  const dir = await writeTree(files)
  const error = await loadInventory(join(dir, main))
    .then((inv) => requireFleetVars(inv.hosts))
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  expect(error).toBeInstanceOf(InventoryError)
  return (error as Error).message.replaceAll(dir + '/', '')
}

describe('control characters in inventory names', () => {
  it('refuses a host name with ESC in YAML, naming file and line', async () => {
    expect(await failure({ 'hosts.yaml': 'all:\n  hosts:\n    ok-01: {}\n    "evil\\ec":\n      ansible_host: 127.0.0.1\n' }, 'hosts.yaml')).toBe('hosts.yaml:4: host name "evil\\u001bc" contains a control character')
  })

  it('refuses a host name with a control character in INI', async () => {
    expect(await failure({ 'hosts.ini': '[gpu]\nok-01\nevil\x07bell ansible_host=127.0.0.1\n' }, 'hosts.ini')).toMatch(/^hosts\.ini:3: host name "evil\\u0007bell" contains a control character$/)
  })

  it('refuses a gpufleet_vms domain with a control character', async () => {
    const message = await failure({ 'hosts.yaml': 'all:\n  hosts:\n    p9-01:\n      gpufleet_vms:\n        - {domain: "vm\\e]0;x\\a", count: 1}\n' }, 'hosts.yaml')
    expect(message).toMatch(/^hosts\.yaml:\d+: host 'p9-01': gpufleet_vms\[0\]\.domain: domain must not contain control characters$/)
  })
})
