import type { Task } from '../tasks/define.js'

// A loaded, validated playbook: `stage` runs on every host at full fan-out, `roll` per host under
// the rolling-reboot limits.
export interface Playbook {
  name: string
  file: string
  description: string
  stage: PlaybookTask[]
  roll: PlaybookTask[]
  drain?: 'refuse' | 'shutdown' // `drain:` the default for --drain
  drainTimeoutMs?: number // `drain_timeout:`
  rebootBlockers?: string[] // `reboot_blockers:`
}

// One item of a playbook section, resolved to its task with validated args.
export interface PlaybookTask {
  title: string // the item's `name:`, else the task name
  task: Task<any, any>
  args: unknown // already validated and defaulted by the task's zod schema
  source: string // file:line of the item
  timeoutMs?: number // the item's `timeout:`: all of the task's commands together (a reboot's wait excluded)
}
