import nock from 'nock'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createBounceGuard, MemoryBounceStore, type BounceAlert } from '@bounce-guard/core'
import { createWebhookHandler, type WebhookHandler } from '../src/index.js'
import {
  basic,
  CERT_HOST,
  CERT_PATH,
  listen,
  makeSendGridKeys,
  makeSigningCert,
  post,
  snsEnvelope,
  TOPIC,
  mailgunSignature,
} from './support.js'

import {
  mailgunFailed,
  postmarkBounce,
  sendGridEvents,
  sesBounce,
  sesComplaint,
  sesDelay,
  sesDelivery,
  sparkPostBatch,
} from './fixtures.js'

const { certPem, keyPem } = makeSigningCert()
const sg = makeSendGridKeys()
const MG_KEY = 'key-mailgun-signing-0123456789'

let store: MemoryBounceStore
let guard: ReturnType<typeof createBounceGuard>
let handler: WebhookHandler
let srv: Awaited<ReturnType<typeof listen>>
let alerts: BounceAlert[]

beforeAll(async () => {
  srv = await listen((req, res) => {
    void handler(req, res)
  })
})
afterAll(async () => {
  await srv.close()
})

beforeEach(() => {
  store = new MemoryBounceStore()
  guard = createBounceGuard({ store })
  alerts = []
  guard.on('alert', (a) => alerts.push(a))
  handler = createWebhookHandler({
    guard,
    maxBodyBytes: 64 * 1024,
    providers: {
      ses: { topicArns: [TOPIC], autoConfirm: true },
      sendgrid: { publicKey: sg.publicKey },
      mailgun: { signingKey: MG_KEY },
      postmark: { basicAuth: { username: 'pm', password: 'pm-pass' } },
      sparkpost: { basicAuth: { username: 'sp', password: 'sp-pass' } },
    },
  })
})
afterEach(() => {
  nock.cleanAll()
})

const suppressed = async (addr: string) => (await store.findSuppressions([addr])).get(addr)
const eventsOf = (addr: string) => store.listEvents(addr)

describe('SES via SNS', () => {
  const snsHeaders = (type = 'Notification') => ({ 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': type })

  it('confirms a subscription by fetching SubscribeURL, with the certificate fetched once and cached', async () => {
    const cert = nock(CERT_HOST).get(CERT_PATH).once().reply(200, certPem)
    const env = snsEnvelope(keyPem, 'You have chosen to subscribe to the topic.', { type: 'SubscriptionConfirmation' })
    const confirm = nock(CERT_HOST)
      .get('/')
      .query({ Action: 'ConfirmSubscription', TopicArn: TOPIC, Token: env.Token! })
      .reply(200, '<ConfirmSubscriptionResponse/>')
    const r = await post(`${srv.url}/webhooks/ses`, JSON.stringify(env), snsHeaders('SubscriptionConfirmation'))
    expect(r.status).toBe(200)
    expect(r.json.subscriptionConfirmed).toBe(true)
    expect(confirm.isDone()).toBe(true)
    expect(cert.isDone()).toBe(true)

    // Same certificate URL again: no second download (nock has no interceptor left; a fetch would fail -> 401).
    const b = snsEnvelope(keyPem, sesBounce('gone@example.com', { subType: 'NoEmail' }), { version: '2' })
    const r2 = await post(`${srv.url}/webhooks/ses`, JSON.stringify(b), snsHeaders())
    expect(r2.status).toBe(200)
    expect(r2.json.recorded).toBe(1)
  })

  it('records a Permanent/General bounce by its diagnostic code, once, for SignatureVersion 1 and 2', async () => {
    nock(CERT_HOST).get(CERT_PATH).once().reply(200, certPem)
    const msg = sesBounce('jane@example.com', { diagnosticCode: 'smtp; 550 5.1.1 <jane@example.com>... User unknown' })
    const env = snsEnvelope(keyPem, msg, { version: '1', subject: 'Amazon SES Email Event Notification' })
    const r = await post(`${srv.url}/webhooks/ses`, JSON.stringify(env), snsHeaders())
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ recorded: 1, duplicates: 0 })
    const s = await suppressed('jane@example.com')
    expect(s?.reason).toBe('userunknown')
    expect(s?.source).toBe('webhook')
    const ev = await eventsOf('jane@example.com')
    expect(ev).toHaveLength(1)
    expect(ev[0]!.eventId).toBe('ses:bounce:00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000:jane@example.com')
    expect(ev[0]!.messageId).toContain('custom-message-ID@example.com') // from mail.commonHeaders.messageId

    // SNS redelivers the same event (new SNS MessageId, signed with version 2): recorded once.
    const again = snsEnvelope(keyPem, msg, { version: '2' })
    const r2 = await post(`${srv.url}/webhooks/ses`, JSON.stringify(again), snsHeaders())
    expect(r2.status).toBe(200)
    expect(r2.json).toMatchObject({ recorded: 0, duplicates: 1 })
    expect(await eventsOf('jane@example.com')).toHaveLength(1)
  })

  it('does not suppress a Permanent/General bounce that is a sender-side block', async () => {
    nock(CERT_HOST).get(CERT_PATH).once().reply(200, certPem)
    const msg = sesBounce('bob@example.net', {
      status: '5.7.1',
      diagnosticCode: 'smtp; 550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using Spamhaus',
      feedbackId: 'fb-blocked',
    })
    const r = await post(`${srv.url}/webhooks/ses`, JSON.stringify(snsEnvelope(keyPem, msg)), snsHeaders())
    expect(r.status).toBe(200)
    expect(await suppressed('bob@example.net')).toBeUndefined()
    const ev = await eventsOf('bob@example.net')
    expect(ev[0]!.classification?.scope).toBe('sender')
    expect(ev[0]!.classification?.hard).toBe(false)
  })

  it('maps complaints, deliveries and delays (both formats)', async () => {
    nock(CERT_HOST).get(CERT_PATH).once().reply(200, certPem)
    for (const m of [
      sesComplaint('angry@example.org'),
      sesDelivery('fine@example.org'),
      sesDelay('slow@example.org'),
      sesComplaint('ok@example.org', 'not-spam'),
    ]) {
      const r = await post(`${srv.url}/webhooks/ses`, JSON.stringify(snsEnvelope(keyPem, m, { version: '2' })), snsHeaders())
      expect(r.status).toBe(200)
    }
    expect((await suppressed('angry@example.org'))?.reason).toBe('complaint')
    expect((await store.getRecipientState('fine@example.org'))?.deliveries).toBe(1)
    const slow = await store.getRecipientState('slow@example.org')
    expect(slow?.softBounces).toBe(1)
    expect(slow?.hardBounces).toBe(0)
    expect(await store.getRecipientState('ok@example.org')).toBeUndefined()
    expect(await suppressed('slow@example.org')).toBeUndefined()
  })

  it('answers 401 and changes nothing for a tampered message, a foreign topic, a non-SNS or http certificate URL', async () => {
    nock(CERT_HOST).get(CERT_PATH).once().reply(200, certPem)
    const env = snsEnvelope(keyPem, sesBounce('victim@example.com', { subType: 'NoEmail' }))
    const tampered = { ...env, Message: env.Message!.replace('victim@example.com', 'other@example.com') }
    expect((await post(`${srv.url}/webhooks/ses`, JSON.stringify(tampered), snsHeaders())).status).toBe(401)
    const foreign = snsEnvelope(keyPem, sesBounce('victim@example.com', { subType: 'NoEmail' }), {
      topic: 'arn:aws:sns:us-east-1:999999999999:attacker',
    })
    expect((await post(`${srv.url}/webhooks/ses`, JSON.stringify(foreign), snsHeaders())).status).toBe(401)
    for (const certUrl of [
      'https://sns.us-east-1.amazonaws.com.evil.test/cert.pem',
      'http://sns.us-east-1.amazonaws.com/cert.pem',
      'https://evil.test/sns.us-east-1.amazonaws.com.pem',
    ]) {
      const bad = snsEnvelope(keyPem, sesBounce('victim@example.com', { subType: 'NoEmail' }), { certUrl })
      expect((await post(`${srv.url}/webhooks/ses`, JSON.stringify(bad), snsHeaders())).status).toBe(401)
    }
    const unsigned: Record<string, string> = { ...env }
    delete unsigned.Signature
    expect((await post(`${srv.url}/webhooks/ses`, JSON.stringify(unsigned), snsHeaders())).status).toBe(401)
    // Another key signing with the genuine certificate URL.
    const other = makeSigningCert()
    const forged = snsEnvelope(other.keyPem, sesBounce('victim@example.com', { subType: 'NoEmail' }))
    expect((await post(`${srv.url}/webhooks/ses`, JSON.stringify(forged), snsHeaders())).status).toBe(401)
    expect(await store.getRecipientState('victim@example.com')).toBeUndefined()
    expect(await store.getRecipientState('other@example.com')).toBeUndefined()
    expect((await store.listSuppressions()).items).toEqual([])
  })

  it('answers 400 for a malformed body and 413 for one over the limit', async () => {
    expect((await post(`${srv.url}/webhooks/ses`, '{not json', snsHeaders())).status).toBe(400)
    expect((await post(`${srv.url}/webhooks/ses`, JSON.stringify({ hello: 'world' }), snsHeaders())).status).toBe(400)
    expect((await post(`${srv.url}/webhooks/ses`, 'x'.repeat(70 * 1024), snsHeaders())).status).toBe(413)
    expect((await post(`${srv.url}/webhooks/ses`, '', {}, 'GET')).status).toBe(405)
    expect((await post(`${srv.url}/webhooks/unknown`, '{}')).status).toBe(404)
  })
})

describe('SendGrid', () => {
  it('verifies the ECDSA signature and records each event once', async () => {
    const body = JSON.stringify(sendGridEvents('sg@example.com'))
    const ts = String(Math.floor(Date.now() / 1000))
    const headers = { 'x-twilio-email-event-webhook-signature': sg.sign(body, ts), 'x-twilio-email-event-webhook-timestamp': ts }
    const r = await post(`${srv.url}/webhooks/sendgrid`, body, headers)
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ recorded: 6, duplicates: 0, ignored: 1 })
    expect((await suppressed('sg@example.com'))?.reason).toBe('userunknown')
    expect(await suppressed('blocked-sg@example.com')).toBeUndefined()
    expect(alerts.some((a) => a.reason !== undefined)).toBe(true)
    expect((await suppressed('spam-sg@example.com'))?.reason).toBe('complaint')
    expect((await store.getRecipientState('delivered-sg@example.com'))?.deliveries).toBe(1)
    expect((await store.getRecipientState('deferred-sg@example.com'))?.softBounces).toBe(1)
    expect((await eventsOf('dropped-sg@example.com'))[0]?.classification?.reason).toBe('suppressed')

    const again = await post(`${srv.url}/webhooks/sendgrid`, body, headers)
    expect(again.json).toMatchObject({ recorded: 0, duplicates: 6 })
  })

  it('answers 401 for a bad or missing signature', async () => {
    const body = JSON.stringify(sendGridEvents('sg2@example.com'))
    const ts = String(Math.floor(Date.now() / 1000))
    const sig = sg.sign(body, ts)
    expect(
      (
        await post(`${srv.url}/webhooks/sendgrid`, body.replace('sg2@', 'sg3@'), {
          'x-twilio-email-event-webhook-signature': sig,
          'x-twilio-email-event-webhook-timestamp': ts,
        })
      ).status,
    ).toBe(401)
    expect(
      (
        await post(`${srv.url}/webhooks/sendgrid`, body, {
          'x-twilio-email-event-webhook-signature': sig,
          'x-twilio-email-event-webhook-timestamp': String(Number(ts) + 1),
        })
      ).status,
    ).toBe(401)
    expect((await post(`${srv.url}/webhooks/sendgrid`, body)).status).toBe(401)
    expect(await store.getRecipientState('sg2@example.com')).toBeUndefined()
    expect(await store.getRecipientState('sg3@example.com')).toBeUndefined()
  })
})

describe('Mailgun', () => {
  it('verifies the HMAC, records a permanent failure, refuses a replayed token and an old timestamp', async () => {
    const body = JSON.stringify(mailgunFailed('mg@example.com', mailgunSignature(MG_KEY)))
    const r = await post(`${srv.url}/webhooks/mailgun`, body)
    expect(r.status).toBe(200)
    expect((await suppressed('mg@example.com'))?.reason).toBe('userunknown')
    expect((await post(`${srv.url}/webhooks/mailgun`, body)).status).toBe(401) // same token again

    const old = JSON.stringify(
      mailgunFailed('mg-old@example.com', mailgunSignature(MG_KEY, Math.floor(Date.now() / 1000) - 3600), { id: 'old-1' }),
    )
    expect((await post(`${srv.url}/webhooks/mailgun`, old)).status).toBe(401)
    const wrongKey = JSON.stringify(mailgunFailed('mg-bad@example.com', mailgunSignature('another-key'), { id: 'bad-1' }))
    expect((await post(`${srv.url}/webhooks/mailgun`, wrongKey)).status).toBe(401)
    expect(await store.getRecipientState('mg-old@example.com')).toBeUndefined()
    expect(await store.getRecipientState('mg-bad@example.com')).toBeUndefined()

    const temp = JSON.stringify(
      mailgunFailed('mg-temp@example.com', mailgunSignature(MG_KEY), {
        id: 'temp-1',
        severity: 'temporary',
        code: 452,
        message: '4.2.2 The email account that you tried to reach is over quota.',
      }),
    )
    expect((await post(`${srv.url}/webhooks/mailgun`, temp)).status).toBe(200)
    const st = await store.getRecipientState('mg-temp@example.com')
    expect(st?.softBounces).toBe(1)
    expect(await suppressed('mg-temp@example.com')).toBeUndefined()
  })
})

describe('Postmark and SparkPost', () => {
  it('Postmark: basic auth, a HardBounce recorded, 401 on wrong credentials', async () => {
    const body = JSON.stringify(
      postmarkBounce('pm@example.com', { details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.' }),
    )
    expect((await post(`${srv.url}/webhooks/postmark`, body, { authorization: basic('pm', 'wrong') })).status).toBe(401)
    expect(await store.getRecipientState('pm@example.com')).toBeUndefined()
    const r = await post(`${srv.url}/webhooks/postmark`, body, { authorization: basic('pm', 'pm-pass') })
    expect(r.status).toBe(200)
    expect((await suppressed('pm@example.com'))?.reason).toBe('userunknown')
  })

  it('Postmark with a shared secret header', async () => {
    const h = createWebhookHandler({ guard, providers: { postmark: { secret: 's3cret-value', secretHeader: 'x-pm-secret' } } })
    const body = JSON.stringify({
      RecordType: 'SpamComplaint',
      ID: 42,
      Type: 'SpamComplaint',
      TypeCode: 100001,
      Email: 'pmspam@example.com',
      BouncedAt: '2019-11-05T16:33:54Z',
      MessageID: 'm-1',
    })
    expect((await h.process({ provider: 'postmark', headers: { 'x-pm-secret': 'nope' }, body })).status).toBe(401)
    expect((await h.process({ provider: 'postmark', headers: {}, body })).status).toBe(401)
    const ok = await h.process({ provider: 'postmark', headers: { 'X-PM-Secret': 's3cret-value' }, body })
    expect(ok.status).toBe(200)
    expect((await suppressed('pmspam@example.com'))?.reason).toBe('complaint')
  })

  it('SparkPost: basic auth and a batch of bounce, delay, complaint and delivery', async () => {
    const body = JSON.stringify(sparkPostBatch('sp@example.com'))
    expect((await post(`${srv.url}/webhooks/sparkpost`, body)).status).toBe(401)
    const r = await post(`${srv.url}/webhooks/sparkpost`, body, { authorization: basic('sp', 'sp-pass') })
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ recorded: 4, ignored: 1 })
    expect((await suppressed('sp@example.com'))?.reason).toBe('userunknown')
    expect((await store.getRecipientState('full-sp@example.com'))?.softBounces).toBe(1)
    expect(await suppressed('full-sp@example.com')).toBeUndefined()
    expect((await suppressed('fbl-sp@example.com'))?.reason).toBe('complaint')
    expect((await store.getRecipientState('ok-sp@example.com'))?.deliveries).toBe(1)
  })
})

describe('framework use', () => {
  it('uses a pre-read raw body (Express express.raw) and refuses a parsed one', async () => {
    const body = JSON.stringify(postmarkBounce('raw@example.com', { details: '550 5.1.1 user unknown', id: 77 }))
    const viaRaw = await listen((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        Object.assign(req, { body: Buffer.concat(chunks) })
        void handler(req, res)
      })
    })
    const viaParsed = await listen((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        Object.assign(req, { body: JSON.parse(Buffer.concat(chunks).toString()) })
        void handler(req, res)
      })
    })
    try {
      expect((await post(`${viaParsed.url}/hooks/postmark`, body, { authorization: basic('pm', 'pm-pass') })).status).toBe(500)
      expect((await post(`${viaRaw.url}/hooks/postmark`, body, { authorization: basic('pm', 'pm-pass') })).status).toBe(200)
      expect((await suppressed('raw@example.com'))?.reason).toBe('userunknown')
    } finally {
      await viaRaw.close()
      await viaParsed.close()
    }
  })

  it('rejects a provider configured without its secret', () => {
    expect(() => createWebhookHandler({ guard, providers: { postmark: {} } })).toThrow(expect.objectContaining({ code: 'EINVALID_OPTION' }))
    expect(() => createWebhookHandler({ guard, providers: { sendgrid: { publicKey: 'not a key' } } })).toThrow(
      expect.objectContaining({ code: 'EINVALID_OPTION' }),
    )
  })
})

describe('failures and retries', () => {
  it('answers 500 when the store fails, forgets the Mailgun token, and records the retry once', async () => {
    class FlakyStore extends MemoryBounceStore {
      fail = true
      override async recordEvent(...args: Parameters<MemoryBounceStore['recordEvent']>) {
        if (this.fail) throw new Error('database is down')
        return super.recordEvent(...args)
      }
    }
    const flaky = new FlakyStore()
    const g = createBounceGuard({ store: flaky })
    const h = createWebhookHandler({ guard: g, providers: { mailgun: { signingKey: MG_KEY } } })
    const body = JSON.stringify(mailgunFailed('flaky@example.com', mailgunSignature(MG_KEY), { id: 'flaky-1' }))
    expect((await h.process({ provider: 'mailgun', headers: {}, body })).status).toBe(500)
    flaky.fail = false
    const retry = await h.process({ provider: 'mailgun', headers: {}, body }) // Mailgun's retry: same token
    expect(retry.status).toBe(200)
    expect(retry.result?.recorded).toBe(1)
    expect((await flaky.findSuppressions(['flaky@example.com'])).get('flaky@example.com')?.reason).toBe('userunknown')
    expect((await h.process({ provider: 'mailgun', headers: {}, body })).status).toBe(401) // now a replay
  })

  it('does not cache a failed certificate download', async () => {
    nock(CERT_HOST).get(CERT_PATH).reply(503)
    nock(CERT_HOST).get(CERT_PATH).reply(200, certPem)
    const env = JSON.stringify(snsEnvelope(keyPem, sesBounce('cert@example.com', { subType: 'NoEmail' })))
    expect((await handler.process({ provider: 'ses', headers: {}, body: env })).status).toBe(401)
    expect((await handler.process({ provider: 'ses', headers: {}, body: env })).status).toBe(200)
    expect((await suppressed('cert@example.com'))?.reason).toBe('userunknown')
  })

  it('mirrors a provider-suppressed address locally, with an expiry (sending again would only fail again)', async () => {
    nock(CERT_HOST).get(CERT_PATH).reply(200, certPem)
    const env = JSON.stringify(
      snsEnvelope(
        keyPem,
        sesBounce('listed@example.com', {
          subType: 'OnAccountSuppressionList',
          diagnosticCode: 'Amazon SES did not send the message to this address because it is on the suppression list for your account.',
        }),
      ),
    )
    const r = await handler.process({ provider: 'ses', headers: {}, body: env })
    expect(r.status).toBe(200)
    expect(r.result?.results[0]?.event.classification?.reason).toBe('suppressed')
    expect(r.result?.results[0]?.decision).toMatchObject({ action: 'suppress', reason: 'suppressed', scope: 'address' })
    const entry = await suppressed('listed@example.com')
    expect(entry?.reason).toBe('suppressed')
    expect(entry?.expiresAt).toBeInstanceOf(Date)
  })
})

describe('SNS certificate handling', () => {
  it('shares one download between concurrent requests', async () => {
    const cert = nock(CERT_HOST).get(CERT_PATH).once().delay(50).reply(200, certPem)
    const bodies = ['c1', 'c2', 'c3'].map((u) =>
      JSON.stringify(snsEnvelope(keyPem, sesBounce(`${u}@example.com`, { subType: 'NoEmail', feedbackId: `fb-${u}` }))),
    )
    const rs = await Promise.all(bodies.map((body) => handler.process({ provider: 'ses', headers: {}, body })))
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200])
    expect(cert.isDone()).toBe(true)
  })

  it('refuses a certificate outside its validity dates', async () => {
    nock(CERT_HOST).get(CERT_PATH).reply(200, certPem)
    const later = createWebhookHandler({ guard, now: () => new Date(Date.now() + 5 * 86_400_000), providers: { ses: {} } })
    const body = JSON.stringify(snsEnvelope(keyPem, sesBounce('late@example.com', { subType: 'NoEmail' })))
    const r = await later.process({ provider: 'ses', headers: {}, body })
    expect(r.status).toBe(401)
    expect(r.error).toMatch(/cert-expired/)
    expect(await store.getRecipientState('late@example.com')).toBeUndefined()
  })
})
