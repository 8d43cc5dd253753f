/**
 * `renderHtmlReport(data)`: one self-contained HTML page. Tables are rendered here, escaped; the
 * charts are drawn in the browser by uPlot (MIT, pinned), whose minified script and stylesheet are
 * read from node_modules at render time and inlined, so the file opens offline and can be mailed.
 * The data travels as JSON in a `<script type="application/json">` block with `<` escaped.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { addCounts, MONITOR_COUNT_FIELDS } from '@bounce-guard/core'
import { emptyRow, type ReportData, type ReportSeriesRow } from './collect.js'

/** Options of `renderHtmlReport`. */
export interface RenderHtmlOptions {
  /** Most providers drawn as separate series (the busiest); the rest are summed as `other`. @default 6 */
  maxSeries?: number
}

/** Series colours (colour-blind friendly, Okabe-Ito). The first provider gets the first colour. */
export const SERIES_COLORS: readonly string[] = ['#d55e00', '#0072b2', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000']

/** The uPlot assets, read on first use. */
const ASSETS: { lib?: { js: string; css: string } } = {}

/** The uPlot script and stylesheet, read once from the installed package. */
function uplotAssets(): { js: string; css: string } {
  if (ASSETS.lib) return ASSETS.lib
  const require = createRequire(import.meta.url)
  const dir = join(dirname(require.resolve('uplot/package.json')), 'dist')
  ASSETS.lib = { js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') }
  return ASSETS.lib
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** JSON safe inside a `<script>` element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

function pct(n: number): string {
  return `${(n * 100).toFixed(n !== 0 && n < 0.01 ? 2 : 1)}%`
}

function fmt(n: number): string {
  return n.toLocaleString('en')
}

function top(m: Record<string, number>, n = 3): string {
  return Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${escapeHtml(k)} (${fmt(v)})`)
    .join(', ')
}

/** Chart input: x = bucket starts (seconds), one y array per provider. */
interface ChartSeries {
  names: string[]
  x: number[]
  bounceRate: Array<Array<number | null>>
  complaintRate: Array<Array<number | null>>
  senderRejections: number[][]
}

function chartSeries(data: ReportData, maxSeries: number): ChartSeries {
  const totals = new Map<string, number>()
  for (const r of data.series) totals.set(r.key, (totals.get(r.key) ?? 0) + r.sent + r.deferred)
  const ranked = [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k)
  const names = ranked.slice(0, maxSeries)
  if (ranked.length > maxSeries) names.push('other')
  const idx = new Map(names.map((n, i) => [n, i]))
  const step = data.bucketSeconds * 1000
  const since = Date.parse(data.since)
  const until = Date.parse(data.until)
  const first = since - (since % step)
  const x: number[] = []
  for (let t = first; t < until; t += step) x.push(t / 1000)
  const acc: ReportSeriesRow[][] = names.map((n) => x.map((t) => emptyRow(t * 1000, n)))
  for (const r of data.series) {
    const si = idx.get(r.key) ?? idx.get('other')
    const xi = Math.floor((r.bucket - first) / step)
    if (si === undefined || xi < 0 || xi >= x.length) continue
    const a = acc[si]![xi]!
    addCounts(a, r, MONITOR_COUNT_FIELDS)
  }
  return {
    names,
    x,
    bounceRate: acc.map((s) => s.map((b) => (b.sent > 0 ? (100 * b.hardBounces) / b.sent : null))),
    complaintRate: acc.map((s) => s.map((b) => (b.delivered > 0 ? (100 * b.complaints) / b.delivered : null))),
    senderRejections: acc.map((s) => s.map((b) => b.senderRejections)),
  }
}

const CSS = `
:root{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
body{margin:0 auto;max-width:1160px;padding:20px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#5b6473}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 16px;min-width:150px}
.card b{display:block;font-size:22px}.card.warn b{color:#b35900}.card.crit b{color:#b00020}
.panel{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px;margin:10px 0}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{font-weight:600;background:#f0f2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:10px;background:#0072b2;border-radius:2px;vertical-align:middle}
code,.sample{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;word-break:break-word}
.notes{background:#fff8e1;border:1px solid #f0d890;border-radius:6px;padding:8px 12px}
`

/**
 * Render the report as one self-contained HTML page (no external requests).
 * @example
 * writeFileSync('report.html', renderHtmlReport(await collectReportData(store, { since })))
 */
export function renderHtmlReport(data: ReportData, options: RenderHtmlOptions = {}): string {
  const lib = uplotAssets()
  const charts = chartSeries(data, Math.max(1, options.maxSeries ?? 6))
  const sum = (f: 'sent' | 'delivered' | 'hardBounces' | 'complaints' | 'senderRejections') => data.providers.reduce((n, r) => n + r[f], 0)
  const delivered = sum('delivered')
  const hard = sum('hardBounces')
  const final = sum('sent')
  const bounceRate = final > 0 ? hard / final : 0
  const complaintRate = delivered > 0 ? sum('complaints') / delivered : 0
  const suppressions = data.suppressionsPerDay.reduce((n, d) => n + d.total, 0)
  const level = (v: number, w: number, c: number) => (v >= c ? ' crit' : v >= w ? ' warn' : '')

  const maxReason = Math.max(1, ...data.reasons.map((r) => r.sent))
  const reasonRows = data.reasons
    .slice()
    .sort((a, b) => b.sent - a.sent)
    .map(
      (r) =>
        `<tr><td><code>${escapeHtml(r.key)}</code></td><td class="n">${fmt(r.sent)}</td><td class="n">${fmt(r.hardBounces)}</td><td class="n">${fmt(r.softBounces)}</td><td class="n">${fmt(r.deferred)}</td><td class="n">${fmt(r.senderRejections)}</td><td><span class="bar" style="width:${Math.round((240 * r.sent) / maxReason)}px"></span></td></tr>`,
    )
    .join('')
  const providerRows = data.providers
    .slice()
    .sort((a, b) => b.sent - a.sent)
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.key)}</td><td class="n">${fmt(r.sent)}</td><td class="n">${fmt(r.delivered)}</td><td class="n">${fmt(r.hardBounces)}</td><td class="n">${fmt(r.softBounces)}</td><td class="n">${fmt(r.deferred)}</td><td class="n">${fmt(r.complaints)}</td><td class="n">${fmt(r.senderRejections)}</td><td class="n">${pct(r.bounceRate)}</td></tr>`,
    )
    .join('')
  const refusalRows = data.refusing
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.key)}</td><td class="n">${fmt(r.count)}</td><td>${top(r.reasons)}</td><td>${top(r.blocklists) || '<span class="muted">none named</span>'}</td><td>${top(r.ruleIds, 2)}</td><td class="sample">${r.sample ? escapeHtml(r.sample) : ''}</td><td>${r.lastAt ? escapeHtml(r.lastAt.slice(0, 16).replace('T', ' ')) : ''}</td></tr>`,
    )
    .join('')
  const days = data.suppressionsPerDay
  const chartData = {
    names: charts.names,
    colors: charts.names.map((_, i) => SERIES_COLORS[i % SERIES_COLORS.length]),
    x: charts.x,
    bounceRate: charts.bounceRate,
    complaintRate: charts.complaintRate,
    senderRejections: charts.senderRejections,
    days: { x: days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000), y: days.map((d) => d.total) },
  }
  const empty = (cols: number, what: string) => `<tr><td colspan="${cols}" class="muted">${what}</td></tr>`

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${lib.css}</style><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<div class="muted">${escapeHtml(data.since.slice(0, 16).replace('T', ' '))} to ${escapeHtml(data.until.slice(0, 16).replace('T', ' '))} UTC, buckets of ${fmt(data.bucketSeconds / 60)} min. Generated ${escapeHtml(data.generatedAt.slice(0, 19).replace('T', ' '))} UTC.</div>
${data.notes.length ? `<div class="notes">${data.notes.map(escapeHtml).join('<br>')}</div>` : ''}
<div class="cards">
<div class="card"><span class="muted">Sent (final outcomes)</span><b>${fmt(final)}</b></div>
<div class="card${level(bounceRate, 0.05, 0.1)}"><span class="muted">Bounce rate (hard)</span><b id="bg-bounce-rate">${pct(bounceRate)}</b></div>
<div class="card${level(complaintRate, 0.001, 0.003)}"><span class="muted">Complaint rate</span><b id="bg-complaint-rate">${pct(complaintRate)}</b></div>
<div class="card"><span class="muted">Sender-side rejections</span><b>${fmt(sum('senderRejections'))}</b></div>
<div class="card"><span class="muted">Suppressions added</span><b>${fmt(suppressions)}</b></div>
</div>
<h2>Bounce rate per provider (hard bounces / sent, %)</h2><div class="panel" id="chart-bounce"></div>
<h2>Complaint rate per provider (complaints / delivered, %)</h2><div class="panel" id="chart-complaint"></div>
<h2>Sender-side rejections per provider</h2><div class="panel" id="chart-rejections"></div>
<h2>Destinations refusing us</h2>
<table><thead><tr><th>Destination</th><th>Rejections</th><th>Reasons</th><th>Blocklists named</th><th>Rules</th><th>Latest reply</th><th>Last</th></tr></thead><tbody>${refusalRows || empty(7, 'No destination refused us in this period.')}</tbody></table>
<h2>Reasons</h2>
<table><thead><tr><th>Reason</th><th>Outcomes</th><th>Hard</th><th>Soft</th><th>Deferred</th><th>Sender-side</th><th></th></tr></thead><tbody>${reasonRows || empty(7, 'No failures in this period.')}</tbody></table>
<h2>Suppressions added per day</h2><div class="panel" id="chart-suppressions"></div>
<h2>Providers</h2>
<table><thead><tr><th>Provider</th><th>Sent</th><th>Delivered</th><th>Hard</th><th>Soft</th><th>Deferred</th><th>Complaints</th><th>Sender-side</th><th>Bounce rate</th></tr></thead><tbody>${providerRows || empty(9, 'No events in this period.')}</tbody></table>
<script type="application/json" id="bg-data">${scriptJson(chartData)}</script>
<script>${lib.js.replace(/<\/script/gi, '<\\/script')}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('bg-data').textContent);
  var width = Math.min(1130, document.body.clientWidth - 30);
  function lines(id, ys, unit) {
    var el = document.getElementById(id);
    if (!d.x.length || !d.names.length) { el.textContent = 'No data in this period.'; return; }
    var series = [{}].concat(d.names.map(function (n, i) {
      return { label: n, stroke: d.colors[i], width: 2, spanGaps: true, points: { show: d.x.length < 60 },
        value: function (u, v) { return v == null ? '-' : (+v).toFixed(unit === '%' ? 2 : 0) + unit; } };
    }));
    new uPlot({ width: width, height: 260, series: series, axes: [{}, { values: function (u, vs) { return vs.map(function (v) { return v + unit; }); } }] },
      [d.x].concat(ys), el);
  }
  lines('chart-bounce', d.bounceRate, '%');
  lines('chart-complaint', d.complaintRate, '%');
  lines('chart-rejections', d.senderRejections, '');
  var el = document.getElementById('chart-suppressions');
  if (!d.days.x.length) { el.textContent = 'No suppressions added in this period.'; }
  else {
    new uPlot({ width: width, height: 220, scales: { x: { time: true, range: function (u, a, b) { return [a - 43200, b + 43200]; } } },
      series: [{}, { label: 'suppressions added', stroke: '#0072b2', fill: 'rgba(0,114,178,0.35)', paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }] },
      [d.days.x, d.days.y], el);
  }
  document.body.setAttribute('data-charts', 'ready');
})();
</script>
</body></html>
`
}
