/**
 * The retry worker: partial success keeps only the pending recipients, recipients suppressed
 * since are dropped, unreadable jobs are dropped, start/stop is graceful.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { MemoryBounceStore } from '@bounce-guard/core'
import type { BounceGuard } from '@bounce-guard/core'
import { createRetryWorker, decodeRetryPayload, encodeRetryPayload, withBounceGuard } from '@bounce-guard/nodemailer'
import { useMta } from './helpers/mta.js'
import { makeGuard, testClock } from './helpers/guard.js'
import type { TestClock } from './helpers/guard.js'

const FROM = 'sender@example.org'
const mta = useMta()
let store: MemoryBounceStore
let clock: TestClock
let guard: BounceGuard

beforeEach(() => {
  store = new MemoryBounceStore()
  clock = testClock()
  guard = makeGuard(store, clock)
})

const transporter = () =>
  nodemailer.createTransport(withBounceGuard({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true }, { guard }))

async function deferredSend(t: ReturnType<typeof transporter>, to: string[]): Promise<Record<string, any>> {
  try {
    return (await t.sendMail({ from: FROM, to, subject: 'retry me', text: 'payload ü' })) as Record<string, any>
  } catch (e) {
    return e as Record<string, any>
  }
}

describe('createRetryWorker', () => {
  it('delivers the recipients that now accept and keeps only the still-deferred ones in the job', async () => {
    const t = transporter()
    const first = await deferredSend(t, ['grey@example.com', 'full@example.com'])
    expect(first.bounceGuard.retry.recipients.sort()).toEqual(['full@example.com', 'grey@example.com'])
    const worker = createRetryWorker({ guard, transport: t })
    clock.advance(3600_000)
    const run = await worker.runOnce()
    expect(run.delivered).toEqual(['grey@example.com'])
    expect(run.rescheduled).toEqual(['full@example.com'])
    const [job] = await store.claimDueRetries(new Date(clock.now().getTime() + 30 * 86400_000), 10, 1000)
    expect(job?.recipients).toEqual(['full@example.com'])
    expect(job?.attempts).toBe(2)
    expect(job?.lastError).toContain('552')
    // The re-sent message is the original one (same Message-ID, 8-bit body intact).
    const original = decodeRetryPayload(job?.payload ?? '').raw.toString()
    expect(mta.messages.at(-1)?.raw.toString().trim()).toBe(original.trim())
    t.close()
  })

  it('drops recipients suppressed since the failure and completes the job without sending', async () => {
    const t = transporter()
    await deferredSend(t, ['grey@example.com'])
    await store.suppress({ key: 'grey@example.com', scope: 'address', reason: 'manual', source: 'manual', at: clock.now() })
    clock.advance(3600_000)
    const run = await createRetryWorker({ guard, transport: t }).runOnce()
    expect(run.failed).toEqual(['grey@example.com'])
    expect(run.completed).toBe(1)
    expect(mta.rcptCount('grey@example.com')).toBe(1)
    t.close()
  })

  it('drops a job whose payload it cannot read, and says so', async () => {
    const errors: unknown[] = []
    const logger = { info() {}, warn() {}, error: (o: unknown) => errors.push(o) }
    await store.scheduleRetry({
      id: 'bad-1',
      recipients: ['x@example.com'],
      dueAt: clock.now(),
      attempts: 1,
      payload: '{not json',
      firstFailedAt: clock.now(),
    })
    const t = transporter()
    const run = await createRetryWorker({ guard, transport: t, logger }).runOnce()
    expect(run.errors[0]).toMatchObject({ code: 'EINVALID_OPTION' })
    expect(run.completed).toBe(1)
    expect(errors).toHaveLength(1)
    expect(await store.claimDueRetries(clock.now(), 10, 1000)).toEqual([])
    t.close()
  })

  it('start() polls on its own and stop() waits for the send in flight', async () => {
    const t = transporter()
    await deferredSend(t, ['grey@example.com'])
    clock.advance(3600_000)
    mta.dataDelayMs = 300
    const worker = createRetryWorker({ guard, transport: t, intervalMs: 20 })
    worker.start()
    expect(worker.running).toBe(true)
    // Wait until the re-send reached the server, then stop while DATA is pending.
    while (mta.rcptCount('grey@example.com') < 2) await new Promise((r) => setTimeout(r, 10))
    await worker.stop()
    expect(worker.running).toBe(false)
    // stop() resolved only after the send finished and its outcome was recorded.
    expect((await store.getRecipientState('grey@example.com'))?.deliveries).toBe(1)
    expect(mta.messages).toHaveLength(1)
    t.close()
  })

  it('round-trips payloads, binary ones as base64', () => {
    const raw = Buffer.from([0x46, 0x72, 0x6f, 0x6d, 0x3a, 0x00, 0xff, 0x0d, 0x0a])
    const back = decodeRetryPayload(encodeRetryPayload({ from: false, raw, messageId: '<m@x>' }))
    expect(back.raw.equals(raw)).toBe(true)
    expect(back.from).toBe(false)
    expect(back.messageId).toBe('<m@x>')
    expect(() => decodeRetryPayload('{"v":2}')).toThrow(expect.objectContaining({ code: 'EINVALID_OPTION' }))
  })
})
