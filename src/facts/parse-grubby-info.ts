import { unquote } from './unquote.js'

// One block of `grubby --info=ALL`: legacy C grubby (EL7) prints bare values and `root=` apart from
// args; grubby-bls (EL8/EL9) quotes values and adds `id=`. Non-Linux entries print `non linux entry`.
export interface GrubbyEntry {
  index: number
  kernel?: string
  args?: string
  root?: string
  initrd?: string
  title?: string
  id?: string
  nonLinux?: boolean
}

// Parses `grubby --info=ALL` into blocks, one per `index=` line.
export function parseGrubbyInfo(text: string): GrubbyEntry[] {
  const entries: GrubbyEntry[] = []
  let cur: GrubbyEntry | null = null
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim()
    if (line === '') continue
    if (line === 'non linux entry') {
      if (cur) cur.nonLinux = true
      continue
    }
    const eq = line.indexOf('=')
    if (eq < 0) continue
    const key = line.slice(0, eq)
    const value = unquote(line.slice(eq + 1))
    if (key === 'index') {
      cur = { index: Number(value) }
      entries.push(cur)
    } else if (cur && (key === 'kernel' || key === 'args' || key === 'root' || key === 'initrd' || key === 'title' || key === 'id')) {
      cur[key] = value
    }
  }
  return entries
}
