// Pure helpers for building remote shell commands. Every value that reaches a remote shell goes
// through quote(): tasks, facts and the transport never interpolate raw values.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

// POSIX single-quote a value so that `sh -c` sees it as exactly one word, byte for byte.
export function quote(value: string): string {
  if (value === '') return "''"
  if (SAFE.test(value)) return value
  return `'${value.replace(/'/g, `'"'"'`)}'`
}

// Quote each argument and join them into one command line.
export function command(...args: string[]): string {
  return args.map(quote).join(' ')
}

// Split command output into lines, dropping empty ones and trailing CRs.
export function nonEmptyLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '')
}
