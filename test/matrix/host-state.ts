import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { Rack } from '../../src/sim/rack.js'
import { parseInitramfs } from '../../src/sim/initramfs.js'

// The hosts' own state for the fault matrix, read from the simulator's side (never through
// gpufleet): files in a host's tree, as its overlay root is mounted in the rack's namespace keeper.

// A path inside a host's root, readable from this process (the keeper's /proc root).
export function hostPath(rack: Rack, host: string, path: string): string {
  return `/proc/${rack.processIds()[0]}/root${rack.dir}/fs/hosts/${host}/root${path}`
}

export function readHostFile(rack: Rack, host: string, path: string): string | undefined {
  const p = hostPath(rack, host, path)
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined
}

// The trees a gpufleet run may change: boot config and images, modprobe/dracut config, units,
// /etc/default/grub, gpufleet's own state. path -> sha256 (or '-> target' for a link).
const WATCHED = ['/boot', '/etc/modprobe.d', '/etc/dracut.conf.d', '/etc/systemd/system', '/etc/default', '/var/lib/gpufleet', '/etc/libvirt/qemu']
export function snapshot(rack: Rack, host: string, roots: string[] = WATCHED): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (rel: string) => {
    const p = hostPath(rack, host, rel)
    let st
    try {
      st = lstatSync(p)
    } catch {
      return
    }
    if (st.isSymbolicLink()) out.set(rel, `-> ${readlinkSync(p)}`)
    else if (st.isDirectory()) for (const e of readdirSync(p)) walk(`${rel}/${e}`)
    else out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'))
  }
  for (const r of roots) walk(r)
  return out
}

// Paths added, removed or changed between two snapshots.
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()])
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort()
}

// Every initramfs image of a host parses (none truncated); returns the unparsable ones.
export function brokenImages(rack: Rack, host: string): string[] {
  const dir = hostPath(rack, host, '/boot')
  return readdirSync(dir)
    .filter((f) => /^initramfs-.*\.img$/.test(f))
    .filter((f) => parseInitramfs(readFileSync(join(dir, f), 'utf8')) === undefined)
}

// The simulator's record: reboots (down events) and client execs of a host.
export const downsOf = (rack: Rack, host: string) => rack.events().filter((e) => e.host === host && e.kind === 'down').length
export const execsOf = (rack: Rack, host: string) => rack.events().filter((e) => e.host === host && e.kind === 'exec')

// Waits until a host is up again after a power cycle (the boot rules ran).
export async function powerCycleAndWait(rack: Rack, host: string, timeoutMs = 60_000): Promise<Awaited<ReturnType<Rack['status']>>> {
  const before = (await rack.status(host)).bootCount
  rack.powerCycle(host)
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs;) {
    const s = await rack.status(host)
    if (s.bootCount > before && (s.state === 'up' || s.state === 'bricked')) return s
    if (s.state === 'bricked') return s
    await new Promise((r) => setTimeout(r, 200))
  }
  return rack.status(host)
}
