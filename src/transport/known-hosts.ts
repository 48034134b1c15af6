// OpenSSH known_hosts: parse (plain, comma lists, [host]:port, hashed |1|salt|hash, @revoked,
// @cert-authority), check a presented host key, and record a new one. Pure except the file I/O
// helpers at the bottom.
import { createHash, createHmac } from 'node:crypto'
import { constants } from 'node:fs'
import { appendFile, mkdir, open, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { matchPatternList } from './ssh-patterns.js'

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

// The name ssh looks up and records: `host` on port 22, else `[host]:port`. Lowercased, as ssh
// lowercases the host before it matches or hashes it (a hashed `|1|` entry only ever holds the
// lowercase form, so `LocalHost` must look up `localhost`).
export function knownHostName(host: string, port: number): string {
  const h = host.toLowerCase()
  return port === 22 ? h : `[${h}]:${port}`
}

// True when the entry's names (plain patterns or hashed) cover `name` (from knownHostName).
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name.toLowerCase()).digest()
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
  | { status: 'unknown' } // no plain entry of any type for this name: the only case that may be recorded
  | { status: 'changed'; entry: KnownHostEntry } // entries exist for the name, none holds this key
  | { status: 'revoked'; entry: KnownHostEntry }

// Decides what a presented key means for `name`, over the entries of every known_hosts file read
// (user and global: a @revoked line in any of them wins). A host whose known keys are all of other
// types is not "new": a server that suddenly offers only an ecdsa key where ed25519 is on file is
// as suspicious as one with a different ed25519 key, so it is a change (the entry of the same type
// is named when there is one, else the first entry on file). @cert-authority lines are handled by
// the caller (host-cert.ts): they vouch for certificates, never for a plain key.
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, blob: Buffer): HostKeyVerdict {
  const keyType = blobKeyType(blob)
  const mine = entries.filter((e) => e.marker !== 'cert-authority' && entryMatches(e, name))
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(blob))
  if (revoked) return { status: 'revoked', entry: revoked }
  const plain = mine.filter((e) => !e.marker)
  const same = plain.find((e) => e.key.equals(blob))
  if (same) return { status: 'ok', entry: same }
  const onFile = plain.find((e) => e.keyType === keyType) ?? plain[0]
  if (onFile) return { status: 'changed', entry: onFile }
  return { status: 'unknown' }
}

// True when `blob` (a host key, or a CA key) is listed @revoked for `name` in any entry.
export function isRevoked(entries: readonly KnownHostEntry[], name: string, blob: Buffer): KnownHostEntry | undefined {
  return entries.find((e) => e.marker === 'revoked' && e.key.equals(blob) && entryMatches(e, name))
}

// Key types already known for `name`, so the handshake can prefer them (as OpenSSH orders
// HostKeyAlgorithms) instead of negotiating a type we have no entry for.
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => !e.marker && entryMatches(e, name)).map((e) => e.keyType))]
}

// The plain message for a changed host key. Worded for the operator who has to act on it; names
// both key types and the file, since a type switch (ed25519 on file, ecdsa offered) is a change too.
export function changedKeyMessage(host: string, blob: Buffer, entry: KnownHostEntry): string {
  const offered = blobKeyType(blob)
  const held = offered === entry.keyType ? 'a different key' : `a ${entry.keyType} key and no ${offered} key`
  return `host key for ${host} has CHANGED (${offered} ${fingerprint(blob)}); ` + `known_hosts ${entry.file}:${entry.line} has ${held}. Possible man-in-the-middle attack. ` + `Remove the old line if the change is expected.`
}

// Reads and parses a known_hosts file; undefined when it does not exist (so a file named
// explicitly can be warned about).
export async function readKnownHostsFile(file: string): Promise<KnownHostEntry[] | undefined> {
  try {
    return parseKnownHosts(await readFile(file, 'utf8'), file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

const appendQueue = new Map<string, Promise<unknown>>()

// Appends `name keytype base64` to the file (created 0600 in a 0700 directory if missing; an
// existing file keeps its mode). Appends to one file are serialized within this process.
export function appendKnownHost(file: string, name: string, blob: Buffer): Promise<KnownHostEntry> {
  const previous = appendQueue.get(file) ?? Promise.resolve()
  const next = previous
    .catch(() => undefined)
    .then(async () => {
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
