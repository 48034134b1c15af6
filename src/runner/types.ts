import type { Task } from '../tasks/define.js'
import type { DrainMode } from './hypervisor-options.js'

// The shape of a loaded playbook the runner needs (src/playbook/types.ts's Playbook satisfies it).
export interface RunnablePlaybook {
  name: string
  file?: string
  stage: RunnableTask[]
  roll: RunnableTask[]
  drain?: DrainMode // the playbook's default for --drain
  drainTimeoutMs?: number // the playbook's default for --drain-timeout
  rebootBlockers?: string[] // run before every reboot, with any --reboot-blocker
}

// One task of a playbook with its validated args.
export interface RunnableTask {
  title: string
  task: Task<any, any>
  args: unknown
  source?: string // file:line
  timeoutMs?: number // the task's budget for all its run/write steps together; reboot waits have their own
}
