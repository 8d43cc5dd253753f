import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBounceStore, classifyReply, createBounceGuard, createBounceMonitor, createShaper } from '@bounce-guard/core'
import { collectReportData, createReportHandler, renderPrometheusMetrics } from '@bounce-guard/report'

const T0 = Date.UTC(2030, 5, 1, 12, 0, 0)
const S3150 =
  "550 5.7.1 Unfortunately, messages from [203.0.113.9] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150)."

describe('createReportHandler on a real node:http server', () => {
  let server: Server
  let base: string
  let failing = false
  const now = () => new Date(T0)
  const store = new MemoryBounceStore()
  const guard = createBounceGuard({ store, now, random: () => 0 })
  const monitor = createBounceMonitor({ now, thresholds: { burstWarning: 2 } })
  const shaper = createShaper({ now })
  monitor.attach(guard)
  guard.on('bounce', (r) => shaper.observe(r, { remoteMta: 'contoso-example.mail.protection.outlook.com' }))

  beforeAll(async () => {
    await guard.record({ recipient: 'a@gmail.com', type: 'delivered', source: 'smtp' })
    for (const r of ['x@contoso.example', 'y@contoso.example']) {
      await guard.record({
        recipient: r,
        type: 'bounced',
        reply: S3150,
        context: { remoteMta: 'contoso-example.mail.protection.outlook.com' },
        source: 'smtp',
      })
    }
    expect(classifyReply(S3150).reason).toBe('blocked')
    server = createServer(
      createReportHandler({
        collect: async () => {
          if (failing) throw new Error('db down: secret-password')
          return collectReportData(store, { since: new Date(T0 - 3_600_000), until: new Date(T0 + 1), now })
        },
        monitor,
        shaper,
        now,
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('GET / serves the page, /data.json the data', async () => {
    const page = await fetch(`${base}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const html = await page.text()
    expect(html).toContain('contoso.example')
    expect(html).toContain('uPlot')
    const data = (await (await fetch(`${base}/data.json?x=1`)).json()) as { refusing: Array<{ key: string; count: number }> }
    expect(data.refusing).toEqual([expect.objectContaining({ key: 'contoso.example', count: 2 })])
  })

  it('GET /metrics exposes window counters, the open burst alert and the shaping cap', async () => {
    const res = await fetch(`${base}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toContain('bounce_guard_sent{dimension="account",key="*"} 3')
    expect(text).toContain('bounce_guard_sender_rejections{dimension="provider",key="microsoft"} 2')
    expect(text).toContain('bounce_guard_alert_active{kind="rejection-burst",dimension="provider",key="microsoft"} 1')
    expect(text).toContain(
      'bounce_guard_shaping_seconds_left{destination="provider:microsoft",rule="microsoft.reputation",action="cap"} 5400',
    )
    // every sample line is `name{labels} number`
    for (const line of text.trim().split('\n')) if (!line.startsWith('#')) expect(line).toMatch(/^[a-z_]+\{[^}]*\} -?\d+(\.\d+)?(e-?\d+)?$/)
  })

  it('404, 405, and a 500 that does not echo the error', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404)
    expect((await fetch(`${base}/`, { method: 'DELETE' })).status).toBe(405)
    failing = true
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(500)
    expect(await res.text()).not.toContain('secret')
    failing = false
  })

  it('label values are escaped', () => {
    const m = createBounceMonitor({ now })
    m.observe({ recipient: 'a@x', domain: 'we"ird\\dom\nain', type: 'delivered', at: new Date(T0), source: 'smtp' })
    expect(renderPrometheusMetrics({ monitor: m, dimensions: ['domain'] })).toContain('key="we\\"ird\\\\dom\\nain"')
  })
})
