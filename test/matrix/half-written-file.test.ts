import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { atomicWriteScript } from '../../src/transport/atomic-write.js'

// Fault matrix, "connection dropped mid-command": when a connection drops while a file's content is
// still being sent, the remote `cat` sees a plain EOF. The write script must then refuse to rename
// the short temp file over the target (found by the matrix: it used to install the half file).

const dir = mkdtempSync(join(tmpdir(), 'gpufleet-halfwrite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const content = Buffer.from('blacklist nouveau\noptions nouveau modeset=0\n')
const runScript = (target: string, stdin: Buffer, size?: number) => spawnSync('bash', ['-c', atomicWriteScript(target, { mode: '0644', ...(size !== undefined ? { size } : {}) })], { input: stdin, encoding: 'utf8' })

describe('atomic write with input cut short', () => {
  it('the old file stays, no temp file is left, and the error says how much arrived', () => {
    const target = join(dir, 'blacklist-nouveau.conf')
    writeFileSync(target, 'old\n')
    const r = runScript(target, content.subarray(0, 10), content.length)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`gpufleet: ${target}: input cut short: got 10 of ${content.length} bytes; not replaced`)
    expect(readFileSync(target, 'utf8')).toBe('old\n')
    expect(readdirSync(dir)).toEqual(['blacklist-nouveau.conf'])
  })

  it('the whole content replaces the file (and an empty file is a size too)', () => {
    const target = join(dir, 'whole.conf')
    expect(runScript(target, content, content.length).status).toBe(0)
    expect(readFileSync(target)).toEqual(content)
    expect(runScript(target, Buffer.alloc(0), 0).status).toBe(0)
    expect(readFileSync(target, 'utf8')).toBe('')
  })
})
