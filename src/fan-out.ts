import pLimit from 'p-limit'

// Runs fn over items with at most `concurrency` in flight, keeping input order in the results.
// The one home of p-limit. An aborted signal stops starting new items; started ones finish.
export async function fanOut<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>, signal?: AbortSignal): Promise<Array<R | undefined>> {
  const limit = pLimit(Math.max(1, Math.floor(concurrency)))
  return Promise.all(items.map((item, index) => limit(async () => (signal?.aborted ? undefined : fn(item, index)))))
}

// A counting limiter for work that is not a list (e.g. SSH handshakes shared by many callers).
export function createLimiter(concurrency: number): <R>(fn: () => Promise<R>) => Promise<R> {
  const limit = pLimit(Math.max(1, Math.floor(concurrency)))
  return (fn) => limit(fn)
}
