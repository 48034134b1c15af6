import type { FleetEvent } from '../events.js'

// The extra lines of -v and -vv for the plain output, as Ansible's verbosity adds them: -v shows each
// command a step ran, -vv also the lines it printed. Output arrives before the step's end (which
// carries the command), so it is held per host and task and printed under its command.
export function createVerboseFormatter(level: number): (event: FleetEvent) => string | undefined {
  const held = new Map<string, string[]>()
  return (event) => {
    if (level >= 2 && event.kind === 'command-output') {
      const key = `${event.host}\0${event.task}`
      held.set(key, [...(held.get(key) ?? []), `${event.stream === 'stderr' ? '!' : '|'} ${event.line}`])
      return undefined
    }
    if (level >= 1 && event.kind === 'step-finished') {
      const key = `${event.host}\0${event.task}`
      const output = held.get(key) ?? []
      held.delete(key)
      if (event.command === undefined && output.length === 0) return undefined
      const command =
        event.command === undefined
          ? []
          : event.command
              .replace(/\n$/, '')
              .split('\n')
              .map((line, i) => `${i === 0 ? '$' : '>'} ${line}`)
      return [...command, ...output].map((line) => `    ${line}`).join('\n')
    }
    return undefined
  }
}
