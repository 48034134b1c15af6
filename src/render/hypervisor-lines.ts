import type { EventOf, HypervisorEvent } from '../events.js'
import type { HypervisorReport } from '../report/hypervisor-report.js'

// One line per hypervisor event (drain, blockers, BMC, guest restarts), shared by the plain output
// and the live view so both say the same thing.

type Kind = HypervisorEvent['kind']
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`

export const HYPERVISOR_FORMAT: { [K in Kind]: (e: EventOf<K>) => string } = {
  'drain-needed': (e) => `NEEDS DRAIN: guests running: ${e.guests.join(', ')}; not rebooted (--drain refuse), staged changes stay pending`,
  'guest-shutdown': (e) => `drain: ACPI shutdown of guest ${e.guest}${e.hostdevs ? ` (${e.hostdevs} host device${e.hostdevs === 1 ? '' : 's'})` : ''}`,
  'guest-stopped': (e) => `drain: guest ${e.guest} is off after ${secs(e.durationMs)}`,
  'guest-destroyed': (e) => `drain: guest ${e.guest} DESTROYED (--drain-force): ${e.reason}`,
  'drain-failed': (e) => `drain: still running after ${secs(e.timeoutMs)}: ${e.running.join(', ')}; not rebooted`,
  'libvirt-guests-note': (e) => `note: ${e.message}`,
  'blocker-held': (e) => `reboot blocker holds (exit ${e.exitCode ?? 'signal'}, check ${e.attempt}): ${e.command}${e.retryInMs !== undefined ? `; slot released, re-check in ${secs(e.retryInMs)}` : ''}${e.output ? ` — ${e.output}` : ''}`,
  'blocker-cleared': (e) => `reboot blockers clear${e.attempts > 1 ? ` after ${e.attempts} checks (${secs(e.waitedMs)})` : ''}`,
  'host-blocked': (e) => `BLOCKED: reboot blocker still holds after ${e.attempts} checks over ${secs(e.waitedMs)}: ${e.command}; not rebooted`,
  'bmc-action': (e) =>
    e.action === 'check'
      ? `bmc: ${e.url} answers, PowerState ${e.powerState}`
      : e.action === 'power-cycle'
        ? `bmc: power-cycling through ${e.url} (ComputerSystem.Reset ForceRestart)${e.message ? `: ${e.message}` : ''}`
        : e.action === 'power-on'
          ? `bmc: PowerState ${e.powerState}`
          : e.action === 'recovered'
            ? `bmc: back after the power cycle${e.message ? `; ${e.message}` : ''}`
            : `bmc: FAILED: ${e.message}`,
  'guest-started': (e) => (e.how === 'autostart' ? `restore: guest ${e.guest} already running (libvirt autostart)` : `restore: guest ${e.guest} running after ${secs(e.durationMs)}`),
  'guest-start-failed': (e) => `restore: guest ${e.guest} FAILED to start: ${e.message}`,
}

const KINDS = new Set<string>(Object.keys(HYPERVISOR_FORMAT))

// True for the events above.
export function isHypervisorEvent(e: { kind: string }): e is HypervisorEvent & { t: number } {
  return KINDS.has(e.kind)
}

// The line for one hypervisor event.
export function formatHypervisor(e: HypervisorEvent): string {
  return (HYPERVISOR_FORMAT[e.kind] as (x: HypervisorEvent) => string)(e)
}

// A short per-host note for the recap: guests drained/destroyed/restored, blocker checks, BMC.
export function recapNote(hv: HypervisorReport | undefined): string {
  if (!hv) return ''
  const parts: string[] = []
  const stopped = hv.drained.filter((d) => !d.destroyed).map((d) => d.guest)
  const destroyed = hv.drained.filter((d) => d.destroyed).map((d) => d.guest)
  if (stopped.length) parts.push(`drained ${stopped.join(',')}`)
  if (destroyed.length) parts.push(`destroyed ${destroyed.join(',')}`)
  const restored = hv.restored.filter((r) => r.how !== 'failed').map((r) => r.guest)
  if (restored.length) parts.push(`restored ${restored.join(',')}`)
  if (hv.blockerChecks.length) parts.push(`blocker held ${hv.blockerChecks.length}x`)
  if (hv.bmc.some((a) => a.action === 'power-cycle')) parts.push('bmc power-cycled')
  return parts.length ? ` [${parts.join('; ')}]` : ''
}
