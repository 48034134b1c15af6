import type { HostState } from './host-state.js'
import { failTask } from './task-run.js'

// Preflight: right after the gather, before the first task runs, every task of the playbook that
// can refuse a host (Task.preflight: e.g. kernel.arg on a boot stack it cannot edit safely) is
// asked over the facts as gathered. The first refusal fails the host as that task's failure, so
// no other task (cpu.smt, modprobe.blacklist, ...) changes a host that is refused, wherever the
// refusing task sits in the playbook.
export function preflight(s: HostState): void {
  const pb = s.shared.playbook
  for (const [phase, tasks] of [['stage', pb.stage] as const, ['roll', pb.roll] as const]) {
    for (const pt of tasks) {
      const refused = pt.task.preflight?.(pt.args, s.facts.forTask(pt))
      if (!refused) continue
      s.shared.emit({ kind: 'task-started', host: s.host.name, task: pt.task.name, title: pt.title, phase })
      failTask(s, pt, refused)
    }
  }
}
