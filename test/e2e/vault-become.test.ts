import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PW_USER, PW_USER_PASSWORD, startSshd, type TestSshd } from '../helpers/sshd.js'

// The built CLI against a real OpenSSH sshd whose login user needs a password for sudo: that
// password is only in the inventory, encrypted by the real ansible-vault. It must become sudo's
// password, and appear in no output, journal, event stream or report.
const CLI = join(process.cwd(), 'dist', 'cli.js')
// No agent, no ssh config of the machine's user: only what the inventory says.
const env = { PATH: process.env.PATH, HOME: '/nonexistent', ANSIBLE_NOCOLOR: '1' }

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) out.push(join(entry.parentPath, entry.name))
  return out
}

describe('a vaulted ansible_become_password over real sshd', () => {
  let sshd: TestSshd
  let dir: string
  let inventory: string
  let vaultPw: string
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-vault-become-'))
    vaultPw = join(dir, 'vault.txt')
    await writeFile(vaultPw, 'fleet vault pw\n')
    const vaulted = await execa('ansible-vault', ['encrypt_string', '--vault-password-file', vaultPw, '--stdin-name', 'ansible_become_password'], { input: PW_USER_PASSWORD, env })
    inventory = join(dir, 'hosts.yaml')
    await writeFile(inventory, `all:\n  hosts:\n    vaulted:\n      ansible_host: 127.0.0.1\n      ansible_port: ${sshd.port}\n      ansible_user: ${PW_USER}\n      ansible_ssh_private_key_file: ${sshd.clientKeyFile}\n      ansible_become: true\n`)
    await execa('mkdir', ['-p', join(dir, 'group_vars')])
    await writeFile(join(dir, 'group_vars', 'all.yml'), vaulted.stdout + '\n')
  })
  afterAll(async () => {
    await sshd?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('gpufleet facts becomes root with it (sudo asks for a password) and never shows it', async () => {
    const run = await execa('node', [CLI, 'facts', '-i', inventory, '--known-hosts', sshd.knownHostsFile, '--vault-password-file', vaultPw, '--json'], { env, extendEnv: false, reject: false })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const facts = JSON.parse(run.stdout) as { hosts: Record<string, { ok: boolean; facts: { kernelCmdline: { raw: string } } }> }
    // The gather script ran under sudo as root (it reads root-only files the same way on every host).
    expect(facts.hosts.vaulted!.ok).toBe(true)
    expect(facts.hosts.vaulted!.facts.kernelCmdline.raw).toBe((await readFile('/proc/cmdline', 'utf8')).trim())
    expect(run.stdout + run.stderr).not.toContain(PW_USER_PASSWORD)
    // sshd saw one login of the password user.
    expect(sshd.log()).toMatch(new RegExp(`Accepted publickey for ${PW_USER}`))

    // Control: the same inventory with another vaulted password is refused by sudo, so the
    // success above came from the decrypted password.
    const other = join(dir, 'other')
    await execa('mkdir', ['-p', join(other, 'group_vars')])
    await writeFile(join(other, 'hosts.yaml'), await readFile(inventory, 'utf8'))
    const wrong = await execa('ansible-vault', ['encrypt_string', '--vault-password-file', vaultPw, '--stdin-name', 'ansible_become_password'], { input: 'not-the-sudo-password', env })
    await writeFile(join(other, 'group_vars', 'all.yml'), wrong.stdout + '\n')
    const refused = await execa('node', [CLI, 'facts', '-i', join(other, 'hosts.yaml'), '--known-hosts', sshd.knownHostsFile, '--vault-password-file', vaultPw], { env, extendEnv: false, reject: false })
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toMatch(/rejected the become password/)
    expect(refused.stdout).not.toContain('not-the-sudo-password')
  })

  it('without the vault password sudo is not even tried: exit 2 with file:line before connecting', async () => {
    const before = sshd.counts().connections.get(sshd.port) ?? 0
    const run = await execa('node', [CLI, 'facts', '-i', inventory, '--known-hosts', sshd.knownHostsFile], { env, extendEnv: false, reject: false })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(`error: ${join(dir, 'group_vars', 'all.yml')}:1: host 'vaulted': ansible_become_password is encrypted with Ansible Vault; give its password with --vault-password-file, --vault-id or --ask-vault-pass (or ANSIBLE_VAULT_PASSWORD_FILE)`)
    expect(sshd.counts().connections.get(sshd.port) ?? 0).toBe(before)
  })

  it('a playbook run keeps it out of its output, journal, events and reports', async () => {
    const runs = join(dir, 'runs')
    const reports = join(dir, 'reports')
    const run = await execa('node', [CLI, 'run', 'verify', '-i', inventory, '--known-hosts', sshd.knownHostsFile, '--vault-password-file', vaultPw, '--run-dir', runs, '--report-dir', reports, '--output', 'jsonl'], { env, extendEnv: false, reject: false })
    // verify checks POWER/VFIO settings this test machine does not have, so the host may fail
    // its checks; what matters is that sudo accepted the password (facts were gathered as root).
    expect([0, 1]).toContain(run.exitCode)
    expect(run.stdout).not.toMatch(/needs a password|rejected the become password|not in the sudoers/)
    expect(run.stdout).toMatch(/"kind":"facts/)
    const written = [...(await filesUnder(runs)), ...(await filesUnder(reports))]
    expect(written.some((f) => f.endsWith('events.jsonl'))).toBe(true)
    expect(written.some((f) => f.endsWith('journal.jsonl'))).toBe(true)
    for (const file of written) expect(await readFile(file, 'utf8'), file).not.toContain(PW_USER_PASSWORD)
    expect(run.stdout + run.stderr).not.toContain(PW_USER_PASSWORD)
  })
})
