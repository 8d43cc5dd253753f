// createPrometheusMetrics with the real prom-client, scraped over a real node:http server; the
// exposition text is parsed line by line.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as promClient from 'prom-client'
import { BounceGuardError, MemoryBounceStore, createBounceGuard, createBounceMonitor, createShaper } from '@bounce-guard/core'
import { collectReportData, createPrometheusMetrics, createReportHandler } from '@bounce-guard/report'

const T0 = Date.UTC(2030, 5, 1, 12, 0, 0)
const S3150 =
  "550 5.7.1 Unfortunately, messages from [203.0.113.9] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150)."
const UNKNOWN =
  "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos."

/** Parse the exposition text into samples: metric name, labels, value. `# TYPE` lines give the types. */
function parseExposition(text: string): {
  types: Map<string, string>
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>
} {
  const types = new Map<string, string>()
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) {
      types.set(type[1]!, type[2]!)
      continue
    }
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return { types, samples }
}

describe('Prometheus metrics with prom-client, scraped over HTTP', () => {
  let server: Server
  let base: string
  const now = () => new Date(T0)
  const store = new MemoryBounceStore()
  const guard = createBounceGuard({ store, now, random: () => 0 })
  const monitor = createBounceMonitor({ now, thresholds: { burstWarning: 2 } })
  const shaper = createShaper({ now })
  const registry = new promClient.Registry()
  const metrics = createPrometheusMetrics({ client: promClient, registry, shaping: shaper, monitor, now })
  monitor.attach(guard)
  metrics.attach(guard)
  guard.on('bounce', (r) => shaper.observe(r, { remoteMta: 'contoso-example.mail.protection.outlook.com' }))

  beforeAll(async () => {
    for (const r of ['a@gmail.com', 'b@gmail.com', 'c@yahoo.com']) await guard.record({ recipient: r, type: 'delivered', source: 'smtp' })
    await guard.record({ recipient: 'gone@gmail.com', type: 'bounced', reply: UNKNOWN, source: 'smtp' })
    for (const r of ['x@contoso.example', 'y@contoso.example', 'z@contoso.example']) {
      await guard.record({
        recipient: r,
        type: 'bounced',
        reply: S3150,
        context: { remoteMta: 'contoso-example.mail.protection.outlook.com' },
        source: 'smtp',
      })
    }
    server = createServer(
      createReportHandler({
        collect: () => collectReportData(store, { since: new Date(T0 - 3_600_000), until: new Date(T0 + 1), now }),
        metrics,
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('exports outcome counters, the shaping state and the alert state', async () => {
    const res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(registry.contentType)
    const { types, samples } = parseExposition(await res.text())
    expect(types.get('bounce_guard_outcomes_total')).toBe('counter')
    expect(types.get('bounce_guard_shaping_active')).toBe('gauge')
    expect(types.get('bounce_guard_alert_active')).toBe('gauge')
    const outcomes = samples.filter((s) => s.name === 'bounce_guard_outcomes_total')
    const total = (f: (l: Record<string, string>) => boolean) => outcomes.filter((s) => f(s.labels)).reduce((n, s) => n + s.value, 0)
    expect(total((l) => l.type === 'delivered')).toBe(3)
    expect(total((l) => l.type === 'bounced' && l.hard === 'true')).toBe(1)
    expect(total((l) => l.type === 'bounced' && l.hard === 'true' && l.reason === 'userunknown')).toBe(1)
    expect(total((l) => l.type === 'bounced' && l.hard === 'false' && l.reason === 'blocked' && l.provider === 'microsoft')).toBe(3)
    // the shaper capped Microsoft after the S3150 replies
    const active = samples.filter((s) => s.name === 'bounce_guard_shaping_active')
    expect(active.map((s) => s.labels)).toContainEqual({ destination: 'provider:microsoft', rule: 'microsoft.reputation', action: 'cap' })
    const cap = samples.find((s) => s.name === 'bounce_guard_shaping_cap_per_minute' && s.labels.destination === 'provider:microsoft')
    expect(cap?.value).toBe(shaper.active().find((e) => e.key === 'provider:microsoft')!.perMinute)
    // the burst of sender-side rejections at Microsoft is an open alert
    const alerts = samples.filter((s) => s.name === 'bounce_guard_alert_active')
    expect(alerts.some((s) => s.labels.key === 'microsoft' && s.value >= 1)).toBe(true)
  })

  it('counts new outcomes on the next scrape, and a lifted action disappears', async () => {
    await guard.record({ recipient: 'd@gmail.com', type: 'delivered', source: 'smtp' })
    shaper.lift('provider:microsoft')
    const { samples } = parseExposition(await (await fetch(`${base}/metrics`)).text())
    const delivered = samples.filter((s) => s.name === 'bounce_guard_outcomes_total' && s.labels.type === 'delivered')
    expect(delivered.reduce((n, s) => n + s.value, 0)).toBe(4)
    expect(samples.filter((s) => s.name === 'bounce_guard_shaping_active')).toEqual([])
  })

  it('counts rows read from a store, and rejects a missing client', () => {
    const reg = new promClient.Registry()
    const m = createPrometheusMetrics({ client: promClient, registry: reg, prefix: 'x_' })
    m.countOutcomes([
      { type: 'bounced', provider: 'gmail', reason: 'userunknown', hard: true, count: 5 },
      { type: 'delivered', count: -1 },
      { type: 'delivered', count: Number.NaN },
    ])
    return reg.metrics().then((text) => {
      const { samples } = parseExposition(text)
      expect(samples).toEqual([
        { name: 'x_outcomes_total', labels: { type: 'bounced', provider: 'gmail', reason: 'userunknown', hard: 'true' }, value: 5 },
      ])
      expect(() => createPrometheusMetrics({ client: undefined as never })).toThrow(BounceGuardError)
    })
  })
})
