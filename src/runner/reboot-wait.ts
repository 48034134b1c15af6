import { CommandError, ConnectError, FleetError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import { quote } from '../shell.js'
import type { Transport } from '../transport/types.js'
import type { ConnectFn } from './connect-retry.js'
import type { Emit } from './emit.js'
import { REBOOT_MARKER } from './lock.js'
import { backoffMs, sleep } from './timing.js'

// Reboot-and-wait, built against the failure modes users hit with Ansible and pyinfra: a reboot is
// accepted only after the host was seen going away (its connection dropped or refused) AND came
// back with a NEW, well-formed boot_id (ansible#78007, #83018), and stayed up for a stability window
// (Ansible's unimplemented "FUTURE" comment). Host-key and auth failures on reconnect fail at once
// (ansible#77353) instead of timing out.

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
  pollMinMs?: number // first reconnect delay
  pollMaxMs?: number // reconnect delay cap
  probeEveryMs?: number // while waiting for the host to go away, probe the old connection this often
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

// The command that reboots without killing its own channel first: the marker goes to /run (emptied
// by the reboot itself), then a detached `sleep 1; systemctl reboot || reboot` lets the exec return.
export function rebootCommand(runId: string): string {
  const inner = 'sleep 1; systemctl reboot || reboot'
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

// Issues the reboot on a connected host, then waits for it to go down and come back. Returns a
// fresh transport to the new boot.
export async function rebootAndWait(transport: Transport, bootIdBefore: string, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<{ transport: Transport; bootIdAfter: string; waitedMs: number }> {
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
export async function waitForIssuedReboot(transport: Transport | undefined, bootIdBefore: string, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<{ transport: Transport; bootIdAfter: string; waitedMs: number }> {
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
    await sleep(Math.min(250, probeEveryMs), ctx.signal)
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

// Reconnects with backoff until the host answers with a new boot_id and stays up for the
// stability window.
async function waitForUp(bootIdBefore: string, started: number, deadline: number, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<{ transport: Transport; bootIdAfter: string; waitedMs: number }> {
  const pollMin = options.pollMinMs ?? 500
  const pollMax = options.pollMaxMs ?? 5000
  let lastProblem = 'no answer yet'
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    ctx.signal?.throwIfAborted()
    let transport: Transport | undefined
    try {
      transport = await ctx.connect(ctx.host, ctx.signal)
      const id = await readBootId(transport, 10_000, ctx.signal)
      if (id === undefined) lastProblem = 'boot_id unreadable (host still booting)'
      else if (id === bootIdBefore) lastProblem = `boot_id unchanged (${id}): the host has not rebooted`
      else {
        ctx.emit({ kind: 'host-up', host: ctx.host.name, bootIdAfter: id, waitedMs: Date.now() - started })
        ctx.afterUp?.(id)
        if (await staysUp(transport, id, ctx, options)) return { transport, bootIdAfter: id, waitedMs: Date.now() - started }
        lastProblem = `host went away again within the ${options.stabilityMs} ms stability window`
      }
    } catch (error) {
      if (ctx.signal?.aborted) throw error
      // Never retry past a host-key or auth failure: a changed key after a reboot is an attack or a reinstall.
      if (error instanceof ConnectError && !error.retryable) throw error
      lastProblem = error instanceof Error ? error.message : String(error)
    }
    await transport?.close().catch(() => undefined)
    await sleep(Math.min(backoffMs(attempt, pollMin, pollMax), Math.max(0, deadline - Date.now())), ctx.signal)
  }
  throw new RebootWaitError(`[${ctx.host.name}] did not come back within ${Math.round((deadline - started) / 1000)}s after the reboot (last: ${lastProblem})`, true)
}

// The stability window: the same boot must still answer after stabilityMs.
async function staysUp(transport: Transport, bootId: string, ctx: RebootWaitContext, options: RebootWaitOptions): Promise<boolean> {
  if (options.stabilityMs <= 0) return true
  await sleep(options.stabilityMs, ctx.signal)
  if (!transport.connected) return false
  try {
    return (await readBootId(transport, 10_000, ctx.signal)) === bootId
  } catch (error) {
    if (ctx.signal?.aborted) throw error
    return false
  }
}
