import type { Inventory, InventoryHost } from './types.js'

// A plain-text table of resolved hosts: where gpufleet will connect, as whom, and what it expects.
export function hostTable(inventory: Inventory, selected: InventoryHost[]): string {
  const rows = selected.map((h) => [
    h.name,
    h.connection === 'local' ? 'local' : h.ssh.port === undefined ? h.ssh.hostname : `${h.ssh.hostname}:${h.ssh.port}`,
    h.connection === 'local' ? '-' : (h.ssh.user ?? '(ssh config)'),
    h.rack ?? '-',
    gpus(h),
    h.assignments.length > 0 ? h.assignments.map((a) => `${a.domain}(${a.addresses?.length ?? a.count})`).join(' ') : '-',
    h.groups.filter((g) => g !== 'all').join(',') || '-',
    h.source ?? '-', // file:line, or the script / ansible-inventory output it came from
    notes(h),
  ])
  const header = ['HOST', 'ADDRESS', 'USER', 'RACK', 'GPUS', 'VMS', 'GROUPS', 'SOURCE', 'NOTES']
  const keep = header.map((_, i) => i < 3 || rows.some((r) => r[i] !== '-'))
  const table = [header, ...rows].map((r) => r.filter((_, i) => keep[i]))
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)))
  const text = table.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  )
  const racks = new Set(selected.map((h) => h.rack).filter((r) => r !== undefined))
  const unracked = selected.filter((h) => h.rack === undefined).length
  const summary =
    `${selected.length} of ${inventory.hosts.length} hosts` +
    (racks.size > 0 ? ` in ${racks.size} rack${racks.size === 1 ? '' : 's'}` : '') +
    // Hosts without a rack share one failure domain for --per-rack (see rack-by.ts).
    (racks.size > 0 && unracked > 0 ? `, ${unracked} without a rack (one shared failure domain)` : '') +
    ` (${inventory.file})`
  return [...text, '', summary].join('\n')
}

function gpus(h: InventoryHost): string {
  if (!h.expectedGpus) return '-'
  // Addresses are in --json; the table keeps to counts so it stays readable.
  return String(h.expectedGpus.addresses?.length ?? h.expectedGpus.count)
}

function notes(h: InventoryHost): string {
  const out: string[] = []
  if (h.become) out.push(`become=${h.becomeUser}`)
  if (h.ssh.proxyJump) out.push(`via=${h.ssh.proxyJump}`)
  if (h.ssh.identityFiles.length > 0) out.push(`key=${h.ssh.identityFiles.join(',')}`)
  if (h.ssh.knownHostsFile) out.push(`known_hosts=${h.ssh.knownHostsFile}`)
  if (h.ssh.strictHostKeyChecking) out.push(`StrictHostKeyChecking=${h.ssh.strictHostKeyChecking}`)
  return out.join(' ') || '-'
}
