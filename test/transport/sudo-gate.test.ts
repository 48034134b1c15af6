import { describe, expect, it } from 'vitest'
import { wrapBecome } from '../../src/transport/become.js'
import { createSudoGate } from '../../src/transport/sudo-gate.js'

// Records what the gate did, in order.
function recorder() {
  const log: string[] = []
  return {
    log,
    io: {
      sendPassword: () => log.push('password'),
      endStdin: () => log.push('end'),
      opened: () => log.push('opened'),
      pass: (text: string) => log.push(`stderr:${text}`),
    },
  }
}

describe('createSudoGate', () => {
  it('passes everything at once without a password', () => {
    const r = recorder()
    const gate = createSudoGate(wrapBecome('id', 'root', false), r.io)
    expect(gate.ready).toBe(true)
    gate.push('hello\n')
    expect(r.log).toEqual(['stderr:hello\n'])
  })

  it('answers the prompt once, then lets stdin and the command stderr through after the ready marker', () => {
    const wrap = wrapBecome('id', 'root', true)
    const r = recorder()
    const gate = createSudoGate(wrap, r.io)
    expect(gate.ready).toBe(false)
    // The prompt split across two reads, then the marker with the command's own stderr behind it.
    gate.push(wrap.promptMarker!.slice(0, 5))
    gate.push(wrap.promptMarker!.slice(5))
    gate.push(`${wrap.readyMarker}\nwarning: from the command\n`)
    gate.push('more\n')
    expect(r.log).toEqual(['password', 'stderr:warning: from the command\n', 'opened', 'stderr:more\n'])
    expect(gate.sawReady).toBe(true)
  })

  it('gives up on a second prompt and hands sudo its own messages at the end', () => {
    const wrap = wrapBecome('id', 'root', true)
    const r = recorder()
    const gate = createSudoGate(wrap, r.io)
    gate.push(`${wrap.promptMarker}Sorry, try again.\n${wrap.promptMarker}`)
    gate.push('sudo: 1 incorrect password attempt\n')
    gate.end()
    expect(r.log).toEqual(['password', 'end', 'stderr:Sorry, try again.\nsudo: 1 incorrect password attempt\n'])
    expect(gate.sawReady).toBe(false)
  })
})
