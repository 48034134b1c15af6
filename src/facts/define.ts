// A fact is a read-only shell command plus a pure parser. All facts a playbook needs for a host are
// gathered in one exec (see gather.ts); parse() never does I/O.

export interface Fact<T> {
  name: string // 'kernel.cmdline'; also the fixture folder under test/facts/
  // Read-only shell text. Runs as the become user (facts like lsinitrd need root) under `sh`.
  // Its exit code is passed to parse(); a missing tool is not an error by itself.
  command: string
  parse(stdout: string, exitCode: number): T
}

export function defineFact<T>(fact: Fact<T>): Fact<T> {
  return fact
}
