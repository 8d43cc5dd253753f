/**
 * A non-SMTP transport: Nodemailer's SES transport with the real @aws-sdk/client-sesv2 client,
 * against the SES v2 endpoint played by nock. SES API errors are classified and recorded like
 * SMTP replies; suppressed recipients are refused before any API call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import nock from 'nock'
import nodemailer from 'nodemailer'
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2'
import { MemoryBounceStore } from '@bounce-guard/core'
import type { BounceGuard } from '@bounce-guard/core'
import { classifySesError, createRetryWorker, withBounceGuard } from '@bounce-guard/nodemailer'
import { collect, makeGuard, testClock } from './helpers/guard.js'
import type { TestClock } from './helpers/guard.js'

const ENDPOINT = 'https://email.us-east-1.amazonaws.com'
const PATH = '/v2/email/outbound-emails'
const FROM = 'sender@example.org'

interface SesRequest {
  Destination?: { ToAddresses?: string[] }
  Content?: { Raw?: { Data?: string } }
}

let store: MemoryBounceStore
let clock: TestClock
let guard: BounceGuard
let requests: SesRequest[]

function sesTransport() {
  const sesClient = new SESv2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
  })
  return nodemailer.createTransport(withBounceGuard({ SES: { sesClient, SendEmailCommand } }, { guard }))
}

function replyOk(id: string) {
  nock(ENDPOINT)
    .post(PATH, (body: SesRequest) => (requests.push(body), true))
    .reply(200, { MessageId: id })
}

function replyError(status: number, type: string, message: string) {
  nock(ENDPOINT)
    .post(PATH, (body: SesRequest) => (requests.push(body), true))
    .reply(status, { message }, { 'x-amzn-ErrorType': type, 'content-type': 'application/json' })
}

async function failure(p: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await p
  } catch (e) {
    return e as Error & Record<string, any>
  }
  throw new Error('expected a failure')
}

beforeEach(() => {
  store = new MemoryBounceStore()
  clock = testClock()
  guard = makeGuard(store, clock)
  requests = []
})
afterEach(() => {
  const pending = nock.pendingMocks()
  nock.cleanAll()
  expect(pending).toEqual([])
})

describe('withBounceGuard on the SES transport', () => {
  it('sends to the allowed recipients only and records them as delivered', async () => {
    await store.suppress({ key: 'gone@example.com', scope: 'address', reason: 'userunknown', source: 'manual', at: clock.now() })
    replyOk('0100018c-ok-1')
    const t = sesTransport()
    const info = (await t.sendMail({ from: FROM, to: ['a@example.com', 'gone@example.com'], subject: 'ses', text: 'x' })) as any
    expect(info.messageId).toBe('<0100018c-ok-1@email.amazonses.com>')
    expect(requests[0]?.Destination?.ToAddresses).toEqual(['a@example.com'])
    expect(info.bounceGuard.suppressed).toEqual(['gone@example.com'])
    await (t.transporter as any).flush()
    expect((await store.getRecipientState('a@example.com'))?.deliveries).toBe(1)
  })

  it('refuses a send whose every recipient is suppressed without calling the API', async () => {
    await store.suppress({ key: 'gone@example.com', scope: 'address', reason: 'userunknown', source: 'manual', at: clock.now() })
    const t = sesTransport()
    const err = await failure(t.sendMail({ from: FROM, to: 'gone@example.com', subject: 'x', text: 'x' }))
    expect(err.code).toBe('ESUPPRESSED')
    expect(requests).toHaveLength(0)
  })

  it('MessageRejected "Address blacklisted." suppresses the address; the next send makes no API call', async () => {
    replyError(400, 'MessageRejected', 'Address blacklisted.')
    const t = sesTransport()
    const err = await failure(t.sendMail({ from: FROM, to: 'listed@example.com', subject: 'x', text: 'x' }))
    // The SDK's own error object, unchanged, with the details beside it.
    expect(err.name).toBe('MessageRejected')
    expect(err.message).toBe('Address blacklisted.')
    const o = err.bounceGuard.outcomes[0]
    expect(o.type).toBe('bounced')
    expect(o.classification).toMatchObject({
      reason: 'suppressed',
      scope: 'recipient',
      hard: true,
      provider: 'ses',
      ruleId: 'ses.suppressed',
    })
    expect(o.decision.action).toBe('suppress')
    const again = await failure(t.sendMail({ from: FROM, to: 'listed@example.com', subject: 'x', text: 'x' }))
    expect(again.code).toBe('ESUPPRESSED')
    expect(requests).toHaveLength(1)
  })

  it('throttling (TooManyRequestsException) is a sender-side deferral: alert, retry job, redelivered by the worker', async () => {
    const events = collect(guard)
    replyError(429, 'TooManyRequestsException', 'Maximum sending rate exceeded.')
    const t = sesTransport()
    const err = await failure(t.sendMail({ from: FROM, to: ['r1@example.com', 'r2@example.com'], subject: 'throttled', text: 'body-123' }))
    expect(err.name).toBe('TooManyRequestsException')
    for (const o of err.bounceGuard.outcomes) {
      expect(o.type).toBe('deferred')
      expect(o.classification).toMatchObject({ reason: 'speeding', scope: 'sender', permanent: false })
      expect(o.decision.action).toBe('retry')
    }
    expect(events.alerts.length).toBeGreaterThan(0)
    expect(events.alerts[0]?.provider).toBe('ses')
    expect((await store.findSuppressions(['r1@example.com', 'r2@example.com'])).size).toBe(0)
    const dueAt = err.bounceGuard.retry.dueAt as Date

    replyOk('0100018c-retry-1')
    const worker = createRetryWorker({ guard, transport: t, concurrency: 1 })
    clock.set(new Date(dueAt.getTime() + 1000))
    const run = await worker.runOnce()
    expect(run.delivered.sort()).toEqual(['r1@example.com', 'r2@example.com'])
    expect(requests).toHaveLength(2)
    expect(requests[1]?.Destination?.ToAddresses?.sort()).toEqual(['r1@example.com', 'r2@example.com'])
    const raw = Buffer.from(requests[1]?.Content?.Raw?.Data ?? '', 'base64').toString()
    expect(raw).toContain('Subject: throttled')
    expect(raw).toContain('body-123')
    expect((await store.getRecipientState('r2@example.com'))?.deliveries).toBe(1)
  })

  it('an account-level refusal (AccountSuspendedException) alerts and suppresses nobody', async () => {
    const events = collect(guard)
    replyError(400, 'AccountSuspendedException', 'Your account has been suspended.')
    const t = sesTransport()
    const err = await failure(t.sendMail({ from: FROM, to: 'x@example.com', subject: 'x', text: 'x' }))
    const o = err.bounceGuard.outcomes[0]
    expect(o.classification).toMatchObject({ reason: 'policyviolation', scope: 'sender', permanent: true, hard: false })
    expect(o.decision.action).not.toBe('suppress')
    expect(events.alerts).toHaveLength(1)
    expect((await store.findSuppressions(['x@example.com'])).size).toBe(0)
  })
})

describe('classifySesError', () => {
  const make = (name: string, message: string, status?: number) =>
    Object.assign(new Error(message), { name, $fault: 'client', $metadata: status === undefined ? {} : { httpStatusCode: status } })

  it.each([
    ['Throttling', 'Rate exceeded', 400, 'speeding', 'sender', false],
    ['LimitExceededException', 'Daily message quota exceeded.', 400, 'speeding', 'sender', false],
    [
      'MessageRejected',
      'Email address is not verified. The following identities failed the check in region US-EAST-1: a@b.c',
      400,
      'authfailure',
      'sender',
      true,
    ],
    ['MessageRejected', 'Message contains a virus', 400, 'virusdetected', 'message', true],
    ['MessageRejected', 'Illegal address', 400, 'syntaxerror', 'recipient', true],
    ['MessageRejected', 'Something else', 400, 'policyviolation', 'message', true],
    ['MailFromDomainNotVerifiedException', 'not verified', 400, 'authfailure', 'sender', true],
    ['SendingPausedException', 'Sending paused for this account', 400, 'policyviolation', 'sender', true],
    ['InternalFailure', 'oops', 500, 'systemerror', 'network', false],
    ['TimeoutError', 'socket hang up', undefined, 'networkerror', 'network', false],
    ['BadRequestException', 'weird', 400, 'undefined', 'message', true],
  ] as const)('%s "%s" -> %s', (name, message, status, reason, scope, permanent) => {
    const { classification, reply } = classifySesError(make(name, message, status))
    expect(classification).toMatchObject({ reason, scope, permanent, provider: 'ses' })
    expect(reply).toBe(`SES ${name}: ${message}`)
  })

  it('never throws on junk', () => {
    for (const junk of [null, undefined, 42, 'x', {}, { name: 5 }, { message: { a: 1 } }]) {
      expect(classifySesError(junk).classification.ruleId).toMatch(/^ses\./)
    }
  })
})
