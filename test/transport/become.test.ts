import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConnector } from '../../src/transport/connect.js'
import { wrapBecome } from '../../src/transport/become.js'
import type { CommandResult } from '../../src/transport/types.js'
import { PW_USER, PW_USER_PASSWORD, sshdHost, startSshd, type TestSshd } from '../helpers/sshd.js'

const everything = (r: CommandResult) => JSON.stringify(r)

describe('become through sudo on real OpenSSH', () => {
  let sshd: TestSshd
  beforeAll(async () => {
    sshd = await startSshd()
  })
  afterAll(async () => {
    await sshd?.stop()
  })

  it('runs as the login user unless asked, and as root with sudo -n when asked', async () => {
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd, { become: true }))
    expect((await t.exec('id -un')).stdout).toBe('gpufleet-test\n')
    const r = await t.exec('id -un; echo "$1-$(printf %s "a b")"', { become: true })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toBe('root\n-a b\n')
    expect(r.command).toBe('id -un; echo "$1-$(printf %s "a b")"')
    // stdin reaches the command under sudo.
    expect((await t.exec('cat', { become: true, stdin: 'hello\n' })).stdout).toBe('hello\n')
    // A failing command under sudo stays a value with its own exit code.
    expect((await t.exec('exit 7', { become: true })).exitCode).toBe(7)
    await t.close()
  })

  it('does not use sudo when the host does not ask for become', async () => {
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd))
    expect((await t.exec('id -un', { become: true })).stdout).toBe('gpufleet-test\n')
    await t.close()
  })

  it('explains clearly when sudo needs a password that was not given', async () => {
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null }).connect(sshdHost(sshd, { user: PW_USER, become: true }))
    const r = await t.exec('id -un', { become: true })
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/sudo on sshd-\d+ needs a password to become root: pass --ask-become-pass/)
    await t.close()
  })

  it('feeds the become password over stdin only, and never shows it', async () => {
    const lines: string[] = []
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, becomePassword: PW_USER_PASSWORD }).connect(sshdHost(sshd, { user: PW_USER, become: true }))
    const r = await t.exec('id -un; cat; echo to-stderr >&2', { become: true, stdin: 'caller stdin\n', onLine: (s, l) => lines.push(`${s}:${l}`) })
    expect(r).toMatchObject({ exitCode: 0, stdout: 'root\ncaller stdin\n', stderr: 'to-stderr\n' })
    expect(lines).toEqual(['stdout:root', 'stdout:caller stdin', 'stderr:to-stderr'])
    // A command that echoes all the stdin it gets sees none of the password: sudo took that line.
    const echo = await t.exec('cat', { become: true })
    expect(echo.stdout).toBe('')
    for (const result of [r, echo]) expect(everything(result)).not.toContain(PW_USER_PASSWORD)
    await t.close()
  })

  it('never puts the password in the command line and scrubs it from output', async () => {
    const wrap = wrapBecome('true', 'root', true)
    expect(wrap.command).not.toContain(PW_USER_PASSWORD)
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, becomePassword: PW_USER_PASSWORD }).connect(sshdHost(sshd, { user: PW_USER, become: true }))
    // A command that prints the secret itself (e.g. from a file) gets it masked.
    const r = await t.exec(`printf '%s\\n' ${"'S3cret-sudo pass;$(x)'"}`, { become: true })
    expect(r.stdout).toBe('********\n')
    await t.close()
  })

  it('reports a wrong become password without echoing it', async () => {
    const wrong = 'not-the-password-123'
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, becomePassword: wrong }).connect(sshdHost(sshd, { user: PW_USER, become: true }))
    const r = await t.exec('id -un', { become: true, stdin: 'x\n' })
    expect(r.exitCode).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/rejected the become password/)
    expect(everything(r)).not.toContain(wrong)
    await t.close()
  })

  it('with a password given, a NOPASSWD user does not get it in the command stdin', async () => {
    const t = await createConnector({ knownHostsFile: sshd.knownHostsFile, agentSocket: null, becomePassword: 'unused-secret-xyz' }).connect(sshdHost(sshd, { become: true }))
    const r = await t.exec('cat', { become: true, stdin: 'only this\n' })
    expect(r.stdout).toBe('only this\n')
    await t.close()
  })
})

describe('password masking rules (pure)', () => {
  it('masks stderr always and stdout only for passwords long enough not to hit ordinary data', async () => {
    const { scrubSecret, secretFor } = await import('../../src/transport/become.js')
    expect(scrubSecret('x root=/dev/sda root', secretFor('stdout', 'root'))).toBe('x root=/dev/sda root')
    expect(scrubSecret('sudo: root', secretFor('stderr', 'root'))).toBe('sudo: ********')
    expect(scrubSecret('a long-password-here b', secretFor('stdout', 'long-password-here'))).toBe('a ******** b')
    expect(wrapBecome('id', 'root', false).command).toBe('sudo -n -u root -- sh -c id')
  })
})
