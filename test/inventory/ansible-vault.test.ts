import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryCommand } from '../../src/commands/inventory.js'
import { loadInventory } from '../../src/inventory/load.js'

// Encrypts with the real ansible-vault at run time (format 1.1, a vault-id labelled 1.2 value, a
// whole group_vars file) and checks that gpufleet decrypts what Ansible decrypts.
const CLI = join(process.cwd(), 'dist', 'cli.js')
const env = { ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_NOCOLOR: '1' }
const SECRET_HOST = '127.0.0.42'
const SECRET_MOTD = 'vaulted motd: $(x) "q"'

// `name: !vault |` block for `value`, as `ansible-vault encrypt_string` prints it, indented.
async function encryptString(value: string, name: string, vaultArgs: string[], indent: string): Promise<string> {
  const out = await execa('ansible-vault', ['encrypt_string', ...vaultArgs, '--stdin-name', name], { input: value, env })
  return out.stdout
    .split('\n')
    .map((line) => indent + line)
    .join('\n')
}

describe('Ansible Vault values made by ansible-vault', () => {
  let dir: string
  let inventory: string
  const defaultPw = () => join(dir, 'default.txt')
  const prodPw = () => join(dir, 'prod.txt')
  beforeAll(async () => {
    // Its own directory (tree.ts cleans up after each test; these files serve the whole suite).
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-vault-'))
    for (const [name, text] of Object.entries({ 'default.txt': 'correct horse\n', 'prod.txt': 'battery staple\n', 'wrong.txt': 'not it\n' })) await writeFile(join(dir, name), text)
    const hostVault = await encryptString(SECRET_HOST, 'ansible_host', ['--vault-password-file', defaultPw()], '      ')
    const motdVault = await encryptString(SECRET_MOTD, 'site_motd', ['--vault-id', `prod@${prodPw()}`], '    ')
    inventory = join(dir, 'inv', 'hosts.yaml')
    await mkdir(join(dir, 'inv', 'group_vars'), { recursive: true })
    await writeFile(inventory, `all:\n  vars:\n${motdVault}\n  children:\n    gpu:\n      hosts:\n        p9-01:\n${hostVault.replace(/^ {6}/gm, '          ')}\n        p9-02:\n`)
    // A whole group_vars file encrypted with the labelled password.
    const groupVars = join(dir, 'inv', 'group_vars', 'gpu.yml')
    await writeFile(groupVars, 'ansible_user: vaulted-admin\ngpufleet_rack: r9\n')
    await execa('ansible-vault', ['encrypt', '--vault-id', `prod@${prodPw()}`, groupVars], { env })
  })

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('are decrypted into connection settings: inline 1.1, vault-id 1.2, and a whole group_vars file', async () => {
    expect(await readFile(join(dir, 'inv', 'group_vars', 'gpu.yml'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/)
    expect(await readFile(inventory, 'utf8')).toContain('$ANSIBLE_VAULT;1.1;AES256')
    const loaded = await loadInventory(inventory, { vault: { passwordFiles: [defaultPw()], vaultIds: [`prod@${prodPw()}`] }, env: {} })
    const p901 = loaded.hosts.find((h) => h.name === 'p9-01')!
    expect(p901.ssh).toMatchObject({ hostname: SECRET_HOST, user: 'vaulted-admin' })
    expect(p901.rack).toBe('r9')
    expect((p901.vars.site_motd as { reveal(): string }).reveal()).toBe(SECRET_MOTD)
  })

  it('print like ansible-inventory --list with the same passwords: inline values stay encrypted', async () => {
    const vaultArgs = ['--vault-password-file', defaultPw(), '--vault-id', `prod@${prodPw()}`]
    const theirs = await execa('ansible-inventory', ['-i', inventory, '--list', ...vaultArgs], { env })
    const ours = await inventoryCommand({ inventory, json: true, vaultPasswordFile: [defaultPw()], vaultId: [`prod@${prodPw()}`] })
    expect(ours).toBe(theirs.stdout + '\n')
    expect(ours).not.toContain(SECRET_HOST)
    expect(ours).not.toContain('vaulted motd')
    expect(ours).toContain('"ansible_user": "vaulted-admin"') // decrypted from the whole file, as Ansible prints it
  })

  it('take the password from ANSIBLE_VAULT_PASSWORD_FILE and from an executable password script', async () => {
    const script = join(dir, 'pass.sh')
    await writeFile(script, `#!/bin/sh\ncat ${prodPw()}\n`, { mode: 0o755 })
    const ok = await execa('node', [CLI, 'inventory', '-i', inventory, '--vault-id', `prod@${script}`], { env: { ANSIBLE_VAULT_PASSWORD_FILE: defaultPw() }, reject: false })
    expect(ok.stderr).toBe('')
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toMatch(new RegExp(`^p9-01 +${SECRET_HOST.replace(/\./g, '\\.')} +vaulted-admin +r9`, 'm'))
  })

  it('with a wrong password exit 2 naming the file:line of the first value that failed, before connecting', async () => {
    // Right prod password, wrong default one: the first value that fails is p9-01's ansible_host.
    const run = await execa('node', [CLI, 'facts', '-i', inventory, '--vault-id', `prod@${prodPw()}`, '--vault-password-file', join(dir, 'wrong.txt')], { env: {}, reject: false })
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    const line = (await readFile(inventory, 'utf8')).split('\n').findIndex((l) => l.includes('ansible_host: !vault')) + 1
    expect(run.stderr).toBe(`error: ${inventory}:${line}: cannot decrypt the !vault value of 'ansible_host': no vault password given decrypts it (tried 'prod' (--vault-id ${prodPw()}), 'default' (--vault-password-file ${join(dir, 'wrong.txt')}))`)
    // A wrong password for the whole file names the file.
    const whole = await execa('node', [CLI, 'inventory', '-i', inventory, '--vault-password-file', defaultPw()], { env: {}, reject: false })
    expect(whole.exitCode).toBe(2)
    expect(whole.stderr).toMatch(new RegExp(`^error: ${join(dir, 'inv', 'group_vars', 'gpu.yml')}:1: cannot decrypt this Ansible Vault file: .*vault id 'prod', for which no password was given$`))
    // No password at all: say how to give one.
    const none = await execa('node', [CLI, 'inventory', '-i', inventory], { env: {}, reject: false })
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toBe(`error: ${join(dir, 'inv', 'group_vars', 'gpu.yml')}:1: this file is encrypted with Ansible Vault; give its password with --vault-password-file, --vault-id or --ask-vault-pass (or ANSIBLE_VAULT_PASSWORD_FILE)`)
  })
})
