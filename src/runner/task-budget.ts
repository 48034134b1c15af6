import { formatDuration } from '../duration.js'
import { FleetError } from '../errors.js'

// A playbook item's `timeout:` at run time. The clock starts at the task's first step (planning and
// the fleet lock are the runner's own work, not the task's) and reads the runner's injected clock,
// so tests can move time. Only run/write steps spend it: a reboot step waits under its own timeout
// (the step's, or --reboot-timeout) because a POWER IPL's length says nothing about whether the
// task is stuck, so the span of a reboot wait is handed back to the budget afterwards.
export class TaskBudget {
  private deadline: number

  constructor(
    readonly host: string,
    readonly task: string,
    readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.deadline = now() + timeoutMs
  }

  // Milliseconds the task may still spend; zero or less once it has run out.
  remainingMs(): number {
    return this.deadline - this.now()
  }

  // Hands back time the task did not spend on its own commands (a reboot wait).
  exclude(ms: number): void {
    if (ms > 0) this.deadline += ms
  }

  // The error for a task whose budget ran out during (or before) `step`.
  timedOut(step: string, started = true): TaskTimeoutError {
    return new TaskTimeoutError(this.host, this.task, this.timeoutMs, step, started)
  }
}

// A task ran past its playbook `timeout:`; the in-flight command was killed (or the next step
// never started). Names the task, the budget and the step, as the user wrote them.
export class TaskTimeoutError extends FleetError {
  constructor(
    readonly host: string,
    readonly task: string,
    readonly timeoutMs: number,
    readonly step: string,
    readonly started: boolean,
  ) {
    super(`[${host}] task ${task} timed out after ${formatDuration(timeoutMs)} (${started ? 'step' : 'before step'}: ${step})`)
  }
}
