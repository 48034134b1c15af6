import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { readAnsibleConfig, type AnsibleSettings } from '../../src/config/ansible-cfg.js'

// Differential test against the real `ansible-config dump` (Debian's ansible-core, installed by .ci/run):
// for the same ansible.cfg and environment, gpufleet must read the same values as Ansible.
const root = mkdtempSync(join(tmpdir(), 'gpufleet-cfgcompat-'))
const home = join(root, 'home')
mkdirSync(home)
afterAll(() => rmSync(root, { recursive: true, force: true }))

const NAMES: Record<string, keyof AnsibleSettings> = {
  DEFAULT_HOST_LIST: 'inventory',
  DEFAULT_FORKS: 'forks',
  DEFAULT_REMOTE_USER: 'remoteUser',
  DEFAULT_PRIVATE_KEY_FILE: 'privateKeyFile',
  HOST_KEY_CHECKING: 'hostKeyChecking',
  DEFAULT_BECOME: 'become',
  DEFAULT_VAULT_PASSWORD_FILE: 'vaultPasswordFile',
}

// What Ansible reads for our settings (only those changed from Ansible's defaults are dumped).
async function ansibleReads(cwd: string, env: Record<string, string>): Promise<AnsibleSettings> {
  const { stdout } = await execa('ansible-config', ['dump', '--only-changed', '--format', 'json'], { cwd, env: { HOME: home, ...env }, extendEnv: false })
  const out: Record<string, unknown> = {}
  for (const entry of JSON.parse(stdout) as Array<{ name: string; value: unknown }>) if (NAMES[entry.name]) out[NAMES[entry.name]!] = entry.value
  return out
}

const CASES: Array<[string, string, Record<string, string>]> = [
  [
    'every setting, comments of both kinds',
    '# fleet\n[defaults]\ninventory = inv/hosts.yaml, ../shared ; two sources\nforks: 17\nremote_user = "admin"\nprivate_key_file = ~/.ssh/fleet_ed25519\nhost_key_checking = False\nvault_password_file = $HOME/vault-pass\n; more\n[privilege_escalation]\nbecome = yes\n',
    {},
  ],
  ['an inline # stays in the value; continuation lines', '[defaults]\nremote_user = bob # not a comment\ninventory = a,\n  b\nforks=07\n', {}],
  ['[DEFAULT] fills in for an existing section only', '[DEFAULT]\nforks = 3\nbecome = true\n[defaults]\nhost_key_checking = maybe\n', {}],
  ['env beats the file', '[defaults]\ninventory = hosts.ini\nforks = 4\nremote_user = cfg\n', { ANSIBLE_INVENTORY: 'x.yaml,/abs/y', ANSIBLE_FORKS: '11', ANSIBLE_REMOTE_USER: 'env', ANSIBLE_BECOME: 'on', ANSIBLE_HOST_KEY_CHECKING: 'no', ANSIBLE_PRIVATE_KEY_FILE: 'keys/k' }],
]

describe('ansible.cfg and ANSIBLE_* read the way ansible-config reads them', () => {
  it.each(CASES)('%s', async (_name, cfg, env) => {
    const cwd = mkdtempSync(join(root, 'case-'))
    writeFileSync(join(cwd, 'ansible.cfg'), cfg)
    const ours = readAnsibleConfig({ env: { HOME: home, ...env }, cwd, home })
    expect(ours.file).toBe(join(cwd, 'ansible.cfg'))
    expect(ours.settings).toEqual(await ansibleReads(cwd, env))
  })

  it('ANSIBLE_CONFIG naming a directory, and ~/.ansible.cfg when there is no ./ansible.cfg', async () => {
    const cwd = mkdtempSync(join(root, 'case-'))
    writeFileSync(join(home, '.ansible.cfg'), '[defaults]\nforks = 21\n')
    expect(readAnsibleConfig({ env: { HOME: home }, cwd, home }).settings).toEqual(await ansibleReads(cwd, {}))
    const dir = mkdtempSync(join(root, 'cfgdir-'))
    writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nforks = 22\nremote_user = viaenv\n')
    const env = { ANSIBLE_CONFIG: dir }
    expect(readAnsibleConfig({ env: { HOME: home, ...env }, cwd, home }).settings).toEqual(await ansibleReads(cwd, env))
    rmSync(join(home, '.ansible.cfg'))
  })
})
