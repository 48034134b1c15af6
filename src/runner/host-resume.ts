import { ConnectError } from '../errors.js'
import { bootId as bootIdFact } from '../facts/kernel-boot-id.js'
import type { Transport } from '../transport/types.js'
import { connectWithRetry } from './connect-retry.js'
import { gatherAll } from './host-facts.js'
import { checkLock } from './host-lock.js'
import { rebootContext } from './host-reboot.js'
import { DEFAULT_REBOOT_TIMEOUT_MS, type HostState } from './host-state.js'
import type { JournalHostState } from './journal.js'
import { rebootMarkerFact } from './lock.js'
import { waitForIssuedReboot } from './reboot-wait.js'

// Reaching a host: connect, gather every fact in one exec, check the lock, and on resume reconcile
// what the journal says this run did with what the host says now.

export async function openHost(s: HostState): Promise<void> {
  const started = s.shared.now()
  const pending = s.previous?.reboot && !s.previous.reboot.bootIdAfter ? s.previous.reboot : undefined
  try {
    s.transport = await connectWithRetry(s.shared.connect, s.host, s.shared.connectRetry, s.shared.emit, s.shared.abort)
    s.shared.emit({ kind: 'host-connected', host: s.host.name, durationMs: s.shared.now() - started })
    await gatherAll(s)
  } catch (error) {
    if (!(error instanceof ConnectError) || !pending || !error.retryable) throw error
    // Resume: the journal says we rebooted this host and never saw it back, and it is down (or
    // went down under our gather): that reboot is happening. Report it as down (the timeline
    // shows it), not as unreachable, and wait for it like any reboot.
    s.shared.emit({ kind: 'host-down', host: s.host.name })
    await s.transport?.close().catch(() => undefined)
    await waitForJournaledReboot(s, undefined, pending.bootIdBefore)
    return
  }
  checkLock(s)
  await reconcile(s, pending)
}

// Resume: compare the journal's last reboot of this host with what the host says now.
async function reconcile(s: HostState, pending: JournalHostState['reboot'] | undefined): Promise<void> {
  const prev = s.previous?.reboot
  if (!prev) return
  const now = s.facts.get(bootIdFact)
  if (now !== prev.bootIdBefore) {
    // The journaled reboot happened. Unless a step was applied after it, another one is not due.
    if (!prev.bootIdAfter) s.shared.journal({ kind: 'rebooted', host: s.host.name, bootIdAfter: now })
    s.rebootDone = (s.previous?.stepsSinceReboot ?? 0) === 0
    if (s.previous?.stepsSinceReboot === 0) s.changed = true // the reboot was this run's change
    return
  }
  if (pending && s.facts.get(rebootMarkerFact) === s.shared.runId) {
    // Issued on this very boot and not yet carried out: wait for it, never issue a second one.
    await waitForJournaledReboot(s, s.transport, pending.bootIdBefore)
  }
}

async function waitForJournaledReboot(s: HostState, transport: Transport | undefined, bootIdBefore: string): Promise<void> {
  const timeoutMs = s.shared.rebootTimeoutMs ?? DEFAULT_REBOOT_TIMEOUT_MS
  const result = await waitForIssuedReboot(transport, bootIdBefore, rebootContext(s), { stabilityMs: 0, ...s.shared.rebootWait, timeoutMs })
  s.transport = result.transport
  s.rebootDone = true
  s.changed = true
  await gatherAll(s)
  checkLock(s)
}
