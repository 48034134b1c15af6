import net from 'node:net'
import { CommandError, ConnectError, FleetError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import { quote } from '../shell.js'
import type { Transport } from '../transport/types.js'
import type { ConnectFn } from './connect-retry.js'
import type { Emit } from './emit.js'
import { REBOOT_MARKER } from './lock.js'
import { sleep } from './timing.js'

// Reboot-and-wait, built against the failure modes users hit with Ansible and pyinfra: a reboot is
// accepted only after the host was seen going away (its connection dropped or refused) AND came
// back with a NEW, well-formed boot_id (ansible#78007, #83018), and stayed up for a stability window
// (Ansible's unimplemented "FUTURE" comment). Host-key and auth failures on reconnect fail at once
// (ansible#77353) instead of timing out.
//
// A reboot cycle costs the reboot and little more: the reboot is issued without a delay, the drop is
// noticed from the connection itself, the return from a cheap TCP probe of the SSH port (every
// pollMinMs near the expected reboot time, backing off long after it), and the stability window
// runs from the first login in parallel with what the caller does next (verify's gather): the
// result's `stable` settles when the window is over.

// The reboot did not complete. `hostDown` says whether the host may still be down (it went away
// and did not come back), so the rolling window keeps counting it as unavailable.
export class RebootWaitError extends FleetError {
  readonly hostDown: boolean
  constructor(message: string, hostDown: boolean) {
    super(message)
    this.hostDown = hostDown
  }
}

// Timing knobs; tests shrink them, the CLI takes the timeout from the step or --reboot-timeout.
export interface RebootWaitOptions {
  timeoutMs: number // from issuing the reboot to the host being back and stable
  stabilityMs: number // the host must stay reachable this long with the new boot_id
  pollMinMs?: number // probe interval near the expected reboot time (default 200)
  pollMaxMs?: number // probe interval cap long after it (default 5000)
  probeEveryMs?: number // while waiting for the host to go away, probe the old connection this often
  estimate?: RebootEstimate // reboot times seen so far in this run (shared by its hosts)
  probe?: ProbeFn // is the host's SSH port accepting? (default: a TCP connect, see tcpProbeFor)
}

// Says whether a host is worth an SSH connect now (its SSH port accepts TCP), or undefined when it
// cannot tell (then the caller just tries to connect).
export type ProbeFn = (host: InventoryHost, signal?: AbortSignal) => Promise<boolean> | undefined

// Down-to-up times of the hosts that came back in this run; their median is the next host's
// expected reboot time (reboots of a fleet's hosts take about as long as each other).
export class RebootEstimate {
  private readonly seen: number[] = []
  observe(ms: number): void {
    this.seen.push(ms)
  }
  get expectedMs(): number | undefined {
    if (this.seen.length === 0) return undefined
    const sorted = [...this.seen].sort((a, b) => a - b)
    return sorted[Math.floor(sorted.length / 2)]
  }
}

// How long to wait before the next probe of a rebooting host, `elapsedMs` after it went down. Long
// before the expected time: sleep toward it; around it (up to twice it): every fastMs; after: back
// off to maxMs. With no estimate yet, fast for the first 3 minutes (a probe is one SYN). Pure.
export function probeDelayMs(elapsedMs: number, expectedMs: number | undefined, fastMs: number, maxMs: number): number {
  const fastFrom = expectedMs === undefined ? 0 : 0.7 * expectedMs
  const fastUntil = expectedMs === undefined ? 180_000 : 2 * expectedMs + 10_000
  if (elapsedMs < fastFrom) return Math.max(fastMs, Math.min(maxMs, fastFrom - elapsedMs))
  if (elapsedMs < fastUntil) return fastMs
  const late = (elapsedMs - fastUntil) / 1000 // seconds past the fast window
  return Math.min(maxMs, Math.round(fastMs * 2 ** Math.min(10, late / 5)))
}

// The default probe: a TCP connect to the host's SSH port, when the address is known (set in the
// inventory, no ProxyJump: otherwise ~/.ssh/config or a jump host decides where SSH goes).
export function tcpProbeFor(host: InventoryHost, signal?: AbortSignal, timeoutMs = 1000): Promise<boolean> | undefined {
  if (host.connection !== 'ssh' || !host.ssh.hostnameFromInventory || host.ssh.proxyJump) return undefined
  return new Promise((resolve) => {
    const socket = net.connect({ host: host.ssh.hostname, port: host.ssh.port ?? 22 })
    const done = (up: boolean) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', abort)
      socket.destroy()
      resolve(up)
    }
    const abort = () => done(false)
    const timer = setTimeout(() => done(false), timeoutMs)
    signal?.addEventListener('abort', abort)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

// Hooks the runner passes in: journal writes happen strictly before the effect they describe.
export interface RebootWaitContext {
  host: InventoryHost
  connect: ConnectFn
  emit: Emit
  runId: string
  become: boolean
  signal?: AbortSignal
  beforeIssue?: (bootIdBefore: string) => void
  afterUp?: (bootIdAfter: string) => void
}

// The command that reboots: the marker goes to /run (emptied by the reboot itself), then a detached
// `systemctl reboot || reboot`, with no delay: the exec usually returns first, and when the
// reboot cuts the channel before its exit status, the drop is the reboot working (rebootAndWait).
export function rebootCommand(runId: string): string {
  const inner = 'systemctl reboot || reboot'
  return `mkdir -p /run/gpufleet && printf '%s\\n' ${quote(runId)} > ${REBOOT_MARKER} && nohup sh -c ${quote(inner)} >/dev/null 2>&1 </dev/null &`
}

const BOOT_ID_COMMAND = 'cat /proc/sys/kernel/random/boot_id'
const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

// Reads boot_id; undefined when the output is not a boot_id (a half-up host, ansible#83018).
export async function readBootId(transport: Transport, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const r = await transport.exec(BOOT_ID_COMMAND, { timeoutMs, ...(signal ? { signal } : {}) })
  const id = r.stdout.trim()
  return r.exitCode === 0 && BOOT_ID.test(id) ? id : undefined
}

// A host back from its reboot. `stable` settles when its stability window (from the first login)
// is over: undefined when the same boot still answers, else why not. It never rejects, so the
// caller may await it after other work (verify's gather) without an unhandled rejection.
export interface RebootResult {
  transport: Transport
  bootIdAfter: string
  waitedMs: number
  stable: Promise<string | undefined>
}

// Issues the reboot on a connected host, then waits for it to go down and come back. Returns a
// fresh transport to the new boot.
export async function rebootAndWait(transport: Transport, bootIdBefore: string, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<RebootResult> {
  const started = Date.now()
  const deadline = started + options.timeoutMs
  ctx.beforeIssue?.(bootIdBefore)
  try {
    const r = await transport.exec(rebootCommand(ctx.runId), { become: ctx.become, timeoutMs: 30_000, ...(ctx.signal ? { signal: ctx.signal } : {}) })
    if (r.exitCode !== 0) throw new CommandError(ctx.host.name, r, 'Issuing the reboot')
  } catch (error) {
    // The host may cut the channel before the exec reports back: that is the reboot working.
    if (!(error instanceof ConnectError)) throw error
  }
  ctx.emit({ kind: 'reboot-issued', host: ctx.host.name, bootIdBefore })
  await waitForDown(transport, bootIdBefore, deadline, ctx, options)
  return waitForUp(bootIdBefore, started, deadline, ctx, options)
}

// For resume: the journal says a reboot was issued (marker present, old boot_id still live): wait
// for it to happen rather than issuing a second one.
export async function waitForIssuedReboot(transport: Transport | undefined, bootIdBefore: string, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<RebootResult> {
  const started = Date.now()
  const deadline = started + options.timeoutMs
  if (transport) await waitForDown(transport, bootIdBefore, deadline, ctx, options)
  return waitForUp(bootIdBefore, started, deadline, ctx, options)
}

// Waits until the old connection drops or stops answering.
async function waitForDown(transport: Transport, bootIdBefore: string, deadline: number, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<void> {
  const probeEveryMs = options.probeEveryMs ?? 2000
  let lastProbe = Date.now()
  while (transport.connected) {
    if (Date.now() > deadline) {
      await transport.close().catch(() => undefined)
      throw new RebootWaitError(`[${ctx.host.name}] reboot was issued but the host never went down within ${Math.round(options.timeoutMs / 1000)}s (boot_id still ${bootIdBefore})`, false)
    }
    // Reading `connected` costs nothing: look often, so the drop is seen within ~20 ms.
    await sleep(Math.min(20, probeEveryMs), ctx.signal)
    if (Date.now() - lastProbe >= probeEveryMs) {
      lastProbe = Date.now()
      try {
        // A connection can look open long after the host died; an exec with a short timeout tells.
        const id = await readBootId(transport, Math.min(5000, probeEveryMs * 2), ctx.signal)
        if (id === undefined) break
        if (id !== bootIdBefore) break // cannot happen on one connection, but never wait forever on it
      } catch (error) {
        if (ctx.signal?.aborted) throw error
        break
      }
    }
  }
  ctx.emit({ kind: 'host-down', host: ctx.host.name })
  await transport.close().catch(() => undefined)
}

// Probes until the SSH port accepts, then logs in until the host answers with a new boot_id. The
// stability window starts at that login and runs in the background (RebootResult.stable).
async function waitForUp(bootIdBefore: string, started: number, deadline: number, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<RebootResult> {
  const fastMs = options.pollMinMs ?? 200
  const maxMs = options.pollMaxMs ?? 5000
  const probe = options.probe ?? tcpProbeFor
  const downAt = Date.now()
  let lastProblem = 'no answer yet'
  while (Date.now() < deadline) {
    ctx.signal?.throwIfAborted()
    const accepting = probe(ctx.host, ctx.signal)
    if (accepting === undefined || (await accepting)) {
      let transport: Transport | undefined
      try {
        transport = await ctx.connect(ctx.host, ctx.signal)
        const loginAt = Date.now()
        const id = await readBootId(transport, 10_000, ctx.signal)
        if (id === undefined) lastProblem = 'boot_id unreadable (host still booting)'
        else if (id === bootIdBefore) lastProblem = `boot_id unchanged (${id}): the host has not rebooted`
        else {
          options.estimate?.observe(loginAt - downAt)
          ctx.emit({ kind: 'host-up', host: ctx.host.name, bootIdAfter: id, waitedMs: Date.now() - started })
          ctx.afterUp?.(id)
          return { transport, bootIdAfter: id, waitedMs: Date.now() - started, stable: staysUp(transport, id, loginAt, ctx, options) }
        }
      } catch (error) {
        if (ctx.signal?.aborted) throw error
        // Never retry past a host-key or auth failure: a changed key after a reboot is an attack or a reinstall.
        if (error instanceof ConnectError && !error.retryable) throw error
        lastProblem = error instanceof Error ? error.message : String(error)
      }
      await transport?.close().catch(() => undefined)
    } else lastProblem = 'SSH port not accepting connections'
    const delay = probeDelayMs(Date.now() - downAt, options.estimate?.expectedMs, fastMs, maxMs)
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), ctx.signal)
  }
  throw new RebootWaitError(`[${ctx.host.name}] did not come back within ${Math.round((deadline - started) / 1000)}s after the reboot (last: ${lastProblem})`, true)
}

// The stability window: the same boot must still answer stabilityMs after the first login.
// Resolves with why not, or undefined; never rejects (an abort resolves with the reason).
async function staysUp(transport: Transport, bootId: string, loginAt: number, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<string | undefined> {
  if (options.stabilityMs <= 0) return undefined
  const unstable = `[${ctx.host.name}] went away again within the ${options.stabilityMs} ms stability window after its reboot`
  try {
    await sleep(loginAt + options.stabilityMs - Date.now(), ctx.signal)
    if (!transport.connected) return unstable
    const id = await readBootId(transport, 10_000, ctx.signal)
    return id === bootId ? undefined : unstable
  } catch (error) {
    if (ctx.signal?.aborted) return `[${ctx.host.name}] interrupted during the stability window`
    return `${unstable}: ${error instanceof Error ? error.message : String(error)}`
  }
}
