import { execa } from 'execa'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { utils } from 'ssh2'
import { describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { racksPerTest, runQuiet } from '../runner/rack-helpers.js'
import { brokenImages, changedPaths, downsOf, execsOf, powerCycleAndWait, snapshot } from './host-state.js'

// Fault matrix (docs/reliability.md), per-host faults: each row checks the hosts' own state as the
// simulator holds it (files, boot count, reboots, execs), not only what gpufleet reports.

const CLI = join(process.cwd(), 'dist', 'cli.js')
const rack = racksPerTest()

type SimInventory = { all: { vars: Record<string, unknown>; children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } }
function editInventory(file: string, out: string, edit: (hosts: Record<string, Record<string, unknown>>, inv: SimInventory) => void): string {
  const inv = YAML.parse(readFileSync(file, 'utf8')) as SimInventory
  edit(Object.assign({}, ...Object.values(inv.all.children).map((g) => g.hosts)), inv)
  writeFileSync(out, YAML.stringify(inv, { version: '1.1' }))
  return out
}

describe('fault matrix: hosts that cannot be reached or used', () => {
  it('unreachable, auth refused, sudo needing a password: each fails with its reason and is untouched; the others finish; exit 1', async () => {
    const f = await rack('hostsPerRack: 4\nprofile: pcie\nrules:\n  - { match: "*-01", unreachable: refused }\n  - { match: "*-02", authRefused: true }\n  - { match: "*-03", sudoPassword: not-given-1 }\n', { hosts: 4 })
    const [unreach, auth, sudo, ok] = f.rack.hosts.map((h) => h.name) as [string, string, string, string]
    const inventory = editInventory(f.rack.inventoryFile, join(f.dir, 'inv.yaml'), (hosts) => Object.assign(hosts[sudo]!, { ansible_user: 'admin', ansible_become: true }))
    const before = new Map([unreach, auth, sudo].map((h) => [h, snapshot(f.rack, h)]))
    const r = await runQuiet(f.spec({ inventory }))
    expect(r.exitCode).toBe(1)
    expect(r.outcomes[ok]).toBe('changed')
    expect(r.summary.hosts[unreach]!.message).toMatch(/refused|unreachable/i)
    expect(r.summary.hosts[auth]!.message).toMatch(/auth|publickey|permission denied/i)
    expect(r.summary.hosts[sudo]!.message).toMatch(/sudo.*password|password.*sudo|--ask-become-pass/i)
    for (const h of [unreach, auth, sudo]) {
      expect(['failed', 'unreachable']).toContain(r.outcomes[h])
      expect(changedPaths(before.get(h)!, snapshot(f.rack, h)), h).toEqual([])
      expect(downsOf(f.rack, h), h).toBe(0)
      expect((await f.rack.status(h)).bootCount, h).toBeLessThanOrEqual(1)
    }
    expect(execsOf(f.rack, unreach)).toEqual([])
    expect(execsOf(f.rack, auth)).toEqual([])
    expect(downsOf(f.rack, ok)).toBe(1)
    expect((await f.rack.status(ok)).cmdline).toContain('vfio-pci.disable_idle_d3=1')
  }, 240_000)
})

describe('fault matrix: host keys', () => {
  it('a changed key (same type), a key of another type, a key @revoked in the global file: refused before any command, naming key and file', async () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true)
    const f = await rack('hostsPerRack: 4\nprofile: pcie\nrules:\n  - { match: "*-01", wrongHostKey: true }\n', { hosts: 4 })
    const [same, other, revoked, ok] = f.rack.hosts
    // Host 2: known_hosts holds an ecdsa key for it, the host offers only ed25519 (OpenSSH: changed).
    const ecdsa = utils.generateKeyPairSync('ecdsa', { bits: 256 }).public.split(' ').slice(0, 2).join(' ')
    const lines = readFileSync(f.rack.knownHostsFile, 'utf8').split('\n')
    const knownHosts = join(f.dir, 'known_hosts')
    writeFileSync(knownHosts, lines.map((l) => (l.startsWith(`[${other!.address}]:${other!.port} `) ? `[${other!.address}]:${other!.port} ${ecdsa}` : l)).join('\n'))
    // Host 3: its real key, pinned in the user file, is @revoked in the global known_hosts file.
    const revokedLine = lines.find((l) => l.startsWith(`[${revoked!.address}]:${revoked!.port} `))!
    const home = join(f.dir, 'home')
    mkdirSync(join(home, '.ssh'), { recursive: true })
    const global = join(f.dir, 'ssh_known_hosts')
    writeFileSync(global, `@revoked * ${revokedLine.split(' ').slice(1).join(' ')}\n`)
    writeFileSync(join(home, '.ssh', 'config'), `Host *\n  GlobalKnownHostsFile ${global}\n`)
    const res = await execa('node', [CLI, 'run', 'prep', '-i', f.rack.inventoryFile, '--known-hosts', knownHosts, '--accept-new-host-keys', '--reboot-stability', '0.2s', '--run-dir', join(f.dir, 'runs'), '--output', 'plain'], { reject: false, env: { HOME: home } })
    expect(res.exitCode, res.stderr).toBe(1)
    const out = res.stdout + res.stderr
    expect(out).toMatch(new RegExp(`${same!.name}.*(HOST IDENTIFICATION HAS CHANGED|changed)[^\\n]*${knownHosts.replace(/[/.]/g, '\\$&')}`, 'i'))
    expect(out).toMatch(new RegExp(`${other!.name}.*(HOST IDENTIFICATION HAS CHANGED|changed)[^\\n]*${knownHosts.replace(/[/.]/g, '\\$&')}`, 'i'))
    expect(out).toMatch(new RegExp(`${revoked!.name}.*REVOKED in ${global.replace(/[/.]/g, '\\$&')}:1`))
    expect(out).toMatch(/SHA256:/) // the key, by fingerprint
    for (const h of [same!, other!, revoked!]) expect(execsOf(f.rack, h.name), h.name).toEqual([])
    for (const h of [same!, other!, revoked!]) expect(downsOf(f.rack, h.name), h.name).toBe(0)
    expect(downsOf(f.rack, ok!.name)).toBe(1)
    // nothing recorded for the refused hosts, even with --accept-new-host-keys
    expect(
      readFileSync(knownHosts, 'utf8')
        .split('\n')
        .filter((l) => l.includes(`[${other!.address}]:${other!.port}`)),
    ).toHaveLength(1)
  }, 240_000)
})

describe('fault matrix: dracut fails', () => {
  it('"No space left on device" leaving a truncated image: the backup is restored and verified, no reboot, the host still boots', async () => {
    const f = await rack('hostsPerRack: 2\nprofile: ac922\nrules:\n  - { match: "*-01", dracutNoSpace: true }\n', { hosts: 2 })
    const [bad, ok] = f.rack.hosts.map((h) => h.name) as [string, string]
    const images = (m: Map<string, string>) => new Map([...m].filter(([p]) => /^\/boot\/initramfs-.*\.img$/.test(p)))
    const before = images(snapshot(f.rack, bad, ['/boot']))
    const r = await runQuiet(f.spec())
    expect(r.exitCode).toBe(1)
    expect(r.outcomes[bad]).toBe('failed')
    expect(r.outcomes[ok]).toBe('changed')
    const task = r.summary.hosts[bad]!.tasks.find((t) => t.task === 'initramfs.rebuild')!
    expect(task.status).toBe('failed')
    expect(r.output).toMatch(/No space left on device/)
    expect(r.output).toMatch(/restored .*initramfs-.*\.img \(sha256 [0-9a-f]{64}\)/)
    // The host's own state: every image byte-identical to before, none truncated, never rebooted.
    expect(images(snapshot(f.rack, bad, ['/boot']))).toEqual(before)
    expect(brokenImages(f.rack, bad)).toEqual([])
    expect(downsOf(f.rack, bad)).toBe(0)
    // ...and it still boots (a power cycle from outside, as after a power cut).
    const s = await powerCycleAndWait(f.rack, bad)
    expect(s.bricked).toBeUndefined()
    expect(s.state).toBe('up')
    expect(s.bootCount).toBe(2)
  }, 240_000)
})

describe('fault matrix: two controllers on the same hosts', () => {
  it('started together: exactly one proceeds per host, each host rebooted once', async () => {
    const f = await rack('hostsPerRack: 3\nprofile: pcie\n', { hosts: 3, rebootTimeMs: 1500 })
    const [a, b] = await Promise.all([runQuiet(f.spec({ runsDir: join(f.dir, 'runs-a') })), runQuiet(f.spec({ runsDir: join(f.dir, 'runs-b') }))])
    for (const h of f.rack.hosts) {
      const outcomes = [a.outcomes[h.name], b.outcomes[h.name]]
      expect(
        outcomes.filter((o) => o === 'changed'),
        `${h.name}: ${outcomes}`,
      ).toHaveLength(1)
      const loser = a.outcomes[h.name] === 'changed' ? b : a
      // the other one either found it locked, or (had it come after) found nothing to do
      if (loser.outcomes[h.name] === 'failed') expect(loser.summary.hosts[h.name]!.message).toMatch(/locked by run/)
      else expect(loser.outcomes[h.name]).toBe('ok')
      expect(downsOf(f.rack, h.name)).toBe(1)
      expect((await f.rack.status(h.name)).bootCount).toBe(2)
    }
  }, 240_000)
})
