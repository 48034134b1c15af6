import { execa } from 'execa'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decideLock, LOCK_DIR, lockCommand, lockFact, unlockCommand, type LockOwner } from '../../src/runner/lock.js'

// The lock commands run for real in sh, with /var/lib/gpufleet rewritten into a temp dir.
const roots: string[] = []
afterEach(() => roots.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
function host() {
  const root = mkdtempSync(join(tmpdir(), 'gpufleet-lock-'))
  roots.push(root)
  const sh = (cmd: string) => execa('sh', ['-c', cmd.replaceAll('/var/lib/gpufleet', join(root, 'var/lib/gpufleet'))], { reject: false })
  return { root, sh }
}
const owner = (runId: string, expiresAt = Date.now() + 60_000): LockOwner => ({ runId, controller: 'ctl', pid: 7, playbook: 'prep', expiresAt })

describe('fleet lock', () => {
  it('is taken by exactly one of two racing runs', async () => {
    const { sh } = host()
    const results = await Promise.all([sh(lockCommand(owner('a'))), sh(lockCommand(owner('b')))])
    expect(results.map((r) => r.exitCode).sort()).toEqual([0, 3])
    const gathered = lockFact.parse((await sh(lockFact.command)).stdout, 0)
    expect(gathered.state).toBe('held')
    const winner = results[0]!.exitCode === 0 ? 'a' : 'b'
    expect(gathered.state === 'held' && gathered.owner?.runId).toBe(winner)
  })

  it('refuses a live lock naming its holder and expiry, takes an expired or own lock over', () => {
    const now = Date.UTC(2026, 10, 26, 3, 0, 0)
    const live = { state: 'held' as const, raw: 'x', owner: owner('other', now + 60_000) }
    const refused = decideLock(live, 'me', now)
    expect(refused.kind).toBe('refuse')
    expect(refused.kind === 'refuse' && refused.message).toMatch(/locked by run other \(playbook prep, controller ctl pid 7\) until 2026-11-26T03:01:00.000Z/)
    expect(decideLock({ ...live, owner: owner('other', now - 1) }, 'me', now)).toMatchObject({ kind: 'take', replace: 'x', takenOverFrom: { runId: 'other' } })
    expect(decideLock({ ...live, owner: owner('me', now + 60_000) }, 'me', now)).toMatchObject({ kind: 'take', replace: 'x' })
    expect(decideLock({ state: 'held', raw: 'garbage' }, 'me', now).kind).toBe('refuse')
    expect(decideLock({ state: 'free' }, 'me', now)).toEqual({ kind: 'take' })
  })

  it('replaces only the exact lock it judged expired, and releases only its own', async () => {
    const { root, sh } = host()
    const old = owner('old', 1)
    expect((await sh(lockCommand(old))).exitCode).toBe(0)
    // A fresh holder took it meanwhile: our takeover (naming the old text) must not destroy it.
    const fresh = owner('fresh')
    expect((await sh(`rm -rf ${LOCK_DIR}`)).exitCode).toBe(0)
    expect((await sh(lockCommand(fresh))).exitCode).toBe(0)
    const takeover = await sh(lockCommand(owner('me'), JSON.stringify(old)))
    expect(takeover.exitCode).toBe(3)
    expect(takeover.stdout).toContain('"runId":"fresh"')
    // Releasing with someone else's identity leaves the lock alone.
    await sh(unlockCommand(owner('me')))
    expect(existsSync(join(root, 'var/lib/gpufleet/lock/owner'))).toBe(true)
    await sh(unlockCommand(fresh))
    expect(existsSync(join(root, 'var/lib/gpufleet/lock'))).toBe(false)
  })

  it('an expired lock taken over by two controllers at once goes to exactly one of them', async () => {
    // Both controllers gathered the same expired lock and both decided to take it over. A `cat`
    // that lingers after reading widens the window between "compare the owner" and "remove it"
    // to what a loaded host gives, so both compare before either removes.
    const { root, sh } = host()
    const bin = join(root, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'cat'), '#!/bin/sh\n/bin/cat "$@"; s=$?; sleep 0.3; exit $s\n')
    chmodSync(join(bin, 'cat'), 0o755)
    const slow = (cmd: string) => execa('sh', ['-c', cmd.replaceAll('/var/lib/gpufleet', join(root, 'var/lib/gpufleet'))], { reject: false, env: { PATH: `${bin}:${process.env.PATH}` } })
    for (let round = 0; round < 3; round++) {
      const expired = owner(`expired-${round}`, 1)
      rmSync(join(root, 'var'), { recursive: true, force: true })
      expect((await sh(lockCommand(expired))).exitCode).toBe(0)
      const [a, b] = await Promise.all([slow(lockCommand(owner('a'), JSON.stringify(expired))), slow(lockCommand(owner('b'), JSON.stringify(expired)))])
      expect([a!.exitCode, b!.exitCode].sort()).toEqual([0, 3])
      const winner = a!.exitCode === 0 ? 'a' : 'b'
      const held = lockFact.parse((await sh(lockFact.command)).stdout, 0)
      expect(held.state === 'held' && held.owner?.runId).toBe(winner)
      // Nothing of the takeover is left behind.
      expect(readdirSync(join(root, 'var/lib/gpufleet'))).toEqual(['lock'])
    }
  })

  it('quotes the owner so hostile controller names cannot run anything', async () => {
    const { root, sh } = host()
    const evil = { ...owner('r'), controller: `x'; touch ${root}/pwned; echo '$(id)` }
    expect((await sh(lockCommand(evil))).exitCode).toBe(0)
    expect(existsSync(join(root, 'pwned'))).toBe(false)
    expect(JSON.parse(readFileSync(join(root, 'var/lib/gpufleet/lock/owner'), 'utf8')).controller).toBe(evil.controller)
  })
})
