import { createRequire } from 'node:module'
import type { Builder } from 'junit-report-builder'
import { finalTasks, type RunSummary } from './summarize.js'

// The package is CommonJS whose module.exports is the builder, while its typings declare an ES
// default export; requiring it gives the object the typings describe under both loaders.
const junitBuilder = createRequire(import.meta.url)('junit-report-builder') as Builder

// junit.xml for CI systems: a host is a test suite, a task a test case. A failed task carries its
// reason (and the failing step's stderr); an unreachable host is one errored case; a host that was
// never started is one skipped case, so a CI dashboard counts every host.
export function formatJunit(summary: RunSummary): string {
  const builder = junitBuilder.newBuilder().name(`gpufleet ${summary.playbook ?? ''} ${summary.runId ?? ''}`.trim())
  for (const h of Object.values(summary.hosts)) {
    const suite = builder.testSuite().name(h.host)
    if (h.rack) suite.property('rack', h.rack)
    if (h.outcome) suite.property('outcome', h.outcome)
    const tasks = finalTasks(h)
    for (const t of tasks) {
      const tc = suite
        .testCase()
        .className(`${h.host}.${t.phase ?? 'task'}`)
        .name(t.task)
      if (t.durationMs !== undefined) tc.time(t.durationMs / 1000)
      if (t.status === 'failed') {
        const step = t.failedStep ? `step '${t.failedStep.step}'${t.failedStep.exitCode !== undefined ? ` exit ${t.failedStep.exitCode ?? 'killed'}` : ''}: ` : ''
        tc.failure(`${step}${t.reason ?? 'failed'}`, 'TaskFailed')
        if (t.failedStep?.stderrTail?.length) tc.standardError(t.failedStep.stderrTail.join('\n'))
      } else if (t.status === 'running') tc.error('the run ended while this task was running', 'Interrupted')
      else tc.standardOutput(`${t.status}: ${t.reason ?? ''}`)
    }
    if (h.outcome === 'unreachable' && !tasks.some((t) => t.status === 'failed'))
      suite
        .testCase()
        .className(`${h.host}.connect`)
        .name('connect')
        .error(h.unreachable?.message ?? h.message ?? 'unreachable', 'Unreachable')
    else if (h.outcome === 'not-started')
      suite
        .testCase()
        .className(`${h.host}.run`)
        .name('not started')
        .skipped()
        .standardOutput(h.message ?? '')
    else if (h.outcome === 'failed' && !tasks.some((t) => t.status === 'failed'))
      suite
        .testCase()
        .className(`${h.host}.run`)
        .name('host')
        .failure(h.message ?? 'failed', 'HostFailed')
  }
  return builder.build()
}
