/**
 * Aggregates over the events table computed by the database: counts per time bucket (and per
 * provider, domain, reason or tag), the evidence of destinations refusing us, and retention
 * (`pruneEvents`). Time buckets are computed in SQL from the `at` column (epoch milliseconds, a
 * BIGINT on every dialect) as `at - at % bucketMs`, which PostgreSQL, MySQL/MariaDB and SQLite all
 * evaluate on integers, so no rows are loaded into memory. The queries use the `ev_at` index.
 *
 * Rollup: `<prefix>event_rollup` holds hourly per-provider counts of every event up to a mark (an
 * event id). `rollupEvents` adds the events past the mark and moves it; `eventTimeSeries` reads the
 * whole hours of a window from it and, from the events table, only the partial hours at both ends
 * and the events past the mark (primary key and `ev_at` index), so its answer is exact and its cost
 * does not grow with the window.
 *
 * Retention: the events table is an audit log and grows with every outcome. Recipient state (the
 * counters the policy decides on) and suppressions live in other tables and are not touched by
 * pruning; `maintainEvents(ds, { retentionMs })` (rollup, then prune of the rolled-up events older
 * than 30 days by default) on a schedule bounds the table without changing any decision. Reports
 * keep the rolled-up hourly counts; the other groupings cover at most the retention period.
 */
import { addCounts, BounceGuardError, MONITOR_COUNT_FIELDS, PROVIDER_DOMAIN_HINTS } from '@bounce-guard/core'
import type { DataSource } from 'typeorm'
import type { MonitorCounts } from '@bounce-guard/core'
import { dialectOf } from './migrations.js'
import { ROLLUP_COUNT_COLUMNS, type SqlDialect } from './schema.js'
import { tableNames } from './options.js'
import { createExecutor, type Plan } from './executor.js'
import { Dialect } from './sql.js'

const PKG = '@bounce-guard/typeorm (timeseries)'

/** What the rows are split by, besides time. `none` = one row per bucket. */
export type TimeSeriesGroupBy = 'none' | 'provider' | 'domain' | 'reason' | 'tag'

/** Options of `eventTimeSeries`. */
export interface EventTimeSeriesOptions {
  /** Table prefix of the store. @default "bg_" */
  tablePrefix?: string
  /** First instant counted (inclusive). */
  since: Date
  /** End (exclusive). @default now */
  until?: Date
  /** Width of a bucket in seconds (a positive integer). @default 3600 */
  bucketSeconds?: number
  /** @default 'none' */
  groupBy?: TimeSeriesGroupBy
  /**
   * Read the whole hours of the window from the rollup table (see `rollupEvents`) when it exists,
   * and from the events table only the partial hours at both ends and the events past the
   * rollup's mark; the numbers are the same either way. Applies to `groupBy: 'provider'` and
   * `'none'` with `bucketSeconds` a multiple of 3600; `false` reads the events table only.
   * @default true
   */
  useRollup?: boolean
}

/** One bucket of one key. `sent` = delivered + hard + soft bounces (call-time refusals excluded). */
export interface EventTimeSeriesRow extends MonitorCounts {
  /** Start of the bucket. */
  bucket: Date
  /** The provider (`unknown` when none), domain, reason, tag (`(none)`), or `*` for groupBy `none`. */
  key: string
}

/** One destination refusing us, with evidence. */
export interface RefusalEvidenceRow {
  /** Domain or provider, per `groupBy`. */
  key: string
  /** Sender-side rejections (bounces and deferrals with scope `sender`) in the period. */
  count: number
  reasons: Record<string, number>
  blocklists: Record<string, number>
  ruleIds: Record<string, number>
  /** One reply, as stored. */
  sample?: string
  /** Last rejection. */
  lastAt: Date
}

function dialect(ds: DataSource): SqlDialect {
  const d = dialectOf(String(ds?.options?.type))
  if (!d) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: unsupported DataSource type ${JSON.stringify(String(ds?.options?.type))}`)
  return d
}

function q(d: SqlDialect, name: string): string {
  return d === 'mysql' ? `\`${name}\`` : `"${name}"`
}

function params(d: SqlDialect) {
  const values: unknown[] = []
  return {
    values,
    add(v: unknown): string {
      values.push(v)
      return d === 'postgres' ? `$${values.length}` : '?'
    },
  }
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v)
  return Number.isFinite(n) ? n : 0
}

function validDate(d: unknown, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: ${what} must be a valid Date`)
  return d
}

/**
 * The built-in mailbox domains as a derived table `(d, p)`, joined on the recipient domain so
 * deliveries (which carry no classification) are attributed to their provider. A hash join on 80
 * rows costs far less per row than a long CASE. Constants from core only, no user input. Also used
 * by the store's `stats({ groupBy: 'provider' })`, so both count a delivery to gmail.com under gmail.
 */
export function domainProviderTable(): string {
  const safe = /^[a-z0-9.-]+$/
  const seen = new Set<string>()
  const rows: string[] = []
  for (const [d, p] of PROVIDER_DOMAIN_HINTS) {
    if (!safe.test(d) || !safe.test(p) || seen.has(d)) continue
    seen.add(d)
    rows.push(rows.length === 0 ? `SELECT '${d}' AS d, '${p}' AS p` : `SELECT '${d}', '${p}'`)
  }
  return `(${rows.join(' UNION ALL ')})`
}

/** The events table aliased `e`, joined to the mailbox-domain table `m` when grouping by provider. */
function fromClause(d: SqlDialect, table: string, groupBy: string): string {
  const base = `${q(d, table)} e`
  return groupBy === 'provider'
    ? `${base} LEFT JOIN ${domainProviderTable()} m ON e.${q(d, 'provider')} IS NULL AND m.d = e.${q(d, 'domain')}`
    : base
}

function keyExpr(d: SqlDialect, groupBy: TimeSeriesGroupBy): string {
  const id = (n: string) => q(d, n)
  switch (groupBy) {
    case 'none':
      return `'*'`
    case 'provider':
      // Deliveries carry no classification: fall back to the well-known mailbox domains (joined as `m`).
      return `COALESCE(e.${id('provider')}, m.p, 'unknown')`
    case 'domain':
      return id('domain')
    case 'reason':
      return `COALESCE(${id('reason')}, CASE WHEN ${id('type')} = 'delivered' THEN 'delivered' ELSE 'undefined' END)`
    case 'tag':
      return `COALESCE(${id('tag')}, '(none)')`
    default:
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: groupBy must be none, provider, domain, reason or tag`)
  }
}

async function run(ds: DataSource, sql: string, values: unknown[]): Promise<Array<Record<string, unknown>>> {
  try {
    return (await ds.query(sql, values)) as Array<Record<string, unknown>>
  } catch (err) {
    throw new BounceGuardError('ESTORE', `${PKG}: query failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** One hour, the width of a rollup bucket. */
const HOUR_MS = 3_600_000

/** The rollup's name in `<prefix>rollup_marks`. */
const ROLLUP_NAME = 'provider_hourly'

/** The counter columns of a rollup row (and of an aggregate's result). */
const COUNT_COLUMNS = ROLLUP_COUNT_COLUMNS

/**
 * Counts per time bucket (and key), computed in SQL. Rows are ordered by bucket, then key; buckets
 * without events are absent. Domain summaries (`@domain` recipients) are ignored.
 *
 * With `groupBy: 'provider'` or `'none'` and a bucket width in whole hours, the whole hours of the
 * window are read from the rollup table when one exists (`rollupEvents`), plus, from the events
 * table, the partial hours at both ends and the events recorded after the rollup's mark: the same
 * numbers as the events table alone, however stale the rollup, in one statement.
 * @example
 * const rows = await eventTimeSeries(ds, { since: new Date(Date.now() - 864e5), bucketSeconds: 3600, groupBy: 'provider' })
 */
export async function eventTimeSeries(dataSource: DataSource, options: EventTimeSeriesOptions): Promise<EventTimeSeriesRow[]> {
  const d = dialect(dataSource)
  const w = windowOf(options)
  const groupBy = options.groupBy ?? 'none'
  const first = Math.ceil(w.since / HOUR_MS) * HOUR_MS // first whole hour
  const last = Math.floor(w.until / HOUR_MS) * HOUR_MS // end of the last whole hour
  const rollupFits = (groupBy === 'provider' || groupBy === 'none') && w.bucketMs % HOUR_MS === 0 && last > first
  if (options.useRollup === false || !rollupFits) return rawTimeSeries(dataSource, d, options)
  const names = tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix })
  for (let attempt = 0; attempt < 3; attempt++) {
    const mark = await readRollupMark(dataSource, d, names.rollupMarks)
    if (mark === undefined) break // not migrated yet, or never rolled up
    const p = params(d)
    const r = (n: string) => `r.${q(d, n)}`
    const rb = `(${r('bucket')} - ${r('bucket')} % ${w.bucketMs})`
    const rk = groupBy === 'provider' ? r('k') : `'*'`
    const branches = [
      `SELECT 'r' AS src, ${rb} AS b, ${rk} AS k, ${COUNT_COLUMNS.map((c) => `SUM(${r(c)}) AS ${c}`).join(', ')}` +
        ` FROM ${q(d, names.eventRollup)} r WHERE ${r('bucket_seconds')} = 3600 AND ${r('bucket')} >= ${p.add(first)} AND ${r('bucket')} < ${p.add(last)}` +
        ` GROUP BY ${rb}${groupBy === 'provider' ? `, ${rk}` : ''}`,
    ]
    const at = `e.${q(d, 'at')}`
    if (w.since < first)
      branches.push(aggregateSql(d, names.events, groupBy, w.bucketMs, `${at} >= ${p.add(w.since)} AND ${at} < ${p.add(first)}`, 'e'))
    if (last < w.until)
      branches.push(aggregateSql(d, names.events, groupBy, w.bucketMs, `${at} >= ${p.add(last)} AND ${at} < ${p.add(w.until)}`, 'e'))
    // Events after the mark that fall in the whole hours: late outcomes, and everything not yet rolled up.
    branches.push(
      aggregateSql(
        d,
        names.events,
        groupBy,
        w.bucketMs,
        `e.${q(d, 'id')} > ${p.add(mark)} AND ${at} >= ${p.add(first)} AND ${at} < ${p.add(last)}`,
        'e',
      ),
    )
    // The mark again, read by the same statement: if a rollup moved it since, read again.
    branches.push(
      `SELECT 'm' AS src, 0 AS b, '' AS k, ${q(d, 'event_id')}${', 0'.repeat(COUNT_COLUMNS.length - 1)}` +
        ` FROM ${q(d, names.rollupMarks)} WHERE ${q(d, 'name')} = ${p.add(ROLLUP_NAME)}`,
    )
    const rows = await run(dataSource, branches.join(' UNION ALL '), p.values)
    const markRow = rows.find((x) => x.src === 'm')
    if (!markRow || num(markRow.delivered) !== mark) continue
    return mergeRows(rows.filter((x) => x.src !== 'm'))
  }
  return rawTimeSeries(dataSource, d, options)
}

/** Sum rows of the same bucket and key, ordered by bucket, then key. */
function mergeRows(rows: Array<Record<string, unknown>>): EventTimeSeriesRow[] {
  const by = new Map<string, EventTimeSeriesRow>()
  for (const x of rows) {
    const row = toRow(x)
    const id = `${row.bucket.getTime()}|${row.key}`
    const acc = by.get(id)
    if (!acc) {
      by.set(id, row)
      continue
    }
    addCounts(acc, row, MONITOR_COUNT_FIELDS)
  }
  return [...by.values()].sort((a, b) => a.bucket.getTime() - b.bucket.getTime() || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** The rollup mark (every event with a smaller or equal id is rolled up), or undefined when there is none yet. */
async function readRollupMark(ds: DataSource, d: SqlDialect, marks: string): Promise<number | undefined> {
  try {
    const rows = (await ds.query(
      `SELECT ${q(d, 'event_id')} AS w FROM ${q(d, marks)} WHERE ${q(d, 'name')} = ${d === 'postgres' ? '$1' : '?'}`,
      [ROLLUP_NAME],
    )) as Array<{ w: unknown }>
    return rows[0] === undefined ? undefined : num(rows[0].w)
  } catch {
    return undefined // the rollup migration has not run: the events table answers alone
  }
}

function toRow(r: Record<string, unknown>): EventTimeSeriesRow {
  const delivered = num(r.delivered)
  const hardBounces = num(r.hard_bounces)
  const softBounces = num(r.soft_bounces)
  return {
    bucket: new Date(num(r.b)),
    key: String(r.k),
    sent: delivered + hardBounces + softBounces,
    delivered,
    hardBounces,
    softBounces,
    deferred: num(r.deferred),
    complaints: num(r.complaints),
    senderRejections: num(r.sender_rejections),
    refusedBySuppression: num(r.refused),
  }
}

/** The validated window and bucket width of a time-series query. */
function windowOf(options: EventTimeSeriesOptions): { since: number; until: number; bucketMs: number } {
  const since = validDate(options?.since, 'since').getTime()
  const until = (options.until === undefined ? new Date() : validDate(options.until, 'until')).getTime()
  const bucketSeconds = options.bucketSeconds ?? 3600
  if (!Number.isInteger(bucketSeconds) || bucketSeconds <= 0 || bucketSeconds > 366 * 86400) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: bucketSeconds must be a positive integer (at most a year)`)
  }
  return { since, until, bucketMs: bucketSeconds * 1000 }
}

/**
 * One aggregate over the events table (aliased `e`): `SELECT b, k, <counters> ... WHERE <where>
 * GROUP BY ...`, the counters named as the rollup's columns. `bucketMs` is a validated integer,
 * inlined so every dialect keeps integer arithmetic; `where` holds placeholders of `p`.
 */
function aggregateSql(d: SqlDialect, table: string, groupBy: TimeSeriesGroupBy, bucketMs: number, where: string, src?: string): string {
  const id = (n: string) => `e.${q(d, n)}`
  const [type, hard, scope, reason, at] = [id('type'), id('hard'), id('scope'), id('reason'), id('at')]
  const isHard = d === 'postgres' ? `${hard} IS TRUE` : `${hard} = 1`
  const count = (cond: string): string => `SUM(CASE WHEN ${cond} THEN 1 ELSE 0 END)`
  const key = keyExpr(d, groupBy)
  const bucket = `(${at} - ${at} % ${bucketMs})`
  return (
    `SELECT ${src === undefined ? '' : `'${src}' AS src, `}${bucket} AS b, ${key} AS k,` +
    ` ${count(`${type} = 'delivered'`)} AS delivered,` +
    ` ${count(`${type} = 'bounced' AND ${reason} IS NOT NULL AND ${isHard}`)} AS hard_bounces,` +
    ` ${count(`${type} = 'bounced' AND NOT (${reason} IS NOT NULL AND ${isHard})`)} AS soft_bounces,` +
    ` ${count(`${type} = 'deferred'`)} AS deferred,` +
    ` ${count(`${type} = 'complaint'`)} AS complaints,` +
    ` ${count(`${type} IN ('bounced', 'deferred') AND ${scope} = 'sender'`)} AS sender_rejections,` +
    ` ${count(`${type} = 'suppressed'`)} AS refused` +
    ` FROM ${fromClause(d, table, groupBy)}` +
    ` WHERE ${where} AND ${id('recipient')} NOT LIKE '@%'` +
    ` GROUP BY ${bucket}${groupBy === 'none' ? '' : `, ${key}`}`
  )
}

/** The time series from the events table alone. */
async function rawTimeSeries(dataSource: DataSource, d: SqlDialect, options: EventTimeSeriesOptions): Promise<EventTimeSeriesRow[]> {
  const w = windowOf(options)
  const table = tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }).events
  const p = params(d)
  const at = `e.${q(d, 'at')}`
  const sql = aggregateSql(d, table, options.groupBy ?? 'none', w.bucketMs, `${at} >= ${p.add(w.since)} AND ${at} < ${p.add(w.until)}`)
  const rows = await run(dataSource, `${sql} ORDER BY 1, 2`, p.values)
  return rows.map(toRow)
}

/** Options of `refusalEvidence`. */
export interface RefusalEvidenceOptions {
  /** @default "bg_" */
  tablePrefix?: string
  since: Date
  /** @default now */
  until?: Date
  /** @default 'domain' */
  groupBy?: 'domain' | 'provider'
  /** Most destinations returned, the most refusing first. @default 50 */
  limit?: number
}

/**
 * The destinations refusing us (sender-side rejections) with their evidence: counts by reason,
 * blocklist and rule id, one sample reply. Computed in SQL (grouped by key, reason, blocklist and
 * rule id), then folded per key.
 */
export async function refusalEvidence(dataSource: DataSource, options: RefusalEvidenceOptions): Promise<RefusalEvidenceRow[]> {
  const d = dialect(dataSource)
  const since = validDate(options?.since, 'since')
  const until = options.until === undefined ? new Date() : validDate(options.until, 'until')
  const groupBy = options.groupBy ?? 'domain'
  if (groupBy !== 'domain' && groupBy !== 'provider')
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: groupBy must be domain or provider`)
  const limit = options.limit ?? 50
  const table = tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }).events
  const id = (n: string) => `e.${q(d, n)}`
  const key = keyExpr(d, groupBy)
  const p = params(d)
  const sql =
    `SELECT ${key} AS k, ${id('reason')} AS reason, ${id('blocklist')} AS blocklist, ${id('rule_id')} AS rule_id, COUNT(*) AS n, MAX(${id('reply')}) AS sample, MAX(${id('at')}) AS last_at` +
    ` FROM ${fromClause(d, table, groupBy)} WHERE ${id('at')} >= ${p.add(since.getTime())} AND ${id('at')} < ${p.add(until.getTime())}` +
    ` AND ${id('type')} IN ('bounced', 'deferred') AND ${id('scope')} = 'sender' AND ${id('recipient')} NOT LIKE '@%'` +
    ` GROUP BY ${key}, ${id('reason')}, ${id('blocklist')}, ${id('rule_id')}`
  const rows = await run(dataSource, sql, p.values)
  const byKey = new Map<string, RefusalEvidenceRow & { top: number }>()
  const add = (m: Record<string, number>, k: unknown, n: number) => {
    if (k === null || k === undefined || k === '') return
    m[String(k)] = (m[String(k)] ?? 0) + n
  }
  for (const r of rows) {
    const k = String(r.k)
    const n = num(r.n)
    let e = byKey.get(k)
    if (!e) {
      e = { key: k, count: 0, reasons: {}, blocklists: {}, ruleIds: {}, lastAt: new Date(0), top: -1 }
      byKey.set(k, e)
    }
    e.count += n
    add(e.reasons, r.reason, n)
    add(e.blocklists, r.blocklist, n)
    add(e.ruleIds, r.rule_id, n)
    if (typeof r.sample === 'string' && n > e.top) {
      e.sample = r.sample.slice(0, 500)
      e.top = n
    }
    const last = num(r.last_at)
    if (last > e.lastAt.getTime()) e.lastAt = new Date(last)
  }
  return [...byKey.values()]
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    .slice(0, Math.max(0, limit))
    .map(({ top: _top, ...row }) => row)
}

/** Options of `pruneEvents`. */
export interface PruneEventsOptions {
  /** @default "bg_" */
  tablePrefix?: string
  /** Delete events that happened before this instant (the retention boundary). */
  olderThan: Date
  /** Rows deleted per statement, so no statement holds locks for long. @default 10000 */
  batchSize?: number
}

/**
 * Retention: delete events older than `olderThan`, in batches. Suppressions, recipient state and
 * retry jobs are untouched, so no decision changes; only reports lose the pruned period, except
 * what the rollup table holds. Once the rollup has run (`rollupEvents`), only events it has
 * counted are deleted (an event past its mark stays until a later rollup), so pruning never loses
 * a count. Returns the number of rows deleted. Run it on a schedule (see `maintainEvents`).
 */
export async function pruneEvents(dataSource: DataSource, options: PruneEventsOptions): Promise<number> {
  const d = dialect(dataSource)
  const olderThan = validDate(options?.olderThan, 'olderThan')
  const batch = options.batchSize ?? 10_000
  if (!Number.isInteger(batch) || batch <= 0) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: batchSize must be a positive integer`)
  const names = tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix })
  const table = q(d, names.events)
  const mark = await readRollupMark(dataSource, d, names.rollupMarks)
  const [idc, at] = [q(d, 'id'), q(d, 'at')]
  const ph = (i: number) => (d === 'postgres' ? `$${i}` : '?')
  const cond = `${at} < ${ph(1)}${mark === undefined ? '' : ` AND ${idc} <= ${ph(2)}`}`
  const values = mark === undefined ? [olderThan.getTime()] : [olderThan.getTime(), mark]
  const sql =
    d === 'mysql'
      ? `DELETE FROM ${table} WHERE ${cond} ORDER BY ${at} LIMIT ${batch}`
      : `DELETE FROM ${table} WHERE ${idc} IN (SELECT ${idc} FROM ${table} WHERE ${cond} LIMIT ${batch})`
  let total = 0
  for (;;) {
    const qr = dataSource.createQueryRunner()
    let affected: number
    try {
      const res = await qr.query(sql, values, true)
      affected = num((res as { affected?: unknown }).affected)
    } catch (err) {
      throw new BounceGuardError('ESTORE', `${PKG}: pruneEvents failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      })
    } finally {
      await qr.release()
    }
    total += affected
    if (affected < batch) return total
  }
}

/** Options of `rollupEvents`. */
export interface RollupEventsOptions {
  /** @default "bg_" */
  tablePrefix?: string
  /**
   * How long an id read from the events table waits before the rollup counts up to it, so that an
   * insert which had taken a smaller id but had not committed yet is not skipped. An event write
   * must finish within this time. 0 rolls up to the highest id at once: right on SQLite (one
   * writer at a time) and when nothing writes.
   * @default 0 on SQLite, 30000 on PostgreSQL and MySQL/MariaDB
   */
  settleMs?: number
  /** Most event ids rolled up per transaction (the run repeats until it is done). @default 500000 */
  batchSize?: number
  /** Clock. @default () => new Date() */
  now?: () => Date
}

/** What a `rollupEvents` run did. */
export interface RollupEventsResult {
  /** The mark before the run. */
  previousEventId: number
  /** The mark after the run: every event with an id up to it is counted in the rollup. */
  eventId: number
  /** The highest id seen, which a later run will roll up to once `settleMs` has passed (none when caught up). */
  pendingEventId?: number
  /** Events read past the previous mark (domain summaries and auto-replies included, though not counted). */
  events: number
}

/**
 * Incremental rollup into `<prefix>event_rollup` (created by the `BounceGuardRollup` migration):
 * adds the events recorded since the last run (by id, whatever their `at`, so a late DSN for an
 * old hour is counted too) to their hourly per-provider rows, and moves the mark in
 * `<prefix>rollup_marks` in the same transaction. Idempotent, and safe with several runners (the
 * mark row is locked): a repeated run adds nothing. A run costs in proportion to the events since
 * the previous one, so call it every minute or few (`maintainEvents`, or `bounce-guard serve`,
 * which does). `eventTimeSeries` stays exact whatever the rollup's lag: it reads the events past
 * the mark from the events table. Rolled-up hours survive `pruneEvents`.
 */
export async function rollupEvents(dataSource: DataSource, options: RollupEventsOptions = {}): Promise<RollupEventsResult> {
  const d = dialect(dataSource)
  const settleMs = options.settleMs ?? (d === 'sqlite' ? 0 : 30_000)
  const batch = options.batchSize ?? 500_000
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: settleMs must be 0 or more`)
  if (!Number.isInteger(batch) || batch <= 0) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: batchSize must be a positive integer`)
  const now = options.now ?? (() => new Date())
  const names = tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix })
  const dl = new Dialect(d)
  const exec = createExecutor(dataSource, d)
  const [marks, rollup] = [dl.id(names.rollupMarks), dl.id(names.eventRollup)]
  const cols = ['bucket_seconds', 'bucket', 'k', ...COUNT_COLUMNS].map((c) => dl.id(c)).join(', ')
  const insertHead = d === 'mysql' ? 'INSERT IGNORE INTO' : d === 'sqlite' ? 'INSERT OR IGNORE INTO' : 'INSERT INTO'
  const insertTail = d === 'postgres' ? ` ON CONFLICT (${dl.id('name')}) DO NOTHING` : ''
  const add = COUNT_COLUMNS.map((c) => `${dl.id(c)} = ${rollup}.${dl.id(c)} + ${dl.proposed(c)}`).join(', ')
  const result: RollupEventsResult = { previousEventId: 0, eventId: 0, events: 0 }
  for (let round = 0; ; round++) {
    const t = now().getTime()
    const step = (sql: string, values: unknown[]) => ({ sql, params: values })
    const ph = (i: number) => (d === 'postgres' ? `$${i}` : '?')
    const plan = function* (): Plan<{ from: number; to: number; goal: number; pending?: number; rows: number }> {
      yield step(
        `${insertHead} ${marks} (${dl.id('name')}, ${dl.id('event_id')}, ${dl.id('updated_at')}) VALUES (${ph(1)}, 0, ${ph(2)})${insertTail}`,
        [ROLLUP_NAME, t],
      )
      // Lock the mark row first: a second runner waits here, then sees the moved mark.
      yield step(`UPDATE ${marks} SET ${dl.id('updated_at')} = ${ph(1)} WHERE ${dl.id('name')} = ${ph(2)}`, [t, ROLLUP_NAME])
      const m = (yield step(
        `SELECT ${dl.id('event_id')} AS w, ${dl.id('pending_id')} AS pid, ${dl.id('pending_at')} AS pat FROM ${marks} WHERE ${dl.id('name')} = ${ph(1)}`,
        [ROLLUP_NAME],
      )).rows[0]
      const from = num(m?.w)
      const hi = num((yield step(`SELECT MAX(${dl.id('id')}) AS m FROM ${dl.id(names.events)}`, [])).rows[0]?.m)
      const pendingId = m?.pid === null || m?.pid === undefined ? undefined : num(m.pid)
      const settled = pendingId !== undefined && num(m?.pat) <= t - settleMs
      const goal = settleMs === 0 ? hi : settled ? Math.max(from, pendingId) : from
      const to = Math.min(goal, from + batch)
      let rows = 0
      if (to > from) {
        const where = `e.${dl.id('id')} > ${ph(1)} AND e.${dl.id('id')} <= ${ph(2)}`
        const agg = aggregateSql(d, names.events, 'provider', HOUR_MS, where)
        const conflict =
          d === 'mysql'
            ? ` ON DUPLICATE KEY UPDATE ${add}`
            : ` ${d === 'sqlite' ? 'WHERE true ' : ''}ON CONFLICT (${['bucket_seconds', 'bucket', 'k'].map((c) => dl.id(c)).join(', ')}) DO UPDATE SET ${add}`
        yield step(
          `INSERT INTO ${rollup} (${cols}) SELECT 3600, x.b, x.k, ${COUNT_COLUMNS.map((c) => `x.${c}`).join(', ')} FROM (${agg}) x${conflict}`,
          [from, to],
        )
        rows = num((yield step(`SELECT COUNT(*) AS n FROM ${dl.id(names.events)} e WHERE ${where}`, [from, to])).rows[0]?.n)
      }
      // The next goal: the highest id seen now, once the current one is reached.
      let pending: number | undefined = pendingId
      let pendingAt: number | undefined = pendingId === undefined ? undefined : num(m?.pat)
      if (settleMs === 0 || pendingId === undefined || to >= pendingId) {
        pending = settleMs > 0 && hi > to ? hi : undefined
        pendingAt = pending === undefined ? undefined : t
      }
      yield step(
        `UPDATE ${marks} SET ${dl.id('event_id')} = ${ph(1)}, ${dl.id('pending_id')} = ${ph(2)}, ${dl.id('pending_at')} = ${ph(3)} WHERE ${dl.id('name')} = ${ph(4)}`,
        [to > from ? to : from, pending ?? null, pendingAt ?? null, ROLLUP_NAME],
      )
      return { from, to: Math.max(from, to), goal, rows, ...(pending === undefined ? {} : { pending }) }
    }
    let r: { from: number; to: number; goal: number; pending?: number; rows: number }
    try {
      r = await exec.run(plan, true)
    } catch (err) {
      throw new BounceGuardError('ESTORE', `${PKG}: rollupEvents failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      })
    }
    if (round === 0) result.previousEventId = r.from
    result.eventId = r.to
    result.events += r.rows
    if (r.pending === undefined) delete result.pendingEventId
    else result.pendingEventId = r.pending
    if (r.to >= r.goal) return result
  }
}

/** How long `maintainEvents` keeps raw events by default: 30 days, in milliseconds. */
export const DEFAULT_EVENT_RETENTION_MS = 30 * 86_400_000

/** Options of `maintainEvents`. */
export interface MaintainEventsOptions extends Omit<RollupEventsOptions, 'batchSize'> {
  /**
   * How long raw events are kept. Older events are deleted once rolled up; their hourly
   * per-provider counts stay in the rollup table. `Infinity` keeps every event.
   * @default 2592000000 (30 days)
   */
  retentionMs?: number
  /** Rows deleted per statement. @default 10000 */
  pruneBatchSize?: number
  /** Event ids rolled up per transaction. @default 500000 */
  rollupBatchSize?: number
}

/** What `maintainEvents` did. */
export interface MaintainEventsResult {
  rollup: RollupEventsResult
  /** Events deleted by retention. */
  pruned: number
}

/**
 * The events table's maintenance job: `rollupEvents`, then `pruneEvents` of the events older than
 * `retentionMs` (30 days by default). Run it every minute or few; each run costs in proportion to
 * the events since the previous one.
 * @example
 * setInterval(() => maintainEvents(ds).catch((err) => log.error(err)), 60_000).unref()
 */
export async function maintainEvents(dataSource: DataSource, options: MaintainEventsOptions = {}): Promise<MaintainEventsResult> {
  const retentionMs = options.retentionMs ?? DEFAULT_EVENT_RETENTION_MS
  if (typeof retentionMs !== 'number' || Number.isNaN(retentionMs) || retentionMs <= 0)
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: retentionMs must be a positive number of milliseconds`)
  const now = options.now ?? (() => new Date())
  const rollup = await rollupEvents(dataSource, {
    ...(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }),
    ...(options.settleMs === undefined ? {} : { settleMs: options.settleMs }),
    ...(options.rollupBatchSize === undefined ? {} : { batchSize: options.rollupBatchSize }),
    now,
  })
  const pruned = Number.isFinite(retentionMs)
    ? await pruneEvents(dataSource, {
        ...(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }),
        olderThan: new Date(now().getTime() - retentionMs),
        ...(options.pruneBatchSize === undefined ? {} : { batchSize: options.pruneBatchSize }),
      })
    : 0
  return { rollup, pruned }
}

/** Options of `eventCountsAfter`. */
export interface EventCountsAfterOptions {
  /** @default "bg_" */
  tablePrefix?: string
  /** Count the events with a larger id; omit to only learn the current last id (a starting point). */
  afterId?: number
}

/** Counts of the events recorded after an id, by type, provider, reason and hard. */
export interface EventCountsAfterResult {
  /** The last id counted: pass it as `afterId` next time. */
  lastId: number
  rows: Array<{ type: string; provider: string; reason: string | null; hard: boolean | null; count: number }>
}

/**
 * Counts of the events recorded after `afterId` (domain summaries left out), for counters such as
 * Prometheus' `bounce_guard_outcomes_total`: start with no `afterId`, then pass the returned
 * `lastId` each time. An insert still uncommitted when this runs, holding a smaller id than one
 * already committed, is not counted later (a counter may miss such an event; reports never do).
 */
export async function eventCountsAfter(dataSource: DataSource, options: EventCountsAfterOptions = {}): Promise<EventCountsAfterResult> {
  const d = dialect(dataSource)
  const table = tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }).events
  const last = num((await run(dataSource, `SELECT MAX(${q(d, 'id')}) AS m FROM ${q(d, table)}`, []))[0]?.m)
  const after = options.afterId
  if (after === undefined || last <= after) return { lastId: Math.max(last, after ?? 0), rows: [] }
  if (!Number.isInteger(after)) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: afterId must be an integer`)
  const p = params(d)
  const id = (n: string) => `e.${q(d, n)}`
  const key = keyExpr(d, 'provider')
  const rows = await run(
    dataSource,
    `SELECT ${id('type')} AS t, ${key} AS k, ${id('reason')} AS r, ${id('hard')} AS h, COUNT(*) AS n FROM ${fromClause(d, table, 'provider')}` +
      ` WHERE ${id('id')} > ${p.add(after)} AND ${id('id')} <= ${p.add(last)} AND ${id('recipient')} NOT LIKE '@%'` +
      ` GROUP BY ${id('type')}, ${key}, ${id('reason')}, ${id('hard')}`,
    p.values,
  )
  return {
    lastId: last,
    rows: rows.map((r) => ({
      type: String(r.t),
      provider: String(r.k),
      reason: r.r === null || r.r === undefined ? null : String(r.r),
      hard: r.h === null || r.h === undefined ? null : r.h === true || Number(r.h) === 1,
      count: num(r.n),
    })),
  }
}
