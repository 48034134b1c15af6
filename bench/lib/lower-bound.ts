// The lower bound of a rolling `prep`: no tool can stage a host faster than one SSH round trip plus
// the tools the stage must run (T_stage,min), and no window of W hosts can reboot N hosts in fewer
// than ceil(N/W) waves of one reboot plus the stability window each.

export interface BoundInput {
  stageMinMs: number // T_stage,min
  hosts: number // N
  window: number // W, hosts rebooting at once
  rebootMs: number // R, the simulated reboot time
  stabilityMs: number // the window a rebooted host must stay up
}

export function lowerBoundMs(b: BoundInput): number {
  if (b.hosts <= 0) return b.stageMinMs
  return b.stageMinMs + Math.ceil(b.hosts / Math.max(1, b.window)) * (b.rebootMs + b.stabilityMs)
}

// T_stage,min: the floor's wall time (connect + one exec on every host at this parallelism) plus,
// on one host (hosts stage in parallel), the costs of the tools staging cannot skip: dracut (the
// initramfs), one grubby update (the kernel argument), one ppc64_cpu (SMT off).
export function stageMinMs(floorWallMs: number, toolMs: { dracut: number; grubby: number; ppc64_cpu: number }): number {
  return floorWallMs + toolMs.dracut + toolMs.grubby + toolMs.ppc64_cpu
}

// Window size for a percentage of N (as --max-unavailable N% and Ansible's serial: "N%" round it:
// down, at least 1).
export function windowFor(hosts: number, percent: number): number {
  return Math.max(1, Math.floor((hosts * percent) / 100))
}
