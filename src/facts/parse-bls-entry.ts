import { unquote } from './unquote.js'

// A Boot Loader Specification entry (/boot/loader/entries/<id>.conf): `key value` lines.
export interface BlsEntry {
  id: string // file name without .conf: what grubenv saved_entry names on EL8+
  file: string
  title?: string
  version?: string
  linux?: string
  initrd?: string
  options?: string
}

// Parses one BLS file. EL9 tooling may quote values; comments and unknown keys are ignored.
export function parseBlsEntry(file: string, text: string): BlsEntry {
  const base = file.split('/').pop() ?? file
  const entry: BlsEntry = { id: base.replace(/\.conf$/, ''), file }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(\S+)\s+(.*)$/.exec(line)
    if (!m) continue
    const key = m[1]
    if (key === 'title' || key === 'version' || key === 'linux' || key === 'initrd' || key === 'options') entry[key] = unquote(m[2])
  }
  return entry
}
