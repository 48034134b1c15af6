import type { LibvirtGuest } from '../facts/libvirt-guests.js'
import { quote } from '../shell.js'
import type { Transport } from '../transport/types.js'
import type { Emit } from './emit.js'
import type { HypervisorOptions, HypervisorTiming } from './hypervisor-options.js'
import { sleep } from './timing.js'

// The drain before a reboot and the restore after verify, on a connected host. Guest states are read
// for every pending guest in one exec per poll; names always reach the shell quoted.

// A drain or restore that cannot go on; the message is user-facing.
export class GuestError extends Error {}

export interface GuestContext {
  host: string
  transport: Transport
  become: boolean
  emit: Emit
  signal: AbortSignal
  timing: HypervisorTiming
  commandTimeoutMs: number
}

// `name<TAB>state` per guest, one exec. A guest libvirt no longer knows reads as 'shut off'.
async function readStates(ctx: GuestContext, names: string[]): Promise<Map<string, string>> {
  const script = names.map((n) => `printf '%s\\t' ${quote(n)}; virsh domstate ${quote(n)} 2>/dev/null | head -n 1 || echo`).join('; ')
  const r = await ctx.transport.exec(script, { become: ctx.become, timeoutMs: ctx.commandTimeoutMs, signal: ctx.signal })
  const out = new Map<string, string>()
  for (const line of r.stdout.split('\n')) {
    const tab = line.indexOf('\t')
    if (tab > 0) out.set(line.slice(0, tab), line.slice(tab + 1).trim() || 'shut off')
  }
  return out
}

const isOff = (state: string | undefined) => state === undefined || state === 'shut off' || state === 'shutoff'

// ACPI-shuts down every active guest (in order) and waits up to drainTimeoutMs for all to be off.
// At the timeout: with drainForce, destroys the rest (recorded); else throws, leaving them running.
export async function drainGuests(ctx: GuestContext, guests: LibvirtGuest[], options: Pick<HypervisorOptions, 'drainTimeoutMs' | 'drainForce'>): Promise<void> {
  if (guests.length === 0) return
  const started = Date.now()
  const script = guests.map((g) => `err=$(virsh shutdown ${quote(g.name)} 2>&1 >/dev/null) || { printf '%s\\t' ${quote(g.name)}; printf '%s' "$err" | tr '\\n' ' '; echo; }`).join('; ')
  for (const g of guests) ctx.emit({ kind: 'guest-shutdown', host: ctx.host, guest: g.name, hostdevs: g.hostdevs })
  const r = await ctx.transport.exec(script, { become: ctx.become, timeoutMs: ctx.commandTimeoutMs, signal: ctx.signal })
  for (const line of r.stdout.split('\n').filter((l) => l.includes('\t'))) {
    const [name, message] = line.split('\t') as [string, string]
    // A guest that went off by itself between the gather and now is what we wanted anyway.
    if (!/domain is not running/.test(message)) throw new GuestError(`virsh shutdown ${name} failed: ${message.trim()}`)
  }
  const pending = new Set(guests.map((g) => g.name))
  for (;;) {
    const states = await readStates(ctx, [...pending])
    for (const name of [...pending]) {
      if (isOff(states.get(name))) {
        pending.delete(name)
        ctx.emit({ kind: 'guest-stopped', host: ctx.host, guest: name, durationMs: Date.now() - started })
      }
    }
    if (pending.size === 0) return
    if (Date.now() - started >= options.drainTimeoutMs) break
    await sleep(Math.min(ctx.timing.guestPollMs, Math.max(0, options.drainTimeoutMs - (Date.now() - started))), ctx.signal)
  }
  const left = guests.map((g) => g.name).filter((n) => pending.has(n))
  if (!options.drainForce) {
    ctx.emit({ kind: 'drain-failed', host: ctx.host, running: left, timeoutMs: options.drainTimeoutMs })
    throw new GuestError(`drain: guest${left.length === 1 ? '' : 's'} ${left.join(', ')} still running ${Math.round(options.drainTimeoutMs / 1000)}s after virsh shutdown (ACPI); not rebooted, guests left as they are (--drain-force destroys them)`)
  }
  for (const name of left) {
    const d = await ctx.transport.exec(`virsh destroy ${quote(name)}`, { become: ctx.become, timeoutMs: ctx.commandTimeoutMs, signal: ctx.signal })
    if (d.exitCode !== 0 && !/domain is not running/.test(d.stderr)) throw new GuestError(`virsh destroy ${name} failed: ${d.stderr.trim()}`)
    ctx.emit({ kind: 'guest-destroyed', host: ctx.host, guest: name, reason: `still running ${Math.round(options.drainTimeoutMs / 1000)}s after virsh shutdown` })
  }
}

// Starts exactly the drained guests again, in their previous order, each waited for until
// `running`. A guest libvirt autostart already brought back is not started twice. The first guest
// that fails stops the restore: its libvirt message is the error.
export async function restoreGuests(ctx: GuestContext, names: string[]): Promise<void> {
  if (names.length === 0) return
  const before = await readStates(ctx, names)
  for (const name of names) {
    const started = Date.now()
    if (before.get(name) === 'running') {
      ctx.emit({ kind: 'guest-started', host: ctx.host, guest: name, how: 'autostart', durationMs: 0 })
      continue
    }
    const r = await ctx.transport.exec(`virsh start ${quote(name)}`, { become: ctx.become, timeoutMs: ctx.commandTimeoutMs, signal: ctx.signal })
    if (r.exitCode !== 0) {
      // libvirt's autostart can win the race between our read and our start.
      if (/already running|already active/.test(r.stderr)) {
        ctx.emit({ kind: 'guest-started', host: ctx.host, guest: name, how: 'autostart', durationMs: 0 })
        continue
      }
      const message = r.stderr.trim().replace(/\n+/g, ' ') || `virsh start exited ${r.exitCode}`
      ctx.emit({ kind: 'guest-start-failed', host: ctx.host, guest: name, message })
      throw new GuestError(`restore: guest ${name} did not start: ${message}`)
    }
    for (;;) {
      const state = (await readStates(ctx, [name])).get(name)
      if (state === 'running') break
      if (Date.now() - started >= ctx.timing.restoreTimeoutMs) {
        const message = `still '${state ?? 'unknown'}' ${Math.round(ctx.timing.restoreTimeoutMs / 1000)}s after virsh start`
        ctx.emit({ kind: 'guest-start-failed', host: ctx.host, guest: name, message })
        throw new GuestError(`restore: guest ${name} ${message}`)
      }
      await sleep(ctx.timing.guestPollMs, ctx.signal)
    }
    ctx.emit({ kind: 'guest-started', host: ctx.host, guest: name, how: 'started', durationMs: Date.now() - started })
  }
}

// Runs the reboot blockers in order (one exec); the first that exits non-zero holds the reboot.
export async function checkBlockers(ctx: GuestContext, commands: string[]): Promise<{ command: string; exitCode: number | null; output: string } | undefined> {
  if (commands.length === 0) return undefined
  // Each blocker runs in its own sh so one cannot end the others' script; its index tells which held.
  const script = commands.map((c, i) => `out=$(sh -c ${quote(c)} 2>&1 </dev/null); rc=$?; if [ $rc -ne 0 ]; then printf '@@blocker %s %s\\n' ${i} $rc; printf '%s\\n' "$out" | tail -n 3; exit 0; fi`).join('\n')
  const r = await ctx.transport.exec(script, { become: ctx.become, timeoutMs: ctx.commandTimeoutMs, signal: ctx.signal })
  const m = /^@@blocker (\d+) (\d+)$/m.exec(r.stdout)
  if (r.exitCode !== 0) return { command: commands[0]!, exitCode: r.exitCode, output: r.stderr.trim().slice(-300) }
  if (!m) return undefined
  const output = r.stdout
    .slice(m.index + m[0].length)
    .trim()
    .replace(/\n/g, ' ')
    .slice(0, 300)
  return { command: commands[Number(m[1])]!, exitCode: Number(m[2]), output }
}
