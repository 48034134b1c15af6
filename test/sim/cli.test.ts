// `gpufleet sim up|status|repair|kernel-install|down` through the built CLI (dist/cli.js; `npm test` builds first).
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const exec = promisify(execFile)
const cli = path.resolve(import.meta.dirname, '../../dist/cli.js')
const built = fs.existsSync(cli) && fs.existsSync(path.resolve(import.meta.dirname, '../../dist/sim/daemon.js'))

const gpufleet = (...args: string[]) => exec(process.execPath, [cli, ...args], { timeout: 120_000 })

describe('gpufleet sim (CLI)', () => {
  it('runs against the built CLI (npm test builds it first)', () => {
    expect(built, `${cli} and dist/sim/daemon.js must exist: run npm run build`).toBe(true)
  })

  it('up in the background, status, reboot + status, down leaves nothing running', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-cli-'))
    const up = await gpufleet('sim', 'up', '--hosts', '2', '--dir', dir, '--reboot-time', '300ms', '--dracut-time', '0s')
    expect(up.stdout).toMatch(/^Simulated rack up: 2 hosts \(ac922\) in [\d.]+ s, daemon pid \d+\n/)
    expect(up.stdout).toContain(`ssh -i `)
    const pid = Number(fs.readFileSync(path.join(dir, 'sim.pid'), 'utf8'))
    try {
      const again = await gpufleet('sim', 'up', '--hosts', '2', '--dir', dir).catch((e: { code: number; stderr: string }) => e)
      expect(again).toMatchObject({ code: 2 })
      expect((again as { stderr: string }).stderr).toMatch(/already running/)

      const inv = fs.readFileSync(path.join(dir, 'inventory.yaml'), 'utf8')
      expect(inv).toMatch(/p9-r1-02:\n {10}ansible_host: 127\.9\.1\.2\n {10}ansible_port: \d+\n {10}ansible_user: root\n {10}gpufleet_rack: r1\n/)
      // PCI addresses are quoted, so Ansible's YAML 1.1 loader reads them as text, not base-60 numbers
      expect(inv).toContain(`- "0004:04:00.0"`)
      expect(inv).not.toMatch(/- 0004:04:00\.0/)
      expect(fs.statSync(path.join(dir, 'id_ed25519')).mode & 0o777).toBe(0o600)
      const known = fs.readFileSync(path.join(dir, 'known_hosts'), 'utf8').trim().split('\n')
      expect(known).toHaveLength(2)
      expect(known[0]).toMatch(/^\[127\.9\.1\.1\]:\d+ ssh-ed25519 AAAA\S+$/)

      const st = JSON.parse((await gpufleet('sim', 'status', '--dir', dir, '--json')).stdout)
      expect(st.hosts.map((h: { name: string; state: string; smt: string }) => [h.name, h.state, h.smt])).toEqual([
        ['p9-r1-01', 'up', 'SMT=4'],
        ['p9-r1-02', 'up', 'SMT=4'],
      ])
      expect(st.hosts[0].gpuDrivers['0004:04:00.0']).toBe('nouveau')
      // The daemon's own RSS as the kernel reports it; the figure adds the (small) namespace keeper's.
      const daemonRss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024
      expect(daemonRss).toBeGreaterThan(20 * 2 ** 20) // a node process with a rack in it
      expect(st.memory.simulatorRss).toBeGreaterThanOrEqual(0.8 * daemonRss)
      expect(st.memory.simulatorRss).toBeLessThanOrEqual(1.2 * daemonRss + 32 * 2 ** 20)

      const port = known[0]!.match(/\]:(\d+)/)![1]!
      const sshArgs = ['-i', path.join(dir, 'id_ed25519'), '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'BatchMode=yes', '-p', port, 'root@127.9.1.1']
      await exec('ssh', [...sshArgs, 'rm /boot/initramfs-4.18.0-305.el8.ppc64le.img; reboot']).catch(() => undefined)
      // No fixed sleep: ask the simulator until it says how the boot ended (bricked, or up again).
      for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 50))) {
        const h = JSON.parse((await gpufleet('sim', 'status', '--dir', dir, '--json')).stdout).hosts[0] as { state: string; bootCount: number }
        if (h.state === 'bricked' || (h.state === 'up' && h.bootCount > 1) || Date.now() > deadline) break
      }
      const table = (await gpufleet('sim', 'status', '--dir', dir)).stdout
      expect(table).toMatch(/^HOST +ADDRESS +STATE +BOOTS/)
      expect(table).toMatch(/p9-r1-01 +127\.9\.1\.1:\d+ +bricked +1 /)
      expect(table).toMatch(/simulator memory: \d+ MiB RSS/)
      expect((await gpufleet('sim', 'repair', 'p9-r1-01', '--dir', dir)).stdout).toBe('p9-r1-01 repaired and booted\n')
      const after = JSON.parse((await gpufleet('sim', 'status', '--dir', dir, '--json')).stdout)
      expect(after.hosts[0]).toMatchObject({ state: 'up', bootCount: 2 })

      // A kernel update as dnf would do it: a new BLS entry and initramfs, booted at the next reboot.
      expect((await gpufleet('sim', 'kernel-install', 'p9-r1-02', '--dir', dir)).stdout).toBe('p9-r1-02: kernel 4.18.0-348.el8.ppc64le installed; it boots at the next reboot\n')
      const sshArgs2 = sshArgs.map((a) => (a === port ? known[1]!.match(/\]:(\d+)/)![1]! : a === 'root@127.9.1.1' ? 'root@127.9.1.2' : a))
      const entries = (await exec('ssh', [...sshArgs2, 'ls /boot/loader/entries; grubby --default-kernel; ls /boot/initramfs-4.18.0-348.el8.ppc64le.img'])).stdout
      expect(entries).toMatch(/-4\.18\.0-348\.el8\.ppc64le\.conf\n/)
      expect(entries).toContain('/boot/vmlinuz-4.18.0-348.el8.ppc64le\n/boot/initramfs-4.18.0-348.el8.ppc64le.img\n')
      const twice = await gpufleet('sim', 'kernel-install', 'p9-r1-02', '4.18.0-348.el8.ppc64le', '--dir', dir).catch((e: { code: number; stderr: string }) => e)
      expect(twice).toMatchObject({ code: 2 })
      expect((twice as { stderr: string }).stderr).toMatch(/already installed/)
    } finally {
      const down = await gpufleet('sim', 'down', '--dir', dir)
      expect(down.stdout).toBe(`simulated rack in ${dir} stopped\n`)
    }
    expect(() => process.kill(pid, 0)).toThrow()
    expect(fs.existsSync(path.join(dir, 'sim.sock'))).toBe(false)
    expect((await gpufleet('sim', 'down', '--dir', dir)).stdout).toBe(`no simulated rack is running in ${dir}\n`)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
