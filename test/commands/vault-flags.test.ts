import { resolve } from 'node:path'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addVaultOptions, vaultOptionsFromFlags, type VaultFlags } from '../../src/commands/vault-flags.js'

describe('vault flags', () => {
  it('are repeatable, made absolute, and joined with ansible.cfg settings', () => {
    const command = addVaultOptions(new Command('x').exitOverride())
    command.parse(['--vault-password-file', 'pw.txt', '--vault-id', 'prod@vault/prod.sh', '--vault-id', 'dev@prompt', '--vault-id', '~/.v', '-J'], { from: 'user' })
    const flags = command.opts<VaultFlags>()
    expect(vaultOptionsFromFlags(flags, { vaultPasswordFile: '/etc/ansible/vault.txt', vaultIdentityList: ['site@/etc/site.txt'] })).toEqual({
      passwordFiles: [resolve('pw.txt')],
      vaultIds: [`prod@${resolve('vault/prod.sh')}`, 'dev@prompt', '~/.v'],
      askVaultPass: true,
      defaultPasswordFile: '/etc/ansible/vault.txt',
      defaultIdentityList: ['site@/etc/site.txt'],
    })
    expect(vaultOptionsFromFlags({})).toBeUndefined()
  })
})
