// ExecOptions.onLine for every transport: output streams cut into lines as they arrive.
import { StringDecoder } from 'node:string_decoder'
import { scrubSecret, secretFor } from './become.js'
import type { ExecOptions } from './types.js'

// Splits a byte or text stream into complete lines for onLine (the last partial line on end), with
// a trailing CR dropped and the become password masked as in the result.
export function lineSplitter(stream: 'stdout' | 'stderr', onLine: ExecOptions['onLine'], secret?: string) {
  const decoder = new StringDecoder('utf8')
  let buf = ''
  const emit = (line: string) => onLine?.(stream, scrubSecret(line.replace(/\r$/, ''), secretFor(stream, secret)))
  return {
    push(chunk: Buffer | string) {
      if (!onLine) return
      buf += typeof chunk === 'string' ? chunk : decoder.write(chunk)
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        emit(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
      }
    },
    end() {
      if (!onLine) return
      buf += decoder.end()
      if (buf) emit(buf)
      buf = ''
    },
  }
}
