import type { Fact } from '../facts/define.js'
import type { InventoryHost } from '../inventory/types.js'

// What a task asks the runner to do. Only runner/apply.ts interprets steps.
export type Step =
  | {
      kind: 'run'
      description: string // one line for progress and reports: "rebuild initramfs for 4.14.0-49..."
      command: string // shell text, every value inside quoted with shell.quote()
      okExitCodes?: number[] // default [0]
      timeoutMs?: number
      stdin?: string
    }
  | {
      kind: 'write'
      description: string
      path: string
      content: string
      mode: string // '0644'
      owner?: string // 'root:root'
    }
  | {
      // Reboot the host and wait: issue the reboot detached, see the host go away AND a new boot_id,
      // wait a stability window, reconnect, re-gather facts.
      kind: 'reboot'
      description: string
      timeoutMs: number
      stabilityMs: number
    }

// Either nothing to do (with the reason, shown to the user) or the steps to apply.
// `diff` is what check mode shows: file diffs, kernel command line before/after.
export type Plan = { kind: 'noop'; reason: string; notes?: string[] } | { kind: 'change'; reason: string; steps: Step[]; diff?: string; notes?: string[]; rebootPending?: boolean; observeOnly?: boolean } | { kind: 'fail'; reason: string; evidence?: Record<string, unknown> } // verify found a problem

// Read-only context a plan may use besides its facts. Pure data, never a handle.
export interface PlanContext {
  host: Pick<InventoryHost, 'name' | 'vars' | 'rack' | 'expectedGpus' | 'assignments'>
  // Plans made earlier in this run for this host, in order (lets dracut see that blacklist will
  // change modprobe.d even in check mode, before anything is applied).
  earlier: Array<{ task: string; plan: Plan }>
}

export interface Task<Args, Facts extends Record<string, unknown>> {
  name: string // 'kernel.arg'; also the fixture folder under test/tasks/
  summary: string // one line for `gpufleet schema` and --help
  phase: 'stage' | 'roll' | 'any' // where it may appear in a playbook
  facts: { [K in keyof Facts]: Fact<Facts[K]> }
  // Zod schema for args (validated at load time, also exported as JSON Schema).
  args: import('zod').ZodType<Args>
  plan(args: Args, facts: Facts, ctx: PlanContext): Plan // pure: no I/O, no clock, no randomness
  // The fact keys a plan with these args on this host reads (pure), when that is fewer than all:
  // the gather then skips the others unless another task reads them, and they reach plan() as
  // undefined (their type must say so). cpu.smt reads every guest's XML only under
  // gpufleet_smt=auto, so a default run never pays for virsh dumpxml. Unset: every key.
  reads?(args: Args, host: PlanContext['host']): Array<keyof Facts>
  // The facts its steps can change. The runner re-reads exactly these (the ones the playbook
  // gathers) at the end of the task's own exec, so the next task plans against the host as it is
  // without a full re-gather. Unset: every gathered fact is re-read (the safe default).
  writes?: Array<Fact<any>>
  // The facts a change plan will produce, by key (pure: the plan and the facts before). Check mode
  // plans later tasks against them; tests hold them equal to a real re-gather after applying.
  predict?(args: Args, facts: Facts, plan: Extract<Plan, { kind: 'change' }>): Partial<Facts>
  // Why the host must not be touched at all (pure, over the facts as gathered), or undefined. The
  // runner asks every task of the playbook right after the gather, before any task changes anything,
  // so a refusal holds wherever the task sits in the playbook.
  preflight?(args: Args, facts: Facts): Extract<Plan, { kind: 'fail' }> | undefined
}

// The fact keys a task's plan reads with these args on this host (Task.reads, else every key). The
// runner gathers only these and passes the others as undefined; plan fixtures do the same.
export function factKeysRead<Args>(task: { facts: object; reads?(args: Args, host: PlanContext['host']): PropertyKey[] }, args: Args, host: PlanContext['host']): Set<string> {
  return new Set((task.reads ? task.reads(args, host) : Object.keys(task.facts)) as string[])
}

export function defineTask<Args, Facts extends Record<string, unknown>>(task: Task<Args, Facts>): Task<Args, Facts> {
  return task
}

export const noop = (reason: string, notes?: string[]): Plan => ({ kind: 'noop', reason, ...(notes ? { notes } : {}) })
// `observeOnly`: the steps change no configuration, they only make something observable (verify
// loads vfio_pci to read the parameter the kernel argument set, as libvirt would at guest start);
// the runner applies them and reports the task ok, not changed.
export const change = (reason: string, steps: Step[], extra: { diff?: string; notes?: string[]; rebootPending?: boolean; observeOnly?: boolean } = {}): Plan => ({
  kind: 'change',
  reason,
  steps,
  ...extra,
})
