import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { factsCommand, formatFactsTable } from '../../src/commands/facts.js'
import { UsageError } from '../../src/errors.js'
import { EXIT } from '../../src/exit-codes.js'
import { generateKey, PW_USER, PW_USER_PASSWORD, startSshd, type TestSshd } from '../helpers/sshd.js'

const ENDPOINTS = 20

describe('gpufleet facts against real sshd endpoints', () => {
  let sshd: TestSshd
  let dir: string
  let inventory: string
  let knownHosts: string
  let changedPort: number
  beforeAll(async () => {
    sshd = await startSshd({ ports: ENDPOINTS })
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-facts-'))
    inventory = join(dir, 'hosts.yaml')
    const hosts = sshd.ports.map((port, i) => `        node-${String(i + 1).padStart(2, '0')}:\n          ansible_port: ${port}`).join('\n')
    await writeFile(inventory, `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: ${sshd.user}\n    ansible_ssh_private_key_file: ${sshd.clientKeyFile}\n    ansible_become: true\n  children:\n    rack_a:\n      hosts:\n${hosts}\n`)
    // One endpoint's known_hosts line holds another key: that host must be refused.
    changedPort = sshd.ports[6]!
    const other = await generateKey(join(dir, 'imposter'), 'ed25519')
    knownHosts = join(dir, 'known_hosts')
    const text = (await readFile(sshd.knownHostsFile, 'utf8')).replace(`[127.0.0.1]:${changedPort} ${sshd.hostKeyPublic}`, `[127.0.0.1]:${changedPort} ${other.publicKey.split(' ').slice(0, 2).join(' ')}`)
    await writeFile(knownHosts, text)
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('gathers with one connection and one exec per host; the changed-key host is refused and reported', async () => {
    const warnings: string[] = []
    const { text, exitCode, results } = await factsCommand({ inventory, knownHosts, forks: 8 }, { connectorOptions: { agentSocket: null }, warn: (w) => warnings.push(w) })
    expect(exitCode).toBe(EXIT.hostsFailed)
    expect(results).toHaveLength(ENDPOINTS)
    const failed = results.filter((r) => !r.ok)
    expect(failed).toEqual([expect.objectContaining({ host: 'node-07', ok: false, reason: 'hostkey-changed' })])
    expect(failed[0]!.ok === false && failed[0]!.message).toMatch(/host key for \[127\.0\.0\.1\]:\d+ has CHANGED .* Possible man-in-the-middle attack/)

    const { connections, execs } = sshd.counts()
    for (const port of sshd.ports) {
      // The refused host gets its one TCP connection (the handshake) and no exec.
      expect(connections.get(port), `connections on ${port}`).toBe(1)
      expect(execs.get(port) ?? 0, `execs on ${port}`).toBe(port === changedPort ? 0 : 1)
    }

    const ok = results.find((r) => r.ok)!
    if (!ok.ok) throw new Error('unreachable')
    expect(ok.facts.bootId).toBe((await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim())
    expect(ok.facts.kernelRelease).toMatch(/\S/)
    expect(ok.facts.cpuInfo.threads).toBeGreaterThan(0)
    expect(ok.facts.kernelCmdline.raw).toBe((await readFile('/proc/cmdline', 'utf8')).trim())
    expect(text).toMatch(/^HOST +HOSTNAME +KERNEL +CPU/)
    expect(text).toContain('19 of 20 hosts answered; 1 failed:')
    expect(text).toMatch(/node-07 {2}hostkey-changed: \[node-07\] host key/)
    expect(text.split('\n').filter((l) => l.startsWith('node-')).length).toBe(19)
  })

  it('prints JSON with every fact and the failure reason, and honours --limit', async () => {
    const { text, exitCode } = await factsCommand({ inventory, knownHosts, json: true, limit: 'node-01:node-02:node-03:node-07' }, { connectorOptions: { agentSocket: null } })
    const parsed = JSON.parse(text) as { hosts: Record<string, { ok: boolean; reason?: string; facts?: { kernelModules: object } }> }
    expect(Object.keys(parsed.hosts)).toEqual(['node-01', 'node-02', 'node-03', 'node-07'])
    expect(parsed.hosts['node-07']).toMatchObject({ ok: false, reason: 'hostkey-changed' })
    expect(parsed.hosts['node-01']!.facts!.kernelModules).toBeTypeOf('object')
    expect(exitCode).toBe(EXIT.hostsFailed)
    const good = await factsCommand({ inventory, knownHosts, limit: 'node-01' }, { connectorOptions: { agentSocket: null } })
    expect(good.exitCode).toBe(EXIT.ok)
  })

  it('--ask-become-pass: asks once, gathers as root through sudo -S, never shows the password', async () => {
    const pwInventory = join(dir, 'pw.yaml')
    await writeFile(
      pwInventory,
      `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: ${PW_USER}\n    ansible_ssh_private_key_file: ${sshd.clientKeyFile}\n    ansible_become: true\n  hosts:\n    pw-1:\n      ansible_port: ${sshd.ports[0]}\n    pw-2:\n      ansible_port: ${sshd.ports[1]}\n`,
    )
    let asked = 0
    const { text, exitCode } = await factsCommand({ inventory: pwInventory, knownHosts: sshd.knownHostsFile, json: true, askBecomePass: true }, { connectorOptions: { agentSocket: null }, promptBecomePassword: async () => (asked++, PW_USER_PASSWORD) })
    expect(asked).toBe(1)
    expect(exitCode).toBe(EXIT.ok)
    expect(text).not.toContain(PW_USER_PASSWORD)
    // Without the password, sudo refuses and the host is reported with the reason.
    const refused = await factsCommand({ inventory: pwInventory, knownHosts: sshd.knownHostsFile, limit: 'pw-1' }, { connectorOptions: { agentSocket: null } })
    expect(refused.exitCode).toBe(EXIT.hostsFailed)
    expect(refused.text).toMatch(/pw-1 {2}command: .*needs a password to become root/)
  })

  it('warns about a malformed gpufleet_* var (facts uses none) instead of refusing the inventory', async () => {
    const file = join(dir, 'bad-vars.yaml')
    await writeFile(
      file,
      `all:\n  vars:\n    vms: [{name: train-1, gpus: 2}]\n  hosts:\n    node-01:\n      ansible_host: 127.0.0.1\n      ansible_port: ${sshd.ports[0]}\n      ansible_user: ${sshd.user}\n      ansible_ssh_private_key_file: ${sshd.clientKeyFile}\n      gpufleet_vms: {domain: vm1}\n`,
    )
    const warnings: string[] = []
    const r = await factsCommand({ inventory: file, knownHosts: sshd.knownHostsFile }, { warn: (t) => void warnings.push(t), connectorOptions: { agentSocket: null } })
    expect(r.results.map((x) => [x.host, x.ok])).toEqual([['node-01', true]])
    expect(warnings.filter((w) => w.includes('gpufleet_vms'))).toEqual([`warning: ${file}:10: host 'node-01': gpufleet_vms: gpufleet_vms must be a list of {domain, count} or {domain, addresses} (ignored here; run, plan and resume refuse it)\n`])
  })

  it('rejects bad flags as usage errors before connecting', async () => {
    await expect(factsCommand({ inventory, forks: '0' })).rejects.toBeInstanceOf(UsageError)
    await expect(factsCommand({ inventory, forks: 'many' })).rejects.toBeInstanceOf(UsageError)
  })

  it('reports unreachable hosts with their reason', () => {
    const text = formatFactsTable([{ host: 'p9-01', ok: false, durationMs: 3, reason: 'unreachable', message: '[p9-01] connection refused by 10.0.0.1:22' }])
    expect(text).toBe('\n0 of 1 hosts answered; 1 failed:\n  p9-01  unreachable: [p9-01] connection refused by 10.0.0.1:22\n')
  })
})
