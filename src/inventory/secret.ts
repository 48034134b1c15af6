import { inspect } from 'node:util'
import { REDACTED } from './redact.js'

// A password held so that it cannot leak by accident: JSON.stringify, String() and console/inspect
// all print <redacted>; only reveal() gives the value, at the one place that feeds it to sudo or
// to the vault cipher. The value is a private field, so no object walk (events, journal, reports)
// can reach it.
export class Secret<T extends string | Buffer = string> {
  readonly #value: T
  constructor(value: T) {
    this.#value = value
  }
  reveal(): T {
    return this.#value
  }
  toJSON(): string {
    return REDACTED
  }
  toString(): string {
    return REDACTED
  }
  [inspect.custom](): string {
    return `Secret(${REDACTED})`
  }
}
