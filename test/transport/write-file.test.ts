import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CommandError } from '../../src/errors.js'
import { quote } from '../../src/shell.js'
import { createConnector } from '../../src/transport/connect.js'
import { createLocalTransport } from '../../src/transport/local.js'
import type { Transport } from '../../src/transport/types.js'
import { sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

describe('atomic writeFile and quoting through a real remote shell', () => {
  let sshd: TestSshd
  let t: Transport
  let dir: string
  beforeAll(async () => {
    sshd = await startSshd()
    t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd, { become: true }))
    dir = (await t.exec('mktemp -d /tmp/gpufleet-wf-XXXXXX')).stdout.trim()
    await t.exec(`chmod 777 ${quote(dir)}`)
  })
  afterAll(async () => {
    await t?.exec(`rm -rf ${quote(dir)}`, { become: true })
    await t?.close()
    await sshd?.stop()
  })

  const listDir = async (d: string) => (await t.exec(`ls -A ${quote(d)}`, { become: true })).stdout.split('\n').filter(Boolean)

  it('writes content, mode and owner under sudo, leaving no temp file', async () => {
    const path = `${dir}/conf d/vfio 'x'.conf`
    await t.exec(`mkdir -p ${quote(`${dir}/conf d`)}`, { become: true })
    const content = Buffer.concat([Buffer.from('options vfio-pci disable_idle_d3=1\n'), randomBytes(4096)])
    await t.writeFile(path, content, { mode: '0640', owner: 'root:root' })
    const st = await t.exec(`stat -c '%a %U:%G %s' ${quote(path)} && sha256sum < ${quote(path)}`, { become: true })
    const { createHash } = await import('node:crypto')
    expect(st.stdout).toBe(`640 root:root ${content.length}\n${createHash('sha256').update(content).digest('hex')}  -\n`)
    expect(await listDir(`${dir}/conf d`)).toEqual([`vfio 'x'.conf`])
  })

  it('keeps an existing file mode when none is given, and replaces by rename (new inode)', async () => {
    const path = `${dir}/keep`
    await t.exec(`printf old > ${quote(path)} && chmod 600 ${quote(path)}`, { become: true })
    const before = (await t.exec(`stat -c %i ${quote(path)}`)).stdout
    await t.writeFile(path, 'new\n')
    expect((await t.exec(`stat -c '%a' ${quote(path)}; cat ${quote(path)}`, { become: true })).stdout).toBe('600\nnew\n')
    expect((await t.exec(`stat -c %i ${quote(path)}`)).stdout).not.toBe(before)
  })

  it('fails with CommandError and cleans up when the target directory is missing or not writable', async () => {
    await expect(t.writeFile(`${dir}/missing/dir/file`, 'x')).rejects.toBeInstanceOf(CommandError)
    await t.exec(`mkdir -p ${quote(`${dir}/ro`)} && chmod 755 ${quote(`${dir}/ro`)}`, { become: true })
    await expect(t.writeFile(`${dir}/ro/f`, 'x', { become: false })).rejects.toBeInstanceOf(CommandError)
    expect(await listDir(`${dir}/ro`)).toEqual([])
  })

  it('rejects a bad mode before touching the host', async () => {
    await expect(t.writeFile(`${dir}/m`, 'x', { mode: '0644; rm -rf /' })).rejects.toThrow(/bad file mode/)
  })

  it('round-trips hostile values through quote() and the remote shell unchanged', async () => {
    const hostile = ['', ' ', "it's", `"double" 'single' \\back\\slash`, '$(touch /tmp/gpufleet-pwned)', '`touch /tmp/gpufleet-pwned`', '; rm -rf / ;', 'a\nb\r\nc\n', '$HOME ${HOME} $((1+1)) !! * ? [a] ~ #', '-n', 'ünïcødé ✓ 日本語 \u{1F680}', '\t\v\f', "'''"]
    for (let i = 0; i < 20; i++) {
      // Random text without NUL: control bytes, ASCII punctuation and any Unicode scalar value
      // (commands are strings, sent as UTF-8).
      const points = [...randomBytes(48)].map((b, j) => (j % 3 === 0 ? (b % 127) + 1 : j % 3 === 1 ? 0x20 + (b % 95) : 0x80 + ((b * 4099 + j * 7919) % 0x10ff7f)))
      hostile.push(String.fromCodePoint(...points.map((p) => (p >= 0xd800 && p <= 0xdfff ? p + 0x800 : p))))
    }
    for (const value of hostile) {
      // Plain, and once more through sudo's `sh -c <quoted>` wrapper (quoted twice).
      for (const become of [false, true]) {
        const r = await t.exec(`printf %s ${quote(value)} | od -An -tx1 -v`, { become })
        const hex = r.stdout.replace(/\s+/g, '')
        const sent = Buffer.from(value, 'utf8').toString('hex')
        expect(hex, `${JSON.stringify(value)} become=${become}`).toBe(sent)
      }
    }
    expect((await t.exec('test -e /tmp/gpufleet-pwned; echo $?')).stdout).toBe('1\n')
  })
})

describe('local transport', () => {
  it('returns the same result shape, streams lines, times out and writes atomically', async () => {
    const t = createLocalTransport('localhost')
    const lines: string[] = []
    const r = await t.exec('echo out; echo err >&2; cat; exit 4', { stdin: 'in\n', onLine: (s, l) => lines.push(`${s}:${l}`) })
    expect(r).toMatchObject({ command: 'echo out; echo err >&2; cat; exit 4', exitCode: 4, signal: null, stdout: 'out\nin\n', stderr: 'err\n' })
    expect(lines).toEqual(expect.arrayContaining(['stdout:out', 'stdout:in', 'stderr:err']))
    const slow = await t.exec('sleep 10', { timeoutMs: 200 })
    expect(slow.exitCode).toBeNull()
    expect(slow.stderr).toMatch(/timed out after 200 ms/)
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 100)
    const aborted = await t.exec('sleep 10; echo never', { signal: ac.signal })
    expect(aborted).toMatchObject({ exitCode: null, stdout: '' })
    expect(aborted.stderr).toMatch(/aborted/)
    const utf = await t.exec('printf "%s\\n" "ünï ✓"', { onLine: (s, l) => lines.push(`${s}:${l}`) })
    expect(utf.stdout).toBe('ünï ✓\n')
    expect(lines).toContain('stdout:ünï ✓')
    const dir = (await t.exec('mktemp -d')).stdout.trim()
    await t.writeFile(`${dir}/f`, 'hello\n', { mode: '0600' })
    expect((await t.exec(`stat -c %a ${quote(`${dir}/f`)}; cat ${quote(`${dir}/f`)}; ls -A ${quote(dir)}`)).stdout).toBe('600\nhello\nf\n')
    await t.exec(`rm -rf ${quote(dir)}`)
    expect(t.connected).toBe(true)
    await t.close()
    expect(t.connected).toBe(false)
  })
})
