import { ConnectError } from '../errors.js'
import type { InventoryHost } from '../inventory/types.js'
import type { Transport } from '../transport/types.js'
import type { Emit } from './emit.js'
import { backoffMs, sleep } from './timing.js'

// Opens a connection to one host (the transport's Connector, or the local transport). Throws ConnectError.
export type ConnectFn = (host: InventoryHost, signal?: AbortSignal) => Promise<Transport>

// How hard to try before calling a host unreachable.
export interface ConnectRetryOptions {
  attempts: number // total attempts, at least 1
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_CONNECT_RETRY: ConnectRetryOptions = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 8000 }

// Connects, retrying transient failures (refused, timeout) with backoff. Host-key and auth failures
// are thrown at once: retrying them only hides a man-in-the-middle or a typo.
export async function connectWithRetry(connect: ConnectFn, host: InventoryHost, options: ConnectRetryOptions, emit: Emit, signal?: AbortSignal): Promise<Transport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(host, signal)
    } catch (error) {
      const retryable = error instanceof ConnectError ? error.retryable : false
      if (!retryable || attempt >= options.attempts || signal?.aborted) throw error
      const delayMs = backoffMs(attempt, options.baseDelayMs, options.maxDelayMs)
      emit({ kind: 'connect-retry', host: host.name, attempt, reason: (error as ConnectError).reason, delayMs })
      await sleep(delayMs, signal)
    }
  }
}
