// Reads a secret from the controlling terminal without echo (passphrases, --ask-become-pass).
// Prompts are serialized so two hosts never ask at once.
import { openSync } from 'node:fs'
import { ReadStream } from 'node:tty'
import { FleetError } from '../errors.js'

let queue: Promise<unknown> = Promise.resolve()

// Asks `question` on /dev/tty and resolves with the line typed (not echoed).
export function promptSecret(question: string): Promise<string> {
  const next = queue.catch(() => undefined).then(() => readHidden(question))
  queue = next
  return next
}

function readHidden(question: string): Promise<string> {
  let fd: number
  try {
    fd = openSync('/dev/tty', 'r+')
  } catch {
    throw new FleetError(`${question.trim()} needs a terminal, and there is none (load the key into ssh-agent, or run interactively)`)
  }
  const input = new ReadStream(fd)
  process.stderr.write(question)
  input.setRawMode(true)
  return new Promise<string>((resolve, reject) => {
    let value = ''
    const done = (error?: Error) => {
      input.setRawMode(false)
      input.removeAllListeners('data')
      input.destroy()
      process.stderr.write('\n')
      if (error) reject(error)
      else resolve(value)
    }
    input.on('data', (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new FleetError('interrupted at a password prompt'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    })
  })
}
