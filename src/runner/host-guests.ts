import { libvirtGuests as libvirtGuestsFact, type LibvirtGuests } from '../facts/libvirt-guests.js'
import { checkBlockers, drainGuests, GuestError, type GuestContext } from './guests.js'
import { conn, HostFailure, skipReboot, type HostState } from './host-state.js'
import { backoffMs } from './timing.js'

// A hypervisor's guests around its reboot: the --drain refusal (pure, before a slot), the reboot
// blockers (one exec in the slot), and the drain itself right before the reboot.

// The host's guests as gathered, or undefined when the playbook does not read them.
export function gatheredGuests(s: HostState): LibvirtGuests | undefined {
  const entry = s.facts.entry(libvirtGuestsFact.name)
  if (!entry) return undefined
  if (!entry.ok) throw new HostFailure(`cannot read the host's guests before its reboot: ${entry.error.message}`, 'failed')
  return entry.value as LibvirtGuests
}

export function guestContext(s: HostState): GuestContext {
  return { host: s.host.name, transport: conn(s), become: s.host.become, emit: s.shared.emit, signal: s.shared.abort, timing: s.shared.hypervisorTiming, commandTimeoutMs: Math.min(s.shared.commandTimeoutMs, 120_000) }
}

// The running guests that keep this host from rebooting under --drain refuse, or undefined. Pure
// over the gathered facts; asked before the host queues for a slot.
export function drainRefusal(s: HostState): string[] | undefined {
  if (s.shared.hypervisor.drain !== 'refuse' || s.outcome !== undefined) return undefined
  let active: string[]
  try {
    active =
      gatheredGuests(s)
        ?.guests.filter((g) => g.active)
        .map((g) => g.name) ?? []
  } catch {
    return undefined // unreadable guests: the host fails in its slot, before any reboot (drainBeforeReboot)
  }
  return active.length ? active : undefined
}

// Reports the host as `needs drain`: not rebooted, staged changes left pending.
export function refuseForDrain(s: HostState, guests: string[]): void {
  s.outcome = 'needs-drain'
  s.message = `needs drain: guest${guests.length === 1 ? '' : 's'} ${guests.join(', ')} running; not rebooted (--drain refuse), so its staged changes stay pending and verify reports them until it reboots. Stop the guests, or run with --drain shutdown`
  s.shared.emit({ kind: 'drain-needed', host: s.host.name, guests })
}

// Runs the reboot blockers (one exec) while holding a slot. Held: sets the retry delay (the slot
// goes back at once) or, past --reboot-blocker-timeout, reports the host `blocked`. True when clear.
export async function blockersClear(s: HostState): Promise<boolean> {
  const commands = s.shared.hypervisor.rebootBlockers
  if (commands.length === 0 || skipReboot(s)) return true
  const held = await checkBlockers(guestContext(s), commands)
  const b = s.blockers
  b.checks++
  const now = s.shared.now()
  b.since ??= now
  const waitedMs = now - b.since
  if (!held) {
    s.shared.emit({ kind: 'blocker-cleared', host: s.host.name, attempts: b.checks, waitedMs })
    return true
  }
  const left = s.shared.hypervisor.blockerTimeoutMs - waitedMs
  const base = { kind: 'blocker-held' as const, host: s.host.name, command: held.command, exitCode: held.exitCode, attempt: b.checks, ...(held.output ? { output: held.output } : {}) }
  if (left <= 0) {
    s.shared.emit(base)
    s.shared.emit({ kind: 'host-blocked', host: s.host.name, command: held.command, attempts: b.checks, waitedMs })
    s.outcome = 'blocked'
    s.message = `blocked: reboot blocker '${held.command}' still held (exit ${held.exitCode}) after ${b.checks} checks over ${Math.round(waitedMs / 1000)}s; not rebooted, staged changes stay pending`
    return false
  }
  const t = s.shared.hypervisorTiming
  b.retryInMs = Math.min(left, backoffMs(b.checks, t.blockerMinMs, t.blockerMaxMs))
  s.shared.emit({ ...base, retryInMs: b.retryInMs })
  return false
}

// Right before the reboot (in the slot): note a libvirt-guests setting that would kill VFIO guests
// at shutdown, then refuse (--drain refuse) or shut the running guests down.
export async function drainBeforeReboot(s: HostState): Promise<void> {
  const facts = gatheredGuests(s)
  if (!facts) return
  const active = facts.guests.filter((g) => g.active)
  const svc = facts.service
  if (svc.enabled && svc.onShutdown === 'suspend') {
    const vfio = active.filter((g) => g.hostdevs > 0).map((g) => g.name)
    s.shared.emit({
      kind: 'libvirt-guests-note',
      host: s.host.name,
      onShutdown: svc.onShutdown,
      ...(svc.shutdownTimeoutS !== undefined ? { shutdownTimeoutS: svc.shutdownTimeoutS } : {}),
      message: `libvirt-guests.service is enabled with ON_SHUTDOWN=suspend${svc.file ? ` (${svc.file})` : ''}: guests with VFIO host devices cannot be saved at shutdown and are killed after SHUTDOWN_TIMEOUT${svc.shutdownTimeoutS !== undefined ? `=${svc.shutdownTimeoutS}s` : ''}; gpufleet drains before the reboot instead${vfio.length ? ` (${vfio.join(', ')} have host devices)` : ''}`,
    })
  }
  if (active.length === 0) return
  const hv = s.shared.hypervisor
  if (hv.drain === 'refuse') {
    // Guests started after the host queued: still never a silent kill.
    refuseForDrain(
      s,
      active.map((g) => g.name),
    )
    throw new HostFailure(s.message!, 'needs-drain')
  }
  s.shared.journal({ kind: 'step', host: s.host.name, task: 'host.reboot', step: `drain: virsh shutdown ${active.map((g) => g.name).join(' ')}` })
  s.drained = active.map((g) => g.name)
  try {
    await drainGuests(guestContext(s), active, hv)
  } catch (error) {
    if (error instanceof GuestError) {
      // Nothing was rebooted; guests still running are left alone, the others stay off (say so).
      s.drained = []
      throw new HostFailure(error.message, 'failed')
    }
    throw error
  }
}
