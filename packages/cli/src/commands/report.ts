/**
 * `bounce-guard report`: what happened since a point in time, grouped by destination domain,
 * provider or reason: sends, deliveries, hard and soft bounces, bounce rate, suppressions added,
 * and the destinations that are refusing us (sender-side rejections). A table, or `--json`.
 */
import {
  addCounts,
  domainOf,
  emptyOutcomeCounts,
  OUTCOME_COUNT_FIELDS,
  type BounceStore,
  type StatsRow,
  type Suppression,
  type SuppressionFilter,
} from '@bounce-guard/core'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { renderHtmlReport, createReportHandler, createPrometheusMetrics } from '@bounce-guard/report'
import { eventCountsAfter, eventTimeSeries } from '@bounce-guard/typeorm'
import * as promClient from 'prom-client'
import { Option, type Command } from 'commander'
import { collectPageData } from '../lib/report-page.js'
import { action, messageFor } from '../lib/errors.js'
import { DEFAULT_RETENTION_DAYS, parseRetentionDays, startMaintenance } from '../lib/maintenance.js'
import { sqlStoreOf } from '../lib/sql-store.js'
import { addDbOption, dbUrl } from '../lib/options.js'
import { openStore } from '../lib/open-store.js'
import { formatTable, percent } from '../lib/table.js'
import { parsePointInTime } from '../lib/time.js'

/** Grouping of `report`. */
export type ReportGroupBy = 'domain' | 'provider' | 'reason'

/** One row of the report: the store's counters plus the suppressions added for that key. */
export interface ReportRow extends StatsRow {
  /** delivered + hardBounces + softBounces: the messages that got a final answer (not `stats().sent`, which counts events). */
  sent: number
  /** Suppressions created in the window for this key (by domain and reason; not known by provider). */
  suppressionsAdded?: number
}

/** A destination that refuses our mail because of us (reputation, blocklist, authentication, rate). */
export interface RefusingDestination {
  destination: string
  senderRejections: number
  sent: number
}

/** What `report --json` prints. */
export interface Report {
  since: string
  until: string
  groupBy: ReportGroupBy
  rows: ReportRow[]
  totals: Omit<ReportRow, 'key'>
  suppressionsAdded: { total: number; addresses: number; domains: number; escalated: number }
  refusing: RefusingDestination[]
}

function sum(rows: StatsRow[]): Omit<StatsRow, 'key'> {
  const t = { sent: 0, delivered: 0, hardBounces: 0, softBounces: 0, deferred: 0, complaints: 0, senderRejections: 0, bounceRate: 0 }
  for (const r of rows) {
    t.sent += r.sent
    t.delivered += r.delivered
    t.hardBounces += r.hardBounces
    t.softBounces += r.softBounces
    t.deferred += r.deferred
    t.complaints += r.complaints
    t.senderRejections += r.senderRejections
  }
  const attempted = t.delivered + t.hardBounces + t.softBounces
  t.bounceRate = attempted === 0 ? 0 : t.hardBounces / attempted
  return t
}

async function suppressionsSince(store: BounceStore, filter: SuppressionFilter): Promise<Suppression[]> {
  const out: Suppression[] = []
  let cursor: string | undefined
  do {
    const page = await store.listSuppressions(filter, { limit: 1000, ...(cursor ? { cursor } : {}) })
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return out
}

/**
 * A row's `sent`: delivered + hard + soft bounces, the messages that got a final answer (the bounce
 * rate's denominator, as on the report page and in the alerts). The store's `stats().sent` counts
 * events, so a deferral, a complaint or an auto-reply after a delivery counted one message twice.
 */
function withSent(r: StatsRow): StatsRow {
  return { ...r, sent: r.delivered + r.hardBounces + r.softBounces }
}

const hasCounts = (r: Omit<StatsRow, 'key' | 'sent' | 'bounceRate'>) =>
  r.delivered + r.hardBounces + r.softBounces + r.deferred + r.complaints + r.senderRejections > 0

/**
 * Per-provider rows from `eventTimeSeries` (the hourly rollup for whole hours, the events table for
 * the partial hours at both ends and the events not rolled up yet): the same counts as
 * `stats({ groupBy: 'provider' })`, without reading every event of the window.
 */
async function providerRowsFromRollup(store: BounceStore, since: Date, until: Date): Promise<StatsRow[] | undefined> {
  const sql = sqlStoreOf(store)
  if (!sql) return undefined
  const series = await eventTimeSeries(sql.dataSource, {
    tablePrefix: sql.tables.prefix,
    since,
    until,
    bucketSeconds: 86_400,
    groupBy: 'provider',
  })
  const by = new Map<string, StatsRow>()
  for (const b of series) {
    let r = by.get(b.key)
    if (!r) {
      r = { key: b.key, sent: 0, ...emptyOutcomeCounts(), bounceRate: 0 }
      by.set(b.key, r)
    }
    addCounts(r, b, OUTCOME_COUNT_FIELDS)
  }
  return [...by.values()].filter(hasCounts).map((r) => {
    const attempted = r.delivered + r.hardBounces + r.softBounces
    return { ...r, bounceRate: attempted === 0 ? 0 : r.hardBounces / attempted }
  })
}

/** Options of `buildReport`. */
export interface BuildReportOptions {
  since: Date
  until: Date
  groupBy: ReportGroupBy
  /**
   * By provider on a TypeORM store, read the counts through the hourly rollup (`eventTimeSeries`)
   * instead of `store.stats`; the numbers are the same. @default true
   */
  useRollup?: boolean
}

/** Build the report from a store (exported for reuse by the demo and tests). */
export async function buildReport(store: BounceStore, options: BuildReportOptions): Promise<Report> {
  const { since, until, groupBy } = options
  const fromRollup = groupBy === 'provider' && options.useRollup !== false ? await providerRowsFromRollup(store, since, until) : undefined
  const stats = (fromRollup ?? (await store.stats({ since, until, groupBy })).filter(hasCounts)).map(withSent)
  const byDomain = groupBy === 'domain' ? stats : (await store.stats({ since, until, groupBy: 'domain' })).map(withSent)
  const added = await suppressionsSince(store, { since, until, includeExpired: true, now: until })
  const addedBy = new Map<string, number>()
  for (const s of added) {
    const k = groupBy === 'domain' ? (s.scope === 'domain' ? s.key : domainOf(s.key)) : groupBy === 'reason' ? s.reason : undefined
    if (k !== undefined) addedBy.set(k, (addedBy.get(k) ?? 0) + 1)
  }
  const rows: ReportRow[] = stats.map((r) => (groupBy === 'provider' ? { ...r } : { ...r, suppressionsAdded: addedBy.get(r.key) ?? 0 }))
  // Keys with suppressions but no events in the window (e.g. imported or added by hand).
  if (groupBy !== 'provider') {
    const withEvents = new Set(rows.map((r) => r.key))
    for (const [key, n] of addedBy) {
      if (!withEvents.has(key)) {
        rows.push({ key, sent: 0, ...emptyOutcomeCounts(), bounceRate: 0, suppressionsAdded: n })
      }
    }
  }
  rows.sort((a, b) => b.sent - a.sent || a.key.localeCompare(b.key))
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    groupBy,
    rows,
    totals: { ...sum(stats), suppressionsAdded: added.length },
    suppressionsAdded: {
      total: added.length,
      addresses: added.filter((s) => s.scope === 'address').length,
      domains: added.filter((s) => s.scope === 'domain').length,
      escalated: added.filter((s) => s.escalated).length,
    },
    refusing: byDomain
      .filter((r) => r.senderRejections > 0)
      .map((r) => ({ destination: r.key, senderRejections: r.senderRejections, sent: r.sent }))
      .sort((a, b) => b.senderRejections - a.senderRejections || a.destination.localeCompare(b.destination)),
  }
}

/** The report as text tables. */
export function formatReport(report: Report): string {
  const label = report.groupBy.toUpperCase()
  const rows: Array<ReportRow & { total?: boolean }> = [...report.rows, { key: 'TOTAL', ...report.totals, total: true }]
  let out = `Bounce Guard report, ${report.since} to ${report.until}, by ${report.groupBy}\n\n`
  out += formatTable(rows, [
    { header: label, value: (r) => r.key },
    { header: 'SENT', value: (r) => r.sent, align: 'right' },
    { header: 'DELIVERED', value: (r) => r.delivered, align: 'right' },
    { header: 'HARD', value: (r) => r.hardBounces, align: 'right' },
    { header: 'SOFT', value: (r) => r.softBounces, align: 'right' },
    { header: 'DEFERRED', value: (r) => r.deferred, align: 'right' },
    { header: 'COMPLAINTS', value: (r) => r.complaints, align: 'right' },
    { header: 'REFUSED US', value: (r) => r.senderRejections, align: 'right' },
    { header: 'BOUNCE RATE', value: (r) => percent(r.bounceRate), align: 'right' },
    ...(report.groupBy === 'provider'
      ? []
      : [{ header: 'SUPPRESSED', value: (r: ReportRow) => r.suppressionsAdded ?? 0, align: 'right' as const }]),
  ])
  const s = report.suppressionsAdded
  out += `\nSuppressions added: ${s.total} (${s.addresses} addresses, ${s.domains} domains, ${s.escalated} escalated from soft failures)\n`
  if (report.refusing.length === 0) out += 'Destinations refusing us: none\n'
  else {
    out += '\nDestinations refusing us (sender-side rejections: reputation, blocklist, authentication, rate):\n'
    out += formatTable(report.refusing, [
      { header: 'DESTINATION', value: (r) => r.destination },
      { header: 'REFUSALS', value: (r) => r.senderRejections, align: 'right' },
      { header: 'OF SENT', value: (r) => r.sent, align: 'right' },
    ])
  }
  return out
}

/** Register `report`. */
export function register(program: Command): void {
  addDbOption(program.command('report'))
    .description('sends, deliveries, bounces, bounce rate, suppressions added and destinations refusing us')
    .option('--since <when>', 'start of the window: a duration back from now (7d, 24h) or an ISO date', '7d')
    .option('--until <when>', 'end of the window: a duration back from now or an ISO date (default: now)')
    .addOption(new Option('--by <group>', 'group rows by').choices(['domain', 'provider', 'reason']).default('domain'))
    .option('--json', 'print JSON instead of tables', false)
    .option(
      '--html <file>',
      'also write a self-contained HTML page with charts (rates per provider over time, reasons, refusing destinations)',
    )
    .action(
      action(async (opts: { db?: string; since: string; until?: string; by: ReportGroupBy; json: boolean; html?: string }) => {
        const now = new Date()
        const since = parsePointInTime('--since', opts.since, now)
        const until = opts.until ? parsePointInTime('--until', opts.until, now) : now
        const db = await openStore(dbUrl(opts))
        try {
          if (opts.html) {
            writeFileSync(opts.html, renderHtmlReport(await collectPageData(db.store, { since, until })))
            process.stderr.write(`report page written to ${opts.html}\n`)
          }
          const report = await buildReport(db.store, { since, until, groupBy: opts.by })
          process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
        } finally {
          await db.close()
        }
      }),
    )
}

/** Register `serve`: the report page, live, on localhost. */
export function registerServe(program: Command): void {
  addDbOption(program.command('serve'))
    .description('serve the report page (and /data.json, /metrics) on localhost, fresh data on every request')
    .option('--since <when>', 'start of the window shown: a duration back from now (7d, 24h)', '7d')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 picks a free one)', '8025')
    .option(
      '--retention-days <days>',
      'every hour, delete rolled-up raw events older than this many days (1-36500), or never',
      String(DEFAULT_RETENTION_DAYS),
    )
    .action(
      action(async (opts: { db?: string; since: string; port: string; retentionDays: string }) => {
        const port = Number(opts.port)
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${opts.port}`)
        parsePointInTime('--since', opts.since, new Date()) // fail early on a bad value
        const retentionMs = parseRetentionDays(opts.retentionDays)
        const db = await openStore(dbUrl(opts))
        const store = db.store
        // /metrics: outcome counters since this process started (read from the store), shaping state.
        const registry = new promClient.Registry()
        const metrics = createPrometheusMetrics({
          client: promClient,
          registry,
          ...(store.listShapingEntries ? { shaping: (now: Date) => store.listShapingEntries!(now) } : {}),
        })
        const sql = sqlStoreOf(store)
        const ds = sql?.dataSource
        let lastId = ds ? (await eventCountsAfter(ds)).lastId : 0
        // Keep the hourly rollup current every minute (the page's per-provider series stays fast on
        // big tables), and prune raw events past the retention every hour (the first tick prunes too).
        const upkeep = sql
          ? startMaintenance(sql, {
              retentionMs,
              onError: (err) => process.stderr.write(`bounce-guard: event maintenance failed: ${messageFor(err)}\n`),
              onPruned: (r) => process.stderr.write(`bounce-guard: pruned ${r.pruned} events older than ${r.olderThan?.toISOString()}\n`),
            })
          : undefined
        void upkeep?.tick()
        const handler = createReportHandler({
          collect: () => {
            const now = new Date()
            return collectPageData(store, { since: parsePointInTime('--since', opts.since, now), until: now })
          },
          metrics: {
            registry: {
              contentType: registry.contentType,
              async metrics() {
                if (ds) {
                  const r = await eventCountsAfter(ds, { afterId: lastId })
                  lastId = r.lastId
                  metrics.countOutcomes(r.rows)
                }
                return registry.metrics()
              },
            },
          },
        })
        const server = createServer((req, res) => {
          handler(req, res)
        })
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
        const address = server.address()
        const bound = typeof address === 'object' && address ? address.port : port
        process.stdout.write(`bounce-guard: report page on http://127.0.0.1:${bound}/ (Ctrl-C stops)\n`)
        await new Promise<void>((resolve) => {
          const stop = () => server.close(() => resolve())
          process.once('SIGINT', stop)
          process.once('SIGTERM', stop)
        })
        await upkeep?.stop()
        await db.close()
      }),
    )
}
