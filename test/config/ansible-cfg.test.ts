import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findAnsibleCfg, readAnsibleConfig, type ConfigEnvironment } from '../../src/config/ansible-cfg.js'
import { UsageError } from '../../src/errors.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

// A sandbox: cwd, home and an ANSIBLE_CONFIG directory, each with or without an ansible.cfg.
function sandbox(): { root: string; cwd: string; home: string; where: (env?: Record<string, string>) => ConfigEnvironment } {
  const root = mkdtempSync(join(tmpdir(), 'gpufleet-cfg-'))
  dirs.push(root)
  const cwd = join(root, 'project')
  const home = join(root, 'home')
  mkdirSync(cwd)
  mkdirSync(home)
  return { root, cwd, home, where: (env = {}) => ({ env: { HOME: home, ...env }, cwd, home }) }
}

describe('findAnsibleCfg: the order Ansible searches', () => {
  it('ANSIBLE_CONFIG (file or directory) beats ./ansible.cfg beats ~/.ansible.cfg', () => {
    const s = sandbox()
    writeFileSync(join(s.home, '.ansible.cfg'), '[defaults]\n')
    expect(findAnsibleCfg(s.where()).file).toBe(join(s.home, '.ansible.cfg'))
    writeFileSync(join(s.cwd, 'ansible.cfg'), '[defaults]\n')
    expect(findAnsibleCfg(s.where()).file).toBe(join(s.cwd, 'ansible.cfg'))
    mkdirSync(join(s.root, 'cfgdir'))
    writeFileSync(join(s.root, 'cfgdir', 'ansible.cfg'), '[defaults]\n')
    expect(findAnsibleCfg(s.where({ ANSIBLE_CONFIG: join(s.root, 'cfgdir') })).file).toBe(join(s.root, 'cfgdir', 'ansible.cfg'))
    writeFileSync(join(s.root, 'other.cfg'), '[defaults]\n')
    expect(findAnsibleCfg(s.where({ ANSIBLE_CONFIG: '../other.cfg' })).file).toBe(join(s.root, 'other.cfg'))
    // A missing ANSIBLE_CONFIG file falls through to the next candidate, as in Ansible.
    expect(findAnsibleCfg(s.where({ ANSIBLE_CONFIG: join(s.root, 'nope.cfg') })).file).toBe(join(s.cwd, 'ansible.cfg'))
  })

  it('ignores ./ansible.cfg in a world-writable directory, with a warning', () => {
    const s = sandbox()
    writeFileSync(join(s.cwd, 'ansible.cfg'), '[defaults]\nforks = 3\n')
    chmodSync(s.cwd, 0o777)
    const found = findAnsibleCfg(s.where())
    expect(found.file).toBeUndefined()
    expect(found.warnings).toEqual([expect.stringMatching(/^ignoring .*project\/ansible\.cfg: the directory .*project is world-writable/)])
    // Named by ANSIBLE_CONFIG it is used, without a warning.
    expect(findAnsibleCfg(s.where({ ANSIBLE_CONFIG: join(s.cwd, 'ansible.cfg') }))).toEqual({ file: join(s.cwd, 'ansible.cfg'), warnings: [] })
  })
})

describe('readAnsibleConfig', () => {
  it('types every setting; paths relative to the file, ~ and $VARS expanded', () => {
    const s = sandbox()
    writeFileSync(join(s.cwd, 'ansible.cfg'), '[defaults]\ninventory = inv/hosts.yaml, $HOME/more ; two sources\nforks = 07\nremote_user = "admin"\nprivate_key_file = ~/.ssh/fleet_ed25519\nhost_key_checking = False\nvault_password_file = ../vault-pass\n\n[privilege_escalation]\nbecome = yes\n')
    const config = readAnsibleConfig(s.where())
    expect(config.settings).toEqual({
      inventory: [join(s.cwd, 'inv/hosts.yaml'), join(s.home, 'more')],
      forks: 7,
      remoteUser: 'admin',
      privateKeyFile: join(s.home, '.ssh/fleet_ed25519'),
      hostKeyChecking: false,
      become: true,
      vaultPasswordFile: join(s.root, 'vault-pass'),
    })
    expect(config.origins.forks).toBe(`${join(s.cwd, 'ansible.cfg')}:3`)
  })

  it('env vars beat the file; their relative paths are relative to the current directory', () => {
    const s = sandbox()
    writeFileSync(join(s.home, '.ansible.cfg'), '[defaults]\ninventory = /etc/hosts.ini\nforks = 5\nremote_user = cfguser\n')
    const config = readAnsibleConfig(s.where({ ANSIBLE_INVENTORY: 'a.yaml,/abs/b', ANSIBLE_FORKS: '9', ANSIBLE_BECOME: 'true', ANSIBLE_HOST_KEY_CHECKING: '0', ANSIBLE_PRIVATE_KEY_FILE: 'k' }))
    expect(config.settings).toEqual({ inventory: [join(s.cwd, 'a.yaml'), '/abs/b'], forks: 9, remoteUser: 'cfguser', become: true, hostKeyChecking: false, privateKeyFile: join(s.cwd, 'k') })
    expect(config.origins).toMatchObject({ forks: 'env ANSIBLE_FORKS', remoteUser: `${join(s.home, '.ansible.cfg')}:4` })
  })

  it('no file and no env: nothing set', () => {
    const s = sandbox()
    expect(readAnsibleConfig(s.where()).settings).toEqual({})
  })

  it('bad values and bad syntax are usage errors with file:line or the env var', () => {
    const s = sandbox()
    writeFileSync(join(s.cwd, 'ansible.cfg'), '[defaults]\n\nforks = many\n')
    expect(() => readAnsibleConfig(s.where())).toThrow(new UsageError(`${join(s.cwd, 'ansible.cfg')}:3: forks: expected a whole number, got "many"`))
    expect(() => readAnsibleConfig(s.where({ ANSIBLE_CONFIG: '/nonexistent', ANSIBLE_FORKS: '1.5' }))).toThrow(/forks/)
    writeFileSync(join(s.cwd, 'ansible.cfg'), 'forks = 3\n')
    expect(() => readAnsibleConfig(s.where())).toThrow(`${join(s.cwd, 'ansible.cfg')}:1: 'forks = 3' comes before any [section] header`)
    expect(() => readAnsibleConfig({ ...s.where({ ANSIBLE_FORKS: 'x' }), cwd: s.home })).toThrow('env ANSIBLE_FORKS: expected a whole number, got "x"')
  })
})
