import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { inventoryCommand } from '../../src/commands/inventory.js'
import { loadInventory } from '../../src/inventory/load.js'
import { parseYamlSource, type VaultedValue } from '../../src/inventory/yaml-source.js'
import { writeTree } from './tree.js'

// Loader behaviour around vault values, with ciphertexts made by ansible-vault (fixtures/vault):
// 'pw-default' decrypts a ('hello vault'), 'pw-prod' decrypts b ('prod secret', vault id prod) and
// whole-file-prod.yml ('ansible_user: ops', 'rack: r7'); inventory-default.yml is
// `ansible-vault encrypt` of an inventory with one host, vaulted-host, ansible_port 2200 ('pw-default').
const fixtures = join(import.meta.dirname, '../fixtures/vault')

async function ciphertexts(): Promise<Record<string, string>> {
  const source = parseYamlSource('values.yaml', await readFile(join(fixtures, 'values.yaml'), 'utf8'))
  const values = source.toJS(source.doc.contents as never) as Record<string, VaultedValue>
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.ciphertext]))
}
const indent = (text: string, by: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => by + l)
    .join('\n')

describe('vault values in inventories', () => {
  it('templates a become password from a vaulted var, holds it as a Secret, and prints the var encrypted', async () => {
    const v = await ciphertexts()
    const dir = await writeTree({
      'pw.txt': 'pw-default\n',
      'hosts.yaml': `all:\n  hosts:\n    p9-01:\n      ansible_become: true\n      ansible_become_password: "{{ vault_sudo_pass }}"\n  vars:\n    vault_sudo_pass: !vault |\n${indent(v.a, '      ')}\n`,
    })
    const inventory = await loadInventory(join(dir, 'hosts.yaml'), { vault: { passwordFiles: [join(dir, 'pw.txt')] }, env: {} })
    const host = inventory.hosts[0]
    expect(host.becomePassword?.reveal()).toBe('hello vault')
    expect(JSON.stringify(host)).not.toContain('hello vault')
    const json = await inventoryCommand({ inventory: join(dir, 'hosts.yaml'), json: true, vaultPasswordFile: [join(dir, 'pw.txt')] })
    expect(json).not.toContain('hello vault')
    expect(json).toContain('"vault_sudo_pass": "<redacted>"')
  })

  it('reads the {"__ansible_vault": ...} form of JSON inventories and a whole vault-encrypted inventory file', async () => {
    const v = await ciphertexts()
    const dir = await writeTree({
      'pw.txt': 'pw-default',
      'prod.txt': 'pw-prod',
      'fleet.json': JSON.stringify({ _meta: { hostvars: { h1: { ansible_host: { __ansible_vault: v.a }, ansible_user: { __ansible_vault: v.b } } } }, all: { children: ['ungrouped'] }, ungrouped: { hosts: ['h1'] } }, null, 2),
      'hosts.yml': await readFile(join(fixtures, 'inventory-default.yml'), 'utf8'),
    })
    const vault = { passwordFiles: [join(dir, 'pw.txt')], vaultIds: [`prod@${join(dir, 'prod.txt')}`] }
    const fromJson = await loadInventory(join(dir, 'fleet.json'), { vault, env: {} })
    expect(fromJson.hosts[0].ssh).toMatchObject({ hostname: 'hello vault', user: 'prod secret' })
    const whole = await loadInventory(join(dir, 'hosts.yml'), { vault, env: {} })
    expect(whole.hosts.map((h) => [h.name, h.ssh.port])).toEqual([['vaulted-host', 2200]])
  })

  it('never quotes a decrypted value in an error', async () => {
    const v = await ciphertexts()
    const dir = await writeTree({
      'pw.txt': 'pw-default\n',
      'hosts.yaml': `all:\n  hosts:\n    p9-01:\n      ansible_port: !vault |\n${indent(v.a, '        ')}\n`,
    })
    const error = await loadInventory(join(dir, 'hosts.yaml'), { vault: { passwordFiles: [join(dir, 'pw.txt')] }, env: {} }).catch((e: Error) => e.message)
    expect(error).toMatch(/^.*hosts\.yaml:4: host 'p9-01': ansible_port must be a port number \(1-65535\)/)
    expect(error).not.toContain('hello vault')
  })
})

describe('a wrong vault password', () => {
  it('names the first value in the file that failed, whatever the group/host order', async () => {
    const v = await ciphertexts()
    const dir = await writeTree({
      'pw.txt': 'pw-prod\n',
      // Line 4 (a host var) fails before line 8 (a group var); b (vault id prod) decrypts.
      'hosts.yaml': `all:\n  hosts:\n    p9-01:\n      token: !vault |\n${indent(v.a, '        ')}\n  vars:\n    fine: !vault |\n${indent(v.b, '      ')}\n    other: !vault |\n${indent(v.c, '      ')}\n`,
    })
    const lines = (await readFile(join(dir, 'hosts.yaml'), 'utf8')).split('\n')
    expect(lines[3]).toBe('      token: !vault |')
    await expect(loadInventory(join(dir, 'hosts.yaml'), { vault: { vaultIds: [`prod@${join(dir, 'pw.txt')}`] }, env: {} })).rejects.toThrow(
      `${join(dir, 'hosts.yaml')}:4: cannot decrypt the !vault value of 'token': no vault password given decrypts it (tried 'prod' (--vault-id ${join(dir, 'pw.txt')}))`,
    )
  })
})
