/**
 * Aggregates over the events table computed by the database: counts per time bucket (and per
 * provider, domain, reason or tag), the evidence of destinations refusing us, and retention
 * (`pruneEvents`). Time buckets are computed in SQL from the `at` column (epoch milliseconds, a
 * BIGINT on every dialect) as `at - at % bucketMs`, which PostgreSQL, MySQL/MariaDB and SQLite all
 * evaluate on integers, so no rows are loaded into memory. The queries use the `ev_at` index.
 *
 * Retention: the events table is an audit log and grows with every outcome. Recipient state (the
 * counters the policy decides on) and suppressions live in other tables and are not touched by
 * pruning, so `pruneEvents(ds, { olderThan: 30 days ago })` on a schedule (e.g. daily) bounds the
 * table without changing any decision. Reports then cover at most the retention period.
 */
import { BounceGuardError, PROVIDER_DOMAIN_HINTS } from '@bounce-guard/core'
import type { DataSource } from 'typeorm'
import type { MonitorCounts } from '@bounce-guard/core'
import { dialectOf } from './migrations.js'
import type { SqlDialect } from './schema.js'
import { tableNames } from './options.js'

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
   * Read complete buckets from the rollup table (see `rollupEvents`) and only the buckets after
   * its last rolled-up bucket from the events table. Only for `groupBy: 'provider'` and a
   * `bucketSeconds` that was rolled up; otherwise ignored. @default false
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
 * rows costs far less per row than a long CASE. Constants from core only, no user input.
 */
function domainProviderTable(): string {
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

/**
 * Counts per time bucket (and key), computed in SQL. Rows are ordered by bucket, then key; buckets
 * without events are absent. Domain summaries (`@domain` recipients) are ignored.
 * @example
 * const rows = await eventTimeSeries(ds, { since: new Date(Date.now() - 864e5), bucketSeconds: 3600, groupBy: 'provider' })
 */
export async function eventTimeSeries(dataSource: DataSource, options: EventTimeSeriesOptions): Promise<EventTimeSeriesRow[]> {
  if (!options?.useRollup || options.groupBy !== 'provider') return rawTimeSeries(dataSource, options)
  const d = dialect(dataSource)
  const since = validDate(options.since, 'since')
  const until = options.until === undefined ? new Date() : validDate(options.until, 'until')
  const bucketSeconds = options.bucketSeconds ?? 3600
  const rollup = rollupTable(options.tablePrefix)
  const p = params(d)
  let mark: number | undefined
  try {
    const r = await run(
      dataSource,
      `SELECT MAX(${q(d, 'bucket')}) AS m FROM ${q(d, rollup)} WHERE ${q(d, 'bucket_seconds')} = ${p.add(bucketSeconds)}`,
      p.values,
    )
    mark = r[0]?.m === null || r[0]?.m === undefined ? undefined : num(r[0].m) + bucketSeconds * 1000
  } catch {
    mark = undefined // no rollup table yet
  }
  const bucketMs = bucketSeconds * 1000
  const first = Math.ceil(since.getTime() / bucketMs) * bucketMs // first whole bucket
  const last = mark === undefined ? first : Math.min(mark, until.getTime() - (until.getTime() % bucketMs)) // end of whole rolled buckets
  if (last <= first) return rawTimeSeries(dataSource, options)
  const p2 = params(d)
  const cols = ['delivered', 'hard_bounces', 'soft_bounces', 'deferred', 'complaints', 'sender_rejections', 'refused']
  const rolled = await run(
    dataSource,
    `SELECT ${q(d, 'bucket')} AS b, ${q(d, 'k')} AS k, ${cols.map((c) => q(d, c)).join(', ')} FROM ${q(d, rollup)}` +
      ` WHERE ${q(d, 'bucket_seconds')} = ${p2.add(bucketSeconds)} AND ${q(d, 'bucket')} >= ${p2.add(first)} AND ${q(d, 'bucket')} < ${p2.add(last)} ORDER BY 1, 2`,
    p2.values,
  )
  // Partial buckets at either end come from the events table.
  const rows: EventTimeSeriesRow[] = []
  if (since.getTime() < first) rows.push(...(await rawTimeSeries(dataSource, { ...options, until: new Date(first) })))
  rows.push(...rolled.map(toRow))
  if (last < until.getTime()) rows.push(...(await rawTimeSeries(dataSource, { ...options, since: new Date(last), until })))
  return rows
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

/** Build the aggregate query (shared by `eventTimeSeries` and `rollupEvents`). */
function timeSeriesSql(d: SqlDialect, options: EventTimeSeriesOptions): { sql: string; values: unknown[]; bucketMs: number } {
  const since = validDate(options?.since, 'since')
  const until = options.until === undefined ? new Date() : validDate(options.until, 'until')
  const bucketSeconds = options.bucketSeconds ?? 3600
  if (!Number.isInteger(bucketSeconds) || bucketSeconds <= 0 || bucketSeconds > 366 * 86400) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: bucketSeconds must be a positive integer (at most a year)`)
  }
  const bucketMs = bucketSeconds * 1000 // a validated integer, inlined so every dialect keeps integer arithmetic
  const table = tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }).events
  const id = (n: string) => `e.${q(d, n)}`
  const [type, hard, scope, reason, at] = [id('type'), id('hard'), id('scope'), id('reason'), id('at')]
  const isHard = d === 'postgres' ? `${hard} IS TRUE` : `${hard} = 1`
  const count = (cond: string): string => `SUM(CASE WHEN ${cond} THEN 1 ELSE 0 END)`
  const groupBy = options.groupBy ?? 'none'
  const key = keyExpr(d, groupBy)
  const bucket = `(${at} - ${at} % ${bucketMs})`
  const p = params(d)
  const sql =
    `SELECT ${bucket} AS b, ${key} AS k,` +
    ` ${count(`${type} = 'delivered'`)} AS delivered,` +
    ` ${count(`${type} = 'bounced' AND ${reason} IS NOT NULL AND ${isHard}`)} AS hard_bounces,` +
    ` ${count(`${type} = 'bounced' AND NOT (${reason} IS NOT NULL AND ${isHard})`)} AS soft_bounces,` +
    ` ${count(`${type} = 'deferred'`)} AS deferred,` +
    ` ${count(`${type} = 'complaint'`)} AS complaints,` +
    ` ${count(`${type} IN ('bounced', 'deferred') AND ${scope} = 'sender'`)} AS sender_rejections,` +
    ` ${count(`${type} = 'suppressed'`)} AS refused` +
    ` FROM ${fromClause(d, table, groupBy)}` +
    ` WHERE ${at} >= ${p.add(since.getTime())} AND ${at} < ${p.add(until.getTime())}` +
    ` AND ${id('recipient')} NOT LIKE '@%'` +
    ` GROUP BY ${bucket}${groupBy === 'none' ? '' : `, ${key}`}`
  return { sql, values: p.values, bucketMs }
}

async function rawTimeSeries(dataSource: DataSource, options: EventTimeSeriesOptions): Promise<EventTimeSeriesRow[]> {
  const d = dialect(dataSource)
  const { sql, values } = timeSeriesSql(d, options)
  const rows = await run(dataSource, `${sql} ORDER BY 1, 2`, values)
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
 * retry jobs are untouched, so no decision changes; only reports lose the pruned period. Returns
 * the number of rows deleted. Run it on a schedule (e.g. daily, keeping 30 days).
 */
export async function pruneEvents(dataSource: DataSource, options: PruneEventsOptions): Promise<number> {
  const d = dialect(dataSource)
  const olderThan = validDate(options?.olderThan, 'olderThan')
  const batch = options.batchSize ?? 10_000
  if (!Number.isInteger(batch) || batch <= 0) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: batchSize must be a positive integer`)
  const table = q(d, tableNames(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }).events)
  const [idc, at] = [q(d, 'id'), q(d, 'at')]
  const sql =
    d === 'mysql'
      ? `DELETE FROM ${table} WHERE ${at} < ? ORDER BY ${at} LIMIT ${batch}`
      : `DELETE FROM ${table} WHERE ${idc} IN (SELECT ${idc} FROM ${table} WHERE ${at} < ${d === 'postgres' ? '$1' : '?'} LIMIT ${batch})`
  let total = 0
  for (;;) {
    const qr = dataSource.createQueryRunner()
    let affected: number
    try {
      const res = await qr.query(sql, [olderThan.getTime()], true)
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

/** Name of the rollup table for a prefix. */
function rollupTable(prefix: string | undefined): string {
  return `${tableNames(prefix === undefined ? {} : { tablePrefix: prefix }).prefix}event_rollup`
}

/** Options of `rollupEvents`. */
export interface RollupEventsOptions {
  /** @default "bg_" */
  tablePrefix?: string
  /** Start of the period to (re)compute; rounded down to a bucket boundary. */
  since: Date
  /** End of the period (exclusive); rounded down to a bucket boundary, so the current bucket is never rolled up. @default now */
  until?: Date
  /** @default 3600 */
  bucketSeconds?: number
}

/**
 * Create the rollup table when missing (`<prefix>event_rollup`, portable DDL). Idempotent. Holds
 * per-provider counts per bucket; a few hundred rows a day, whatever the traffic.
 */
export async function ensureRollupTable(dataSource: DataSource, options: { tablePrefix?: string } = {}): Promise<void> {
  const d = dialect(dataSource)
  const t = q(d, rollupTable(options.tablePrefix))
  const cols = ['delivered', 'hard_bounces', 'soft_bounces', 'deferred', 'complaints', 'sender_rejections', 'refused']
    .map((c) => `${q(d, c)} BIGINT NOT NULL`)
    .join(', ')
  await run(
    dataSource,
    `CREATE TABLE IF NOT EXISTS ${t} (${q(d, 'bucket_seconds')} INTEGER NOT NULL, ${q(d, 'bucket')} BIGINT NOT NULL, ${q(d, 'k')} VARCHAR(255) NOT NULL, ${cols},` +
      ` PRIMARY KEY (${q(d, 'bucket_seconds')}, ${q(d, 'bucket')}, ${q(d, 'k')}))`,
    [],
  )
}

/**
 * Roll events up into per-provider buckets: recomputes every complete bucket in [since, until)
 * from the events table and replaces those rows (idempotent, in one transaction). Run it every
 * few minutes over a trailing window long enough for late outcomes (DSNs can arrive hours later;
 * e.g. the last 2 days), then read with `eventTimeSeries({ groupBy: 'provider', useRollup: true })`.
 * Rolled-up buckets survive `pruneEvents`, so reports keep their history after raw events go.
 * Returns the number of rollup rows written.
 */
export async function rollupEvents(dataSource: DataSource, options: RollupEventsOptions): Promise<number> {
  const d = dialect(dataSource)
  const bucketSeconds = options?.bucketSeconds ?? 3600
  const bucketMs = bucketSeconds * 1000
  const sinceMs = validDate(options?.since, 'since').getTime()
  const untilMs = (options.until === undefined ? new Date() : validDate(options.until, 'until')).getTime()
  const from = sinceMs - (sinceMs % bucketMs)
  const to = untilMs - (untilMs % bucketMs)
  if (to <= from) return 0
  await ensureRollupTable(dataSource, options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix })
  const { sql, values } = timeSeriesSql(d, { ...options, since: new Date(from), until: new Date(to), bucketSeconds, groupBy: 'provider' })
  const t = q(d, rollupTable(options.tablePrefix))
  const cols = [
    'bucket_seconds',
    'bucket',
    'k',
    'delivered',
    'hard_bounces',
    'soft_bounces',
    'deferred',
    'complaints',
    'sender_rejections',
    'refused',
  ]
    .map((c) => q(d, c))
    .join(', ')
  // The aggregate query's placeholders are $1/$2 (or ?, ?): the DELETE uses its own.
  const del =
    d === 'postgres'
      ? `DELETE FROM ${t} WHERE ${q(d, 'bucket_seconds')} = $1 AND ${q(d, 'bucket')} >= $2 AND ${q(d, 'bucket')} < $3`
      : `DELETE FROM ${t} WHERE ${q(d, 'bucket_seconds')} = ? AND ${q(d, 'bucket')} >= ? AND ${q(d, 'bucket')} < ?`
  const ins = `INSERT INTO ${t} (${cols}) SELECT ${bucketSeconds}, x.b, x.k, x.delivered, x.hard_bounces, x.soft_bounces, x.deferred, x.complaints, x.sender_rejections, x.refused FROM (${sql}) x`
  try {
    return await dataSource.transaction(async (em) => {
      await em.query(del, [bucketSeconds, from, to])
      await em.query(ins, values)
      const p = params(d)
      const n = (await em.query(
        `SELECT COUNT(*) AS n FROM ${t} WHERE ${q(d, 'bucket_seconds')} = ${p.add(bucketSeconds)} AND ${q(d, 'bucket')} >= ${p.add(from)} AND ${q(d, 'bucket')} < ${p.add(to)}`,
        p.values,
      )) as Array<{ n: unknown }>
      return num(n[0]?.n)
    })
  } catch (err) {
    throw new BounceGuardError('ESTORE', `${PKG}: rollupEvents failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}
