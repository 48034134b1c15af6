// The stderr side of a become-wrapped command (see wrapBecome): what sudo says before the command
// runs is held back, its password prompt answered once, and only after the wrapped shell's ready
// marker do stderr (and our stdin) go through. Without a ready marker everything passes at once.
import type { BecomeWrap } from './become.js'

export interface SudoGateIo {
  sendPassword(): void // write the password and a newline to the channel's stdin
  endStdin(): void // a second prompt means the password was wrong: end stdin so sudo gives up
  opened(): void // the command runs now: its own stdin may be written
  pass(text: string): void // stderr that belongs in the result
}

export interface SudoGate {
  readonly ready: boolean // the command runs (or never needed sudo's prompt)
  readonly sawReady: boolean // the ready marker came: sudo accepted; a later failure is the command's
  push(text: string): void
  // At the end of the stream: if sudo never let the command run, its own messages are the whole stderr.
  end(): void
}

export function createSudoGate(wrap: BecomeWrap | undefined, io: SudoGateIo): SudoGate {
  let pre = ''
  let ready = !wrap?.readyMarker
  let sawReady = false
  let prompts = 0
  return {
    get ready() {
      return ready
    },
    get sawReady() {
      return sawReady
    },
    push(text) {
      if (ready) return io.pass(text)
      pre += text
      const prompt = wrap!.promptMarker!
      while (pre.includes(prompt)) {
        pre = pre.replace(prompt, '')
        if (++prompts === 1) io.sendPassword()
        else io.endStdin()
      }
      const marker = `${wrap!.readyMarker}\n`
      const at = pre.indexOf(marker)
      if (at >= 0) {
        const before = pre.slice(0, at)
        const after = pre.slice(at + marker.length)
        pre = ''
        ready = true
        sawReady = true
        if (before) io.pass(before)
        if (after) io.pass(after)
        io.opened()
      }
    },
    end() {
      if (!ready && pre) {
        ready = true
        io.pass(pre)
      }
    },
  }
}
