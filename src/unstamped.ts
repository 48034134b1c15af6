// Events and journal records are written without their time; the event bus and the journal writer
// stamp `t` on. Distributive over a union, so each kind keeps its own fields (a plain Omit<Union, 't'>
// keeps only the fields every kind shares, which is what used to force casts at each call).
export type Unstamped<R extends { t: number }> = R extends unknown ? Omit<R, 't'> : never

// The record with its time. The one cast: TypeScript cannot see that a member of Unstamped<R> plus
// `t` is a member of R.
export function stamp<R extends { t: number }>(t: number, record: Unstamped<R>): R {
  return { t, ...record } as unknown as R
}
