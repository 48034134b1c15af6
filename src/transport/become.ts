// Privilege escalation with sudo, the way Ansible's become does it, but with the password kept
// out of every command line, result and error: it only ever travels over the channel's stdin.
import { randomBytes } from 'node:crypto'
import { quote } from '../shell.js'

export interface BecomeWrap {
  command: string
  // With a password: sudo prints `promptMarker` on stderr when it wants the password, and the
  // wrapped shell prints `readyMarker` on stderr once sudo has let it run. The caller writes the
  // password only after the prompt, and its own stdin only after ready, so a NOPASSWD rule or a
  // cached credential can never make the password land in the command's stdin.
  promptMarker?: string
  readyMarker?: string
}

// Whether a command must go through sudo: the host asks for become and we log in as someone else.
export function needsBecome(host: { become: boolean; becomeUser: string }, loginUser: string): boolean {
  return host.become && loginUser !== host.becomeUser
}

// Wraps shell text to run as `user` through sudo (non-interactive, or -S with a password).
export function wrapBecome(command: string, user: string, withPassword: boolean): BecomeWrap {
  if (!withPassword) return { command: `sudo -n -u ${quote(user)} -- sh -c ${quote(command)}` }
  const token = randomBytes(8).toString('hex')
  const promptMarker = `[gpufleet-sudo-prompt-${token}]`
  const readyMarker = `[gpufleet-sudo-ready-${token}]`
  // -k ignores a cached credential so sudo behaves the same on every call.
  const inner = `printf '%s\\n' ${quote(readyMarker)} >&2\n${command}`
  return {
    command: `sudo -k -S -p ${quote(promptMarker)} -u ${quote(user)} -- sh -c ${quote(inner)}`,
    promptMarker,
    readyMarker,
  }
}

// Replaces every occurrence of a secret in text (stderr of a failed sudo, echoed stdin).
export function scrubSecret(text: string, secret: string | undefined): string {
  if (!secret) return text
  return text.split(secret).join('********')
}

// Shortest password also masked in stdout. The password never reaches the command's stdin, so
// stdout holds it only if the host stores it somewhere; masking a short one ("root") would
// corrupt facts like /proc/cmdline's root=, so below this length only stderr is masked.
export const MIN_STDOUT_SCRUB = 8

// The secret to mask in one stream, or undefined when that stream is left as is.
export function secretFor(stream: 'stdout' | 'stderr', secret: string | undefined): string | undefined {
  if (!secret) return undefined
  return stream === 'stderr' || secret.length >= MIN_STDOUT_SCRUB ? secret : undefined
}

// sudo's own refusals, turned into an explanation a user can act on (or undefined).
export function explainSudoFailure(stderr: string, host: string, user: string): string | undefined {
  if (/sudo: (a password is required|a terminal is required)/.test(stderr)) {
    return `gpufleet: sudo on ${host} needs a password to become ${user}: pass --ask-become-pass, or allow NOPASSWD for the login user`
  }
  if (/sudo: (\d+ )?incorrect password attempts?|Sorry, try again|sudo: no password was provided/.test(stderr)) {
    return `gpufleet: sudo on ${host} rejected the become password (--ask-become-pass)`
  }
  if (/is not in the sudoers file|is not allowed to execute|may not run sudo/.test(stderr)) {
    return `gpufleet: the login user on ${host} may not use sudo to become ${user}`
  }
  if (/sudo: (command )?not found|sudo: not found/.test(stderr)) return `gpufleet: sudo is not installed on ${host}`
  return undefined
}
