import { spawnSync } from 'node:child_process'
import { describe, expect, test } from 'vitest'
import { buildGatherScript } from '../../src/facts/gather.js'
import { facts } from '../../src/facts/index.js'

// Every fact command is parsed (not run: they read /boot and /etc) by both shells the gather
// script may meet: dash (Debian's sh) and bash (RHEL's sh).
describe.each(['sh', 'bash'])('fact commands are valid %s', (shell) => {
  test.each(Object.keys(facts))('%s', (name) => {
    const r = spawnSync(shell, ['-n', '-c', facts[name].command], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  test('the whole gather script', () => {
    const r = spawnSync(shell, ['-n', '-c', buildGatherScript(Object.values(facts))], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})
