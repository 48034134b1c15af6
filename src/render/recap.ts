import { finalTasks, type RunSummary } from '../report/summarize.js'
import { recapNote } from './hypervisor-lines.js'
import { escapeControls } from '../terminal-text.js'

// The end-of-run recap (Ansible's PLAY RECAP): one row per host, then totals, then what to do next.
export function formatRecap(summary: RunSummary, runDir?: string): string {
  const hosts = Object.values(summary.hosts)
  const width = Math.max(4, ...hosts.map((h) => h.host.length))
  const lines: string[] = ['', summary.check ? 'CHECK RECAP (nothing was changed)' : 'RECAP']
  for (const h of hosts) {
    const tasks = finalTasks(h)
    const count = (s: string) => tasks.filter((t) => t.status === s).length
    const rebooted = h.reboot?.upAt ? ' rebooted' : h.reboot?.skipped ? ' reboot-skipped' : ''
    const wouldReboot = summary.check && tasks.some((t) => t.status === 'planned' && t.reboots) ? ' would-reboot' : ''
    const changed = summary.check ? `would-change=${count('planned')}` : `changed=${count('changed')}`
    lines.push(`${h.host.padEnd(width)}  ${(h.outcome ?? '?').padEnd(11)} ok=${count('noop')} ${changed} failed=${count('failed')}${rebooted}${wouldReboot}${recapNote(h.hypervisor)}${h.message ? `  ${h.message.split('\n')[0]}` : ''}`)
  }
  const c = summary.counts
  lines.push('')
  lines.push(`${hosts.length} hosts: ${c.ok} ok, ${c.changed} ${summary.check ? 'would change' : 'changed'}, ${c.failed} failed, ${c.unreachable} unreachable, ${c['not-started']} not started${c['needs-drain'] ? `, ${c['needs-drain']} need drain` : ''}${c.blocked ? `, ${c.blocked} blocked` : ''}`)
  // Which hosts would reboot is in the plan printed above (render/plan.ts).
  if (summary.check) lines.push('Check mode: nothing was changed on any host.')
  if (c['not-started'] > 0 && !summary.check) lines.push(`${c['not-started']} host(s) were not started; fix the failures, then re-run or \`gpufleet resume ${summary.runId ?? '<run-id>'}\` to finish them.`)
  if (runDir) lines.push(`run directory: ${runDir}`)
  return escapeControls(lines.join('\n') + '\n')
}
