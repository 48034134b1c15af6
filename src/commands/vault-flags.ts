import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { VaultOptions } from '../inventory/vault-secrets.js'

// Ansible's vault flags, shared by every command that reads an inventory.
export interface VaultFlags {
  vaultPasswordFile?: string[]
  vaultId?: string[]
  askVaultPass?: boolean
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

// Adds --vault-password-file, --vault-id and --ask-vault-pass to `command`.
export function addVaultOptions(command: Command): Command {
  return command
    .option('--vault-password-file <file>', 'Ansible Vault password file; an executable is run and its output used (repeatable; also ANSIBLE_VAULT_PASSWORD_FILE)', collect)
    .option('--vault-id <label@source>', "vault password for one vault id: a file, an executable or 'prompt' (repeatable), e.g. prod@~/.vault-prod", collect)
    .option('-J, --ask-vault-pass', 'ask once for the Ansible Vault password (never shown or logged)')
}

// ansible.cfg's vault settings ([defaults] vault_password_file, vault_identity_list), with
// relative paths already resolved against the cfg file's directory, as Ansible does.
export interface VaultConfig {
  vaultPasswordFile?: string
  vaultIdentityList?: string[]
}

// The loader's VaultOptions from the flags (and ansible.cfg): paths made absolute, so a saved run
// resumes from anywhere. The environment (ANSIBLE_VAULT_PASSWORD_FILE, ...) is read by the loader.
export function vaultOptionsFromFlags(flags: VaultFlags, config: VaultConfig = {}): VaultOptions | undefined {
  const absolute = (slug: string) => {
    const at = slug.indexOf('@')
    const source = at < 0 ? slug : slug.slice(at + 1)
    const path = source === 'prompt' || source.startsWith('~') ? source : resolve(source)
    return at < 0 ? path : `${slug.slice(0, at)}@${path}`
  }
  const options: VaultOptions = {
    ...(flags.vaultId?.length ? { vaultIds: flags.vaultId.map(absolute) } : {}),
    ...(flags.vaultPasswordFile?.length ? { passwordFiles: flags.vaultPasswordFile.map((f) => (f.startsWith('~') ? f : resolve(f))) } : {}),
    ...(flags.askVaultPass ? { askVaultPass: true } : {}),
    ...(config.vaultPasswordFile ? { defaultPasswordFile: resolve(config.vaultPasswordFile) } : {}),
    ...(config.vaultIdentityList?.length ? { defaultIdentityList: config.vaultIdentityList } : {}),
  }
  return Object.keys(options).length > 0 ? options : undefined
}
