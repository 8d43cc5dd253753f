/**
 * `createBounceMonitor`: rolling statistics and alerts computed in memory from the outcomes the
 * guard records. One bounce says something about a recipient; a thousand say something about the
 * sender and about each destination. The monitor keeps, per dimension (the whole account, each
 * recipient domain, each provider, each sending IP and pool, each tag), a short ring of time buckets
 * (1 minute by default) holding sends, deliveries, hard and soft bounces, deferrals, complaints,
 * sender-side rejections by reason and call-time refusals by our own suppression list.
 *
 * Alerts mirror what providers enforce and are emitted once per episode: an alert fires when a
 * condition starts (or escalates from warning to critical) and a `resolved` alert is emitted when
 * it clears, which re-arms it. The monitor has no timers and does no I/O: time comes from `now`,
 * and `evaluate()` re-checks every condition (call it from your own interval so a condition that
 * clears because the window slid on, with no new event, is resolved).
 *
 * Rates:
 * - `sent` = messages with a final outcome: `delivered + hardBounces + softBounces`. Deferrals are
 *   not final (the message may still be delivered) and call-time refusals by our own suppression
 *   list never reached the provider, so neither counts.
 * - bounce rate = `hardBounces / sent` (what Amazon SES reviews); complaint rate = `complaints /
 *   delivered` (what Gmail's and Yahoo's sender requirements measure).
 */
import { EventEmitter } from 'node:events'
import { BounceGuardError } from './errors.js'
import type { BounceGuard, RecordResult } from './guard.js'
import type { OutcomeCounts } from './store.js'
import { ProviderResolver } from './provider-map.js'
import type { BounceEvent, Suppression } from './types.js'

const PKG = '@bounce-guard/core (monitor)'
const MIN = 60_000

/** A dimension the monitor aggregates on. `account` has a single key, `*`. */
export type MonitorDimension = 'account' | 'domain' | 'provider' | 'ip' | 'pool' | 'tag'

/** Every dimension, in a stable order. */
export const MONITOR_DIMENSIONS: readonly MonitorDimension[] = ['account', 'domain', 'provider', 'ip', 'pool', 'tag']

/** Counters of one bucket or one window. */
export interface MonitorCounts extends OutcomeCounts {
  /** Messages with a final outcome: delivered + hardBounces + softBounces. */
  sent: number
  /** Sends refused at call time by our own suppression list (never counted in `sent`). */
  refusedBySuppression: number
}

/** The counters of `OutcomeCounts`, in their declared order. */
export const OUTCOME_COUNT_FIELDS = [
  'delivered',
  'hardBounces',
  'softBounces',
  'deferred',
  'complaints',
  'senderRejections',
] as const satisfies readonly (keyof OutcomeCounts)[]

/** The counters of `MonitorCounts`, in the order of the objects the monitor returns. */
export const MONITOR_COUNT_FIELDS = [
  'sent',
  ...OUTCOME_COUNT_FIELDS,
  'refusedBySuppression',
] as const satisfies readonly (keyof MonitorCounts)[]

/** A fresh `OutcomeCounts` with every counter at zero (keys in `OUTCOME_COUNT_FIELDS` order). */
export function emptyOutcomeCounts(): OutcomeCounts {
  return { delivered: 0, hardBounces: 0, softBounces: 0, deferred: 0, complaints: 0, senderRejections: 0 }
}

/** Adds each counter named in `fields` of `from` to `into` (e.g. `MONITOR_COUNT_FIELDS`). */
export function addCounts<K extends string>(into: Record<K, number>, from: Readonly<Record<K, number>>, fields: readonly K[]): void {
  for (const f of fields) into[f] += from[f]
}

const FIELDS = MONITOR_COUNT_FIELDS
type Field = (typeof FIELDS)[number]
/** Index of each counter in the bucket arrays. */
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<Field, number>

/** Thresholds of the alerts. Rates are fractions (0.05 = 5%). */
export interface MonitorThresholds {
  /** Account bounce rate that raises a warning (Amazon SES puts an account under review at 5%). @default 0.05 */
  bounceRateWarning: number
  /** Account bounce rate that is critical (Amazon SES may pause sending at 10%). @default 0.1 */
  bounceRateCritical: number
  /** Complaint rate that raises a warning (Gmail and Yahoo ask senders to stay below 0.1%). @default 0.001 */
  complaintRateWarning: number
  /** Complaint rate that is critical (Gmail and Yahoo enforce 0.3%). @default 0.003 */
  complaintRateCritical: number
  /** Sends (final outcomes) in the window before a bounce rate may alert. @default 100 */
  minSent: number
  /** Deliveries in the window before a complaint rate may alert. @default 1000 */
  minDelivered: number
  /** Sender-side rejections from one provider (or domain) within `burstWindowMs` that raise a burst warning. @default 20 */
  burstWarning: number
  /** Sender-side rejections within `burstWindowMs` that make the burst critical. @default 100 */
  burstCritical: number
  /** Length of the burst window, in ms. @default 600000 (10 minutes) */
  burstWindowMs: number
}

/** The default thresholds (see `MonitorThresholds` for each value's origin). */
export const DEFAULT_MONITOR_THRESHOLDS: Readonly<MonitorThresholds> = Object.freeze({
  bounceRateWarning: 0.05,
  bounceRateCritical: 0.1,
  complaintRateWarning: 0.001,
  complaintRateCritical: 0.003,
  minSent: 100,
  minDelivered: 1000,
  burstWarning: 20,
  burstCritical: 100,
  burstWindowMs: 10 * MIN,
})

/** Options of `createBounceMonitor`. */
export interface BounceMonitorOptions {
  /** Overrides merged over `DEFAULT_MONITOR_THRESHOLDS`. @default DEFAULT_MONITOR_THRESHOLDS */
  thresholds?: Partial<MonitorThresholds>
  /** The clock. @default () => new Date() */
  now?: () => Date
  /** Length of the rolling window for rates, in ms. @default 3600000 (1 hour) */
  windowMs?: number
  /** Width of one time bucket, in ms; `windowMs` and `burstWindowMs` are rounded up to whole buckets. @default 60000 */
  bucketMs?: number
  /** Dimensions on which bounce and complaint rates alert. @default ['account', 'provider'] */
  rateAlertDimensions?: readonly MonitorDimension[]
  /** Dimensions on which bursts of sender-side rejections alert. @default ['provider'] */
  burstAlertDimensions?: readonly MonitorDimension[]
  /**
   * Extra mapping of recipient domains or MX host suffixes to a provider name, checked before the
   * built-in list (e.g. `{ 'acme-corp.com': 'gmail' }` for a Google Workspace domain you know of, or
   * `{ 'mx.example-hosting.net': 'example-hosting' }`). @default {}
   */
  providers?: Readonly<Record<string, string>>
  /** Most keys kept per dimension; further keys are counted under `(other)`. @default 100000 */
  maxKeysPerDimension?: number
  /** Sample replies kept per bucket as alert evidence. @default 3 */
  samplesPerBucket?: number
}

/** Extra facts about an outcome that `BounceEvent` does not carry (yet). All optional. */
export interface MonitorMeta {
  /** The MX host that answered, e.g. `aspmx.l.google.com`: attributes Workspace/Office 365 domains to their provider. */
  remoteMta?: string
  /** The local IP address the message was sent from. */
  sendingIp?: string
  /** The IP pool or sending pool name. */
  pool?: string
}

/** An event as the monitor reads it: a `BounceEvent`, possibly with `MonitorMeta` fields. */
export type MonitorEvent = BounceEvent & MonitorMeta

/** What supports an alert. */
export interface MonitorEvidence {
  /** Counters over the alert's window. */
  counts: MonitorCounts
  /** Sender-side rejections by reason over the window. */
  reasons: Record<string, number>
  /** Sender-side rejections by rule id over the window. */
  ruleIds: Record<string, number>
  /** Blocklists named in replies over the window, with how many replies named each. */
  blocklists: Record<string, number>
  /** A few recent replies, most recent first. */
  samples: string[]
}

/** The kind of condition an alert is about. */
export type MonitorAlertKind = 'bounce-rate' | 'complaint-rate' | 'rejection-burst'

/** An alert: a condition started, escalated, or (`state: 'resolved'`) cleared. */
export interface MonitorAlert {
  kind: MonitorAlertKind
  level: 'warning' | 'critical'
  /** `firing` when it starts or escalates; `resolved` when the condition cleared (the alert re-arms). */
  state: 'firing' | 'resolved'
  dimension: MonitorDimension
  key: string
  /** The rate (fraction) or the count that crossed the threshold, at the time of the alert. */
  value: number
  /** The threshold crossed (for `resolved`: the warning threshold). */
  threshold: number
  windowMs: number
  at: Date
  /** One sentence for humans, e.g. "blocked at microsoft: 37 sender-side rejections in 10 minutes, spamhaus named in 37 replies". */
  message: string
  evidence: MonitorEvidence
}

/** One row of `snapshot`. */
export interface MonitorRow extends MonitorCounts {
  dimension: MonitorDimension
  key: string
  bounceRate: number
  complaintRate: number
  /** Sender-side rejections by reason over the window. */
  reasons: Record<string, number>
}

/** One bucket of `timeSeries`. */
export interface MonitorBucket extends MonitorCounts {
  /** Start of the bucket. */
  start: Date
}

/** Events of a monitor. */
export interface BounceMonitorEvents {
  alert: [alert: MonitorAlert]
  resolved: [alert: MonitorAlert]
}

/** The monitor returned by `createBounceMonitor`. */
export interface BounceMonitor {
  /** The thresholds in use. */
  readonly thresholds: Readonly<MonitorThresholds>
  /** Count one recorded outcome (a guard `RecordResult` or a bare event); duplicates are ignored. */
  observe(result: RecordResult | MonitorEvent, meta?: MonitorMeta): void
  /** Count one send refused at call time by our own suppression list (not part of any rate). */
  observeRefusal(recipientDomain: string, at?: Date, meta?: MonitorMeta & { tag?: string }): void
  /** Subscribe to a guard's `bounce`, `deferred`, `delivered`, `complaint` and call-time `suppressed` events; returns a function that unsubscribes. */
  attach(guard: Pick<BounceGuard, 'on' | 'off'>): () => void
  /** Re-check every condition now (resolves alerts whose window slid past them); returns the alerts emitted. */
  evaluate(): MonitorAlert[]
  /** Counters and rates over the rolling window, per key of a dimension, busiest first. */
  snapshot(dimension: MonitorDimension, options?: { limit?: number }): MonitorRow[]
  /** Buckets of one key, oldest first, over the rolling window (empty buckets included). */
  timeSeries(dimension: MonitorDimension, key: string): MonitorBucket[]
  /** Alerts currently firing (latest level of each episode). */
  activeAlerts(): MonitorAlert[]
  /** The provider the monitor attributes to a recipient domain (learned from MX hosts and classifications), if any. */
  providerOf(domain: string): string | undefined
  on<K extends keyof BounceMonitorEvents>(event: K, listener: (...args: BounceMonitorEvents[K]) => void): this
  off<K extends keyof BounceMonitorEvents>(event: K, listener: (...args: BounceMonitorEvents[K]) => void): this
}

interface Bucket {
  t: number
  c: Float64Array
  /** Sender-side evidence, allocated on the first sender-side rejection of the bucket. */
  ev?: { reasons: Map<string, number>; ruleIds: Map<string, number>; blocklists: Map<string, number>; samples: string[] }
}

interface Series {
  dim: MonitorDimension
  key: string
  buckets: Bucket[]
  totals: Float64Array
  last: number
}

interface Episode {
  level: 'warning' | 'critical'
  alert: MonitorAlert
}

function inc(m: Map<string, number>, k: string, n = 1): void {
  const v = (m.get(k) ?? 0) + n
  if (v <= 0) m.delete(k)
  else m.set(k, v)
}

function toRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) out[k] = v
  return out
}

function countsOf(a: Float64Array): MonitorCounts {
  const o = {} as MonitorCounts
  for (const f of FIELDS) o[f] = a[F[f]]!
  return o
}

function positive(n: unknown, name: string): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: ${name} must be a positive number`)
  return n
}

function cleanHost(h: string): string {
  return h.trim().toLowerCase().replace(/\.$/, '')
}

function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour${ms === 3_600_000 ? '' : 's'}`
  if (ms % MIN === 0) return `${ms / MIN} minute${ms === MIN ? '' : 's'}`
  return `${Math.round(ms / 1000)} s`
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`
}

const OTHER = '(other)'

class Monitor extends EventEmitter implements BounceMonitor {
  readonly thresholds: Readonly<MonitorThresholds>
  readonly #now: () => Date
  readonly #bucketMs: number
  readonly #nBuckets: number
  readonly #nBurst: number
  readonly #windowMs: number
  readonly #rateDims: ReadonlySet<MonitorDimension>
  readonly #burstDims: ReadonlySet<MonitorDimension>
  readonly #maxKeys: number
  readonly #samples: number
  readonly #providers: ProviderResolver
  readonly #series = new Map<MonitorDimension, Map<string, Series>>()
  readonly #episodes = new Map<string, Episode>()
  #observed = 0

  constructor(o: BounceMonitorOptions) {
    super()
    const th: MonitorThresholds = { ...DEFAULT_MONITOR_THRESHOLDS, ...(o.thresholds ?? {}) }
    for (const k of Object.keys(DEFAULT_MONITOR_THRESHOLDS) as Array<keyof MonitorThresholds>) positive(th[k], `thresholds.${k}`)
    this.thresholds = Object.freeze(th)
    if (o.now !== undefined && typeof o.now !== 'function') throw new BounceGuardError('EINVALID_OPTION', `${PKG}: now must be a function`)
    this.#now = o.now ?? (() => new Date())
    this.#bucketMs = positive(o.bucketMs ?? MIN, 'bucketMs')
    this.#nBuckets = Math.max(1, Math.ceil(positive(o.windowMs ?? 60 * MIN, 'windowMs') / this.#bucketMs))
    this.#windowMs = this.#nBuckets * this.#bucketMs
    this.#nBurst = Math.max(1, Math.ceil(th.burstWindowMs / this.#bucketMs))
    if (this.#nBurst > this.#nBuckets)
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: thresholds.burstWindowMs must not exceed windowMs`)
    this.#rateDims = new Set(o.rateAlertDimensions ?? ['account', 'provider'])
    this.#burstDims = new Set(o.burstAlertDimensions ?? ['provider'])
    this.#maxKeys = Math.floor(positive(o.maxKeysPerDimension ?? 100_000, 'maxKeysPerDimension'))
    this.#samples = Math.floor(o.samplesPerBucket ?? 3)
    this.#providers = new ProviderResolver(o.providers ?? {})
    for (const d of MONITOR_DIMENSIONS) this.#series.set(d, new Map())
  }

  providerOf(domain: string): string | undefined {
    return this.#providers.byDomain(domain)
  }

  // ---- buckets -----------------------------------------------------------------------------

  #seriesFor(dim: MonitorDimension, key: string, now: number): Series {
    const map = this.#series.get(dim)!
    let s = map.get(key)
    if (s === undefined) {
      if (map.size >= this.#maxKeys) {
        this.#sweep(now)
        if (map.size >= this.#maxKeys && key !== OTHER) return this.#seriesFor(dim, OTHER, now)
      }
      s = { dim, key, buckets: [], totals: new Float64Array(FIELDS.length), last: now }
      map.set(key, s)
    }
    return s
  }

  /** Drop buckets that fell out of the window and subtract them from the totals. */
  #expire(s: Series, now: number): void {
    const oldest = Math.floor(now / this.#bucketMs) * this.#bucketMs - (this.#nBuckets - 1) * this.#bucketMs
    const b = s.buckets
    let drop = 0
    while (drop < b.length && b[drop]!.t < oldest) {
      const c = b[drop]!.c
      for (let i = 0; i < c.length; i++) s.totals[i]! -= c[i]!
      drop++
    }
    if (drop > 0) b.splice(0, drop)
  }

  #bucket(s: Series, t: number, now: number): Bucket | undefined {
    this.#expire(s, now)
    const start = Math.floor(t / this.#bucketMs) * this.#bucketMs
    const oldest = Math.floor(now / this.#bucketMs) * this.#bucketMs - (this.#nBuckets - 1) * this.#bucketMs
    if (start < oldest) return undefined
    const b = s.buckets
    for (let i = b.length - 1; i >= 0; i--) {
      const x = b[i]!
      if (x.t === start) return x
      if (x.t < start) {
        const nb: Bucket = { t: start, c: new Float64Array(FIELDS.length) }
        b.splice(i + 1, 0, nb)
        return nb
      }
    }
    const nb: Bucket = { t: start, c: new Float64Array(FIELDS.length) }
    b.unshift(nb)
    return nb
  }

  #sweep(now: number): void {
    for (const map of this.#series.values()) {
      for (const [k, s] of map) {
        this.#expire(s, now)
        if (s.buckets.length === 0) map.delete(k)
      }
    }
  }

  // ---- observation -------------------------------------------------------------------------

  observe(input: RecordResult | MonitorEvent, meta?: MonitorMeta): void {
    if (!input || typeof input !== 'object') return
    if ('event' in input && 'decision' in input) {
      if (input.duplicate) return
      this.#add(input.event as MonitorEvent, meta)
    } else this.#add(input as MonitorEvent, meta)
  }

  observeRefusal(recipientDomain: string, at?: Date, meta?: MonitorMeta & { tag?: string }): void {
    if (typeof recipientDomain !== 'string') return
    const e: MonitorEvent = {
      recipient: `@${recipientDomain}`,
      domain: cleanHost(recipientDomain),
      type: 'suppressed',
      at: at ?? this.#now(),
      source: 'call-time',
    }
    if (meta?.tag !== undefined) e.tag = meta.tag
    this.#add(e, meta)
  }

  #add(e: MonitorEvent, meta: MonitorMeta | undefined): void {
    if (typeof e.domain !== 'string' || !(e.at instanceof Date)) return
    const nowMs = this.#now().getTime()
    let t = e.at.getTime()
    if (!Number.isFinite(t)) return
    if (t > nowMs) t = nowMs
    const c = e.classification
    const fields: number[] = []
    let senderSide = false
    switch (e.type) {
      case 'delivered':
        fields.push(F.sent, F.delivered)
        break
      case 'bounced':
        fields.push(F.sent, c?.hard ? F.hardBounces : F.softBounces)
        senderSide = c?.scope === 'sender'
        break
      case 'deferred':
        fields.push(F.deferred)
        senderSide = c?.scope === 'sender'
        break
      case 'complaint':
        fields.push(F.complaints)
        break
      case 'suppressed':
        fields.push(F.refusedBySuppression)
        break
      default:
        return // auto-replies say nothing about deliverability
    }
    if (senderSide) fields.push(F.senderRejections)

    const provider = e.type === 'suppressed' ? undefined : this.#providers.attribute(e, meta?.remoteMta ?? e.remoteMta)
    const keys: Array<[MonitorDimension, string | undefined]> = [
      ['account', '*'],
      ['domain', e.domain],
      ['provider', provider],
      ['ip', meta?.sendingIp ?? e.sendingIp],
      ['pool', meta?.pool ?? e.pool],
      ['tag', e.tag],
    ]
    for (const [dim, key] of keys) {
      if (key === undefined || key === '') continue
      const s = this.#seriesFor(dim, key, nowMs)
      const b = this.#bucket(s, t, nowMs)
      if (b === undefined) continue // older than the window
      s.last = nowMs
      for (const f of fields) {
        b.c[f]!++
        s.totals[f]!++
      }
      if (senderSide && c) {
        if (b.ev === undefined) b.ev = { reasons: new Map(), ruleIds: new Map(), blocklists: new Map(), samples: [] }
        const ev = b.ev
        inc(ev.reasons, c.reason)
        inc(ev.ruleIds, c.ruleId)
        if (c.blocklist) inc(ev.blocklists, c.blocklist)
        if (e.reply && this.#samples > 0) {
          ev.samples.unshift(e.reply.slice(0, 300))
          if (ev.samples.length > this.#samples) ev.samples.length = this.#samples
        }
      }
      if (e.type !== 'suppressed') this.#check(s, nowMs)
    }
    if (++this.#observed % 50_000 === 0) this.#sweep(nowMs)
  }

  // ---- alerts ------------------------------------------------------------------------------

  #evidence(s: Series, nBuckets: number, now: number): MonitorEvidence {
    const oldest = Math.floor(now / this.#bucketMs) * this.#bucketMs - (nBuckets - 1) * this.#bucketMs
    const counts = new Float64Array(FIELDS.length)
    const reasons = new Map<string, number>()
    const ruleIds = new Map<string, number>()
    const blocklists = new Map<string, number>()
    const samples: string[] = []
    for (let i = s.buckets.length - 1; i >= 0; i--) {
      const b = s.buckets[i]!
      if (b.t < oldest) break
      for (let j = 0; j < counts.length; j++) counts[j]! += b.c[j]!
      if (b.ev) {
        for (const [k, v] of b.ev.reasons) inc(reasons, k, v)
        for (const [k, v] of b.ev.ruleIds) inc(ruleIds, k, v)
        for (const [k, v] of b.ev.blocklists) inc(blocklists, k, v)
        for (const r of b.ev.samples) if (samples.length < 5) samples.push(r)
      }
    }
    return { counts: countsOf(counts), reasons: toRecord(reasons), ruleIds: toRecord(ruleIds), blocklists: toRecord(blocklists), samples }
  }

  #burstCount(s: Series, now: number): number {
    const oldest = Math.floor(now / this.#bucketMs) * this.#bucketMs - (this.#nBurst - 1) * this.#bucketMs
    let n = 0
    for (let i = s.buckets.length - 1; i >= 0; i--) {
      const b = s.buckets[i]!
      if (b.t < oldest) break
      n += b.c[F.senderRejections]!
    }
    return n
  }

  #check(s: Series, now: number, out?: MonitorAlert[]): void {
    const th = this.thresholds
    if (this.#rateDims.has(s.dim)) {
      const sent = s.totals[F.sent]!
      const delivered = s.totals[F.delivered]!
      const br = sent >= th.minSent ? s.totals[F.hardBounces]! / sent : 0
      this.#episode(s, 'bounce-rate', br, th.bounceRateWarning, th.bounceRateCritical, this.#nBuckets, now, out)
      const cr = delivered >= th.minDelivered ? s.totals[F.complaints]! / delivered : 0
      this.#episode(s, 'complaint-rate', cr, th.complaintRateWarning, th.complaintRateCritical, this.#nBuckets, now, out)
    }
    if (this.#burstDims.has(s.dim)) {
      const key = `rejection-burst\u0000${s.dim}\u0000${s.key}`
      // Cheap path: nothing to do unless a rejection arrived or an episode is open.
      if (s.totals[F.senderRejections]! >= th.burstWarning || this.#episodes.has(key)) {
        this.#episode(s, 'rejection-burst', this.#burstCount(s, now), th.burstWarning, th.burstCritical, this.#nBurst, now, out)
      }
    }
  }

  #episode(
    s: Series,
    kind: MonitorAlertKind,
    value: number,
    warn: number,
    crit: number,
    nBuckets: number,
    now: number,
    out?: MonitorAlert[],
  ): void {
    const id = `${kind}\u0000${s.dim}\u0000${s.key}`
    const open = this.#episodes.get(id)
    const level = value >= crit ? 'critical' : value >= warn ? 'warning' : undefined
    if (level === undefined) {
      if (open === undefined) return
      this.#episodes.delete(id)
      const alert = this.#makeAlert(s, kind, open.level, 'resolved', value, warn, nBuckets, now)
      out?.push(alert)
      this.emit('resolved', alert)
      return
    }
    if (open !== undefined && (open.level === level || open.level === 'critical')) return
    const alert = this.#makeAlert(s, kind, level, 'firing', value, level === 'critical' ? crit : warn, nBuckets, now)
    this.#episodes.set(id, { level, alert })
    out?.push(alert)
    this.emit('alert', alert)
  }

  #makeAlert(
    s: Series,
    kind: MonitorAlertKind,
    level: 'warning' | 'critical',
    state: 'firing' | 'resolved',
    value: number,
    threshold: number,
    nBuckets: number,
    now: number,
  ): MonitorAlert {
    const evidence = this.#evidence(s, nBuckets, now)
    const windowMs = nBuckets * this.#bucketMs
    const where = s.dim === 'account' ? 'account' : `${s.dim} ${s.key}`
    let message: string
    if (kind === 'rejection-burst') {
      const top = Object.keys(evidence.reasons)[0] ?? 'rejected'
      const bl = Object.entries(evidence.blocklists).map(([k, v]) => `${k} named in ${v} ${v === 1 ? 'reply' : 'replies'}`)
      message = `${top} at ${s.key}: ${value} sender-side rejections in ${formatWindow(windowMs)}${bl.length ? `, ${bl.join(', ')}` : ''}`
    } else if (kind === 'bounce-rate') {
      message = `${where}: bounce rate ${pct(value)} (${evidence.counts.hardBounces} hard bounces of ${evidence.counts.sent} sent in ${formatWindow(windowMs)})`
    } else {
      message = `${where}: complaint rate ${pct(value)} (${evidence.counts.complaints} complaints of ${evidence.counts.delivered} delivered in ${formatWindow(windowMs)})`
    }
    if (state === 'resolved') message = `resolved: ${message}`
    return { kind, level, state, dimension: s.dim, key: s.key, value, threshold, windowMs, at: new Date(now), message, evidence }
  }

  evaluate(): MonitorAlert[] {
    const now = this.#now().getTime()
    const out: MonitorAlert[] = []
    for (const map of this.#series.values()) {
      for (const s of map.values()) {
        this.#expire(s, now)
        this.#check(s, now, out)
      }
    }
    this.#sweep(now)
    return out
  }

  activeAlerts(): MonitorAlert[] {
    return [...this.#episodes.values()].map((e) => e.alert)
  }

  // ---- reading -----------------------------------------------------------------------------

  snapshot(dimension: MonitorDimension, options: { limit?: number } = {}): MonitorRow[] {
    const map = this.#series.get(dimension)
    if (map === undefined) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: unknown dimension ${JSON.stringify(String(dimension))}`)
    const now = this.#now().getTime()
    const rows: MonitorRow[] = []
    for (const s of map.values()) {
      this.#expire(s, now)
      if (s.buckets.length === 0) continue
      const ev = this.#evidence(s, this.#nBuckets, now)
      const c = countsOf(s.totals)
      rows.push({
        dimension,
        key: s.key,
        ...c,
        bounceRate: c.sent === 0 ? 0 : c.hardBounces / c.sent,
        complaintRate: c.delivered === 0 ? 0 : c.complaints / c.delivered,
        reasons: ev.reasons,
      })
    }
    rows.sort((a, b) => b.sent + b.deferred - (a.sent + a.deferred) || (a.key < b.key ? -1 : 1))
    return options.limit !== undefined ? rows.slice(0, Math.max(0, options.limit)) : rows
  }

  timeSeries(dimension: MonitorDimension, key: string): MonitorBucket[] {
    const s = this.#series.get(dimension)?.get(key)
    const now = this.#now().getTime()
    const first = Math.floor(now / this.#bucketMs) * this.#bucketMs - (this.#nBuckets - 1) * this.#bucketMs
    if (s) this.#expire(s, now)
    const out: MonitorBucket[] = []
    let j = 0
    for (let i = 0; i < this.#nBuckets; i++) {
      const t = first + i * this.#bucketMs
      while (s && j < s.buckets.length && s.buckets[j]!.t < t) j++
      const b = s && j < s.buckets.length && s.buckets[j]!.t === t ? s.buckets[j]! : undefined
      out.push({ start: new Date(t), ...countsOf(b ? b.c : new Float64Array(FIELDS.length)) })
    }
    return out
  }

  attach(guard: Pick<BounceGuard, 'on' | 'off'>): () => void {
    const onResult = (r: RecordResult): void => this.observe(r)
    const onSuppressed = (info: { recipient?: string; suppression: Suppression; atCallTime: boolean }): void => {
      if (!info.atCallTime) return
      const r = info.recipient ?? ''
      const at = r.lastIndexOf('@')
      const domain =
        at >= 0
          ? r.slice(at + 1)
          : info.suppression.scope === 'domain'
            ? info.suppression.key
            : info.suppression.key.slice(info.suppression.key.lastIndexOf('@') + 1)
      this.observeRefusal(domain)
    }
    guard.on('bounce', onResult)
    guard.on('deferred', onResult)
    guard.on('delivered', onResult)
    guard.on('complaint', onResult)
    guard.on('suppressed', onSuppressed)
    return () => {
      guard.off('bounce', onResult)
      guard.off('deferred', onResult)
      guard.off('delivered', onResult)
      guard.off('complaint', onResult)
      guard.off('suppressed', onSuppressed)
    }
  }
}

/**
 * Create an in-memory monitor of bounce, complaint and rejection rates with alerts.
 * @example
 * const monitor = createBounceMonitor()
 * monitor.attach(guard)
 * monitor.on('alert', (a) => console.warn(a.message))
 * setInterval(() => monitor.evaluate(), 60_000).unref()
 */
export function createBounceMonitor(options: BounceMonitorOptions = {}): BounceMonitor {
  return new Monitor(options ?? {})
}
