// The hypervisor-safety knobs of a run: what to do with running guests before a reboot, reboot
// blockers, and BMC recovery. Saved with the run's options so `resume` honours them.

// refuse: a host with running guests is not rebooted (reported `needs drain`); shutdown: ACPI
// shutdown of each guest, then the reboot. Live migration is out of scope (VFIO devices block it).
export type DrainMode = 'refuse' | 'shutdown'

export interface HypervisorOptions {
  drain: DrainMode
  drainTimeoutMs: number // how long guests get to power off after `virsh shutdown`
  drainForce: boolean // `virsh destroy` guests still running at the timeout (recorded)
  rebootBlockers: string[] // shell commands run on the host before its reboot; non-zero exit = wait
  blockerTimeoutMs: number // give up on a host whose blockers hold this long: reported `blocked`
  bmcRecover: boolean // power-cycle a host that does not come back through its BMC (Redfish), once
  bmcCaFile?: string // CA bundle the BMCs' TLS certificates are verified against
}

export const DEFAULT_HYPERVISOR: HypervisorOptions = {
  drain: 'refuse',
  drainTimeoutMs: 5 * 60_000,
  drainForce: false,
  rebootBlockers: [],
  blockerTimeoutMs: 60 * 60_000,
  bmcRecover: false,
}

// Polling and backoff; tests shrink them.
export interface HypervisorTiming {
  guestPollMs: number // drain and restore: how often guest states are read
  blockerMinMs: number // first re-check of a holding blocker
  blockerMaxMs: number // re-check backoff cap
  restoreTimeoutMs: number // a started guest must be `running` within this
  bmcPowerOnTimeoutMs: number // after ForceRestart, PowerState must read On within this
}

export const DEFAULT_HYPERVISOR_TIMING: HypervisorTiming = { guestPollMs: 2000, blockerMinMs: 10_000, blockerMaxMs: 120_000, restoreTimeoutMs: 5 * 60_000, bmcPowerOnTimeoutMs: 5 * 60_000 }
