import { ConnectError } from '../errors.js'
import type { HostState } from './host-state.js'

// How a host's run ends when something throws: every error becomes an outcome and a message.

// A host stopped by a failure; the message is user-facing.
export class HostFailure extends Error {
  constructor(
    message: string,
    readonly outcome: 'failed' | 'unreachable' | 'not-started' | 'needs-drain',
  ) {
    super(message)
  }
}

// Maps an error to the host's outcome: our own failures carry theirs, a lost connection is
// unreachable (with the event), a second Ctrl-C is an abort, anything else fails the host.
export function failHost(s: HostState, error: unknown): void {
  if (error instanceof HostFailure) {
    s.outcome = error.outcome
    s.message = error.message
  } else if (error instanceof ConnectError) {
    s.outcome = 'unreachable'
    s.message = error.message
    s.shared.emit({ kind: 'host-unreachable', host: s.host.name, reason: error.reason, message: error.message })
  } else if (s.shared.abort.aborted) {
    s.outcome = 'failed'
    s.message = 'aborted by a second interrupt'
  } else {
    s.outcome = 'failed'
    s.message = error instanceof Error ? error.message : String(error)
  }
  if (s.outcome === 'unreachable' && error instanceof HostFailure) {
    s.shared.emit({ kind: 'host-unreachable', host: s.host.name, reason: 'unreachable', message: error.message })
  }
}
