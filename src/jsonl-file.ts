import { existsSync, readFileSync } from 'node:fs'

// Reads an append-only JSON Lines file (journal, events). A torn line (the controller was killed
// mid-write) is skipped, never guessed at; a missing file is empty.
export function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return []
  const records: T[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    try {
      records.push(JSON.parse(line) as T)
    } catch {
      // torn line
    }
  }
  return records
}
