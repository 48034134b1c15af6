import { finalTasks, type HostReport, type HostWindow, type RunSummary } from './summarize.js'

// report.html: one self-contained file (no network: inline CSS, SVG and a few lines of script).
// A rack view (hosts as tiles grouped by rack, coloured by outcome; a click shows the host's tasks,
// failure and evidence) and a timeline of the run (staging, slot waits, each reboot window, verify,
// and any other window kind, e.g. drain) that shows the rolling behaviour at a glance.

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

// Colours per outcome and per timeline window kind; unknown window kinds get the last colour.
const OUTCOME_COLOUR: Record<string, string> = { ok: '#2e7d32', changed: '#b8860b', failed: '#c62828', unreachable: '#6a1b9a', skipped: '#00838f', 'not-started': '#757575', running: '#1565c0' }
const WINDOW_COLOUR: Record<string, string> = { stage: '#90a4ae', 'slot-wait': '#ffb300', reboot: '#1e88e5', verify: '#43a047', drain: '#8e24aa' }
const OTHER_WINDOW = '#6d4c41'

export function formatHtml(summary: RunSummary): string {
  // One function on purpose: the page is one template (markup, style, script) filled from the summary, read top to bottom.
  const hosts = Object.values(summary.hosts)
  const racks = new Map<string, HostReport[]>()
  for (const h of hosts) racks.set(h.rack ?? '-', [...(racks.get(h.rack ?? '-') ?? []), h])
  const c = summary.counts
  const title = `gpufleet ${summary.check ? 'plan' : 'run'} ${summary.runId ?? ''} — ${summary.playbook ?? ''}`
  // Steps without their command text: scripts run to dozens of lines per host and would make the
  // page megabytes for a rack; hosts/<host>.json keeps them.
  const data = Object.fromEntries(hosts.map((h) => [h.host, { ...h, tasks: finalTasks(h).map((t) => ({ ...t, steps: t.steps.map(({ command: _command, ...rest }) => rest) })) }]))
  // Embedded as JSON text: "<" escaped so no value can close the script element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c')
  const tiles = [...racks]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([rack, hs]) =>
        `<section class="rack" data-rack="${esc(rack)}"><h3>${esc(rack)} <small>${hs.length} hosts, ${hs.filter((h) => h.outcome === 'failed' || h.outcome === 'unreachable').length} failed</small></h3><div class="tiles">${hs
          .map((h) => {
            const o = h.outcome ?? 'running'
            const reboot = h.reboot?.waitedMs !== undefined ? ` · ${Math.round(h.reboot.waitedMs / 1000)}s reboot` : ''
            return `<button class="tile" data-host="${esc(h.host)}" data-outcome="${esc(o)}" style="background:${OUTCOME_COLOUR[o] ?? OUTCOME_COLOUR.running}" title="${esc(`${h.host}: ${o}${h.message ? ` — ${h.message}` : ''}`)}"><b>${esc(h.host)}</b><span>${esc(o)}${reboot}</span></button>`
          })
          .join('')}</div></section>`,
    )
    .join('\n')
  const legend = Object.entries(OUTCOME_COLOUR)
    .filter(([o]) => o !== 'running')
    .map(([o, col]) => `<span class="chip" style="background:${col}">${esc(o)}: ${c[o as keyof typeof c] ?? 0}</span>`)
    .join(' ')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#212121;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:20px 0 8px} h3{font-size:14px;margin:10px 0 6px} small{color:#616161;font-weight:normal}
.chip{display:inline-block;color:#fff;border-radius:10px;padding:1px 8px;margin:2px 2px 2px 0;font-size:12px}
.racks{display:flex;flex-wrap:wrap;gap:12px}
.rack{background:#fff;border:1px solid #ddd;border-radius:6px;padding:4px 10px 10px;min-width:220px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(96px,1fr));gap:6px}
.tile{border:0;border-radius:4px;color:#fff;padding:6px;text-align:left;cursor:pointer;font:12px system-ui,sans-serif}
.tile b{display:block;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis} .tile span{font-size:11px;opacity:.9}
.tile.selected{outline:3px solid #000;outline-offset:1px}
#details{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;margin-top:12px}
table{border-collapse:collapse;width:100%;font-size:12px} td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
pre{background:#f5f5f5;padding:6px;overflow:auto;max-height:240px;font-size:11px;margin:4px 0}
.status-failed{color:#c62828;font-weight:bold} .status-changed{color:#b8860b} .status-noop{color:#2e7d32}
#timeline svg{background:#fff;border:1px solid #ddd;border-radius:6px}
#timeline text{font:10px system-ui,sans-serif;fill:#424242}
</style></head>
<body>
<header><h1>${esc(title)}</h1>
<div>${summary.startedAt !== undefined ? `started ${esc(new Date(summary.startedAt).toISOString())}` : ''}${summary.durationMs !== undefined ? `, took ${(summary.durationMs / 1000).toFixed(1)} s` : ''}${summary.parts.length > 1 ? `, ${summary.parts.length} parts (resumed)` : ''}${summary.check ? ' — check mode: nothing was changed' : ''}</div>
<div>${hosts.length} hosts ${legend}</div></header>
<h2>Racks</h2>
<div class="racks" id="racks">
${tiles}
</div>
<div id="details"><em>Click a host for its tasks and evidence.</em></div>
<h2>Timeline</h2>
<div id="timeline">${timelineSvg(summary)}</div>
<script type="application/json" id="hosts-data">${json}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('hosts-data').textContent);
  var details = document.getElementById('details');
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  function secs(ms) { return ms === undefined || ms === null ? '' : (ms / 1000).toFixed(1) + ' s'; }
  function pre(value) { return el('pre', typeof value === 'string' ? value : JSON.stringify(value, null, 2)); }
  function show(name) {
    var h = data[name]; if (!h) return;
    document.querySelectorAll('.tile.selected').forEach(function (t) { t.classList.remove('selected'); });
    var tile = document.querySelector('.tile[data-host="' + CSS.escape(name) + '"]'); if (tile) tile.classList.add('selected');
    details.textContent = '';
    details.setAttribute('data-host', name);
    details.appendChild(el('h3', name + ' — ' + (h.outcome || 'running') + (h.rack ? ' (rack ' + h.rack + ')' : '')));
    if (h.message) details.appendChild(el('p', h.message.split('\\n')[0], h.outcome === 'failed' || h.outcome === 'unreachable' ? 'status-failed' : ''));
    var table = el('table'); var head = el('tr');
    ['task', 'phase', 'status', 'why', 'steps', 'time'].forEach(function (c) { head.appendChild(el('th', c)); });
    table.appendChild(head);
    (h.tasks || []).forEach(function (t) {
      var tr = el('tr'); tr.appendChild(el('td', t.task)); tr.appendChild(el('td', t.phase || ''));
      tr.appendChild(el('td', t.status, 'status-' + t.status)); tr.appendChild(el('td', t.reason || ''));
      var steps = el('td');
      (t.steps || []).forEach(function (s) { steps.appendChild(el('div', s.step + ' → exit ' + (s.exitCode === null ? 'killed' : s.exitCode) + ' (' + secs(s.durationMs) + ')')); });
      if (t.failedStep) { steps.appendChild(el('div', 'failed at: ' + t.failedStep.step, 'status-failed')); if (t.failedStep.stderrTail) steps.appendChild(pre(t.failedStep.stderrTail.join('\\n'))); }
      if (t.diff) steps.appendChild(pre(t.diff));
      if (t.evidence) steps.appendChild(pre(t.evidence));
      tr.appendChild(steps); tr.appendChild(el('td', secs(t.durationMs))); table.appendChild(tr);
    });
    details.appendChild(table);
    if (h.reboot) { details.appendChild(el('h3', 'Reboot')); details.appendChild(pre(h.reboot)); }
    [['factsBefore', 'Facts before'], ['factsAfter', 'Facts after']].forEach(function (f) {
      if (!h[f[0]]) return; var d = el('details'); d.appendChild(el('summary', f[1])); d.appendChild(pre(h[f[0]])); details.appendChild(d);
    });
  }
  document.getElementById('racks').addEventListener('click', function (ev) {
    var tile = ev.target.closest('.tile'); if (tile) show(tile.getAttribute('data-host'));
  });
  document.querySelectorAll('#timeline [data-host]').forEach(function (row) { row.addEventListener('click', function () { show(row.getAttribute('data-host')); }); });
  // Open on the first failed host: that is what the reader came for.
  var first = document.querySelector('.tile[data-outcome="failed"], .tile[data-outcome="unreachable"]');
  if (first) show(first.getAttribute('data-host'));
})();
</script>
</body></html>
`
}

// The timeline: one row per host (by rack, then by when its reboot began), time on the x axis.
export function timelineSvg(summary: RunSummary): string {
  const hosts = Object.values(summary.hosts)
  const start = summary.startedAt ?? Math.min(...hosts.flatMap((h) => h.windows.map((w) => w.start)))
  const end = Math.max(summary.finishedAt ?? 0, ...hosts.flatMap((h) => h.windows.map((w) => w.end ?? w.start)), start + 1)
  const labelW = 150
  const width = 1000
  const rowH = 14
  const top = 24
  const plotW = width - labelW - 10
  const x = (t: number) => labelW + ((t - start) / (end - start)) * plotW
  const rebootAt = (h: HostReport) => h.windows.find((w) => w.kind === 'reboot' || w.kind === 'slot-wait')?.start ?? Infinity
  const ordered = [...hosts].sort((a, b) => (a.rack ?? '').localeCompare(b.rack ?? '') || rebootAt(a) - rebootAt(b) || a.host.localeCompare(b.host))
  const height = top + ordered.length * rowH + 30
  const ticks: string[] = []
  const span = end - start
  const step = niceStep(span / 8)
  for (let t = 0; t <= span; t += step) ticks.push(`<line x1="${x(start + t).toFixed(1)}" y1="${top - 4}" x2="${x(start + t).toFixed(1)}" y2="${height - 24}" stroke="#eee"/><text x="${x(start + t).toFixed(1)}" y="${top - 8}" text-anchor="middle">${esc(clock(t))}</text>`)
  const rows = ordered.map((h, i) => {
    const y = top + i * rowH
    const bars = h.windows
      .map((w: HostWindow) => {
        const x1 = x(w.start)
        const x2 = Math.max(x1 + 1.5, x(w.end ?? end))
        const label = `${h.host}: ${w.kind} ${clock(w.start - start)}–${clock((w.end ?? end) - start)} (${(((w.end ?? end) - w.start) / 1000).toFixed(1)} s)${w.label ? ` — ${w.label}` : ''}`
        return `<rect class="win win-${esc(w.kind)}" data-kind="${esc(w.kind)}" x="${x1.toFixed(1)}" y="${y + 2}" width="${(x2 - x1).toFixed(1)}" height="${rowH - 4}" fill="${WINDOW_COLOUR[w.kind] ?? OTHER_WINDOW}"><title>${esc(label)}</title></rect>`
      })
      .join('')
    const o = h.outcome ?? 'running'
    const mark = h.finishedAt !== undefined ? `<circle cx="${x(h.finishedAt).toFixed(1)}" cy="${y + rowH / 2}" r="3" fill="${OUTCOME_COLOUR[o] ?? OUTCOME_COLOUR.running}"><title>${esc(`${h.host} finished: ${o}`)}</title></circle>` : ''
    return `<g class="row" data-host="${esc(h.host)}" data-outcome="${esc(o)}"><text x="4" y="${y + rowH - 3}" fill="${o === 'failed' || o === 'unreachable' ? '#c62828' : '#424242'}">${esc(h.host)}${h.rack ? ` (${esc(h.rack)})` : ''}</text>${bars}${mark}</g>`
  })
  const kinds = [...new Set(hosts.flatMap((h) => h.windows.map((w) => w.kind)))]
  const legend = kinds.map((k, i) => `<rect x="${labelW + i * 110}" y="${height - 18}" width="10" height="10" fill="${WINDOW_COLOUR[k] ?? OTHER_WINDOW}"/><text x="${labelW + i * 110 + 14}" y="${height - 9}">${esc(k)}</text>`).join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="run timeline">${ticks.join('')}${rows.join('')}${legend}</svg>`
}

function niceStep(raw: number): number {
  const steps = [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000]
  return steps.find((s) => s >= raw) ?? 3_600_000 * Math.ceil(raw / 3_600_000)
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
