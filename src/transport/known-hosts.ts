// OpenSSH known_hosts: parse (plain, comma lists, [host]:port, hashed |1|salt|hash, @revoked,
// @cert-authority), check a presented host key, and record a new one. Pure except the file I/O
// helpers at the bottom.
import { createHash, createHmac } from 'node:crypto'
import { constants } from 'node:fs'
import { appendFile, mkdir, open, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { matchPatternList } from './host-pattern.js'

export interface KnownHostEntry {
  file: string
  line: number // 1-based
  marker?: 'revoked' | 'cert-authority'
  patterns?: string[] // plain entries: the comma list
  hashed?: { salt: Buffer; hash: Buffer } // |1|salt|hash entries
  keyType: string
  key: Buffer // the raw public key blob (what the server sends)
}

// Parses known_hosts text; malformed lines are skipped, as ssh does.
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.replace(/\r$/, '').trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const fields = trimmed.split(/\s+/)
    let marker: KnownHostEntry['marker']
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority'
      fields.shift()
    } else if (fields[0]?.startsWith('@')) {
      continue // an unknown marker: never trust it
    }
    const [names, keyType, keyText] = fields
    if (!names || !keyType || !keyText) continue
    const key = Buffer.from(keyText, 'base64')
    if (key.length === 0) continue
    const entry: KnownHostEntry = { file, line: i + 1, keyType, key, ...(marker ? { marker } : {}) }
    if (names.startsWith('|1|')) {
      const [, , salt, hash] = names.split('|')
      if (!salt || !hash) continue
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }
    } else {
      entry.patterns = names.split(',').filter(Boolean)
    }
    entries.push(entry)
  }
  return entries
}

// The name ssh looks up and records: `host` on port 22, else `[host]:port`.
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

// True when the entry's names (plain patterns or hashed) cover `name` (from knownHostName).
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest()
    return digest.length === entry.hashed.hash.length && digest.equals(entry.hashed.hash)
  }
  return matchPatternList(entry.patterns ?? [], name)
}

// The key type stored inside a raw public key blob (its first SSH string).
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown'
  const len = blob.readUInt32BE(0)
  return blob.subarray(4, 4 + len).toString('latin1')
}

// `SHA256:...` as ssh-keygen -l prints it.
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
}

export type HostKeyVerdict =
  | { status: 'ok'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypes: string[] } // no entry for this key type (maybe for others)
  | { status: 'changed'; entry: KnownHostEntry } // an entry of the same type holds a different key
  | { status: 'revoked'; entry: KnownHostEntry }

// Decides what a presented key means for `name`. Certificate authorities are not supported, so
// @cert-authority lines never vouch for a key (a plain host key must still be known).
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, blob: Buffer): HostKeyVerdict {
  const keyType = blobKeyType(blob)
  const mine = entries.filter((e) => e.marker !== 'cert-authority' && entryMatches(e, name))
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(blob))
  if (revoked) return { status: 'revoked', entry: revoked }
  const plain = mine.filter((e) => !e.marker)
  const same = plain.find((e) => e.key.equals(blob))
  if (same) return { status: 'ok', entry: same }
  const sameType = plain.find((e) => e.keyType === keyType)
  if (sameType) return { status: 'changed', entry: sameType }
  return { status: 'unknown', otherTypes: [...new Set(plain.map((e) => e.keyType))] }
}

// Key types already known for `name`, so the handshake can prefer them (as OpenSSH orders
// HostKeyAlgorithms) instead of negotiating a type we have no entry for.
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => !e.marker && entryMatches(e, name)).map((e) => e.keyType))]
}

// The plain message for a changed host key. Worded for the operator who has to act on it.
export function changedKeyMessage(host: string, blob: Buffer, entry: KnownHostEntry): string {
  return (
    `host key for ${host} has CHANGED (${blobKeyType(blob)} ${fingerprint(blob)}); ` +
    `known_hosts ${entry.file}:${entry.line} has a different key. Possible man-in-the-middle attack. ` +
    `Remove the old line if the change is expected.`
  )
}

// Reads and parses a known_hosts file; a missing file is empty.
export async function readKnownHosts(file: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(file, 'utf8'), file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

const appendQueue = new Map<string, Promise<unknown>>()

// Appends `name keytype base64` to the file (created 0600 in a 0700 directory if missing; an
// existing file keeps its mode). Appends to one file are serialized within this process.
export function appendKnownHost(file: string, name: string, blob: Buffer): Promise<KnownHostEntry> {
  const previous = appendQueue.get(file) ?? Promise.resolve()
  const next = previous.catch(() => undefined).then(async () => {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    let prefix = ''
    let lineCount = 0
    try {
      const text = await readFile(file, 'utf8')
      // Two connections to one address may both have found the key unknown: record it once.
      const already = checkHostKey(parseKnownHosts(text, file), name, blob)
      if (already.status === 'ok') return already.entry
      if (text.length > 0 && !text.endsWith('\n')) prefix = '\n'
      lineCount = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      const handle = await open(file, constants.O_CREAT | constants.O_WRONLY | constants.O_APPEND, 0o600)
      await handle.close()
    }
    const keyType = blobKeyType(blob)
    await appendFile(file, `${prefix}${name} ${keyType} ${blob.toString('base64')}\n`)
    return { file, line: lineCount + 1, patterns: [name], keyType, key: blob } satisfies KnownHostEntry
  })
  appendQueue.set(file, next)
  return next
}
