import { describe, expect, it } from 'vitest'
import { CommandError, formatCommandFailure, summarizeCommand } from '../src/errors.js'
import type { CommandResult } from '../src/transport/types.js'

const result = (command: string, extra: Partial<CommandResult> = {}): CommandResult => ({
  command,
  exitCode: 1,
  signal: null,
  stdout: '',
  stderr: '',
  durationMs: 5,
  ...extra,
})

describe('CommandError', () => {
  it('names the host, the step, the exit code, the command and the end of stderr', () => {
    const e = new CommandError('p9-07', result('modprobe -a nvidia_peermem', { stderr: 'modprobe: FATAL: Module nvidia_peermem not found\n' }), 'load modules')
    expect(e.message).toBe('[p9-07] load modules failed with exit code 1: modprobe -a nvidia_peermem\nmodprobe: FATAL: Module nvidia_peermem not found')
    expect(e.name).toBe('CommandError')
  })

  it('says when the command was killed', () => {
    expect(new CommandError('h', result('sleep 9', { exitCode: null, signal: 'SIGKILL' })).message).toBe('[h] Command was killed by SIGKILL: sleep 9')
  })

  it('shows a long step script by its first line, keeping the full text on the result', () => {
    const script = ['set -eu', ...Array.from({ length: 79 }, (_, i) => `echo step ${i}`)].join('\n')
    const e = new CommandError('h', result(script, { stderr: 'a\nb\nc\nd\ne\nf\ndracut: No space left on device\n' }), 'rebuild initramfs')
    expect(e.message).toBe('[h] rebuild initramfs failed with exit code 1: set -eu … (80-line script)\nc\nd\ne\nf\ndracut: No space left on device')
    expect(e.result.command).toBe(script)
  })
})

describe('formatCommandFailure', () => {
  it('leaves out a script the reader did not write and keeps a one-row tail', () => {
    const r = result('set -u\nlots of gather script', { exitCode: 2, stderr: 'a\nb\nc\nd\n' })
    expect(formatCommandFailure('h', r, 'gathering facts', { command: false, tailLines: 3, oneLine: true })).toBe('[h] gathering facts failed with exit code 2: b; c; d')
    expect(formatCommandFailure('h', result('x', { exitCode: null, signal: 'SIGKILL' }), 'gathering facts', { command: false, oneLine: true })).toBe('[h] gathering facts was killed by SIGKILL')
    expect(formatCommandFailure('h', result('true', { stderr: 'e\n' }), 'check', { oneLine: true })).toBe('[h] check failed with exit code 1: true; e')
  })
})

describe('summarizeCommand', () => {
  it('keeps a short one-line command whole', () => {
    expect(summarizeCommand('grubby --update-kernel=ALL --args=vfio-pci.disable_idle_d3=1')).toBe('grubby --update-kernel=ALL --args=vfio-pci.disable_idle_d3=1')
  })
  it('cuts a very long single line', () => {
    const long = `echo ${'x'.repeat(300)}`
    expect(summarizeCommand(long)).toBe(`${long.slice(0, 120)}…`)
  })
})
