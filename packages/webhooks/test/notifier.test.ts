import { EventEmitter } from 'node:events'
import { createHmac } from 'node:crypto'
import nock from 'nock'
import { afterEach, describe, expect, it } from 'vitest'
import type { BounceAlert, BounceGuard, Suppression } from '@bounce-guard/core'
import { createWebhookNotifier, type NotificationQueueStore, type QueuedNotification, type WebhookNotification } from '../src/notifier.js'
import { signWebhookPayload, verifyWebhookSignature } from '../src/signing.js'

const URL_BASE = 'https://hooks.example.test'
const SECRET = 'a-shared-secret-of-some-length'
const fast = { initialMs: 10, factor: 2, maxMs: 50, jitter: false }

interface Captured {
  body: string
  headers: Record<string, string | string[] | undefined>
}

afterEach(() => {
  nock.cleanAll()
})

/** A guard stand-in that only emits events (the notifier listens, nothing else). */
function fakeGuardEmitter(): BounceGuard & EventEmitter {
  return new EventEmitter() as unknown as BounceGuard & EventEmitter
}

const suppression: Suppression = {
  key: 'gone@example.org',
  scope: 'address',
  reason: 'userunknown',
  source: 'webhook',
  createdAt: new Date('2026-01-02T03:04:05Z'),
  updatedAt: new Date('2026-01-02T03:04:05Z'),
  ruleId: 'rfc3463.5.1.1',
}

describe('createWebhookNotifier', () => {
  it('posts a suppression signed with HMAC-SHA256 over t.body, and the receiver can verify it', async () => {
    const got: Captured[] = []
    const headers: Record<string, string> = {}
    const keep = (name: string) => (v: string) => {
      headers[name] = v
      return true
    }
    nock(URL_BASE, {
      reqheaders: {
        'bounce-guard-signature': keep('bounce-guard-signature'),
        'bounce-guard-id': keep('bounce-guard-id'),
        'content-type': 'application/json',
      },
    })
      .post('/bg', (body: unknown) => {
        got.push({ body: typeof body === 'string' ? body : JSON.stringify(body), headers })
        return true
      })
      .reply(204)
    const guard = fakeGuardEmitter()
    const delivered: WebhookNotification[] = []
    const n = createWebhookNotifier({ url: `${URL_BASE}/bg`, secret: SECRET, guard, backoff: fast, onDelivered: (x) => delivered.push(x) })
    guard.emit('suppressed', { recipient: 'Gone@Example.org', suppression, atCallTime: false })
    guard.emit('suppressed', { recipient: 'x@example.org', suppression, atCallTime: true }) // call-time refusal: not sent by default
    expect(await n.idle(2000)).toBe(0)
    expect(got).toHaveLength(1)
    expect(delivered).toHaveLength(1)
    const { body } = got[0]!
    const parsed = JSON.parse(body) as WebhookNotification
    expect(parsed.type).toBe('suppressed')
    expect(parsed.data).toMatchObject({
      key: 'gone@example.org',
      reason: 'userunknown',
      recipient: 'Gone@Example.org',
      createdAt: '2026-01-02T03:04:05.000Z',
    })
    expect(headers['bounce-guard-id']).toBe(parsed.id)
    const sig = String(headers['bounce-guard-signature'])
    // Recompute independently of the library.
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig)
    expect(m).not.toBeNull()
    expect(Math.abs(Number(m![1]) - Date.now() / 1000)).toBeLessThan(30)
    expect(m![2]).toBe(createHmac('sha256', SECRET).update(`${m![1]}.${body}`).digest('hex'))
    expect(verifyWebhookSignature({ payload: body, header: sig, secret: SECRET })).toBe(true)
    expect(verifyWebhookSignature({ payload: body, header: sig, secret: ['old-secret-xxxxxxxxxxxx', SECRET] })).toBe(true)
    expect(verifyWebhookSignature({ payload: `${body} `, header: sig, secret: SECRET })).toBe(false)
    expect(verifyWebhookSignature({ payload: body, header: sig, secret: 'wrong-secret-xxxxxxxxxxx' })).toBe(false)
    expect(verifyWebhookSignature({ payload: body, header: sig, secret: SECRET, now: new Date(Date.now() + 3600_000) })).toBe(false)
    expect(verifyWebhookSignature({ payload: body, header: 'garbage', secret: SECRET })).toBe(false)
    await n.close()
  })

  it('retries on 5xx with backoff and delivers', async () => {
    const times: number[] = []
    nock(URL_BASE)
      .post('/bg')
      .times(2)
      .reply(() => {
        times.push(Date.now())
        return [503, 'busy']
      })
    nock(URL_BASE)
      .post('/bg')
      .reply(() => {
        times.push(Date.now())
        return [200, 'ok']
      })
    const deliveredAfter: number[] = []
    const n = createWebhookNotifier({
      url: `${URL_BASE}/bg`,
      secret: SECRET,
      backoff: { initialMs: 40, factor: 2, maxMs: 1000, jitter: false },
      onDelivered: (_n, a) => deliveredAfter.push(a),
    })
    const alert: BounceAlert = { destination: 'gmail.com', reason: 'blocked', ruleId: 'x', at: new Date() }
    n.notify('alert', alert)
    expect(await n.idle(3000)).toBe(0)
    expect(times).toHaveLength(3)
    expect(deliveredAfter).toEqual([3])
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(35) // 40 ms
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(75) // 80 ms
    expect(nock.isDone()).toBe(true)
    await n.close()
  })

  it('treats a timeout as a failure and retries', async () => {
    // nock's .delay() does not hold back fetch responses, so the reply itself waits.
    nock(URL_BASE)
      .post('/slow')
      .reply(async () => {
        await new Promise((r) => setTimeout(r, 1000))
        return [200, 'late']
      })
    nock(URL_BASE).post('/slow').reply(200, 'ok')
    let attempts = 0
    const n = createWebhookNotifier({
      url: `${URL_BASE}/slow`,
      secret: SECRET,
      timeoutMs: 100,
      backoff: fast,
      onDelivered: (_n, a) => {
        attempts = a
      },
    })
    n.notify('unsuppressed', { key: 'a@example.org', scope: 'address' })
    expect(await n.idle(5000)).toBe(0)
    expect(attempts).toBe(2)
    await n.close()
  })

  it('gives up after maxAttempts and does not retry a 4xx', async () => {
    const scope = nock(URL_BASE).post('/down').times(3).reply(500)
    const gaveUp: string[] = []
    const n = createWebhookNotifier({
      url: `${URL_BASE}/down`,
      secret: SECRET,
      maxAttempts: 3,
      backoff: fast,
      onGiveUp: (_n, why) => gaveUp.push(why),
    })
    n.notify('alert', { destination: 'yahoo.com', reason: 'ratelimited', ruleId: 'y', at: new Date() })
    expect(await n.idle(3000)).toBe(0)
    expect(scope.isDone()).toBe(true)
    expect(gaveUp).toEqual([expect.stringMatching(/^3 attempts failed, last: HTTP 500/)])

    const four = nock(URL_BASE).post('/down').reply(400)
    n.notify('alert', { destination: 'yahoo.com', reason: 'ratelimited', ruleId: 'y', at: new Date() })
    expect(await n.idle(3000)).toBe(0)
    expect(four.isDone()).toBe(true)
    expect(gaveUp[1]).toMatch(/^not retryable: HTTP 400/)
    await n.close()
  })

  it('keeps undelivered notifications in the store and sends them after a restart', async () => {
    const rows = new Map<string, QueuedNotification>()
    const store: NotificationQueueStore = {
      save: (i) => {
        rows.set(i.notification.id, structuredClone(i))
      },
      remove: (id) => {
        rows.delete(id)
      },
      load: (limit) => [...rows.values()].sort((a, b) => a.dueAt - b.dueAt).slice(0, limit),
    }
    nock(URL_BASE).post('/bg').reply(503)
    const first = createWebhookNotifier({ url: `${URL_BASE}/bg`, secret: SECRET, store, backoff: { initialMs: 60_000, jitter: false } })
    const id = first.notify('suppressed', { key: 'k@example.org', scope: 'address' })!
    await new Promise((r) => setTimeout(r, 200))
    expect(nock.isDone()).toBe(true)
    expect(first.pending).toBe(1)
    await first.close() // the process "stops" with one undelivered notification
    expect([...rows.keys()]).toEqual([id])
    expect(rows.get(id)!.attempts).toBe(1)

    const received: string[] = []
    nock(URL_BASE)
      .post('/bg', (body: WebhookNotification) => {
        received.push(body.id)
        return true
      })
      .reply(200, 'ok')
    const second = createWebhookNotifier({ url: `${URL_BASE}/bg`, secret: SECRET, store, backoff: fast })
    // make it due now, as if the backoff had passed during the downtime
    rows.get(id)!.dueAt = Date.now()
    expect(await second.resume()).toBe(1)
    expect(await second.idle(3000)).toBe(0)
    expect(received).toEqual([id])
    await new Promise((r) => setTimeout(r, 20))
    expect(rows.size).toBe(0)
    await second.close()
  })

  it('bounds the queue and never throws into the emitter', async () => {
    nock(URL_BASE).post('/bg').times(10).reply(503)
    const dropped: string[] = []
    const guard = fakeGuardEmitter()
    const n = createWebhookNotifier({
      url: `${URL_BASE}/bg`,
      secret: SECRET,
      guard,
      maxQueue: 2,
      backoff: { initialMs: 60_000, jitter: false },
      onGiveUp: (_n, why) => dropped.push(why),
    })
    const t0 = performance.now()
    for (let i = 0; i < 5; i++) guard.emit('alert', { destination: `d${i}.example`, reason: 'blocked', ruleId: 'r', at: new Date() })
    expect(performance.now() - t0).toBeLessThan(50) // enqueue only; no network wait
    expect(n.pending).toBe(2)
    expect(dropped.filter((d) => d === 'queue full')).toHaveLength(3)
    await n.close()
  })

  it('rejects bad options with a typed error', () => {
    expect(() => createWebhookNotifier({ url: 'not a url', secret: SECRET })).toThrow(expect.objectContaining({ code: 'EINVALID_OPTION' }))
    expect(() => createWebhookNotifier({ url: `${URL_BASE}/x`, secret: 'short' })).toThrow(
      expect.objectContaining({ code: 'EINVALID_OPTION' }),
    )
    expect(signWebhookPayload('{}', SECRET, 100)).toBe(`t=100,v1=${createHmac('sha256', SECRET).update('100.{}').digest('hex')}`)
  })
})
