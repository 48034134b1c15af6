// The benchmark's results as one Markdown table and one SVG chart (hand-written, no dependencies).

// One measured command.
export interface Measure {
  wallMs: number
  cpuMs: number // controller CPU: user + system of the command and every process it started
  peakRssKb: number // the controller's peak resident memory (all its processes together for Ansible)
  execsPerHost: number // remote commands per host, from the simulator's record
  connectsPerHost: number
  hostsCpuMs?: number // the simulated hosts' CPU over the command (all hosts together), where measurable
  exitCode: number | null
  failed?: number // hosts that did not succeed, where the tool says so
}

// Everything measured at one N.
export interface SizeResult {
  hosts: number
  window: number
  forks: number
  rebootMs: number
  stabilityMs: number
  cores?: number // the machine's CPUs, shared by the controller and every simulated host
  floor: Measure
  // `plan prep` at every N; prep, its no-op re-run and verify up to --prep-max hosts.
  gpufleet: { plan: Measure; prep?: Measure; noop?: Measure; verify?: Measure; stageMs?: number }
  ansible?: { prep: Measure; noop: Measure; verify: Measure }
  stageMinMs: number
  boundMs: number
}

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const cpu = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const mib = (kb: number) => `${Math.round(kb / 1024)} MiB`
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : '—')
const execs = (m: Measure) => `${m.execsPerHost.toFixed(1)}`
const hostsCpu = (m: Measure, hosts: number) => (m.hostsCpuMs === undefined ? '—' : `${cpu(m.hostsCpuMs)} (${(m.hostsCpuMs / hosts / 1000).toFixed(2)} s)`)

// On one machine the hosts' commands and the controller share the cores: their CPU over the cores
// is a wall time no tool could beat there (a real fleet runs each host's commands on its own CPU).
export function cpuBoundMs(m: Measure, cores: number | undefined): number | undefined {
  if (m.hostsCpuMs === undefined || !cores) return undefined
  return (m.hostsCpuMs + m.cpuMs) / cores
}

// The comparison table for one N: one row per command, gpufleet beside Ansible, with the ratios.
export function renderTable(r: SizeResult): string {
  const lines = [
    `N = ${r.hosts} hosts, window W = ${r.window}, forks ${r.forks}, reboot R = ${sec(r.rebootMs)}, stability ${sec(r.stabilityMs)}`,
    '',
    "| command | tool | wall | controller CPU | hosts' CPU (per host) | peak RSS | execs/host | Ansible ÷ gpufleet (wall, CPU) | gpufleet ÷ floor (wall) |",
    '|---|---|---|---|---|---|---|---|---|',
  ]
  const row = (cmd: string, tool: string, m: Measure, extra: [string, string]) => `| ${cmd} | ${tool} | ${sec(m.wallMs)} | ${cpu(m.cpuMs)} | ${hostsCpu(m, r.hosts)} | ${mib(m.peakRssKb)} | ${execs(m)} | ${extra[0]} | ${extra[1]} |`
  lines.push(row('floor: connect + `true`', 'ssh2', r.floor, ['', '1.0×']))
  lines.push(row('`plan prep` (fresh rack)', 'gpufleet', r.gpufleet.plan, ['', ratio(r.gpufleet.plan.wallMs, r.floor.wallMs)]))
  for (const cmd of ['prep', 'noop', 'verify'] as const) {
    const g = r.gpufleet[cmd]
    if (!g) continue
    const a = r.ansible?.[cmd]
    const name = cmd === 'prep' ? '`prep` (stage + roll)' : cmd === 'noop' ? '`prep` again (no-op)' : '`verify`'
    lines.push(row(name, 'gpufleet', g, [a ? `${ratio(a.wallMs, g.wallMs)}, ${ratio(a.cpuMs, g.cpuMs)}` : '', ratio(g.wallMs, r.floor.wallMs)]))
    if (a) lines.push(row(name, 'Ansible', a, ['', ratio(a.wallMs, r.floor.wallMs)]))
  }
  const prep = r.gpufleet.prep
  if (!prep) return lines.join('\n') + '\n'
  lines.push('')
  lines.push(
    `Lower bound for \`prep\`: T_stage,min + ceil(N/W)·(R + stability) = ${sec(r.stageMinMs)} + ${Math.ceil(r.hosts / r.window)}·(${sec(r.rebootMs)} + ${sec(r.stabilityMs)}) = **${sec(r.boundMs)}**; gpufleet ${sec(prep.wallMs)} = **${(prep.wallMs / r.boundMs).toFixed(2)}×** the bound` +
      (r.ansible ? `, Ansible ${sec(r.ansible.prep.wallMs)} = ${(r.ansible.prep.wallMs / r.boundMs).toFixed(2)}×.` : '.'),
  )
  const gBound = cpuBoundMs(prep, r.cores)
  if (gBound !== undefined) {
    const aBound = r.ansible ? cpuBoundMs(r.ansible.prep, r.cores) : undefined
    lines.push('')
    lines.push(
      `CPU bound on this machine (the simulated hosts share its ${r.cores} cores with the controller): (hosts' CPU + controller CPU) ÷ cores = ` +
        `${sec(gBound)} for gpufleet's \`prep\`` +
        (aBound !== undefined ? `, ${sec(aBound)} for Ansible's` : '') +
        `; wall time there cannot be less than the larger of the two bounds.`,
    )
  }
  return lines.join('\n') + '\n'
}

// The scaling table: gpufleet and the floor at every N, memory per host; `prep` columns where it ran.
export function renderScaling(rows: SizeResult[]): string {
  const lines = ["| N | floor wall | `plan` wall | `plan` ÷ floor | `plan` CPU | `plan` peak RSS | RSS per host | hosts' CPU per host (`plan`) | `prep` wall | bound | `prep` ÷ bound | no-op wall | execs/host (plan, prep, no-op) |", '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
  for (const r of [...rows].sort((a, b) => a.hosts - b.hosts)) {
    const { plan, prep, noop } = r.gpufleet
    const perHost = plan.hostsCpuMs === undefined ? '—' : `${(plan.hostsCpuMs / r.hosts / 1000).toFixed(2)} s`
    const prepCols = prep ? [sec(prep.wallMs), sec(r.boundMs), `${(prep.wallMs / r.boundMs).toFixed(2)}×`] : ['—', '—', '—']
    const counts = [plan, prep, noop].map((m) => (m ? execs(m) : '—')).join(', ')
    lines.push(`| ${r.hosts} | ${sec(r.floor.wallMs)} | ${sec(plan.wallMs)} | ${ratio(plan.wallMs, r.floor.wallMs)} | ${cpu(plan.cpuMs)} | ${mib(plan.peakRssKb)} | ${Math.round(plan.peakRssKb / r.hosts)} KiB | ${perHost} | ${prepCols.join(' | ')} | ${noop ? sec(noop.wallMs) : '—'} | ${counts} |`)
  }
  return lines.join('\n') + '\n'
}

export interface Series {
  name: string
  color: string
  points: Array<{ x: number; y: number }> // x = N, y = seconds
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

// A "nice" axis maximum and step: 1, 2 or 5 times a power of ten, about five ticks.
export function niceAxis(max: number): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.2 }
  const raw = max / 5
  const p = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!
  return { max: Math.ceil(max / step) * step, step }
}

// Wall time (s) against N as a line chart with markers, axes, ticks and a legend.
export function renderSvg(series: Series[], title: string, width = 640, height = 360): string {
  const m = { left: 56, right: 160, top: 36, bottom: 44 }
  const w = width - m.left - m.right
  const h = height - m.top - m.bottom
  const all = series.flatMap((s) => s.points)
  const xs = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b)
  const xAxis = niceAxis(Math.max(1, ...xs))
  const yAxis = niceAxis(Math.max(0, ...all.map((p) => p.y)))
  const X = (x: number) => m.left + (x / xAxis.max) * w
  const Y = (y: number) => m.top + h - (y / yAxis.max) * h
  const f = (n: number) => n.toFixed(1)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${m.left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ]
  for (let y = 0; y <= yAxis.max + 1e-9; y += yAxis.step) {
    out.push(`<line x1="${m.left}" y1="${f(Y(y))}" x2="${m.left + w}" y2="${f(Y(y))}" stroke="#ddd"/>`)
    out.push(`<text x="${m.left - 6}" y="${f(Y(y) + 4)}" text-anchor="end">${+y.toFixed(3)}</text>`)
  }
  for (let x = 0; x <= xAxis.max + 1e-9; x += xAxis.step) {
    out.push(`<line x1="${f(X(x))}" y1="${m.top + h}" x2="${f(X(x))}" y2="${m.top + h + 4}" stroke="#333"/>`)
    out.push(`<text x="${f(X(x))}" y="${m.top + h + 18}" text-anchor="middle">${+x.toFixed(3)}</text>`)
  }
  out.push(`<line x1="${m.left}" y1="${m.top + h}" x2="${m.left + w}" y2="${m.top + h}" stroke="#333"/>`)
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + h}" stroke="#333"/>`)
  out.push(`<text x="${m.left + w / 2}" y="${height - 6}" text-anchor="middle">hosts (N)</text>`)
  out.push(`<text x="14" y="${m.top + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + h / 2})">wall time (s)</text>`)
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x)
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${f(X(p.x))},${f(Y(p.y))}`).join(' ')}"/>`)
    for (const p of pts) out.push(`<circle cx="${f(X(p.x))}" cy="${f(Y(p.y))}" r="3.5" fill="${s.color}"><title>${esc(s.name)}: N=${p.x}, ${p.y.toFixed(1)} s</title></circle>`)
    const ly = m.top + 10 + i * 20
    out.push(`<line x1="${m.left + w + 14}" y1="${ly}" x2="${m.left + w + 34}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`)
    out.push(`<text x="${m.left + w + 40}" y="${ly + 4}">${esc(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
