// Every fault a --spec can inject, seen from a plain OpenSSH client.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRack, type Rack } from '../../src/sim/rack.js'
import { ssh, waitUp } from './helpers.js'

let rack: Rack
let dir: string

const SPEC = `
hosts: 13
rebootTime: 300ms
rules:
  - { match: p9-r1-01, unreachable: refused }
  - { match: p9-r1-02, unreachable: timeout }
  - { match: p9-r1-03, wrongHostKey: true }
  - { match: p9-r1-04, authRefused: true }
  - { match: p9-r1-05, sudoPassword: s3cret }
  - { match: p9-r1-06, rebootTime: 1500ms }
  - { match: p9-r1-07, neverComesBack: true }
  - { match: p9-r1-08, dracutNoSpace: true }
  - { match: p9-r2-01, dropConnection: { onExec: 2, afterMs: 100 } }
  - { match: p9-r2-02, slowCommands: { pattern: "^dracut", delay: 1s } }
  - { match: p9-r2-03, nouveauLoaded: true, prepared: true }
  - { match: p9-r2-04, prepared: true }
  - { match: p9-r2-05, prepared: true, profile: s822lc }
`

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-faults-'))
  fs.writeFileSync(path.join(dir, 'spec.yaml'), SPEC)
  rack = await startRack({ dir: path.join(dir, 'rack'), spec: path.join(dir, 'spec.yaml') })
})
afterAll(async () => {
  await rack?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('connection faults', () => {
  it('unreachable (refused): connection refused; status says unreachable', async () => {
    const r = await ssh(rack, 'p9-r1-01', 'true')
    expect(r.code).toBe(255)
    expect(r.stderr).toMatch(/Connection refused/)
    expect((await rack.status('p9-r1-01')).state).toBe('unreachable')
  })

  it('unreachable (timeout): TCP accepted, no SSH banner ever', async () => {
    const t0 = Date.now()
    const r = await ssh(rack, 'p9-r1-02', 'true', { extra: ['-o', 'ConnectTimeout=1'] })
    expect(r.code).toBe(255)
    expect(r.stderr).toMatch(/timed out/i)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
  })

  it('wrong host key: known_hosts holds another key', async () => {
    const r = await ssh(rack, 'p9-r1-03', 'true')
    expect(r.code).toBe(255)
    // OpenSSH's own words: the changed-key banner, then the refusal.
    expect(r.stderr).toContain('WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!')
    expect(r.stderr).toContain('Host key verification failed.')
  })

  it('auth refused: publickey only, and rejected', async () => {
    const r = await ssh(rack, 'p9-r1-04', 'true')
    expect(r.code).toBe(255)
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/)
  })

  it('drops the connection mid-command on the Nth exec (the command itself still runs)', async () => {
    expect((await ssh(rack, 'p9-r2-01', 'echo one')).stdout).toBe('one\n')
    const r = await ssh(rack, 'p9-r2-01', 'sleep 1; echo two > /root/ran; echo two')
    expect(r.code).toBe(255)
    expect(r.stdout).toBe('')
    await new Promise((res) => setTimeout(res, 1200))
    expect((await ssh(rack, 'p9-r2-01', 'cat /root/ran')).stdout).toBe('two\n')
  })

  it('slow commands: matching commands start late', async () => {
    const t0 = Date.now()
    await ssh(rack, 'p9-r2-02', 'dracut --help >/dev/null')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    const t1 = Date.now()
    await ssh(rack, 'p9-r2-02', 'true')
    expect(Date.now() - t1).toBeLessThan(1000)
  })
})

describe('sudo needs a password', () => {
  it('sudo -n fails like sudo; sudo -S takes the configured password', async () => {
    const n = await ssh(rack, 'p9-r1-05', 'sudo -n true', { user: 'admin' })
    expect(n.code).toBe(1)
    expect(n.stderr).toBe('sudo: a password is required\n')
    const bad = await ssh(rack, 'p9-r1-05', "sudo -S -p '' id -u", { user: 'admin', input: 'wrong\n' })
    expect(bad.code).toBe(1)
    const s = await ssh(rack, 'p9-r1-05', "sudo -S -p '' id -u", { user: 'admin', input: 's3cret\n' })
    expect(s).toMatchObject({ code: 0, stdout: '0\n' })
    // other hosts: NOPASSWD
    expect((await ssh(rack, 'p9-r1-06', 'sudo -n id -u', { user: 'admin' })).stdout).toBe('0\n')
  })
})

describe('reboot faults', () => {
  it('slow reboot: down for its own reboot time', async () => {
    await ssh(rack, 'p9-r1-06', 'reboot')
    await waitUp(rack, 'p9-r1-06')
    const ev = rack.events().filter((e) => e.host === 'p9-r1-06' && (e.kind === 'down' || e.kind === 'up'))
    expect(ev.at(-1)!.t - ev.at(-2)!.t).toBeGreaterThanOrEqual(1500)
  })

  it('never comes back', async () => {
    await ssh(rack, 'p9-r1-07', 'reboot')
    await new Promise((r) => setTimeout(r, 1000))
    expect((await rack.status('p9-r1-07')).state).toBe('down')
    expect((await ssh(rack, 'p9-r1-07', 'true', { timeoutMs: 3000 })).stderr).toMatch(/Connection refused/)
    await rack.repair('p9-r1-07')
    await waitUp(rack, 'p9-r1-07')
  })

  it('dracut fails with "No space left on device" and leaves a truncated image that bricks the host', async () => {
    const r = await ssh(rack, 'p9-r1-08', 'dracut -f; echo rc=$?; lsinitrd >/dev/null; echo lsinitrd=$?')
    expect(r.stdout).toBe('rc=1\nlsinitrd=1\n')
    expect(r.stderr).toContain("cp: error writing '/boot/initramfs-4.18.0-305.el8.ppc64le.img': No space left on device")
    await ssh(rack, 'p9-r1-08', 'reboot')
    await new Promise((res) => setTimeout(res, 800))
    expect((await rack.status('p9-r1-08')).state).toBe('bricked')
    await rack.repair('p9-r1-08')
    await waitUp(rack, 'p9-r1-08')
  })
})

describe('host state faults', () => {
  it('already prepared: arg live, nouveau blacklisted in modprobe.d and the initramfs', async () => {
    const r = await ssh(rack, 'p9-r2-04', 'grep -c disable_idle_d3 /proc/cmdline /etc/default/grub; lsmod | grep -c ^nouveau; lsinitrd | grep -c nouveau.ko; ppc64_cpu --smt')
    expect(r.stdout).toBe('/proc/cmdline:1\n/etc/default/grub:1\n0\n0\nSMT=4\n')
  })

  it('already prepared POWER8: SMT kept off by an enabled unit', async () => {
    const r = await ssh(rack, 'p9-r2-05', 'ppc64_cpu --smt; systemctl is-enabled smt-off.service; lsmod | grep -c ^nouveau')
    expect(r.stdout).toBe('SMT is off\nenabled\n0\n')
  })

  it('nouveau already loaded (on a prepared host): gone after the reboot', async () => {
    expect((await ssh(rack, 'p9-r2-03', 'lsmod | grep -c ^nouveau')).stdout).toBe('1\n')
    await ssh(rack, 'p9-r2-03', 'reboot')
    await waitUp(rack, 'p9-r2-03')
    expect((await ssh(rack, 'p9-r2-03', 'lsmod | grep -c ^nouveau')).stdout).toBe('0\n')
  })
})
