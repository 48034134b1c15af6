import type { FleetEvent } from '../events.js'

// What a host's report says about its guests, reboot blockers and BMC: folded from its events.
export interface HypervisorReport {
  drainNeeded?: string[] // --drain refuse: these guests ran, so the host was not rebooted
  drained: Array<{ guest: string; hostdevs: number; stoppedAfterMs?: number; destroyed?: string }>
  drainFailed?: { running: string[]; timeoutMs: number }
  libvirtGuests?: string // the note about libvirt-guests.service's ON_SHUTDOWN
  blockerChecks: Array<{ command: string; exitCode: number | null; attempt: number; at: number }>
  blockerCleared?: { attempts: number; waitedMs: number }
  blocked?: { command: string; attempts: number; waitedMs: number }
  bmc: Array<{ action: string; url: string; powerState?: string; message?: string; at: number }>
  restored: Array<{ guest: string; how: 'started' | 'autostart' | 'failed'; durationMs?: number; message?: string }>
}

// Folds one event into the host's hypervisor report; false when the event is not about that.
export function foldHypervisor(get: (host: string) => { hypervisor?: HypervisorReport }, e: FleetEvent): boolean {
  const r = () => (get((e as { host: string }).host).hypervisor ??= { drained: [], blockerChecks: [], bmc: [], restored: [] })
  switch (e.kind) {
    case 'drain-needed':
      r().drainNeeded = e.guests
      return true
    case 'guest-shutdown':
      r().drained.push({ guest: e.guest, hostdevs: e.hostdevs })
      return true
    case 'guest-stopped': {
      const d = r().drained.find((x) => x.guest === e.guest)
      if (d) d.stoppedAfterMs = e.durationMs
      return true
    }
    case 'guest-destroyed': {
      const d = r().drained.find((x) => x.guest === e.guest)
      if (d) d.destroyed = e.reason
      else r().drained.push({ guest: e.guest, hostdevs: 0, destroyed: e.reason })
      return true
    }
    case 'drain-failed':
      r().drainFailed = { running: e.running, timeoutMs: e.timeoutMs }
      return true
    case 'libvirt-guests-note':
      r().libvirtGuests = e.message
      return true
    case 'blocker-held':
      r().blockerChecks.push({ command: e.command, exitCode: e.exitCode, attempt: e.attempt, at: e.t })
      return true
    case 'blocker-cleared':
      r().blockerCleared = { attempts: e.attempts, waitedMs: e.waitedMs }
      return true
    case 'host-blocked':
      r().blocked = { command: e.command, attempts: e.attempts, waitedMs: e.waitedMs }
      return true
    case 'bmc-action':
      r().bmc.push({ action: e.action, url: e.url, ...(e.powerState ? { powerState: e.powerState } : {}), ...(e.message ? { message: e.message } : {}), at: e.t })
      return true
    case 'guest-started':
      r().restored.push({ guest: e.guest, how: e.how, durationMs: e.durationMs })
      return true
    case 'guest-start-failed':
      r().restored.push({ guest: e.guest, how: 'failed', message: e.message })
      return true
    default:
      return false
  }
}
