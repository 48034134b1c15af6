import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { formatHostList, hostSettings, inventorySource, NO_ANSIBLE_CONFIG } from '../../src/commands/ansible-options.js'
import { withAnsibleHint } from '../../src/commands/ansible-hints.js'
import type { AnsibleConfig } from '../../src/config/ansible-cfg.js'
import { UsageError } from '../../src/errors.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

const config = (settings: AnsibleConfig['settings'], origin = '/p/ansible.cfg:2'): AnsibleConfig => ({
  settings,
  origins: Object.fromEntries(Object.keys(settings).map((k) => [k, origin])),
  warnings: [],
})

describe('flags beat ANSIBLE_* and ansible.cfg (already merged into one AnsibleConfig)', () => {
  const fromCfg = config({ inventory: ['/inv/hosts.yaml'], forks: 7, remoteUser: 'cfguser', privateKeyFile: '/keys/cfg', become: true, hostKeyChecking: false })

  it('takes every setting from the config when no flag is given', () => {
    expect(hostSettings({}, fromCfg, () => undefined)).toEqual({
      inventory: '/inv/hosts.yaml',
      forks: 7,
      connection: { user: 'cfguser', privateKeyFile: '/keys/cfg', become: true, hostKeyChecking: false },
      extraVars: [],
    })
  })

  it('flags win', () => {
    const s = hostSettings({ inventory: 'mine.yaml', forks: '3', user: 'flaguser', privateKey: 'k', become: true, extraVars: ['a=1', '@v.yaml'] }, fromCfg, () => undefined)
    expect(s).toEqual({
      inventory: resolve('mine.yaml'),
      forks: 3,
      connection: { user: 'flaguser', privateKeyFile: resolve('k'), become: true, hostKeyChecking: false },
      extraVars: ['a=1', `@${resolve('v.yaml')}`],
    })
  })

  it('defaults: 50 forks, nothing else', () => {
    expect(hostSettings({ inventory: 'p9-01,p9-02,' }, NO_ANSIBLE_CONFIG, () => undefined)).toEqual({ inventory: 'p9-01,p9-02,', forks: 50, connection: {}, extraVars: [] })
  })

  it('bad forks are usage errors naming their source', () => {
    expect(() => hostSettings({ inventory: 'x', forks: '0' }, NO_ANSIBLE_CONFIG, () => undefined)).toThrow(/--forks/)
    expect(() => hostSettings({ inventory: 'x' }, config({ forks: 0 }), () => undefined)).toThrow(new UsageError('/p/ansible.cfg:2: forks must be at least 1, got 0'))
  })
})

describe('inventorySource', () => {
  it('needs -i, ANSIBLE_INVENTORY or ansible.cfg', () => {
    expect(() => inventorySource(undefined, NO_ANSIBLE_CONFIG, () => undefined)).toThrow(UsageError)
    expect(() => inventorySource(undefined, NO_ANSIBLE_CONFIG, () => undefined)).toThrow(/no inventory: pass -i <file>, or set ANSIBLE_INVENTORY, or inventory = <file>/)
  })

  it('of several sources, skips missing ones with a warning and refuses two real ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpufleet-invsrc-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'a.yaml'), 'all: {}\n')
    writeFileSync(join(dir, 'b.yaml'), 'all: {}\n')
    const warnings: string[] = []
    expect(inventorySource(undefined, config({ inventory: [join(dir, 'a.yaml'), '/etc/ansible/nope'] }), (t) => warnings.push(t))).toBe(join(dir, 'a.yaml'))
    expect(warnings).toEqual(['warning: /p/ansible.cfg:2: skipping inventory source that does not exist: /etc/ansible/nope\n'])
    expect(() => inventorySource(undefined, config({ inventory: [join(dir, 'a.yaml'), join(dir, 'b.yaml')] }), () => undefined)).toThrow(/gpufleet reads one inventory source, this names 2/)
    expect(() => inventorySource(undefined, config({ inventory: ['/nope/1', '/nope/2'] }), () => undefined)).toThrow(/none of the inventory sources exist/)
    // One source is used as given, so a missing file is reported by the inventory loader with its name.
    expect(inventorySource(undefined, config({ inventory: ['/nope/1'] }), () => undefined)).toBe('/nope/1')
  })
})

describe('--list-hosts and Ansible flag hints', () => {
  it('prints hosts the way ansible --list-hosts does', () => {
    expect(formatHostList(['p9-01', 'p9-02'])).toBe('  hosts (2):\n    p9-01\n    p9-02\n')
  })

  it('explains ansible-playbook flags gpufleet spells differently or does not need', () => {
    expect(withAnsibleHint("error: unknown option '--key-file'\n")).toBe("error: unknown option '--key-file'\nhint: --key-file is an ansible-playbook option: gpufleet calls it --private-key\n")
    expect(withAnsibleHint("error: unknown option '--tags=a'\n")).toMatch(/hint: --tags is an ansible-playbook option: gpufleet playbooks have no tags/)
    expect(withAnsibleHint("error: unknown option '--nope'\n")).toBe("error: unknown option '--nope'\n")
  })
})
