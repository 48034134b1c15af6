import type { RunSummary } from './summarize.js'

// The hosts to retry (failed or unreachable), one per line: usable as `--limit @retry.txt`, like
// Ansible's .retry files. Not-started hosts are left to `gpufleet resume`, which finishes them.
export function retryHosts(summary: RunSummary): string[] {
  return Object.values(summary.hosts)
    .filter((h) => h.outcome === 'failed' || h.outcome === 'unreachable')
    .map((h) => h.host)
}

export function formatRetry(summary: RunSummary): string {
  const hosts = retryHosts(summary)
  return hosts.length ? hosts.join('\n') + '\n' : ''
}

// The exact command that retries the failed hosts of this run.
export function retryCommand(summary: RunSummary, retryFile: string): string {
  const inventory = summary.inventory ? ` -i ${shellWord(summary.inventory)}` : ''
  return `gpufleet run ${shellWord(summary.playbook ?? 'PLAYBOOK')}${inventory} --limit @${shellWord(retryFile)}`
}

// Quotes a word for a copy-paste shell command only when it needs it.
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`
}
