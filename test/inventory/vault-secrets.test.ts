import { chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { loadVaultSecrets } from '../../src/inventory/vault-secrets.js'
import { writeTree } from './tree.js'

const shown = (secrets: Awaited<ReturnType<typeof loadVaultSecrets>>) => secrets.map((s) => `${s.label}=${s.password.reveal().toString('utf8')}`)

describe('vault passwords, as Ansible reads them', () => {
  it('reads files (whitespace stripped) and runs executables (line breaks stripped), in Ansible order', async () => {
    const dir = await writeTree({
      'pw.txt': '  from-file \n\n',
      'prod.sh': '#!/bin/sh\nprintf " prod-pass \\n"\n',
      'env.txt': 'from-env\n',
      'keyring-client.sh': '#!/bin/sh\n[ "$1" = --vault-id ] && printf "client-%s\\n" "$2"\n',
    })
    await chmod(join(dir, 'prod.sh'), 0o755)
    await chmod(join(dir, 'keyring-client.sh'), 0o755)
    const asked: string[] = []
    const secrets = await loadVaultSecrets(
      { vaultIds: [`prod@${join(dir, 'prod.sh')}`, `dev@${join(dir, 'keyring-client.sh')}`, 'ask@prompt'], passwordFiles: [join(dir, 'pw.txt')], askVaultPass: true },
      { env: { ANSIBLE_VAULT_PASSWORD_FILE: join(dir, 'env.txt') }, prompt: async (q) => (asked.push(q), ` typed-${asked.length} `) },
    )
    expect(shown(secrets)).toEqual(['prod= prod-pass ', 'dev=client-dev', 'ask=typed-1', 'default=from-file', 'default=from-env', 'default=typed-2'])
    expect(asked).toEqual(['Vault password (ask): ', 'Vault password: '])
    expect(secrets.map((s) => s.source)).toEqual([`--vault-id ${join(dir, 'prod.sh')}`, `--vault-id ${join(dir, 'keyring-client.sh')}`, '--vault-id ask@prompt', `--vault-password-file ${join(dir, 'pw.txt')}`, `ANSIBLE_VAULT_PASSWORD_FILE ${join(dir, 'env.txt')}`, '--ask-vault-pass'])
  })

  it('takes ansible.cfg settings unless the environment overrides them, and asks nothing when nothing is set', async () => {
    const dir = await writeTree({ 'cfg.txt': 'from-cfg', 'env.txt': 'from-env', 'id.txt': 'from-list' })
    expect(shown(await loadVaultSecrets({ defaultPasswordFile: join(dir, 'cfg.txt') }, { env: {} }))).toEqual(['default=from-cfg'])
    expect(shown(await loadVaultSecrets({ defaultPasswordFile: join(dir, 'cfg.txt') }, { env: { ANSIBLE_VAULT_PASSWORD_FILE: join(dir, 'env.txt') } }))).toEqual(['default=from-env'])
    expect(shown(await loadVaultSecrets({}, { env: { ANSIBLE_VAULT_IDENTITY_LIST: `site@${join(dir, 'id.txt')}` } }))).toEqual(['site=from-list'])
    expect(await loadVaultSecrets(undefined, { env: {}, prompt: () => Promise.reject(new Error('must not ask')) })).toEqual([])
  })

  it('says clearly what is wrong with a password source, never printing a password', async () => {
    const dir = await writeTree({ 'empty.txt': ' \n', 'fails.sh': '#!/bin/sh\necho secret-output\nexit 3\n', 'nothing.sh': '#!/bin/sh\necho\n' })
    await chmod(join(dir, 'fails.sh'), 0o755)
    await chmod(join(dir, 'nothing.sh'), 0o755)
    const failure = (options: Parameters<typeof loadVaultSecrets>[0]) =>
      loadVaultSecrets(options, { env: {} }).then(
        () => 'no error',
        (e: Error) => `${e.constructor.name}: ${e.message}`,
      )
    expect(await failure({ passwordFiles: [join(dir, 'missing.txt')] })).toBe(`UsageError: --vault-password-file: cannot read vault password file ${join(dir, 'missing.txt')}: no such file`)
    expect(await failure({ passwordFiles: [join(dir, 'empty.txt')] })).toBe(`UsageError: --vault-password-file: the vault password file ${join(dir, 'empty.txt')} is empty`)
    expect(await failure({ vaultIds: [`x@${join(dir, 'fails.sh')}`] })).toBe(`UsageError: --vault-id: vault password script ${join(dir, 'fails.sh')} exited with 3`)
    expect(await failure({ vaultIds: [join(dir, 'nothing.sh')] })).toBe(`UsageError: --vault-id: vault password script ${join(dir, 'nothing.sh')} printed no password`)
    expect(await failure({ vaultIds: ['prod@'] })).toMatch(/^UsageError: --vault-id 'prod@': no password source after the '@'/)
    await expect(loadVaultSecrets({ askVaultPass: true }, { env: {}, prompt: async () => '' })).rejects.toThrow(UsageError)
  })
})
