import { DURATION_PATTERN } from '../duration.js'
import { z } from 'zod'
import { DURATION_HINT, POSITIVE_DURATION_PATTERN } from '../duration.js'
import type { Task } from '../tasks/define.js'
import { tasks } from '../tasks/index.js'

// An item's `timeout:`, as the loader accepts it: a positive duration with a unit (30s, 15m, 1h30m).
const taskTimeoutSchema = z.string().regex(new RegExp(POSITIVE_DURATION_PATTERN), DURATION_HINT).describe(`how long all of this task's commands may take together (e.g. 10m); ${DURATION_HINT} (a bare number is refused); a reboot's wait is not counted, it has its own timeout`)

// One playbook item for a task: `{ name?: string, <task.name>: args }` (args may be left empty).
function itemSchema(task: Task<any, any>): z.ZodType {
  return z
    .object({
      name: z.string().optional().describe('what this step does, shown in progress and reports'),
      timeout: taskTimeoutSchema.optional(),
      [task.name]: z.union([task.args, z.null()]).describe(task.summary),
    })
    .strict()
    .describe(task.summary)
}

// The playbook format as a zod schema, with every task's args: the source of `gpufleet schema`.
export function playbookSchema(): z.ZodType {
  const all = Object.values(tasks)
  const list = (phase: 'stage' | 'roll') => {
    const items = all.filter((t) => t.phase === phase || t.phase === 'any').map(itemSchema)
    return z.array(items.length === 1 ? items[0] : z.union(items as [z.ZodType, z.ZodType, ...z.ZodType[]]))
  }
  return z
    .object({
      name: z.string().optional().describe('playbook name (default: the file name)'),
      description: z.string().optional().describe('one paragraph: what it does and when to use it'),
      stage: list('stage').optional().describe('tasks staged on every host in parallel (no reboot)'),
      roll: list('roll').optional().describe('tasks run per host under the rolling-reboot limits (reboot, verify)'),
      drain: z.enum(['refuse', 'shutdown']).optional().describe('running guests before a reboot: refuse (host reported needs drain, default) or shutdown (virsh shutdown, then reboot); --drain overrides'),
      drain_timeout: z.string().regex(new RegExp(DURATION_PATTERN)).optional().describe('how long guests get to power off after virsh shutdown (default 5m); --drain-timeout overrides'),
      reboot_blockers: z.array(z.string().min(1)).optional().describe('shell commands run on a host before its reboot; a non-zero exit holds the reboot (re-checked with backoff); --reboot-blocker adds more'),
    })
    .strict()
    .describe('gpufleet playbook')
}

// JSON Schema of the playbook format for editors (YAML language server: `# yaml-language-server: $schema=...`).
export function playbookJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(playbookSchema(), { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>
  return { ...schema, title: 'gpufleet playbook' }
}
