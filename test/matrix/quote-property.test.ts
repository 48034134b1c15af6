import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { quote } from '../../src/shell.js'
import { createConnector } from '../../src/transport/connect.js'
import type { Transport } from '../../src/transport/types.js'
import { sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

// Fault matrix, quoting row: quote() must hand every string to the remote shell as exactly one
// word, byte for byte. Random strings go through a real OpenSSH exec into the login shell (bash)
// and, nested, into dash (Debian's /bin/sh); raw bytes 1-255 (not valid UTF-8, so not sendable as
// an ssh2 command string) go through script files run by the real bash and dash.

// Every code point 1-255 (NUL cannot be in a shell word or an exec request), weighted towards the
// characters a shell treats specially.
const special = ["'", '"', '\\', '$', '`', '(', ')', ';', '&', '|', '<', '>', '*', '?', '[', ']', '{', '}', '~', '#', '!', '\n', '\r', '\t', ' ', '\x1b', '=', '%', '-']
const anyByteChar = fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c))
const shellChar = fc.oneof(anyByteChar, fc.constantFrom(...special))
const shellString = fc.oneof(
  fc.array(shellChar, { maxLength: 40 }).map((a) => a.join('')),
  // any Unicode text without NUL (UTF-8 on the wire)
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/\0/g, '')),
)

describe('quote() through real shells (property)', () => {
  let sshd: TestSshd
  let t: Transport
  beforeAll(async () => {
    sshd = await startSshd()
    t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd))
  })
  afterAll(async () => {
    await t?.close()
    await sshd?.stop()
  })

  it('printf %s <quoted> over an ssh exec gives back the string (login shell bash, then nested dash)', async () => {
    await fc.assert(
      fc.asyncProperty(shellString, async (s) => {
        const bash = await t.exec(`printf %s ${quote(s)}`)
        expect(bash.exitCode).toBe(0)
        expect(bash.stdout).toBe(s)
        // Quoted twice: the outer word is dash's script, the inner one its argument.
        const dash = await t.exec(`dash -c ${quote(`printf %s ${quote(s)}`)}`)
        expect(dash.exitCode).toBe(0)
        expect(dash.stdout).toBe(s)
      }),
      { numRuns: 150 },
    )
  }, 300_000)

  it('several quoted words stay separate words ($# and each $n) over the exec', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(shellString, { minLength: 1, maxLength: 5 }), async (words) => {
        const r = await t.exec(`set -- ${words.map(quote).join(' ')}; echo $#; for w; do printf '%s\\0' "$w"; done`)
        const [count, ...rest] = r.stdout.split('\n')
        expect(Number(count)).toBe(words.length)
        expect(rest.join('\n')).toBe(words.map((w) => w + '\0').join(''))
      }),
      { numRuns: 80 },
    )
  }, 300_000)

  it('raw bytes 1-255 in any order survive bash and dash (latin1 script files, C locale)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpufleet-quote-'))
    try {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 64 }).map((a) => Buffer.from(a.filter((b) => b !== 0))),
          (bytes) => {
            // A latin1 string has one char per byte, so quote() sees exactly these bytes.
            const script = Buffer.from(`printf %s ${quote(bytes.toString('latin1'))}`, 'latin1')
            const file = join(dir, 's.sh')
            writeFileSync(file, script)
            for (const shell of ['bash', 'dash']) {
              const out = execFileSync(shell, [file], { env: { LC_ALL: 'C', PATH: process.env.PATH } })
              expect(out.equals(bytes), `${shell}: ${JSON.stringify(bytes.toString('latin1'))}`).toBe(true)
            }
          },
        ),
        { numRuns: 200 },
      )
      // and every byte at least once, in one string
      const all = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1))
      writeFileSync(join(dir, 'all.sh'), Buffer.from(`printf %s ${quote(all.toString('latin1'))}`, 'latin1'))
      for (const shell of ['bash', 'dash']) expect(execFileSync(shell, [join(dir, 'all.sh')], { env: { LC_ALL: 'C' } }).equals(all)).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
