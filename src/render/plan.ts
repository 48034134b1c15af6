import { finalTasks, type HostReport, type RunSummary, type TaskReport } from '../report/summarize.js'
import { escapeControls } from '../terminal-text.js'

// The plan in words: hosts with the same plan are grouped, and each group says what would change
// (task, why, file diffs, whether it reboots), not the step scripts (those only with -v). Printed at
// the end of `plan` / `run --check` on every output but JSONL, and kept as plan.txt in the run dir.

export interface PlanOptions {
  verbose?: boolean
  maxHostsShown?: number // a group names at most this many hosts, then "+N more"
}

// Hosts grouped by identical plans, biggest group first; hosts that would fail are their own group.
export function groupPlans(summary: RunSummary, verbose = false): Array<{ hosts: string[]; tasks: TaskReport[]; kind: 'change' | 'none' | 'problem' }> {
  const groups = new Map<string, { hosts: string[]; tasks: TaskReport[]; kind: 'change' | 'none' | 'problem' }>()
  for (const h of Object.values(summary.hosts)) {
    const tasks = finalTasks(h).filter((t) => t.status === 'planned' || t.status === 'failed')
    const problem = h.outcome === 'failed' || h.outcome === 'unreachable' || h.outcome === 'not-started'
    const kind = problem ? 'problem' : tasks.length ? 'change' : 'none'
    // A problem host is grouped by its message; a plan by everything it would do.
    const key = kind === 'problem' ? `p:${problemOf(h)}` : `${kind}:${JSON.stringify(tasks.map((t) => [t.task, t.reason, t.diff ?? '', Boolean(t.reboots), verbose ? t.plannedSteps : []]))}`
    const g = groups.get(key)
    if (g) g.hosts.push(h.host)
    else groups.set(key, { hosts: [h.host], tasks, kind })
  }
  const order = { change: 0, problem: 1, none: 2 }
  return [...groups.values()].sort((a, b) => order[a.kind] - order[b.kind] || b.hosts.length - a.hosts.length)
}

export function formatPlan(summary: RunSummary, options: PlanOptions = {}): string {
  const max = options.maxHostsShown ?? 8
  const groups = groupPlans(summary, options.verbose)
  const hosts = Object.values(summary.hosts)
  const lines: string[] = ['', `PLAN for ${hosts.length} host${hosts.length === 1 ? '' : 's'} (nothing was changed)`]
  for (const g of groups) {
    const who = `${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'} (${names(g.hosts, max)})`
    lines.push('')
    if (g.kind === 'none') {
      lines.push(`${who}: nothing to change`)
      continue
    }
    if (g.kind === 'problem') {
      lines.push(`${who}: cannot be planned: ${problemOf(summary.hosts[g.hosts[0]!]!)}`)
      continue
    }
    const reboots = g.tasks.some((t) => t.reboots)
    lines.push(`${who} would change${reboots ? ', then reboot' : ''}:`)
    for (const t of g.tasks) {
      lines.push(`  - ${t.task}: ${t.reason ?? ''}${t.reboots ? ' (reboots the host)' : ''}`)
      if (t.diff) for (const l of t.diff.replace(/\n$/, '').split('\n')) lines.push(`      ${l}`)
      if (options.verbose) for (const s of t.plannedSteps ?? []) lines.push(...s.split('\n').map((l, i) => `      ${i === 0 ? 'step: ' : '      '}${l}`))
    }
  }
  const reboot = hosts.filter((h) => finalTasks(h).some((t) => t.status === 'planned' && t.reboots)).map((h) => h.host)
  lines.push('')
  lines.push(reboot.length ? `would reboot ${reboot.length} host${reboot.length === 1 ? '' : 's'} through the rolling window: ${names(reboot, max)}` : 'no host would reboot')
  if (!options.verbose && groups.some((g) => g.kind === 'change')) lines.push('(-v shows the commands each change would run)')
  return escapeControls(lines.join('\n') + '\n')
}

function problemOf(h: HostReport): string {
  return h.message ?? h.unreachable?.message ?? h.tasks.find((t) => t.status === 'failed')?.reason ?? h.outcome ?? 'unknown'
}

function names(hosts: string[], max: number): string {
  return hosts.length <= max ? hosts.join(', ') : `${hosts.slice(0, max).join(', ')} +${hosts.length - max} more`
}
