import { defineFact } from './define.js'
import { section, splitSections } from './sections.js'

// SMT as `ppc64_cpu --smt` reports it. There is no "SMT is on" string: fully on is `SMT=<max>`.
export interface SmtState {
  available: boolean // ppc64_cpu installed (powerpc-utils)
  path?: string // absolute path of ppc64_cpu, for the systemd unit's ExecStart
  capable: boolean // false on "Machine is not SMT capable"
  mode: 'off' | 'uniform' | 'mixed' | 'unknown'
  threads?: number // threads per core when uniform (1 when off)
  mixed?: Array<{ threads: number; cores: string }> // one per `SMT=N: <core ranges>` line
  exitCode?: number
  output: string
}

// stderr is folded into stdout and the exit code printed, since the gather script drops stderr and
// "Machine is not SMT capable" only goes to stderr.
export const smtState = defineFact({
  name: 'cpu.smt',
  command: ['if command -v ppc64_cpu >/dev/null 2>&1; then', '  echo "@@ path $(command -v ppc64_cpu)"', '  ppc64_cpu --smt 2>&1; rc=$?; echo', '  echo "@@ rc $rc"', 'else echo "@@ missing"; fi'].join('\n'),
  parse(stdout): SmtState {
    const sections = splitSections(stdout)
    if (section(sections, 'missing') || !section(sections, 'path')) return { available: false, capable: false, mode: 'unknown', output: '' }
    const pathSection = section(sections, 'path')!
    const rc = Number(section(sections, 'rc')?.arg)
    const lines = pathSection.lines.map((l) => l.trim()).filter(Boolean)
    const base = { available: true, path: pathSection.arg, ...(Number.isFinite(rc) ? { exitCode: rc } : {}), output: lines.join('\n') }
    if (lines.some((l) => /not SMT capable/i.test(l))) return { ...base, capable: false, mode: 'unknown' }
    if (lines.includes('SMT is off')) return { ...base, capable: true, mode: 'off', threads: 1 }
    const mixed: Array<{ threads: number; cores: string }> = []
    for (const l of lines) {
      const m = /^SMT=(\d+):\s*(.*)$/.exec(l)
      if (m) mixed.push({ threads: Number(m[1]), cores: m[2].trim() })
    }
    if (mixed.length > 0) return { ...base, capable: true, mode: 'mixed', mixed }
    const uniform = lines.map((l) => /^SMT=(\d+)$/.exec(l)).find(Boolean)
    if (uniform) {
      const threads = Number(uniform[1])
      return { ...base, capable: true, mode: threads === 1 ? 'off' : 'uniform', threads }
    }
    return { ...base, capable: true, mode: 'unknown' }
  },
})
