/**
 * Amazon SES notifications sent by e-mail (JSON in the body, possibly inside an SNS envelope): both
 * spellings of the type field (`notificationType`, event publishing's `eventType`), DeliveryDelay
 * events, and what `bounceSubType` / `delayType` say when a recipient's own words say nothing.
 * Expected values follow SES's documented meaning of each field.
 */
import { describe, expect, it } from 'vitest'
import { parseBounceMessage } from '../src/index.js'

const HEAD = [
  'From: AWS Notifications <no-reply@sns.amazonaws.com>',
  'To: ops@shop.example.com',
  'Subject: AWS Notification Message',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=UTF-8',
  '',
  '',
].join('\n')

const MAIL = { source: 'news@shop.example.com', messageId: '0100-m', destination: ['a@example.net', 'b@example.net'] }

/** The notification as SES writes it in a mail body. */
function plain(doc: object): string {
  return HEAD + JSON.stringify(doc, null, 2)
}

/** The notification inside an SNS envelope (its `Message` is the JSON text, escaped). */
function inSns(doc: object): string {
  const envelope = { Type: 'Notification', MessageId: 'sns-1', TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: JSON.stringify(doc) }
  return `${HEAD}${JSON.stringify(envelope)}\n\n--\nIf you wish to stop receiving notifications from this topic, visit the link below.\n`
}

function rows(r: Awaited<ReturnType<typeof parseBounceMessage>>): [string, string, boolean][] {
  return r.recipients.map((x) => [x.recipient, x.classification.reason, x.classification.hard])
}

describe('SES event publishing (eventType)', () => {
  for (const [name, wrap] of [
    ['plain', plain],
    ['in an SNS envelope', inSns],
  ] as const) {
    it(`reads a Bounce event ${name}, every recipient, never the sender`, async () => {
      const doc = {
        eventType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [
            { emailAddress: 'a@example.net', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
            { emailAddress: 'b@example.net', action: 'failed', status: '5.2.2', diagnosticCode: 'smtp; 552 5.2.2 Mailbox full' },
          ],
        },
        mail: MAIL,
      }
      const r = await parseBounceMessage(wrap(doc))
      expect(r.kind).toBe('bounce')
      expect(rows(r)).toEqual([
        ['a@example.net', 'userunknown', true],
        ['b@example.net', 'mailboxfull', false],
      ])
    })
  }

  it('reads a Complaint and a Delivery event', async () => {
    const complaint = await parseBounceMessage(
      inSns({
        eventType: 'Complaint',
        complaint: { complainedRecipients: [{ emailAddress: 'a@example.net' }], complaintFeedbackType: 'abuse' },
        mail: MAIL,
      }),
    )
    expect(complaint.kind).toBe('complaint')
    expect(rows(complaint)).toEqual([['a@example.net', 'feedback', false]])
    const delivery = await parseBounceMessage(
      plain({ eventType: 'Delivery', delivery: { recipients: ['b@example.net'], smtpResponse: '250 2.0.0 OK' }, mail: MAIL }),
    )
    expect(delivery.kind).toBe('delivered')
    expect(rows(delivery)).toEqual([['b@example.net', 'delivered', false]])
  })

  it('gives no recipient for events that are no delivery outcome (Send, Open, Click, Reject)', async () => {
    for (const eventType of ['Send', 'Open', 'Click', 'Reject']) {
      const r = await parseBounceMessage(inSns({ eventType, mail: MAIL, [eventType.toLowerCase()]: {} }))
      expect(r.kind, eventType).toBe('not-a-bounce')
      expect(r.recipients, eventType).toEqual([])
    }
  })

  it('never takes the sender for a failed recipient when a Bounce lists none', async () => {
    const r = await parseBounceMessage(
      plain({ eventType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [] }, mail: MAIL }),
    )
    expect(r.kind).toBe('not-a-bounce')
    expect(r.recipients).toEqual([])
  })
})

describe('SES DeliveryDelay events', () => {
  const delay = (delayType: string, recipient: Record<string, string>) =>
    plain({
      eventType: 'DeliveryDelay',
      mail: MAIL,
      deliveryDelay: {
        delayType,
        expirationTime: '2025-03-06T23:59:58.000Z',
        delayedRecipients: [recipient],
        reportingMTA: 'dsn; a8-1.smtp-out.amazonses.com',
      },
    })

  it('is a delay for each delayed recipient, read from its diagnostic first', async () => {
    const r = await parseBounceMessage(
      delay('General', { emailAddress: 'a@example.net', status: '4.2.2', diagnosticCode: 'smtp; 452 4.2.2 Mailbox full' }),
    )
    expect(r.kind).toBe('delay')
    expect(r.reportingMta).toBe('a8-1.smtp-out.amazonses.com')
    expect(r.recipients[0]).toMatchObject({ recipient: 'a@example.net', action: 'delayed', status: '4.2.2' })
    expect(r.recipients[0]!.classification).toMatchObject({ reason: 'mailboxfull', hard: false })
  })

  it('maps the delayType when the recipient says nothing itself', async () => {
    const cases: [string, string, string][] = [
      ['MailboxFull', 'mailboxfull', 'recipient'],
      ['TransientCommunicationFailure', 'networkerror', 'network'],
      ['IPFailure', 'blocked', 'sender'],
      ['SpamDetected', 'badreputation', 'sender'],
      ['RecipientServerError', 'systemerror', 'domain'],
      ['InternalFailure', 'systemerror', 'sender'],
      ['BYOIPHostNameLookupUnavailable', 'requireptr', 'sender'],
      ['Undetermined', 'expired', 'network'],
      ['SendingDeferral', 'expired', 'network'],
    ]
    for (const [delayType, reason, scope] of cases) {
      const r = await parseBounceMessage(delay(delayType, { emailAddress: 'a@example.net' }))
      expect(r.kind, delayType).toBe('delay')
      expect(r.recipients[0]!.classification, delayType).toMatchObject({ reason, scope, hard: false, permanent: false })
    }
  })
})

describe('SES bounceSubType without a diagnostic', () => {
  const bounce = (bounceType: string, bounceSubType: string, recipient: Record<string, string> = { emailAddress: 'a@example.net' }) =>
    plain({ notificationType: 'Bounce', bounce: { bounceType, bounceSubType, bouncedRecipients: [recipient] }, mail: MAIL })

  it('maps each documented sub-type', async () => {
    const cases: [string, string, string, boolean][] = [
      ['Permanent', 'Suppressed', 'suppressed', false],
      ['Permanent', 'OnAccountSuppressionList', 'suppressed', false],
      ['Permanent', 'NoEmail', 'userunknown', true],
      ['Transient', 'MailboxFull', 'mailboxfull', false],
      ['Transient', 'MessageTooLarge', 'mesgtoobig', false],
      ['Transient', 'ContentRejected', 'policyviolation', false],
      ['Transient', 'AttachmentRejected', 'policyviolation', false],
    ]
    for (const [type, sub, reason, hard] of cases) {
      const r = await parseBounceMessage(bounce(type, sub))
      expect(r.kind, sub).toBe('bounce')
      expect(r.recipients[0]!.classification, sub).toMatchObject({ reason, hard })
    }
  })

  it('leaves General and Undetermined to what else is there', async () => {
    const general = await parseBounceMessage(bounce('Permanent', 'General', { emailAddress: 'a@example.net', status: '5.1.1' }))
    expect(general.recipients[0]!.classification).toMatchObject({ reason: 'userunknown', hard: true })
    const undetermined = await parseBounceMessage(bounce('Undetermined', 'Undetermined'))
    expect(undetermined.recipients[0]!.classification.reason).toBe('undefined')
    expect(undetermined.recipients[0]!.classification.hard).toBe(false)
  })

  it('keeps a diagnostic that decides over the sub-type, except for a suppression SES made itself', async () => {
    const decided = await parseBounceMessage(
      bounce('Transient', 'MailboxFull', {
        emailAddress: 'a@example.net',
        diagnosticCode: 'smtp; 552 5.3.4 Message size exceeds fixed limit',
      }),
    )
    expect(decided.recipients[0]!.classification.reason).toBe('mesgtoobig')
    const suppressed = await parseBounceMessage(
      bounce('Permanent', 'Suppressed', { emailAddress: 'a@example.net', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }),
    )
    expect(suppressed.recipients[0]!.classification).toMatchObject({ reason: 'suppressed', hard: false })
  })
})
