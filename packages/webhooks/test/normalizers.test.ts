import { describe, expect, it } from 'vitest'
import { isBounceGuardError } from '@bounce-guard/core'
import {
  normalizeMailgun,
  normalizePostmark,
  parsePostmarkJson,
  normalizeSendGrid,
  normalizeSes,
  normalizeSparkPost,
} from '../src/index.js'
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

const sig = { timestamp: '1', token: 't', signature: 's' }

describe('normalizeSes', () => {
  it('Permanent/General is decided by the diagnostic code, not by the type', () => {
    const dead = normalizeSes(sesBounce('a@example.com', { diagnosticCode: 'smtp; 550 5.1.1 <a@example.com>... User unknown' }))
      .outcomes[0]!
    expect(dead).toMatchObject({
      recipient: 'a@example.com',
      type: 'bounced',
      source: 'webhook',
      queueId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
      sender: 'john@example.com',
    })
    expect(dead.classification).toMatchObject({ reason: 'userunknown', hard: true, permanent: true })
    expect(dead.at?.toISOString()).toBe('2016-01-27T14:59:38.237Z')

    const full = normalizeSes(sesBounce('b@example.com', { status: '5.2.2', diagnosticCode: 'smtp; 552 5.2.2 Mailbox full' })).outcomes[0]!
    expect(full.classification?.hard).toBe(false)
    expect(full.classification?.reason).toBe('mailboxfull')

    const bare = normalizeSes(sesBounce('c@example.com')).outcomes[0]!
    expect(bare.classification).toMatchObject({ reason: 'onhold', hard: false, permanent: true, ruleId: 'webhook.ses.permanent.general' })
  })

  it('maps the subtypes that the reply cannot tell', () => {
    const c = (sub: string, type = 'Permanent', diag?: string) =>
      normalizeSes(sesBounce('x@example.com', { type, subType: sub, ...(diag ? { diagnosticCode: diag } : {}) })).outcomes[0]!
        .classification!
    expect(c('NoEmail')).toMatchObject({ reason: 'userunknown', hard: true })
    expect(
      c(
        'Suppressed',
        'Permanent',
        'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.',
      ),
    ).toMatchObject({ reason: 'suppressed', hard: false, ruleId: 'webhook.ses.permanent.suppressed' })
    expect(c('OnAccountSuppressionList')).toMatchObject({ reason: 'suppressed', ruleId: 'webhook.ses.permanent.onaccountsuppressionlist' })
    expect(c('MailboxFull', 'Transient')).toMatchObject({ reason: 'mailboxfull', permanent: false, hard: false })
    expect(c('General', 'Transient')).toMatchObject({ permanent: false, hard: false })
    expect(c('MessageTooLarge', 'Transient')).toMatchObject({ reason: 'mesgtoobig', scope: 'message' })
    expect(c('Undetermined', 'Undetermined')).toMatchObject({ reason: 'onhold', hard: false })
  })

  it('reads both formats and the other event types', () => {
    const pub = normalizeSes(sesBounce('p@example.com', { subType: 'NoEmail', eventPublishing: true }))
    expect(pub.outcomes).toHaveLength(1)
    const comp = normalizeSes(sesComplaint('q@example.com')).outcomes[0]!
    expect(comp).toMatchObject({
      type: 'complaint',
      eventId: 'ses:complaint:000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000:q@example.com',
    })
    expect(comp.classification?.reason).toBe('feedback')
    expect(normalizeSes(sesComplaint('q@example.com', 'not-spam')).outcomes).toEqual([])
    const del = normalizeSes(sesDelivery('r@example.com')).outcomes[0]!
    expect(del).toMatchObject({ type: 'delivered', reply: '250 2.6.0 Message received' })
    const delay = normalizeSes(sesDelay('s@example.com')).outcomes[0]!
    expect(delay).toMatchObject({ type: 'deferred' })
    expect(delay.classification?.permanent).toBe(false)
    expect(normalizeSes({ eventType: 'Open', mail: {}, open: {} }).ignored[0]?.event).toBe('Open')
  })

  it('throws EWEBHOOK_PAYLOAD on a body that is not an SES notification', () => {
    for (const bad of [
      null,
      42,
      'x',
      [],
      {},
      { notificationType: 'Bounce' },
      { notificationType: 'Bounce', bounce: { bouncedRecipients: 'x' } },
    ]) {
      let err: unknown
      try {
        normalizeSes(bad)
      } catch (e) {
        err = e
      }
      expect(isBounceGuardError(err) && err.code === 'EWEBHOOK_PAYLOAD').toBe(true)
    }
  })
})

describe('normalizeSendGrid', () => {
  it('maps each documented event and skips the rest', () => {
    const n = normalizeSendGrid(sendGridEvents('u@example.com'))
    const by = new Map(n.outcomes.map((o) => [o.recipient, o]))
    expect(by.get('u@example.com')).toMatchObject({
      type: 'bounced',
      eventId: 'sendgrid:sg-bounce-1',
      messageId: '<14c5d75ce93.dfd.64b469@ismtpd-555>',
      tag: 'cat facts',
    })
    expect(by.get('u@example.com')!.classification).toMatchObject({ reason: 'userunknown', hard: true })
    expect(by.get('blocked-u@example.com')!.classification).toMatchObject({ scope: 'sender', hard: false })
    expect(by.get('deferred-u@example.com')).toMatchObject({ type: 'deferred', attempt: 5 })
    expect(by.get('delivered-u@example.com')).toMatchObject({ type: 'delivered' })
    expect(by.get('spam-u@example.com')).toMatchObject({ type: 'complaint' })
    expect(by.get('dropped-u@example.com')!.classification).toMatchObject({
      reason: 'suppressed',
      ruleId: 'webhook.sendgrid.dropped.bounced-address',
    })
    expect(n.ignored).toEqual([{ event: 'open', id: 'sg-open-1', why: 'event type carries no delivery outcome' }])
  })

  it('falls back to bounce_classification when the reason says nothing', () => {
    const [o] = normalizeSendGrid([
      { email: 'v@example.com', event: 'bounce', sg_event_id: 'e', reason: 'Bounced', bounce_classification: 'Reputation' },
    ]).outcomes
    expect(o!.classification).toMatchObject({ reason: 'badreputation', scope: 'sender', ruleId: 'webhook.sendgrid.reputation' })
  })

  it('tolerates junk elements, refuses a non-array body', () => {
    const n = normalizeSendGrid([null, 1, 'x', { event: 'bounce' }, { event: 'bounce', email: 'not an address' }])
    expect(n.outcomes).toEqual([])
    expect(n.ignored).toHaveLength(5)
    expect(() => normalizeSendGrid({ event: 'bounce' })).toThrow(expect.objectContaining({ code: 'EWEBHOOK_PAYLOAD' }))
  })
})

describe('normalizeMailgun', () => {
  it('maps failed/permanent by the delivery status, temporary as deferred, suppress-* as suppressed', () => {
    const p = normalizeMailgun(mailgunFailed('w@example.com', sig)).outcomes[0]!
    expect(p).toMatchObject({
      type: 'bounced',
      eventId: 'mailgun:G9Bn5sl1TC6nu79C8C0bwg',
      messageId: '<20130503192659.13651.20287@sandbox.mailgun.org>',
      tag: 'my_tag_1',
    })
    expect(p.classification).toMatchObject({ reason: 'userunknown', hard: true, code: 550 })
    const t = normalizeMailgun(mailgunFailed('w@example.com', sig, { severity: 'temporary', code: 421, message: '4.7.0 Try again later' }))
      .outcomes[0]!
    expect(t.type).toBe('deferred')
    expect(t.classification?.permanent).toBe(false)
    const s = normalizeMailgun(
      mailgunFailed('w@example.com', sig, {
        reason: 'suppress-bounce',
        code: 605,
        message: 'Not delivering to previously bounced address',
      }),
    ).outcomes[0]!
    expect(s.classification).toMatchObject({ reason: 'suppressed', ruleId: 'webhook.mailgun.suppress-bounce' })
    expect(() => normalizeMailgun({ signature: sig })).toThrow(expect.objectContaining({ code: 'EWEBHOOK_PAYLOAD' }))
  })
})

describe('normalizePostmark', () => {
  it('classifies Details first, then the bounce type', () => {
    const hard = normalizePostmark(postmarkBounce('y@example.com')).outcomes[0]!
    expect(hard.classification).toMatchObject({ reason: 'userunknown', hard: true, ruleId: 'webhook.postmark.hardbounce' })
    expect(normalizePostmark(postmarkBounce('y@example.com', { id: 42 })).outcomes[0]!.eventId).toBe('postmark:bounce:42:y@example.com')
    // 64-bit ids stay exact when parsed from the raw text (JSON.parse alone would round them).
    const raw = JSON.stringify(postmarkBounce('y@example.com', { id: 1 })).replace('"ID":1,', '"ID": 4323372036854775807,')
    expect(normalizePostmark(parsePostmarkJson(raw)).outcomes[0]!.eventId).toBe('postmark:bounce:4323372036854775807:y@example.com')
    expect(normalizePostmark(parsePostmarkJson(raw.replace('4323372036854775807', '4323372036854775806'))).outcomes[0]!.eventId).toBe(
      'postmark:bounce:4323372036854775806:y@example.com',
    )
    const blockedByText = normalizePostmark(
      postmarkBounce('y@example.com', {
        type: 'HardBounce',
        details: 'smtp;550 5.7.1 Message rejected due to local policy: client IP blocked by Spamhaus',
      }),
    ).outcomes[0]!
    expect(blockedByText.classification?.hard).toBe(false)
    const soft = normalizePostmark(postmarkBounce('y@example.com', { type: 'SoftBounce', typeCode: 4096 })).outcomes[0]!
    expect(soft.classification).toMatchObject({ reason: 'mailboxfull', hard: false })
    const transient = normalizePostmark(postmarkBounce('y@example.com', { type: 'Transient', typeCode: 2 })).outcomes[0]!
    expect(transient.type).toBe('deferred')
    const auto = normalizePostmark(postmarkBounce('y@example.com', { type: 'AutoResponder', typeCode: 64, details: '250 OK' })).outcomes[0]!
    expect(auto.type).toBe('auto-reply')
    expect(normalizePostmark(postmarkBounce('y@example.com', { type: 'Subscribe', typeCode: 32 })).outcomes).toEqual([])
    const d = normalizePostmark({
      RecordType: 'Delivery',
      ServerID: 23,
      MessageStream: 'outbound',
      MessageID: 'm-9',
      Recipient: 'z@example.com',
      Tag: 'welcome',
      DeliveredAt: '2019-11-05T16:33:54Z',
      Details: 'Test delivery webhook details',
    }).outcomes[0]!
    expect(d).toMatchObject({ type: 'delivered', eventId: 'postmark:delivery:m-9:z@example.com' })
    expect(() => normalizePostmark([])).toThrow(expect.objectContaining({ code: 'EWEBHOOK_PAYLOAD' }))
  })
})

describe('normalizeSparkPost', () => {
  it('maps message events by raw_reason, then bounce_class', () => {
    const n = normalizeSparkPost(sparkPostBatch('sp@example.com'))
    expect(n.outcomes.map((o) => o.type)).toEqual(['bounced', 'deferred', 'complaint', 'delivered'])
    expect(n.outcomes[0]!.classification).toMatchObject({ reason: 'userunknown', hard: true })
    expect(n.outcomes[1]).toMatchObject({ attempt: 3 })
    expect(n.outcomes[1]!.classification).toMatchObject({ reason: 'mailboxfull', permanent: false })
    const byClass = (bounce_class: string) =>
      normalizeSparkPost([{ msys: { message_event: { type: 'bounce', bounce_class, rcpt_to: 'k@example.com', event_id: 'e' } } }])
        .outcomes[0]!
    expect(byClass('10').classification).toMatchObject({ reason: 'userunknown', hard: true })
    expect(byClass('25').classification).toMatchObject({ reason: 'suppressed' })
    expect(byClass('50').classification).toMatchObject({ reason: 'blocked', scope: 'sender', hard: false })
    expect(byClass('30').classification).toMatchObject({ hard: false })
    expect(byClass('60').type).toBe('auto-reply')
    expect(normalizeSparkPost([{ msys: {} }]).outcomes).toEqual([])
    expect(() => normalizeSparkPost({})).toThrow(expect.objectContaining({ code: 'EWEBHOOK_PAYLOAD' }))
  })
})

describe('hostile input', () => {
  it('never crashes on random JSON shapes', () => {
    const values: unknown[] = [null, true, 0, -1, 1e308, '', 'a@b', [], {}, [[]], { a: {} }, 'x'.repeat(10000)]
    const fns = [normalizeSes, normalizeSendGrid, normalizeMailgun, normalizePostmark, normalizeSparkPost]
    let seed = 7
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    const pick = () => values[Math.floor(rnd() * values.length)]
    for (let i = 0; i < 300; i++) {
      const shape = {
        notificationType: pick(),
        eventType: pick(),
        bounce: { bouncedRecipients: [{ emailAddress: pick(), diagnosticCode: pick() }], bounceType: pick() },
        mail: pick(),
        'event-data': { event: pick(), recipient: pick(), 'delivery-status': pick() },
        RecordType: pick(),
        Email: pick(),
        Details: pick(),
      }
      for (const fn of fns) {
        for (const input of [
          shape,
          [shape],
          [{ msys: { message_event: { type: pick(), rcpt_to: pick(), raw_reason: pick(), bounce_class: pick() } } }],
          [{ event: pick(), email: pick(), reason: pick() }],
        ]) {
          try {
            fn(input)
          } catch (e) {
            expect(isBounceGuardError(e)).toBe(true)
          }
        }
      }
    }
  })
})
