import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { bootConfig } from '../../src/facts/boot-config.js'
import { smtState } from '../../src/facts/cpu-smt.js'

// Tools (and grubenv, a 1024-byte block) may end their output without a newline; a section marker
// printed after them must still start its own line. Runs the real fact commands with fake tools
// that do exactly that.
let bin: string
beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'gpufleet-nonl-'))
  mkdirSync(bin, { recursive: true })
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`)
    chmodSync(join(bin, name), 0o755)
  }
  tool('grubby', `case "$1" in --default-index) printf 0 ;; --info=ALL) printf 'index=0\\nkernel=/boot/vmlinuz-4.14.0-49.10.1.el7a.ppc64le\\nargs="ro quiet"\\nroot=/dev/mapper/centos-root\\ntitle=CentOS Linux' ;; esac`)
  tool('grub2-editenv', `[ "$1" = - ] && [ "$2" = list ] && printf 'saved_entry=CentOS Linux'`)
  tool('ppc64_cpu', `printf 'SMT=4'`)
})
afterAll(() => rmSync(bin, { recursive: true, force: true }))

const run = (command: string) => spawnSync('sh', ['-c', command], { env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' }).stdout

test('boot.config: grubby and grubenv output without a final newline', () => {
  const fact = bootConfig.parse(run(bootConfig.command), 0)
  expect(fact.source).toBe('grubby')
  expect(fact.entries).toHaveLength(1)
  expect(fact.entries[0].title).toBe('CentOS Linux')
  expect(fact.grubenv).toEqual({ saved_entry: 'CentOS Linux' })
  expect(fact.next?.title).toBe('CentOS Linux')
})

test('cpu.smt: ppc64_cpu output without a final newline', () => {
  expect(smtState.parse(run(smtState.command), 0)).toMatchObject({ mode: 'uniform', threads: 4, exitCode: 0 })
})
