/**
 * A live report for `bounce-guard serve`: a `node:http` request handler that renders the page on
 * each request, serves the data as JSON, and exposes the monitor's and shaper's state in the
 * Prometheus text format (version 0.0.4) without a client library.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BounceMonitor, MonitorDimension, Shaper } from '@bounce-guard/core'
import type { ReportData } from './collect.js'
import { renderHtmlReport } from './render.js'

/** Options of `createReportHandler`. */
export interface ReportHandlerOptions {
  /** Collects fresh data for a request (e.g. `() => collectReportData(store, { since: ... })`). */
  collect: () => Promise<ReportData>
  /** A monitor whose counters and open alerts are exported at `/metrics`. */
  monitor?: BounceMonitor
  /** A shaper whose active actions are exported at `/metrics`. */
  shaper?: Shaper
  /** Dimensions exported at `/metrics`. @default ['account', 'provider'] */
  metricDimensions?: readonly MonitorDimension[]
  /** The clock (for the seconds left of shaping actions); use the shaper's. @default () => new Date() */
  now?: () => Date
  /**
   * Metrics registered with `prom-client` (`createPrometheusMetrics`): when given, `/metrics`
   * answers the registry's exposition text instead of the built-in one.
   */
  metrics?: { registry: Pick<PromRegistry, 'metrics' | 'contentType'> }
}

/** What the handler needs of a prom-client `Registry`. */
interface PromRegistry {
  metrics(): Promise<string>
  contentType: string
}

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

/**
 * Render the monitor's window counters, open alerts and the shaper's active actions in the
 * Prometheus text exposition format. Counters are gauges over the monitor's rolling window.
 */
export function renderPrometheusMetrics(o: {
  monitor?: BounceMonitor
  shaper?: Shaper
  dimensions?: readonly MonitorDimension[]
  now?: () => Date
}): string {
  const out: string[] = []
  const now = (o.now ?? (() => new Date()))().getTime()
  if (o.monitor) {
    const fields = [
      ['sent', 'Messages with a final outcome (delivered + hard + soft bounces) in the window'],
      ['delivered', 'Deliveries in the window'],
      ['hardBounces', 'Hard bounces in the window'],
      ['softBounces', 'Soft bounces in the window'],
      ['deferred', 'Deferrals in the window'],
      ['complaints', 'Complaints in the window'],
      ['senderRejections', 'Sender-side rejections in the window'],
      ['refusedBySuppression', 'Sends refused by our own suppression list in the window'],
      ['bounceRate', 'Hard bounces / sent over the window'],
      ['complaintRate', 'Complaints / delivered over the window'],
    ] as const
    const rows = (o.dimensions ?? ['account', 'provider']).flatMap((d) => o.monitor!.snapshot(d))
    for (const [f, help] of fields) {
      const name = `bounce_guard_${f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
      for (const r of rows) out.push(`${name}{dimension="${label(r.dimension)}",key="${label(r.key)}"} ${r[f]}`)
    }
    out.push('# HELP bounce_guard_alert_active Open alert episodes (1 = warning, 2 = critical)', '# TYPE bounce_guard_alert_active gauge')
    for (const a of o.monitor.activeAlerts()) {
      out.push(
        `bounce_guard_alert_active{kind="${label(a.kind)}",dimension="${label(a.dimension)}",key="${label(a.key)}"} ${a.level === 'critical' ? 2 : 1}`,
      )
    }
  }
  if (o.shaper) {
    out.push(
      '# HELP bounce_guard_shaping_seconds_left Seconds left of an active traffic-shaping action',
      '# TYPE bounce_guard_shaping_seconds_left gauge',
    )
    for (const e of o.shaper.active()) {
      out.push(
        `bounce_guard_shaping_seconds_left{destination="${label(e.key)}",rule="${label(e.ruleId)}",action="${e.action}"} ${Math.max(0, Math.round((e.until - now) / 1000))}`,
      )
    }
  }
  return `${out.join('\n')}\n`
}

/**
 * A `node:http` handler: `GET /` the HTML page, `GET /data.json` the data, `GET /metrics` the
 * Prometheus metrics (from `metrics`, else built in when a monitor or shaper is given). Other paths 404, other methods 405; a
 * failing `collect` answers 500 with a short text (the error is not echoed).
 * @example
 * http.createServer(createReportHandler({ collect: () => collectReportData(store, { since }) })).listen(8025, '127.0.0.1')
 */
export function createReportHandler(options: ReportHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n')
      return
    }
    if (path === '/metrics' && options.metrics) {
      const registry = options.metrics.registry
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body)
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('the metrics could not be collected\n')
        },
      )
      return
    }
    if (path === '/metrics' && (options.monitor || options.shaper)) {
      const o: Parameters<typeof renderPrometheusMetrics>[0] = {}
      if (options.monitor) o.monitor = options.monitor
      if (options.shaper) o.shaper = options.shaper
      if (options.metricDimensions) o.dimensions = options.metricDimensions
      if (options.now) o.now = options.now
      const body = renderPrometheusMetrics(o)
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : body)
      return
    }
    if (path !== '/' && path !== '/data.json') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    options.collect().then(
      (data) => {
        const json = path === '/data.json'
        const body = json ? JSON.stringify(data) : renderHtmlReport(data)
        res
          .writeHead(200, {
            'content-type': json ? 'application/json' : 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
          })
          .end(req.method === 'HEAD' ? undefined : body)
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('the report could not be collected\n')
      },
    )
  }
}
