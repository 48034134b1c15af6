// Reads the simulator's own record (rack.events()) to measure what the rack went through — the
// ground truth for the window, independent of the runner's own events.

// The part of a simulator record entry this needs.
export interface SimRecordEntry {
  t: number
  host: string
  kind: string
}

// The most hosts down at once, fleet-wide and within one rack, over the record.
export function maxDownFromSim(record: readonly SimRecordEntry[], rackOf: Map<string, string>): { total: number; perRack: number } {
  const down = new Set<string>()
  const byRack = new Map<string, number>()
  let total = 0
  let perRack = 0
  for (const e of [...record].sort((a, b) => a.t - b.t)) {
    const rack = rackOf.get(e.host) ?? '?'
    if (e.kind === 'down' && !down.has(e.host)) {
      down.add(e.host)
      byRack.set(rack, (byRack.get(rack) ?? 0) + 1)
    } else if ((e.kind === 'up' || e.kind === 'bricked') && down.has(e.host)) {
      // A bricked host stays down for the rack, but the runner's slot is what the limit governs:
      // it is counted down until the record says otherwise.
      if (e.kind === 'bricked') continue
      down.delete(e.host)
      byRack.set(rack, (byRack.get(rack) ?? 0) - 1)
    }
    total = Math.max(total, down.size)
    perRack = Math.max(perRack, byRack.get(rack) ?? 0)
  }
  return { total, perRack }
}
