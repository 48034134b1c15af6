import { closeSync, linkSync, writeSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openAppendPrivate, writeFileAtomic } from '../src/atomic-file.js'
import { writeRunFile } from '../src/runner/journal.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gpufleet-atomic-'))
  dirs.push(d)
  return d
}

describe('writing local state files', () => {
  it('replaces a file by rename: a reader holding the old file (a hard link) still sees it whole', () => {
    const dir = tmp()
    writeRunFile(dir, 'options.json', { v: 1 })
    linkSync(join(dir, 'options.json'), join(dir, 'old'))
    writeRunFile(dir, 'options.json', { v: 2 })
    expect(JSON.parse(readFileSync(join(dir, 'old'), 'utf8'))).toEqual({ v: 1 })
    expect(JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8'))).toEqual({ v: 2 })
    expect(statSync(join(dir, 'options.json')).ino).not.toBe(statSync(join(dir, 'old')).ino)
    expect(readdirSync(dir).sort()).toEqual(['old', 'options.json']) // no temp file left behind
  })

  it('creates files 0600 whatever the umask and replaces a symlink instead of writing through it', () => {
    const dir = tmp()
    writeFileSync(join(dir, 'target'), 'keep\n', { mode: 0o644 })
    symlinkSync(join(dir, 'target'), join(dir, 'report.html'))
    const old = process.umask(0)
    try {
      writeFileAtomic(join(dir, 'report.html'), 'new\n')
    } finally {
      process.umask(old)
    }
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('keep\n')
    expect(lstatSync(join(dir, 'report.html')).isFile()).toBe(true)
    expect(statSync(join(dir, 'report.html')).mode & 0o777).toBe(0o600)
  })

  it('appends to a private file, refusing a symlink or a hard-linked file', () => {
    const dir = tmp()
    const fd = openAppendPrivate(join(dir, 'events.jsonl'))
    writeSync(fd, 'x\n')
    closeSync(fd)
    expect(statSync(join(dir, 'events.jsonl')).mode & 0o777).toBe(0o600)
    writeFileSync(join(dir, 'target'), 'keep\n')
    symlinkSync(join(dir, 'target'), join(dir, 'journal.jsonl'))
    expect(() => openAppendPrivate(join(dir, 'journal.jsonl'))).toThrow(/is a symlink; refusing to write through it/)
    linkSync(join(dir, 'target'), join(dir, 'linked.jsonl'))
    expect(() => openAppendPrivate(join(dir, 'linked.jsonl'))).toThrow(/other hard links/)
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('keep\n')
  })
})
