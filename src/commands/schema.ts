import type { Command } from 'commander'
import { playbookJsonSchema } from '../playbook/schema.js'
import { tasks } from '../tasks/index.js'
import { eventsJsonSchema } from '../report/event-schema.js'

// `gpufleet schema`: the playbook format as JSON Schema (every task with its args) for editors.
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of playbooks (every task and its arguments) for editor completion and checks')
    .option('--tasks', 'list the tasks with one line each instead')
    .option('--events', 'print the JSON Schema of the event stream (--output jsonl, events.jsonl) instead')
    .addHelpText(
      'after',
      `
Examples:
  $ gpufleet schema > gpufleet-playbook.schema.json
  # then, first line of a playbook:  # yaml-language-server: $schema=./gpufleet-playbook.schema.json
  $ gpufleet schema --tasks
  $ gpufleet schema --events > gpufleet-events.schema.json`,
    )
    .action((options: { tasks?: boolean; events?: boolean }) => {
      if (options.events) {
        process.stdout.write(JSON.stringify(eventsJsonSchema(), null, 2) + '\n')
        return
      }
      if (options.tasks) {
        const width = Math.max(...Object.keys(tasks).map((n) => n.length))
        for (const t of Object.values(tasks)) process.stdout.write(`${t.name.padEnd(width)}  ${t.phase.padEnd(5)}  ${t.summary}\n`)
        return
      }
      process.stdout.write(JSON.stringify(playbookJsonSchema(), null, 2) + '\n')
    })
}
