// Process exit codes, documented in `gpufleet --help` and README.
export const EXIT = {
  ok: 0,
  hostsFailed: 1, // some hosts failed, were unreachable or were not started (failure budget)
  badInput: 2, // bad usage, inventory or playbook; nothing was touched
  wouldChange: 3, // check mode (plan, run --check): no host failed and at least one would change
  interrupted: 130,
  internal: 70,
} as const
