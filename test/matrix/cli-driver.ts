import { execa, type ResultPromise } from 'execa'
import { join } from 'node:path'
import type { FleetEvent } from '../../src/events.js'
import type { Rack } from '../../src/sim/rack.js'
import type { RackFixture } from '../runner/rack-helpers.js'
import { execsOf } from './host-state.js'

// Driving the built CLI through a fault: start it, watch its jsonl events, stop it at a chosen one.
export const CLI = join(process.cwd(), 'dist', 'cli.js')
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const cliArgs = (f: RackFixture) => ['run', 'prep', '-i', f.rack.inventoryFile, '--known-hosts', f.rack.knownHostsFile, '--max-unavailable', '2', '--reboot-stability', '0.2s', '--reboot-timeout', '60s', '--run-dir', join(f.dir, 'runs'), '--output', 'jsonl']
export const parseEvents = (out: string): FleetEvent[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as FleetEvent)

// Starts the CLI and calls `on` for each event; resolves when `on` returns true (or the child ends).
export async function startUntil(args: string[], on: (e: FleetEvent) => boolean): Promise<{ child: ResultPromise; runId: string; hit: boolean }> {
  const child = execa('node', [CLI, ...args], { reject: false, buffer: false })
  let runId = ''
  let hit = false
  await new Promise<void>((resolve) => {
    let buf = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (!line.startsWith('{') || hit) continue
        const e = JSON.parse(line) as FleetEvent
        if (e.kind === 'run-started') runId = e.runId
        if (on(e)) {
          hit = true
          resolve()
        }
      }
    })
    void child.then(() => resolve())
  })
  return { child, runId, hit }
}

// The initramfs rebuild step, alone or as a part of a batched change exec (the simulator records a
// batched change up to its confirm, src/sim/exec-detail.ts).
export const DRACUT_SCRIPT = /(^|\n)set -u\ntrap '' HUP PIPE\nimg=/
// Every execution of a command on a host, per the simulator (a step applied twice shows twice).
export const countExecs = (r: Rack, host: string, re: RegExp) => execsOf(r, host).filter((e) => re.test(e.detail ?? '')).length
