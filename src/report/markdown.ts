import { formatPlan } from '../render/plan.js'
import { retryCommand, retryHosts } from './retry.js'
import { finalTasks, type HostReport, type RunSummary } from './summarize.js'
import { escapeControls } from '../terminal-text.js'

// summary.md: what to hand to the team. The recap table (Ansible's PLAY RECAP as a table), what
// changed, what failed and why, and what to do next (the exact commands).

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
const mins = (ms: number | undefined) => (ms === undefined ? '-' : ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`)

export function formatMarkdown(summary: RunSummary, paths: { runDir?: string; retryFile?: string } = {}): string {
  const hosts = Object.values(summary.hosts)
  const c = summary.counts
  const out: string[] = []
  out.push(`# gpufleet ${summary.check ? 'plan' : 'run'} ${summary.runId ?? ''}: ${summary.playbook ?? ''}`)
  out.push('')
  const started = summary.startedAt !== undefined ? new Date(summary.startedAt).toISOString() : '-'
  out.push(`- started ${started}, took ${mins(summary.durationMs)}${summary.parts.length > 1 ? ` over ${summary.parts.length} parts (resumed ${summary.parts.length - 1}×)` : ''}${summary.interrupted ? ', interrupted' : ''}`)
  out.push(`- ${hosts.length} hosts: ${c.ok} ok, ${c.changed} ${summary.check ? 'would change' : 'changed'}, ${c.failed} failed, ${c.unreachable} unreachable, ${c['not-started']} not started`)
  if (summary.check) out.push('- check mode: nothing was changed on any host')
  for (const b of summary.budget) out.push(`- ${b.scope === 'fleet' ? `failure budget exceeded (${b.failed} failed, ${b.allowed} allowed): no new reboots started` : `${b.scope} paused after ${b.failed} failure(s)`}`)
  out.push('')
  out.push('## Recap')
  out.push('')
  out.push('| host | rack | outcome | ok | changed | failed | skipped | rebooted | note |')
  out.push('| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |')
  for (const h of hosts) {
    const tasks = finalTasks(h)
    const n = (s: string) => tasks.filter((t) => t.status === s).length
    const rebooted = h.reboot?.upAt ? `yes (${mins(h.reboot.waitedMs)})` : h.reboot?.skipped ? 'earlier part' : summary.check && tasks.some((t) => t.reboots) ? 'would' : ''
    out.push(`| ${cell(h.host)} | ${cell(h.rack ?? '')} | ${h.outcome ?? '?'} | ${n('noop')} | ${n(summary.check ? 'planned' : 'changed')} | ${n('failed')} | ${h.outcome === 'not-started' || h.outcome === 'unreachable' ? 1 : 0} | ${rebooted} | ${cell((h.message ?? '').split('\n')[0]!)} |`)
  }
  if (summary.check) {
    out.push('')
    out.push('## Plan')
    out.push('')
    out.push('```')
    out.push(formatPlan(summary).trim())
    out.push('```')
  } else {
    const changed = hosts.flatMap((h) =>
      finalTasks(h)
        .filter((t) => t.status === 'changed')
        .map((t) => ({ h, t })),
    )
    out.push('')
    out.push('## What changed')
    out.push('')
    if (!changed.length) out.push('Nothing: every host was already as the playbook wants it.')
    const byTask = new Map<string, HostReport[]>()
    for (const { h, t } of changed) byTask.set(t.task, [...(byTask.get(t.task) ?? []), h])
    for (const [task, hs] of byTask) out.push(`- **${task}** on ${hs.length} host${hs.length === 1 ? '' : 's'}: ${hs.map((h) => h.host).join(', ')}`)
  }
  const failed = hosts.filter((h) => h.outcome === 'failed' || h.outcome === 'unreachable')
  out.push('')
  out.push('## What failed')
  out.push('')
  if (!failed.length) out.push('Nothing.')
  for (const h of failed) {
    const t = finalTasks(h).find((x) => x.status === 'failed')
    out.push(`### ${h.host} (${h.outcome}${h.rack ? `, rack ${h.rack}` : ''})`)
    out.push('')
    if (t?.failedStep) {
      out.push(`Task \`${t.task}\` failed at step **${t.failedStep.step}**${t.failedStep.exitCode !== undefined ? ` (exit ${t.failedStep.exitCode ?? 'killed'})` : ''}.`)
      if (t.failedStep.stderrTail?.length) out.push('', '```', ...t.failedStep.stderrTail, '```')
    } else if (t) out.push(`Task \`${t.task}\`: ${t.reason ?? ''}`)
    else out.push(h.message ?? h.unreachable?.message ?? '')
    out.push('')
  }
  out.push('## Next')
  out.push('')
  const retry = retryHosts(summary)
  if (retry.length && paths.retryFile) out.push(`- Fix the failures above, then retry only those hosts: \`${retryCommand(summary, paths.retryFile)}\``)
  if (c['not-started'] > 0 && !summary.check) out.push(`- ${c['not-started']} host(s) were not started: \`gpufleet resume ${summary.runId ?? '<run-id>'}\` finishes them.`)
  if (summary.check && (c.changed > 0 || hosts.some((h) => finalTasks(h).some((t) => t.status === 'planned')))) out.push(`- Apply the plan: \`gpufleet run ${summary.playbook ?? ''}${summary.inventory ? ` -i ${summary.inventory}` : ''}${summary.limit ? ` --limit '${summary.limit}'` : ''}\``)
  if (!retry.length && !c['not-started'] && !summary.check) out.push('- Nothing to do: every host finished.')
  if (paths.runDir) out.push(`- Details per host: \`${paths.runDir}/hosts/<host>.json\`; the rack view and timeline: \`${paths.runDir}/report.html\``)
  // Read with cat or a pager as often as rendered: no remote control character survives.
  return escapeControls(out.join('\n') + '\n')
}
