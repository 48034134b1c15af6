import type { Emit } from './emit.js'
import { sleep } from './timing.js'

// The rolling window. Each host that must reboot runs its roll part (reboot-and-wait, verify) as
// one unit inside a slot; a slot is freed the moment that host is back and verified, and the next
// queued host starts at once (slot refill: one slow host never holds back a batch, ansible#18390).
// Limits: hosts down fleet-wide (--max-unavailable), per failure domain (--per-rack), optional
// Ansible-`serial` barriers (--batches), and the failure budget (--max-fail, --rack-fail-stop).

// A host waiting to roll, with its failure domain (its rack, else the domain unracked hosts share).
export interface RollHost {
  name: string
  domain: string
}

// Limits resolved to host counts for this run.
export interface RollPolicy {
  maxUnavailable: number // >= 1
  perRack?: number // >= 1
  batchSizes?: number[] // >= 1 each; the last repeats
  maxFail?: number // failures allowed; more stops new reboots
  rackFailStop: boolean
}

// How a unit ended; anything but ok/changed is a failure. 'lost': failed and still down (it went
// away and never came back), so it keeps its place in the window: --max-unavailable counts hosts
// that are down, not hosts we are waiting for.
// 'blocked': not rebooted and not a failure (a reboot blocker held to its limit, or guests must
// be drained first); it gives its slot back like a success.
export type UnitResult = 'ok' | 'changed' | 'failed' | 'unreachable' | 'lost' | 'blocked'

// A unit may instead ask to be tried again later (its reboot blockers hold): the slot is freed at
// once and the host re-enters the queue, in its place, after retryInMs.
export type UnitRetry = { retryInMs: number }

// Failures before the roll began (staging, unreachable), counted against the same budget.
export interface PriorFailures {
  total: number
  byDomain: Map<string, number>
}

export interface RollRunOptions {
  policy: RollPolicy
  prior: PriorFailures
  emit: Emit
  stop?: AbortSignal // first Ctrl-C: no new units
  unit: (host: RollHost) => Promise<UnitResult | UnitRetry> // must not throw
}

// The bookkeeping of the window: who is in, who failed, which racks are paused. Pure.
export class RollWindow {
  readonly inFlight = new Set<string>()
  readonly lost = new Set<string>()
  private readonly downByDomain = new Map<string, number>()
  private readonly failedByDomain: Map<string, number>
  private failures: number
  private budgetReported = false
  private readonly pausedReported = new Set<string>()

  constructor(
    readonly policy: RollPolicy,
    prior: PriorFailures,
  ) {
    this.failures = prior.total
    this.failedByDomain = new Map(prior.byDomain)
  }

  get down(): number {
    return this.inFlight.size + this.lost.size
  }

  downIn(domain: string): number {
    return this.downByDomain.get(domain) ?? 0
  }

  // True once failures exceed the budget (Ansible semantics: must be exceeded, not reached).
  get budgetExceeded(): boolean {
    return this.policy.maxFail !== undefined && this.failures > this.policy.maxFail
  }

  get failureCount(): number {
    return this.failures
  }

  // Why a host may never start now (budget, paused rack), or undefined.
  blockedForever(host: RollHost): string | undefined {
    if (this.budgetExceeded) return `failure budget exceeded (${this.failures} failed, --max-fail allows ${this.policy.maxFail})`
    if (this.policy.rackFailStop && (this.failedByDomain.get(host.domain) ?? 0) > 0) return `rack ${host.domain} is paused after a failure (--rack-fail-stop)`
    return undefined
  }

  // Why a host must wait for a slot now, or undefined when it may start.
  waitReason(host: RollHost): string | undefined {
    if (this.down >= this.policy.maxUnavailable) return `${this.down} of ${this.policy.maxUnavailable} allowed hosts are down (--max-unavailable)${this.lost.size ? `, ${this.lost.size} of them never came back` : ''}`
    if (this.policy.perRack !== undefined && this.downIn(host.domain) >= this.policy.perRack) return `rack ${host.domain} has ${this.downIn(host.domain)} of ${this.policy.perRack} allowed hosts down (--per-rack)`
    return undefined
  }

  acquire(host: RollHost): void {
    this.inFlight.add(host.name)
    this.downByDomain.set(host.domain, this.downIn(host.domain) + 1)
  }

  // Frees the slot; returns the budget/pause events this result triggered.
  release(host: RollHost, result: UnitResult): Array<{ failed: number; allowed: number; scope: string }> {
    this.inFlight.delete(host.name)
    if (result === 'lost') this.lost.add(host.name)
    else this.downByDomain.set(host.domain, this.downIn(host.domain) - 1)
    const out: Array<{ failed: number; allowed: number; scope: string }> = []
    if (result === 'failed' || result === 'unreachable' || result === 'lost') {
      this.failures++
      this.failedByDomain.set(host.domain, (this.failedByDomain.get(host.domain) ?? 0) + 1)
    }
    out.push(...this.newlyExhausted())
    return out
  }

  // Budget events not yet reported (also called once before the first unit, for prior failures).
  newlyExhausted(): Array<{ failed: number; allowed: number; scope: string }> {
    const out: Array<{ failed: number; allowed: number; scope: string }> = []
    if (this.budgetExceeded && !this.budgetReported) {
      this.budgetReported = true
      out.push({ failed: this.failures, allowed: this.policy.maxFail!, scope: 'fleet' })
    }
    if (this.policy.rackFailStop) {
      for (const [domain, n] of this.failedByDomain) {
        if (n > 0 && !this.pausedReported.has(domain)) {
          this.pausedReported.add(domain)
          out.push({ failed: n, allowed: 0, scope: `rack ${domain}` })
        }
      }
    }
    return out
  }
}

// Cuts the queue into Ansible-style batches; without --batches the whole queue is one batch.
export function cutBatches<T>(queue: readonly T[], sizes: number[] | undefined): T[][] {
  if (!sizes || sizes.length === 0) return queue.length ? [queue.slice()] : []
  const batches: T[][] = []
  let i = 0
  for (let b = 0; i < queue.length; b++) {
    const size = Math.max(1, sizes[Math.min(b, sizes.length - 1)]!)
    batches.push(queue.slice(i, i + size))
    i += size
  }
  return batches
}

// Rolls the queue (in order) through the window. Resolves with each host's result, or
// 'not-started' with the reason for hosts that never got a slot.
export async function rollHosts(queue: readonly RollHost[], options: RollRunOptions): Promise<Map<string, { result: UnitResult | 'not-started'; reason?: string }>> {
  const window = new RollWindow(options.policy, options.prior)
  const results = new Map<string, { result: UnitResult | 'not-started'; reason?: string }>()
  const waitingReported = new Map<string, string>()
  for (const e of window.newlyExhausted()) options.emit({ kind: 'budget-exhausted', ...e })

  const running = new Map<string, Promise<void>>()
  const order = new Map(queue.map((h, i) => [h.name, i]))
  let pending: RollHost[] = []
  for (const batch of cutBatches(queue, options.policy.batchSizes)) {
    pending = batch.slice()
    while (pending.length > 0 || running.size > 0) {
      // Start every host that may start now, in queue order; a host blocked by its rack does not
      // block hosts of other racks behind it.
      for (let i = 0; i < pending.length;) {
        const host = pending[i]!
        const forever = options.stop?.aborted ? 'interrupted before its turn' : window.blockedForever(host)
        if (forever) {
          results.set(host.name, { result: 'not-started', reason: forever })
          pending.splice(i, 1)
          continue
        }
        const reason = window.waitReason(host)
        if (reason) {
          if (waitingReported.get(host.name) !== reason) {
            waitingReported.set(host.name, reason)
            options.emit({ kind: 'slot-waiting', host: host.name, rack: host.domain, reason })
          }
          if (window.down >= options.policy.maxUnavailable) break
          i++
          continue
        }
        pending.splice(i, 1)
        window.acquire(host)
        options.emit({ kind: 'slot-acquired', host: host.name, rack: host.domain, down: window.down, allowed: options.policy.maxUnavailable })
        const p = options.unit(host).then(
          (result) => finish(host, result),
          () => finish(host, 'failed'),
        )
        running.set(host.name, p)
      }
      if (running.size === 0) break // nothing runs and nothing may start: the rest stays not-started
      await Promise.race(running.values())
    }
    const why = window.lost.size ? `never got a slot: ${window.lost.size} host(s) that never came back still fill the window (--max-unavailable ${options.policy.maxUnavailable})` : 'never got a slot'
    for (const host of pending) if (!results.has(host.name)) results.set(host.name, { result: 'not-started', reason: why })
  }
  await Promise.all(running.values())
  return results

  function finish(host: RollHost, result: UnitResult | UnitRetry): void {
    running.delete(host.name)
    if (typeof result === 'object') {
      // Held by a reboot blocker: free the slot now, queue again (in order) once the wait is over.
      // The wait sits in `running` so the loop wakes for it; Ctrl-C ends it early (then not started).
      window.release(host, 'blocked')
      options.emit({ kind: 'slot-released', host: host.name, rack: host.domain })
      const wake = sleep(result.retryInMs, options.stop)
        .catch(() => undefined)
        .then(() => {
          running.delete(`retry:${host.name}`)
          pending.push(host)
          pending.sort((a, b) => order.get(a.name)! - order.get(b.name)!)
        })
      running.set(`retry:${host.name}`, wake)
      return
    }
    results.set(host.name, { result })
    options.emit({ kind: 'slot-released', host: host.name, rack: host.domain })
    for (const e of window.release(host, result)) options.emit({ kind: 'budget-exhausted', ...e })
  }
}
