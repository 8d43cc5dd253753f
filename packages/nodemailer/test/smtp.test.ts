/**
 * The wrapper on Nodemailer's SMTP transport and SMTP pool, against a real smtp-server that
 * answers with real provider replies (see helpers/mta.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { MemoryBounceStore, isBounceGuardError } from '@bounce-guard/core'
import type { BounceGuard } from '@bounce-guard/core'
import { createRetryWorker, withBounceGuard } from '@bounce-guard/nodemailer'
import type { BounceGuardSendDetails } from '@bounce-guard/nodemailer'
import { useMta } from './helpers/mta.js'
import { collect, makeGuard, testClock } from './helpers/guard.js'
import type { TestClock } from './helpers/guard.js'
import { flaky } from './helpers/flaky-store.js'

type Details = { bounceGuard: BounceGuardSendDetails }
const FROM = 'sender@example.org'

async function sendErr(p: Promise<unknown>): Promise<Error & Details & Record<string, any>> {
  try {
    await p
  } catch (e) {
    return e as Error & Details & Record<string, any>
  }
  throw new Error('expected the send to fail')
}

describe.each([
  { kind: 'SMTP transport', pool: false },
  { kind: 'SMTP pool', pool: true },
])('withBounceGuard on the $kind', ({ pool }) => {
  const mta = useMta()
  let store: MemoryBounceStore
  let clock: TestClock
  let guard: BounceGuard
  let transports: Array<{ close(): void }>

  beforeEach(() => {
    store = new MemoryBounceStore()
    clock = testClock()
    guard = makeGuard(store, clock)
    transports = []
  })
  afterEach(() => {
    for (const t of transports) t.close()
  })

  function inner() {
    const opts = { host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true, pool, maxConnections: 2 }
    return opts
  }
  function transporter(extra: Record<string, unknown> = {}, g: BounceGuard = guard) {
    const t = nodemailer.createTransport(withBounceGuard(inner(), { guard: g, ...extra }))
    transports.push(t)
    return t
  }

  it('suppresses the dead Gmail address; the next send to it never reaches the server', async () => {
    const events = collect(guard)
    const t = transporter()
    const err = await sendErr(t.sendMail({ from: FROM, to: 'dead@gmail.com', subject: 'hi', text: 'x' }))
    // Nodemailer's own error, unchanged, with the classification beside it.
    expect(err.code).toBe('EENVELOPE')
    expect(err.responseCode).toBe(550)
    const o = err.bounceGuard.outcomes[0]
    expect(o?.recipient).toBe('dead@gmail.com')
    expect(o?.classification?.reason).toBe('userunknown')
    expect(o?.classification?.hard).toBe(true)
    expect(o?.decision?.action).toBe('suppress')
    expect((await store.findSuppressions(['dead@gmail.com'])).has('dead@gmail.com')).toBe(true)
    expect(mta.rcptCount('dead@gmail.com')).toBe(1)

    // Mixed: the dead one is dropped from the envelope, the good one is delivered.
    const info = (await t.sendMail({ from: FROM, to: ['Dead@Gmail.com', 'ok@example.com'], subject: 'again', text: 'x' })) as Details &
      Record<string, any>
    expect(info.bounceGuard.suppressed).toEqual(['Dead@gmail.com']) // as the envelope carried it
    expect(info.accepted).toEqual(['ok@example.com'])
    expect(mta.rcptCount('dead@gmail.com')).toBe(1)
    const delivered = mta.messages.at(-1)
    expect(delivered?.to).toEqual(['ok@example.com'])
    // Headers unchanged by default: the visible To still names the dropped address.
    expect(delivered?.raw.toString()).toMatch(/^To: .*dead@gmail\.com/im)

    // Only the dead one: refused at call time, no connection at all.
    const before = mta.connections
    const err2 = await sendErr(t.sendMail({ from: FROM, to: 'dead@gmail.com', subject: 'third', text: 'x' }))
    expect(isBounceGuardError(err2)).toBe(true)
    expect(err2.code).toBe('ESUPPRESSED')
    expect(err2.message).toMatch(/every recipient is suppressed/)
    expect(err2.bounceGuard.suppressed).toEqual(['dead@gmail.com'])
    expect(mta.rcptCount('dead@gmail.com')).toBe(1)
    expect(mta.connections).toBe(before)
    // The guard's events fired: one new suppression, then two call-time refusals; one bounce.
    const sup = events.suppressed as Array<{ atCallTime: boolean; suppression: { key: string } }>
    expect(sup.map((s) => [s.suppression.key, s.atCallTime])).toEqual([
      ['dead@gmail.com', false],
      ['dead@gmail.com', true],
      ['dead@gmail.com', true],
    ])
    expect(events.bounces).toHaveLength(1)
    // Refusals are recorded as call-time events (behind the send: flush the write-behind queue).
    expect(err2.bounceGuard.outcomes[0]?.recorded).toBe('queued')
    await (t.transporter as any).flush()
    expect((await store.listEvents('dead@gmail.com')).map((e) => [e.type, e.source])).toEqual([
      ['suppressed', 'call-time'],
      ['suppressed', 'call-time'],
      ['bounced', 'smtp'],
    ])
  })

  it('classifies Microsoft 550 5.5.0 per recipient in a mixed envelope and delivers to the good ones', async () => {
    const events = collect(guard)
    const t = transporter()
    const info = (await t.sendMail({
      from: FROM,
      to: ['ok@example.com', 'gone@outlook.com', 'dmarc@example.net', 'full@example.com', 'ok2@example.com'],
      subject: 'mixed',
      text: 'x',
    })) as Details & Record<string, any>
    expect(info.accepted).toEqual(['ok@example.com', 'ok2@example.com'])
    expect(mta.messages.at(-1)?.to).toEqual(['ok@example.com', 'ok2@example.com'])
    const by = new Map(info.bounceGuard.outcomes.map((o) => [o.recipient, o]))
    expect(by.get('ok@example.com')?.type).toBe('delivered')
    expect(by.get('ok2@example.com')?.type).toBe('delivered')
    expect(by.get('gone@outlook.com')?.classification?.code).toBe(550)
    expect(by.get('gone@outlook.com')?.classification?.enhancedStatus).toBe('5.5.0')
    // DMARC: our problem, never the recipient's: not suppressed, an alert instead.
    expect(by.get('dmarc@example.net')?.classification?.scope).toBe('sender')
    expect(by.get('dmarc@example.net')?.decision?.action).not.toBe('suppress')
    // 552 5.2.2 mailbox full is soft: retried.
    expect(by.get('full@example.com')?.classification?.reason).toBe('mailboxfull')
    expect(by.get('full@example.com')?.decision?.action).toBe('retry')
    expect(info.bounceGuard.retry?.recipients).toEqual(['full@example.com'])
    const sup = await store.findSuppressions(['dmarc@example.net', 'full@example.com', 'ok@example.com'])
    expect(sup.size).toBe(0)
    // Deliveries are written behind the send; the delivered event follows the write.
    expect(by.get('ok@example.com')?.recorded).toBe('queued')
    expect(by.get('full@example.com')?.recorded).toBe('written')
    await (t.transporter as any).flush()
    expect(events.delivered).toHaveLength(2)
    expect(events.alerts.some((a) => a.reason === by.get('dmarc@example.net')?.classification?.reason)).toBe(true)
    // Delivered outcomes are in the store.
    expect((await store.getRecipientState('ok2@example.com'))?.deliveries).toBe(1)
  })

  it('does not suppress the Spamhaus-blocked recipient and raises an alert', async () => {
    const events = collect(guard)
    const t = transporter()
    const err = await sendErr(t.sendMail({ from: FROM, to: 'blocked@example.com', subject: 'x', text: 'x' }))
    expect(err.responseCode).toBe(554)
    const o = err.bounceGuard.outcomes[0]
    expect(o?.classification?.hard).toBe(false)
    expect(o?.classification?.scope).toBe('sender')
    expect(o?.classification?.blocklist).toBe('spamhaus')
    expect(o?.decision?.action).not.toBe('suppress')
    expect((await store.findSuppressions(['blocked@example.com'])).size).toBe(0)
    expect(events.alerts).toHaveLength(1)
    expect(events.alerts[0]?.blocklist).toBe('spamhaus')
    // The next send is not refused.
    const err2 = await sendErr(t.sendMail({ from: FROM, to: 'blocked@example.com', subject: 'x', text: 'x' }))
    expect(err2.code).toBe('EENVELOPE')
    expect(mta.rcptCount('blocked@example.com')).toBe(2)
  })

  it('retries the greylisted recipient through the retry worker and delivers it', async () => {
    const t = transporter()
    const err = await sendErr(t.sendMail({ from: FROM, to: 'grey@example.com', subject: 'greylist', text: 'hello grey' }))
    expect(err.responseCode).toBe(451)
    const o = err.bounceGuard.outcomes[0]
    expect(o?.type).toBe('deferred')
    expect(o?.decision?.action).toBe('retry')
    const retry = err.bounceGuard.retry
    expect(retry?.jobId).toBeTruthy()
    expect(retry?.recipients).toEqual(['grey@example.com'])
    const dueAt = retry?.dueAt as Date
    expect(dueAt.getTime()).toBeGreaterThan(clock.now().getTime())

    const worker = createRetryWorker({ guard, transport: t, intervalMs: 1000, concurrency: 2, leaseMs: 60_000 })
    // Not due yet.
    expect((await worker.runOnce()).claimed).toBe(0)
    clock.set(new Date(dueAt.getTime() + 1))
    const run = await worker.runOnce()
    expect(run.claimed).toBe(1)
    expect(run.delivered).toEqual(['grey@example.com'])
    expect(run.completed).toBe(1)
    expect(mta.rcptCount('grey@example.com')).toBe(2)
    const msg = mta.messages.at(-1)
    expect(msg?.to).toEqual(['grey@example.com'])
    expect(msg?.from).toBe(FROM)
    expect(msg?.raw.toString()).toContain('hello grey')
    expect(msg?.raw.toString()).toContain('Subject: greylist')
    const state = await store.getRecipientState('grey@example.com')
    expect(state?.deliveries).toBe(1)
    expect(state?.softBounces).toBe(1)
    // The job is gone.
    clock.advance(24 * 3600_000)
    expect((await worker.runOnce()).claimed).toBe(0)
    await worker.stop()
  })

  it('applies the Yahoo 421 [TSS04] deferral of the connection to every recipient of the envelope', async () => {
    const t = transporter()
    const err = await sendErr(t.sendMail({ from: FROM, to: ['ok@yahoo.com', 'busy@yahoo.com'], subject: 'x', text: 'x' }))
    expect(err.code).toBe('ECONNECTION')
    expect(err.bounceGuard.outcomes.map((o) => o.recipient).sort()).toEqual(['busy@yahoo.com', 'ok@yahoo.com'])
    for (const o of err.bounceGuard.outcomes) {
      expect(o.type).toBe('deferred')
      expect(o.classification?.permanent).toBe(false)
      expect(o.decision?.action).toBe('retry')
    }
    expect(err.bounceGuard.retry?.recipients.sort()).toEqual(['busy@yahoo.com', 'ok@yahoo.com'])
    expect((await store.findSuppressions(['ok@yahoo.com', 'busy@yahoo.com'])).size).toBe(0)
  })

  it('applies a failure after DATA to every accepted recipient', async () => {
    mta.dataReply = 'mailboxFull'
    const t = transporter()
    const err = await sendErr(t.sendMail({ from: FROM, to: ['a@example.com', 'b@example.com'], subject: 'x', text: 'x' }))
    expect(err.code).toBe('EMESSAGE')
    expect(err.bounceGuard.outcomes.map((o) => o.recipient).sort()).toEqual(['a@example.com', 'b@example.com'])
    expect(err.bounceGuard.outcomes.every((o) => o.classification?.reason === 'mailboxfull')).toBe(true)
    expect((await store.getRecipientState('b@example.com'))?.softBounces).toBe(1)
  })

  it('onSuppressed "reject" fails the whole send and names the suppressed recipients', async () => {
    await store.suppress({ key: 'x@example.com', scope: 'address', reason: 'manual', source: 'manual', at: clock.now() })
    const t = transporter({ onSuppressed: 'reject' })
    const err = await sendErr(t.sendMail({ from: FROM, to: ['ok@example.com', 'X@example.com'], subject: 'x', text: 'x' }))
    expect(err.code).toBe('ESUPPRESSED')
    // Named as the caller wrote them.
    expect(err.message).toContain('X@example.com')
    expect((err as any).details.suppressed).toEqual(['X@example.com'])
    expect(err.bounceGuard.suppressed).toEqual(['X@example.com'])
    expect(mta.rcptCount('ok@example.com')).toBe(0)
  })

  it('rewriteHeaders removes the suppressed recipients from To and Cc as well', async () => {
    await store.suppress({ key: 'example.net', scope: 'domain', reason: 'hostunknown', source: 'manual', at: clock.now() })
    const t = transporter({ rewriteHeaders: true })
    const info = (await t.sendMail({
      from: FROM,
      to: ['ok@example.com', 'a@example.net'],
      cc: 'Bee <b@EXAMPLE.net>, c@example.com',
      subject: 'x',
      text: 'x',
    })) as Details & Record<string, any>
    expect(info.bounceGuard.suppressed).toEqual(['a@example.net', 'b@example.net'])
    const raw = mta.messages.at(-1)?.raw.toString() ?? ''
    expect(raw).not.toMatch(/example\.net/i)
    expect(raw).toMatch(/^To: ok@example\.com\r?$/m)
    expect(raw).toMatch(/^Cc: c@example\.com\r?$/m)
    expect(mta.messages.at(-1)?.to).toEqual(['ok@example.com', 'c@example.com'])
  })

  it('logs EPAYLOAD_TOO_LARGE for a deferred message over the size limit and does not crash', async () => {
    const logged: unknown[] = []
    const logger = { info() {}, warn() {}, debug() {}, error: (obj: unknown, msg?: string) => logged.push([obj, msg]) }
    const t = transporter({ maxRetryPayloadBytes: 200, logger })
    const err = await sendErr(t.sendMail({ from: FROM, to: 'grey@example.com', subject: 'big', text: 'y'.repeat(5000) }))
    expect(err.responseCode).toBe(451)
    expect(err.bounceGuard.retry?.recipients).toEqual(['grey@example.com'])
    expect(err.bounceGuard.retry?.jobId).toBeUndefined()
    expect((err.bounceGuard.retry?.error as any)?.code).toBe('EPAYLOAD_TOO_LARGE')
    expect(JSON.stringify(logged)).toContain('maxRetryPayloadBytes')
    expect(await store.claimDueRetries(new Date(clock.now().getTime() + 365 * 86400_000), 10, 1000)).toEqual([])
  })

  it('loses no outcome when the store goes down mid-run (fail-open) and writes them after recovery', async () => {
    const fstore = flaky(store)
    const g = makeGuard(fstore, clock)
    const t = transporter({ flushIntervalMs: 50 }, g)
    const first = (await t.sendMail({ from: FROM, to: ['a1@example.com'], subject: '1', text: 'x' })) as Details & Record<string, any>
    expect(first.bounceGuard.outcomes[0]?.decision?.action).toBe('none')

    fstore.down = true
    const sends = [
      t.sendMail({ from: FROM, to: ['a2@example.com', 'dead@gmail.com'], subject: '2', text: 'x' }),
      t.sendMail({ from: FROM, to: ['grey@example.com'], subject: '3', text: 'x' }).catch((e: unknown) => e),
      t.sendMail({ from: FROM, to: ['a3@example.com', 'full@example.com'], subject: '4', text: 'x' }),
    ]
    const results = (await Promise.all(sends)) as Array<Details & Record<string, any>>
    // Sent unchecked. Failures are buffered by the wrapper (no decision yet); deliveries wait in
    // the guard's write-behind queue (their decision is always none).
    expect(results[0]?.accepted).toEqual(['a2@example.com'])
    for (const r of results) {
      expect(r.bounceGuard.unchecked).toBe(true)
      for (const o of r.bounceGuard.outcomes) {
        if (o.type === 'delivered') expect([o.recorded, o.decision?.action]).toEqual(['queued', 'none'])
        else expect([o.recorded, o.buffered, o.decision]).toEqual(['buffered', true, undefined])
      }
    }
    expect(fstore.refused.get('findSuppressions')).toBeGreaterThan(0)
    // the queue's writes fail while the store is down, and the outcomes stay counted as waiting
    await g.flush().catch(() => undefined)
    expect(fstore.refused.get('recordEvents')).toBeGreaterThan(0)
    expect((t.transporter as any).bufferedOutcomes).toBeGreaterThanOrEqual(5)
    expect(await store.getRecipientState('a2@example.com')).toBeUndefined()

    fstore.down = false
    await (t.transporter as any).flush()
    expect((t.transporter as any).bufferedOutcomes).toBe(0)
    for (const r of ['a1@example.com', 'a2@example.com', 'a3@example.com']) {
      expect((await store.getRecipientState(r))?.deliveries, r).toBe(1)
    }
    expect((await store.getRecipientState('dead@gmail.com'))?.hardBounces).toBe(1)
    expect((await store.getRecipientState('grey@example.com'))?.softBounces).toBe(1)
    expect((await store.getRecipientState('full@example.com'))?.softBounces).toBe(1)
    // Decisions were applied after recovery: the dead one is suppressed, the deferred ones have jobs.
    expect((await store.findSuppressions(['dead@gmail.com'])).size).toBe(1)
    const jobs = await store.claimDueRetries(new Date(clock.now().getTime() + 7 * 86400_000), 10, 1000)
    expect(jobs.flatMap((j) => j.recipients).sort()).toEqual(['full@example.com', 'grey@example.com'])
  })

  it('fail-closed refuses to send while the store is down, without connecting', async () => {
    const fstore = flaky(store)
    const g = makeGuard(fstore, clock)
    const t = transporter({ onStoreError: 'fail-closed' }, g)
    fstore.down = true
    const before = mta.connections
    const err = await sendErr(t.sendMail({ from: FROM, to: 'ok@example.com', subject: 'x', text: 'x' }))
    expect(err.code).toBe('ESTORE_UNAVAILABLE')
    expect(isBounceGuardError(err)).toBe(true)
    expect(mta.rcptCount('ok@example.com')).toBe(0)
    expect(mta.connections).toBe(before)
    fstore.down = false
    const info = (await t.sendMail({ from: FROM, to: 'ok@example.com', subject: 'x', text: 'x' })) as Record<string, any>
    expect(info.accepted).toEqual(['ok@example.com'])
  })
})
