/**
 * Prometheus metrics with `prom-client` (an optional peer dependency: this module never imports
 * it, you pass the module in, so `@bounce-guard/report` works without it).
 *
 * - `bounce_guard_outcomes_total{type, provider, reason, hard}`: a counter of recorded outcomes.
 *   Fed by `attach(guard)` (live, in the sending process) or `countOutcomes(rows)` (counts read
 *   from the store, as `bounce-guard serve` does with `eventCountsAfter`).
 * - `bounce_guard_shaping_active{destination, rule, action}` (1 per active action) and
 *   `bounce_guard_shaping_cap_per_minute{destination, rule}`: the traffic-shaping state, read at
 *   scrape time from a `Shaper` or a function (e.g. `store.listShapingEntries`).
 * - `bounce_guard_alert_active{kind, dimension, key}`: open alert episodes of a `BounceMonitor`
 *   (1 = warning, 2 = critical), read at scrape time.
 */
import {
  BounceGuardError,
  type BounceGuard,
  type BounceMonitor,
  type RecordResult,
  type Shaper,
  type ShapingEntry,
} from '@bounce-guard/core'
import type * as PromClient from 'prom-client'

const PKG = '@bounce-guard/report (metrics)'

/** The `prom-client` module, as `import * as client from 'prom-client'` gives it. */
export type PromClientModule = Pick<typeof PromClient, 'Counter' | 'Gauge' | 'Registry' | 'register'>

/** Options of `createPrometheusMetrics`. */
export interface PrometheusMetricsOptions {
  /** The `prom-client` module (`import * as client from 'prom-client'`). */
  client: PromClientModule
  /** Where the metrics are registered. @default client.register (the default registry) */
  registry?: PromClient.Registry
  /** Prefix of every metric name. @default "bounce_guard_" */
  prefix?: string
  /** Active shaping actions, read at each scrape: a shaper, or a function such as `(now) => store.listShapingEntries(now)`. */
  shaping?: Pick<Shaper, 'active'> | ((now: Date) => readonly ShapingEntry[] | Promise<readonly ShapingEntry[]>)
  /** Open alerts, read at each scrape. */
  monitor?: Pick<BounceMonitor, 'activeAlerts'>
  /** Clock. @default () => new Date() */
  now?: () => Date
}

/** One group of outcomes to count. */
export interface OutcomeCount {
  /** Event type: `delivered`, `bounced`, `deferred`, `complaint`, `suppressed`, `auto-reply`. */
  type: string
  /** @default "unknown" */
  provider?: string | null
  /** @default "none" */
  reason?: string | null
  hard?: boolean | null
  /** @default 1 */
  count?: number
}

/** What `createPrometheusMetrics` returns. */
export interface PrometheusMetrics {
  /** The registry the metrics live in; `await registry.metrics()` is the exposition text. */
  registry: PromClient.Registry
  /** Add outcomes to the counter. Rows with a non-positive or non-finite count are ignored. */
  countOutcomes(rows: readonly OutcomeCount[]): void
  /** Count every outcome the guard records (bounce, deferred, delivered, complaint). Returns a detach function. */
  attach(guard: Pick<BounceGuard, 'on' | 'off'>): () => void
}

/**
 * Register Bounce Guard's metrics on a registry.
 * @example
 * import * as client from 'prom-client'
 * const metrics = createPrometheusMetrics({ client, registry: new client.Registry(), shaping: shaper, monitor })
 * metrics.attach(guard)
 * http.createServer(createReportHandler({ collect, metrics })).listen(9464)
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const client = options?.client
  if (!client || typeof client.Counter !== 'function' || typeof client.Gauge !== 'function')
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: pass the prom-client module as client`)
  const registry = options.registry ?? client.register
  const prefix = options.prefix ?? 'bounce_guard_'
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: prefix is not a metric name`)
  const now = options.now ?? (() => new Date())
  const outcomes = new client.Counter({
    name: `${prefix}outcomes_total`,
    help: 'Recorded outcomes by event type, provider, reason and hard (true/false/none)',
    labelNames: ['type', 'provider', 'reason', 'hard'] as const,
    registers: [registry],
  })
  const shaping = options.shaping
  if (shaping) {
    // Both gauges read the same list: a scrape collects them concurrently, so share one read.
    let inflight: Promise<readonly ShapingEntry[]> | undefined
    const read = (): Promise<readonly ShapingEntry[]> => {
      if (!inflight) {
        inflight = Promise.resolve(typeof shaping === 'function' ? shaping(now()) : shaping.active())
          .then((list) => list.filter((e) => e.until > now().getTime()))
          .finally(() => {
            inflight = undefined
          })
      }
      return inflight
    }
    new client.Gauge({
      name: `${prefix}shaping_active`,
      help: 'Active traffic-shaping actions (1 per destination, rule and action: pause or cap)',
      labelNames: ['destination', 'rule', 'action'] as const,
      registers: [registry],
      async collect() {
        const list = await read()
        this.reset()
        for (const e of list) this.set({ destination: e.key, rule: e.ruleId, action: e.action }, 1)
      },
    })
    new client.Gauge({
      name: `${prefix}shaping_cap_per_minute`,
      help: 'Messages per minute allowed to a capped destination',
      labelNames: ['destination', 'rule'] as const,
      registers: [registry],
      async collect() {
        const list = await read()
        this.reset()
        for (const e of list)
          if (e.action === 'cap' && e.perMinute !== undefined) this.set({ destination: e.key, rule: e.ruleId }, e.perMinute)
      },
    })
  }
  const monitor = options.monitor
  if (monitor) {
    new client.Gauge({
      name: `${prefix}alert_active`,
      help: 'Open alert episodes (1 = warning, 2 = critical)',
      labelNames: ['kind', 'dimension', 'key'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const a of monitor.activeAlerts())
          this.set({ kind: a.kind, dimension: a.dimension, key: a.key }, a.level === 'critical' ? 2 : 1)
      },
    })
  }
  const countOutcomes = (rows: readonly OutcomeCount[]): void => {
    for (const r of rows) {
      const n = r.count ?? 1
      if (typeof r.type !== 'string' || !Number.isFinite(n) || n <= 0) continue
      outcomes.inc(
        {
          type: r.type,
          provider: r.provider || 'unknown',
          reason: r.reason || 'none',
          hard: r.hard === true ? 'true' : r.hard === false ? 'false' : 'none',
        },
        n,
      )
    }
  }
  return {
    registry,
    countOutcomes,
    attach(guard) {
      const on = (r: RecordResult): void => {
        if (r.duplicate) return
        const c = r.event.classification
        countOutcomes([{ type: r.event.type, provider: c?.provider ?? null, reason: c?.reason ?? null, hard: c ? c.hard : null }])
      }
      const events = ['bounce', 'deferred', 'delivered', 'complaint'] as const
      for (const e of events) guard.on(e, on)
      return () => {
        for (const e of events) guard.off(e, on)
      }
    },
  }
}
