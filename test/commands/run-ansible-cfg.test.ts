import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { generateKey, startSshd, type TestSshd } from '../helpers/sshd.js'

const run = promisify(execFile)
const cli = join(import.meta.dirname, '../../dist/cli.js')

// Done-when of issue 8: a directory with an ansible.cfg (inventory, forks, remote_user,
// private_key_file, become) runs `gpufleet run verify` with no -i against real sshd. The inventory
// names only addresses and ports; the user, the key and sudo come from ansible.cfg alone, so a
// connection that works at all proves they were used (the key is authorized for nothing else).
describe('gpufleet run verify with no -i: everything from ./ansible.cfg', () => {
  let sshd: TestSshd
  let dir: string
  let fingerprint: string
  beforeAll(async () => {
    sshd = await startSshd({ ports: 3 })
    dir = await mkdtemp(join(tmpdir(), 'gpufleet-cfgrun-'))
    await mkdir(join(dir, 'keys'))
    await mkdir(join(dir, 'home'))
    const key = await generateKey(join(dir, 'keys', 'fleet_ed25519'), 'ed25519', '', 'fleet-key-from-ansible-cfg')
    await sshd.authorize(key.publicKey)
    fingerprint = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key.file}.pub`])).stdout.split(' ')[1]!
    const hosts = sshd.ports.map((port, i) => `        p9-0${i + 1}:\n          ansible_host: 127.0.0.1\n          ansible_port: ${port}`).join('\n')
    await writeFile(join(dir, 'hosts.yaml'), `all:\n  children:\n    rack_a:\n      hosts:\n${hosts}\n`)
    // Relative paths in ansible.cfg are relative to the file, as in Ansible.
    await writeFile(join(dir, 'ansible.cfg'), `[defaults]\ninventory = hosts.yaml\nforks = 2\nremote_user = ${sshd.user}\nprivate_key_file = keys/fleet_ed25519\n\n[privilege_escalation]\nbecome = True\n`)
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('connects as remote_user with private_key_file to the hosts of inventory, forks wide, sudo from become', async () => {
    const r = await execa(process.execPath, [cli, 'run', 'verify', '--known-hosts', sshd.knownHostsFile, '--run-dir', join(dir, 'runs'), '--output', 'jsonl'], {
      cwd: dir,
      // No ANSIBLE_*, no agent, an empty HOME: nothing but ./ansible.cfg can supply user, key or inventory.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home') },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    })
    const events = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as FleetEvent)
    const started = events.find((e) => e.kind === 'run-started')
    expect(started).toMatchObject({ hosts: ['p9-01', 'p9-02', 'p9-03'], options: { inventory: join(dir, 'hosts.yaml'), forks: 2 } })
    const connected = events.filter((e) => e.kind === 'host-connected').map((e) => (e as { host: string }).host)
    expect([...connected].sort()).toEqual(['p9-01', 'p9-02', 'p9-03'])
    // Facts are gathered through sudo: `become` came from ansible.cfg too.
    expect(events.filter((e) => e.kind === 'facts-gathered')).toHaveLength(3)
    expect(events.filter((e) => e.kind === 'host-unreachable')).toEqual([])
    // sshd saw the cfg's user log in with the cfg's key, once per host.
    const accepted = sshd
      .log()
      .split('\n')
      .filter((l) => l.includes(`Accepted publickey for ${sshd.user} `) && l.includes(fingerprint))
    expect(accepted).toHaveLength(3)
    // verify checks GPUs and VFIO, which a plain sshd host lacks: exit 0 or 1, never a usage error.
    expect([0, 1]).toContain(r.exitCode)
  })
})
