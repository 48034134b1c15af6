import { setTimeout as sleepTimer } from 'node:timers/promises'

// Sleeps, waking early (by rejecting) when the signal aborts.
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepTimer(Math.max(0, ms), undefined, signal ? { signal } : undefined)
}

// Exponential backoff with ±20% jitter so hundreds of hosts do not retry in lockstep.
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(raw * (0.8 + 0.4 * random()))
}
