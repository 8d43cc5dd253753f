/**
 * Traffic shaping in the wrapper: a real smtp-server answers `421 4.7.0 [TSS04] ...` for
 * yahoo.test; after the pause triggers, sends to yahoo.test never reach the server and wait in a
 * retry job due when the pause ends, while other domains still send.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { BounceGuardError, MemoryBounceStore, createShaper, createSharedShaper } from '@bounce-guard/core'
import type { BounceGuard, Shaper, SharedShaper, ShapingRule } from '@bounce-guard/core'
import { createRetryWorker, decodeRetryPayload, withBounceGuard } from '@bounce-guard/nodemailer'
import { useMta } from './helpers/mta.js'
import { makeGuard, testClock } from './helpers/guard.js'

const FROM = 'sender@example.org'
const HOUR = 3_600_000
// Every yahoo.test recipient gets Yahoo's TSS04 deferral; everyone else is accepted.
const mta = useMta((a) => (a.endsWith('@yahoo.test') ? 'yahooDeferred' : undefined))
let store: MemoryBounceStore
let guard: BounceGuard
const shared: SharedShaper[] = []

beforeEach(() => {
  store = new MemoryBounceStore()
  guard = makeGuard(store, testClock())
})
afterEach(() => {
  for (const s of shared.splice(0)) s.stop()
})

function transporter(shaper: Shaper, extra: Record<string, unknown> = {}, g: BounceGuard = guard) {
  return nodemailer.createTransport(
    withBounceGuard({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true }, { guard: g, shaper, ...extra }),
  )
}

async function send(t: ReturnType<typeof transporter>, to: string[]): Promise<Record<string, any>> {
  try {
    return (await t.sendMail({ from: FROM, to, subject: 'shaped', text: 'hello' })) as Record<string, any>
  } catch (e) {
    return e as Record<string, any>
  }
}

/** Jobs in the store, read through the memory store's raw maps (not through the wrapper). */
function jobs(s: MemoryBounceStore = store) {
  return [...s.rawData().retries.values()].map((r) => r.job)
}

/** Three TSS04 deferrals in a row start Yahoo's pause (DEFAULT_SHAPING_RULES: yahoo.tss04, threshold 3). */
async function triggerPause(t: ReturnType<typeof transporter>, n = 3): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await send(t, [`busy${i}@yahoo.test`])
    expect(r.bounceGuard.outcomes[0].type).toBe('deferred')
  }
}

describe('withBounceGuard({ shaper })', () => {
  it('after Yahoo pauses us, yahoo.test recipients never reach the server and wait in a retry job; other domains still send', async () => {
    const shaper = createShaper()
    const t = transporter(shaper)
    const before = Date.now()
    await triggerPause(t)
    expect(mta.rcptCount('busy2@yahoo.test')).toBe(1)
    const d = shaper.check('yahoo.test')
    expect(d.action).toBe('pause')
    const pauseEnd = d.action === 'pause' ? d.until.getTime() : 0
    expect(pauseEnd).toBeGreaterThanOrEqual(before + 2 * HOUR)
    expect(pauseEnd).toBeLessThanOrEqual(Date.now() + 2 * HOUR)

    const jobsBefore = jobs().length
    const info = await send(t, ['later@yahoo.test', 'now@example.com'])
    expect(mta.rcptCount('later@yahoo.test')).toBe(0)
    expect(mta.rcptCount('now@example.com')).toBe(1)
    expect(info.accepted).toEqual(['now@example.com'])
    expect(info.bounceGuard.outcomes.map((o: { recipient: string; type: string }) => [o.recipient, o.type])).toEqual([
      ['now@example.com', 'delivered'],
    ])
    const held = info.bounceGuard.deferredByShaping
    expect(held).toHaveLength(1)
    expect(held[0]).toMatchObject({ domain: 'yahoo.test', recipients: ['later@yahoo.test'], action: 'pause', ruleId: 'yahoo.tss04' })
    expect(held[0].dueAt.getTime()).toBe(pauseEnd)
    const added = jobs().slice(jobsBefore)
    expect(added).toHaveLength(1)
    expect(added[0]).toMatchObject({ id: held[0].jobId, recipients: ['later@yahoo.test'], attempts: 0 })
    expect(added[0]!.dueAt.getTime()).toBe(pauseEnd)
    // The job carries the very bytes example.com received.
    const raw = decodeRetryPayload(added[0]!.payload).raw.toString()
    expect(mta.messages.at(-1)?.raw.toString().trim()).toBe(raw.trim())
    // Not recorded as an event: the hold is our decision, not the recipient's answer.
    expect(await store.getRecipientState('later@yahoo.test')).toBeUndefined()
    t.close()
  })

  it('makes no connection when every recipient is paused, and queues the whole message', async () => {
    const shaper = createShaper()
    const t = transporter(shaper)
    await triggerPause(t)
    const connections = mta.connections
    const jobsBefore = jobs().length
    const info = await send(t, ['a@yahoo.test', 'b@yahoo.test'])
    expect(info).not.toBeInstanceOf(Error)
    expect(mta.connections).toBe(connections)
    expect(mta.rcptCount('a@yahoo.test')).toBe(0)
    expect(info.accepted).toEqual([])
    expect(info.pending).toEqual(['a@yahoo.test', 'b@yahoo.test'])
    const added = jobs().slice(jobsBefore)
    expect(added.map((j) => j.recipients)).toEqual([['a@yahoo.test', 'b@yahoo.test']])
    const payload = decodeRetryPayload(added[0]!.payload)
    expect(payload.from).toBe(FROM)
    expect(payload.raw.toString()).toContain('Subject: shaped')
    t.close()
  })

  it('fails with ESHAPED when everything is paused and no job can be kept (retryPayload "none")', async () => {
    const shaper = createShaper()
    const t = transporter(shaper, { retryPayload: 'none' })
    await triggerPause(t)
    const connections = mta.connections
    const err = await send(t, ['c@yahoo.test'])
    expect(err).toBeInstanceOf(BounceGuardError)
    expect(err.code).toBe('ESHAPED')
    expect(err.bounceGuard.deferredByShaping[0].recipients).toEqual(['c@yahoo.test'])
    expect(mta.connections).toBe(connections)
    t.close()
  })

  it('a pause seen by one app server reaches another through the store (createSharedShaper)', async () => {
    const sharedStore = new MemoryBounceStore()
    const g1 = makeGuard(sharedStore, testClock())
    const g2 = makeGuard(sharedStore, testClock())
    const s1 = createSharedShaper({ store: sharedStore, refreshMs: 50 })
    const s2 = createSharedShaper({ store: sharedStore, refreshMs: 50 })
    shared.push(s1, s2)
    const t1 = transporter(s1, {}, g1)
    const t2 = transporter(s2, {}, g2)
    for (let i = 0; i < 3; i++) await send(t1, [`busy${i}@yahoo.test`])
    const deadline = Date.now() + 3000
    while (s2.check('yahoo.test').action === 'send' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const info = await send(t2, ['x@yahoo.test', 'y@example.com'])
    expect(mta.rcptCount('x@yahoo.test')).toBe(0)
    expect(mta.rcptCount('y@example.com')).toBe(1)
    expect(info.bounceGuard.deferredByShaping[0]).toMatchObject({ recipients: ['x@yahoo.test'], action: 'pause' })
    expect(jobs(sharedStore).some((j) => j.recipients.join() === 'x@yahoo.test')).toBe(true)
    t1.close()
    t2.close()
  })

  it('a shared cap holds for several app servers together: three servers, a cap of 2 per minute, 2 messages reach the server', async () => {
    const sharedStore = new MemoryBounceStore()
    const clock = testClock(Date.UTC(2025, 0, 6, 9, 0, 10))
    const at = clock.now().getTime()
    await sharedStore.putShapingEntries(
      [{ key: 'domain:capped.test', ruleId: 'test.cap', action: 'cap', perMinute: 2, since: at, until: at + HOUR }],
      clock.now(),
    )
    const servers = [0, 1, 2].map(() => {
      const s = createSharedShaper({ store: sharedStore, shaper: createShaper({ now: clock.now }), now: clock.now, refreshMs: 60_000 })
      shared.push(s)
      return { s, t: transporter(s, { maxPaceMs: 0 }, makeGuard(sharedStore, clock)) }
    })
    for (const { s } of servers) {
      await s.refresh()
      expect(s.caps('capped.test')).toEqual([{ key: 'domain:capped.test', perMinute: 2, ruleId: 'test.cap' }])
    }
    const infos = []
    for (const [i, { t }] of servers.entries()) infos.push(await send(t, [`m${i}@capped.test`]))
    // Each server alone would send its one message (per-process pacing); the window holds two.
    expect([0, 1, 2].map((i) => mta.rcptCount(`m${i}@capped.test`))).toEqual([1, 1, 0])
    expect(infos[2]!.bounceGuard.deferredByShaping[0]).toMatchObject({
      recipients: ['m2@capped.test'],
      action: 'pace',
      key: 'domain:capped.test',
    })
    // Queued for the next minute window (09:01:00), not for its own 30-second local slot.
    expect(infos[2]!.bounceGuard.deferredByShaping[0].dueAt.toISOString()).toBe('2025-01-06T09:01:00.000Z')
    expect(jobs(sharedStore).map((j) => j.recipients)).toEqual([['m2@capped.test']])
    // The next window has room again.
    clock.advance(60_000)
    await send(servers[2]!.t, ['late@capped.test'])
    expect(mta.rcptCount('late@capped.test')).toBe(1)
    for (const { t } of servers) t.close()
  })

  it('paces a capped destination (waits for its slot), and queues it when the wait is over maxPaceMs', async () => {
    const cap: ShapingRule = {
      id: 'test.cap',
      match: { pattern: /\bTSS04\b/ },
      per: 'domain',
      action: { type: 'cap', perMinute: 120 }, // one message every 500 ms
      durationMs: HOUR,
    }
    const shaper = createShaper({ rules: [cap] })
    const t = transporter(shaper)
    await send(t, ['busy@yahoo.test']) // starts the cap on domain:yahoo.test
    expect(shaper.active().map((e) => [e.key, e.action])).toEqual([['domain:yahoo.test', 'cap']])
    // The cap only paces: sends still go out, one slot per 500 ms.
    const t0 = Date.now()
    await send(t, ['p1@yahoo.test'])
    await send(t, ['p2@yahoo.test'])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450)
    expect(mta.rcptCount('p2@yahoo.test')).toBe(1)
    // With no waiting allowed, the next send to yahoo.test is queued for its slot instead.
    const impatient = transporter(shaper, { maxPaceMs: 0 })
    const jobsBefore = jobs().length
    const info = await send(impatient, ['p3@yahoo.test', 'z@example.com'])
    expect(mta.rcptCount('p3@yahoo.test')).toBe(0)
    expect(mta.rcptCount('z@example.com')).toBe(1)
    const held = info.bounceGuard.deferredByShaping[0]
    expect(held).toMatchObject({ action: 'pace', ruleId: 'test.cap', key: 'domain:yahoo.test' })
    expect(held.dueAt.getTime() - Date.now()).toBeLessThanOrEqual(500)
    expect(
      jobs()
        .slice(jobsBefore)
        .map((j) => j.recipients),
    ).toEqual([['p3@yahoo.test']])
    t.close()
    impatient.close()
  })

  it('the retry worker holds recipients of a paused destination in a job due when the pause ends, and sends the rest', async () => {
    const shaper = createShaper()
    const t = transporter(shaper)
    await triggerPause(t)
    const d = shaper.check('yahoo.test')
    const pauseEnd = d.action === 'pause' ? d.until.getTime() : 0
    const first = await send(t, ['later@yahoo.test'])
    const held = jobs().find((j) => j.id === first.bounceGuard.deferredByShaping[0].jobId)!
    // A job of the same message comes due now for one Yahoo and one other recipient.
    await store.scheduleRetry({
      ...held,
      id: 'due-now',
      recipients: ['early@yahoo.test', 'ok@example.com'],
      dueAt: new Date(Date.now() - 1000),
    })
    const worker = createRetryWorker({ guard, transport: t, shaper, now: () => new Date() })
    const run = await worker.runOnce()
    // Due: the new job and the three deferral retries of triggerPause (scheduled on the guard's 2025
    // clock); the shaping-held job is not due before the pause ends.
    expect(run.claimed).toBe(4)
    expect(run.heldByShaping.sort()).toEqual(['busy0@yahoo.test', 'busy1@yahoo.test', 'busy2@yahoo.test', 'early@yahoo.test'])
    for (const r of ['busy0@yahoo.test', 'busy1@yahoo.test', 'busy2@yahoo.test']) expect(mta.rcptCount(r)).toBe(1)
    expect(
      jobs()
        .filter((j) => j.recipients.some((r) => r.startsWith('busy')))
        .every((j) => j.dueAt.getTime() === pauseEnd),
    ).toBe(true)
    expect(run.delivered).toEqual(['ok@example.com'])
    expect(mta.rcptCount('early@yahoo.test')).toBe(0)
    expect(mta.rcptCount('ok@example.com')).toBe(1)
    const moved = jobs().filter((j) => j.recipients.includes('early@yahoo.test'))
    expect(moved).toHaveLength(1)
    expect(moved[0]!.dueAt.getTime()).toBe(pauseEnd)
    expect(moved[0]!.attempts).toBe(0)
    expect(jobs().some((j) => j.id === 'due-now')).toBe(false) // completed after ok@example.com was delivered
    t.close()
  })

  it('rejects a bad shaper or maxPaceMs with EINVALID_OPTION', () => {
    expect(() => withBounceGuard({ host: '127.0.0.1', port: 1 }, { guard, shaper: {} as never })).toThrow(BounceGuardError)
    expect(() => withBounceGuard({ host: '127.0.0.1', port: 1 }, { guard, shaper: createShaper(), maxPaceMs: -1 })).toThrow(/maxPaceMs/)
  })
})
