/**
 * Gathering what the report shows from a `BounceStore`, through its public methods (`stats`,
 * `listSuppressions`) plus two optional queries only a database can answer cheaply: the time
 * series and the evidence of refusing destinations. For the TypeORM store pass
 * `eventTimeSeries` / `refusalEvidence` from `@bounce-guard/typeorm`; for `MemoryBounceStore`
 * they are computed from its events (`timeSeriesFromEvents`, `refusalsFromEvents`).
 */
import { addCounts, BounceGuardError, emptyOutcomeCounts, OUTCOME_COUNT_FIELDS, ProviderResolver } from '@bounce-guard/core'
import type { BounceEvent, BounceStore, MonitorCounts, OutcomeCounts, StatsRow, SuppressionReason } from '@bounce-guard/core'

const PKG = '@bounce-guard/report'

/** One bucket of one provider (or other key). `sent` = delivered + hard + soft bounces. */
export interface ReportSeriesRow extends MonitorCounts {
  /** Bucket start (epoch ms). */
  bucket: number
  key: string
}

/** A destination refusing us (sender-side rejections), with its evidence. */
export interface ReportRefusal {
  key: string
  count: number
  reasons: Record<string, number>
  blocklists: Record<string, number>
  ruleIds: Record<string, number>
  sample?: string
  /** ISO time of the last rejection. */
  lastAt?: string
}

/** Suppressions created on one UTC day. */
export interface ReportSuppressionDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string
  total: number
  byReason: Record<string, number>
}

/** Totals of one provider over the period. Rates as fractions. */
export interface ReportProviderTotal extends OutcomeCounts {
  key: string
  /** Final outcomes: delivered + hard + soft bounces. */
  sent: number
  /** hardBounces / sent. */
  bounceRate: number
  /** complaints / delivered. */
  complaintRate: number
}

/** Everything `renderHtmlReport` draws. Plain JSON. */
export interface ReportData {
  title: string
  /** ISO timestamps. */
  generatedAt: string
  since: string
  until: string
  bucketSeconds: number
  /** Totals per provider: summed from the time series when there is one, else `stats({ groupBy: 'provider' })`. */
  providers: ReportProviderTotal[]
  /** Non-delivery outcomes per reason (`stats({ groupBy: 'reason' })`, without `delivered`). */
  reasons: StatsRow[]
  /** Per-provider time buckets. */
  series: ReportSeriesRow[]
  refusing: ReportRefusal[]
  suppressionsPerDay: ReportSuppressionDay[]
  /** What could not be collected, for the reader. */
  notes: string[]
}

/** A time-series query: `eventTimeSeries` from `@bounce-guard/typeorm` bound to a DataSource, or your own. */
export type TimeSeriesQuery = (q: {
  since: Date
  until: Date
  bucketSeconds: number
  groupBy: 'provider'
}) => Promise<Array<Omit<ReportSeriesRow, 'bucket'> & { bucket: Date | number }>>

/** A refusal-evidence query: `refusalEvidence` from `@bounce-guard/typeorm` bound to a DataSource, or your own. */
export type RefusalQuery = (q: {
  since: Date
  until: Date
  groupBy: 'domain'
  limit: number
}) => Promise<Array<Omit<ReportRefusal, 'lastAt'> & { lastAt?: Date | string }>>

/** Options of `collectReportData`. */
export interface CollectReportOptions {
  /** Start of the period. */
  since: Date
  /** End of the period (exclusive). @default now */
  until?: Date
  /** Width of a time bucket, in seconds. @default 3600 */
  bucketSeconds?: number
  /** @default "Bounce Guard report" */
  title?: string
  /** Time-series source. @default computed from the events of a `MemoryBounceStore`; otherwise none (noted in the report) */
  timeSeries?: TimeSeriesQuery
  /** Refusal-evidence source. @default from a `MemoryBounceStore`'s events; otherwise `stats` by domain without samples */
  refusals?: RefusalQuery
  /** Most refusing destinations listed. @default 25 */
  refusalLimit?: number
  /** Most suppressions read to count them per day (pages of 1,000). @default 200000 */
  maxSuppressions?: number
  /** The clock, for `generatedAt` and the default `until`. @default () => new Date() */
  now?: () => Date
}

/** A store that exposes its events (as `MemoryBounceStore.rawData()` does). */
interface EventSource {
  rawData(): { events: readonly BounceEvent[] }
}

function hasEvents(store: unknown): store is EventSource {
  return typeof (store as Partial<EventSource>)?.rawData === 'function'
}

/** A bucket with every counter at zero. */
export function emptyRow(bucket: number, key: string): ReportSeriesRow {
  return { bucket, key, sent: 0, ...emptyOutcomeCounts(), refusedBySuppression: 0 }
}

/**
 * Time buckets per provider computed from events in memory (the `MemoryBounceStore` fallback of
 * the SQL query). Same counting rules as `eventTimeSeries` in `@bounce-guard/typeorm`.
 */
export function timeSeriesFromEvents(
  events: readonly BounceEvent[],
  q: { since: Date; until: Date; bucketSeconds: number },
): ReportSeriesRow[] {
  const bucketMs = q.bucketSeconds * 1000
  const since = q.since.getTime()
  const until = q.until.getTime()
  const rows = new Map<string, ReportSeriesRow>()
  // Deliveries carry no classification: attribute them by domain, learning hosted domains
  // (Workspace, Office 365) from the provider their classified replies named.
  const providers = new ProviderResolver()
  for (const e of events) if (e.classification?.provider) providers.attribute(e)
  for (const e of events) {
    const t = e.at.getTime()
    if (t < since || t >= until || e.recipient.startsWith('@')) continue
    const bucket = t - (t % bucketMs)
    const key = e.classification?.provider ?? providers.byDomain(e.domain) ?? 'unknown'
    const id = `${bucket}\u0000${key}`
    let r = rows.get(id)
    if (!r) {
      r = emptyRow(bucket, key)
      rows.set(id, r)
    }
    if (e.type === 'delivered') {
      r.delivered++
      r.sent++
    } else if (e.type === 'bounced') {
      if (e.classification?.hard) r.hardBounces++
      else r.softBounces++
      r.sent++
    } else if (e.type === 'deferred') r.deferred++
    else if (e.type === 'complaint') r.complaints++
    else if (e.type === 'suppressed') r.refusedBySuppression++
    if ((e.type === 'bounced' || e.type === 'deferred') && e.classification?.scope === 'sender') r.senderRejections++
  }
  return [...rows.values()].sort((a, b) => a.bucket - b.bucket || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** Destinations refusing us, with evidence, computed from events in memory. */
export function refusalsFromEvents(events: readonly BounceEvent[], q: { since: Date; until: Date; limit: number }): ReportRefusal[] {
  const since = q.since.getTime()
  const until = q.until.getTime()
  const by = new Map<string, ReportRefusal & { last: number }>()
  const inc = (m: Record<string, number>, k: string | undefined) => {
    if (k) m[k] = (m[k] ?? 0) + 1
  }
  for (const e of events) {
    const t = e.at.getTime()
    if (t < since || t >= until || e.recipient.startsWith('@')) continue
    if ((e.type !== 'bounced' && e.type !== 'deferred') || e.classification?.scope !== 'sender') continue
    let r = by.get(e.domain)
    if (!r) {
      r = { key: e.domain, count: 0, reasons: {}, blocklists: {}, ruleIds: {}, last: 0 }
      by.set(e.domain, r)
    }
    r.count++
    inc(r.reasons, e.classification.reason)
    inc(r.blocklists, e.classification.blocklist)
    inc(r.ruleIds, e.classification.ruleId)
    if (t >= r.last) {
      r.last = t
      if (e.reply) r.sample = e.reply.slice(0, 500)
    }
  }
  return [...by.values()]
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    .slice(0, q.limit)
    .map(({ last, ...r }) => ({ ...r, lastAt: new Date(last).toISOString() }))
}

function validDate(d: unknown, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: ${what} must be a valid Date`)
  return d
}

/**
 * Collect the report's data from a store.
 * @example
 * const data = await collectReportData(store, {
 *   since: new Date(Date.now() - 7 * 864e5),
 *   timeSeries: (q) => eventTimeSeries(store.dataSource, { ...q, tablePrefix: store.tables.prefix }),
 *   refusals: (q) => refusalEvidence(store.dataSource, { ...q, tablePrefix: store.tables.prefix }),
 * })
 */
export async function collectReportData(store: BounceStore, options: CollectReportOptions): Promise<ReportData> {
  if (!store || typeof store.stats !== 'function' || typeof store.listSuppressions !== 'function') {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: collectReportData() needs a BounceStore`)
  }
  const now = options?.now ?? (() => new Date())
  const since = validDate(options?.since, 'since')
  const until = options.until === undefined ? now() : validDate(options.until, 'until')
  const bucketSeconds = options.bucketSeconds ?? 3600
  if (!Number.isInteger(bucketSeconds) || bucketSeconds <= 0)
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: bucketSeconds must be a positive integer`)
  const limit = options.refusalLimit ?? 25
  const notes: string[] = []

  const reasons = (await store.stats({ since, until, groupBy: 'reason' })).filter((r) => r.key !== 'delivered')
  // Complaints carry no classification and land under `undefined`: list them on their own row.
  const complaints = reasons.reduce((n, r) => n + (r.key === 'undefined' ? r.complaints : 0), 0)
  if (complaints > 0) {
    for (const r of reasons) {
      if (r.key !== 'undefined') continue
      r.sent -= r.complaints
      r.complaints = 0
    }
    reasons.push({ key: 'complaint', sent: complaints, ...emptyOutcomeCounts(), complaints, bounceRate: 0 })
  }
  for (let i = reasons.length - 1; i >= 0; i--) if (reasons[i]!.sent <= 0) reasons.splice(i, 1)

  let series: ReportSeriesRow[] = []
  if (options.timeSeries) {
    series = (await options.timeSeries({ since, until, bucketSeconds, groupBy: 'provider' })).map((r) => ({
      ...r,
      bucket: r.bucket instanceof Date ? r.bucket.getTime() : Number(r.bucket),
    }))
  } else if (hasEvents(store)) {
    series = timeSeriesFromEvents(store.rawData().events, { since, until, bucketSeconds })
  } else {
    notes.push('No time-series source was given for this store, so the charts over time are empty.')
  }

  let providers: ReportProviderTotal[]
  if (series.length > 0) {
    const by = new Map<string, ReportProviderTotal>()
    for (const r of series) {
      let p = by.get(r.key)
      if (!p) {
        p = { key: r.key, sent: 0, ...emptyOutcomeCounts(), bounceRate: 0, complaintRate: 0 }
        by.set(r.key, p)
      }
      p.sent += r.sent
      addCounts(p, r, OUTCOME_COUNT_FIELDS)
    }
    providers = [...by.values()]
  } else {
    providers = (await store.stats({ since, until, groupBy: 'provider' })).map((r) => ({
      key: r.key,
      sent: r.delivered + r.hardBounces + r.softBounces,
      delivered: r.delivered,
      hardBounces: r.hardBounces,
      softBounces: r.softBounces,
      deferred: r.deferred,
      complaints: r.complaints,
      senderRejections: r.senderRejections,
      bounceRate: 0,
      complaintRate: 0,
    }))
  }
  for (const p of providers) {
    p.bounceRate = p.sent > 0 ? p.hardBounces / p.sent : 0
    p.complaintRate = p.delivered > 0 ? p.complaints / p.delivered : 0
  }
  providers.sort((a, b) => b.sent - a.sent || (a.key < b.key ? -1 : 1))

  let refusing: ReportRefusal[]
  if (options.refusals) {
    refusing = (await options.refusals({ since, until, groupBy: 'domain', limit })).map((r) => {
      const out: ReportRefusal = { key: r.key, count: r.count, reasons: r.reasons, blocklists: r.blocklists, ruleIds: r.ruleIds }
      if (r.sample !== undefined) out.sample = r.sample
      if (r.lastAt !== undefined) out.lastAt = r.lastAt instanceof Date ? r.lastAt.toISOString() : String(r.lastAt)
      return out
    })
  } else if (hasEvents(store)) {
    refusing = refusalsFromEvents(store.rawData().events, { since, until, limit })
  } else {
    refusing = (await store.stats({ since, until, groupBy: 'domain' }))
      .filter((r) => r.senderRejections > 0)
      .sort((a, b) => b.senderRejections - a.senderRejections || (a.key < b.key ? -1 : 1))
      .slice(0, limit)
      .map((r) => ({ key: r.key, count: r.senderRejections, reasons: {}, blocklists: {}, ruleIds: {} }))
    if (refusing.length) notes.push('Refusal evidence (reasons, blocklists, sample replies) needs a refusal query for this store.')
  }

  const days = new Map<string, ReportSuppressionDay>()
  const max = options.maxSuppressions ?? 200_000
  let read = 0
  let cursor: string | undefined
  do {
    const page = await store.listSuppressions(
      { since, until, includeExpired: true, now: until },
      cursor === undefined ? { limit: 1000 } : { cursor, limit: 1000 },
    )
    for (const s of page.items) {
      const day = s.createdAt.toISOString().slice(0, 10)
      let d = days.get(day)
      if (!d) {
        d = { day, total: 0, byReason: {} }
        days.set(day, d)
      }
      d.total++
      const reason: SuppressionReason = s.reason
      d.byReason[reason] = (d.byReason[reason] ?? 0) + 1
    }
    read += page.items.length
    cursor = page.nextCursor
  } while (cursor !== undefined && read < max)
  if (cursor !== undefined) notes.push(`Only the first ${read.toLocaleString('en')} suppressions of the period were counted per day.`)

  return {
    title: options.title ?? 'Bounce Guard report',
    generatedAt: now().toISOString(),
    since: since.toISOString(),
    until: until.toISOString(),
    bucketSeconds,
    providers,
    reasons,
    series,
    refusing,
    suppressionsPerDay: [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1)),
    notes,
  }
}
