/**
 * RFC 5965 feedback reports: `abuse`, `fraud`, `virus`, `other` are complaints about the reported
 * recipient; `not-spam` (RFC 6430: the user marked the message as not spam) and `auth-failure`
 * (RFC 6591: an authentication failure report, often about a forgery sent to someone else) are not:
 * they are `not-a-bounce` with the feedback fields kept; the recipients they name are listed for
 * information (reason `feedback`, rule `arf.<type>`), and the kind tells consumers to record nothing.
 */
import { describe, expect, it } from 'vitest'
import { parseBounceMessage } from '../src/index.js'

function arf(feedbackType: string, extra: string[] = []): string {
  return [
    'From: Feedback Loop <fbl@isp.example>',
    'To: fbl-reports@shop.example.com',
    'Subject: FW: Weekly offers',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"',
    '',
    '--ARF',
    'Content-Type: text/plain',
    '',
    'This is an email feedback report.',
    '',
    '--ARF',
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${feedbackType}`,
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    'Original-Mail-From: <news@shop.example.com>',
    'Original-Rcpt-To: <reader@isp.example>',
    'Source-IP: 192.0.2.25',
    'Reported-Domain: shop.example.com',
    ...extra,
    '',
    '--ARF',
    'Content-Type: text/rfc822-headers',
    '',
    'From: news@shop.example.com',
    'To: reader@isp.example',
    'Subject: Weekly offers',
    'Message-ID: <offer-1@shop.example.com>',
    '',
    '--ARF--',
    '',
  ].join('\n')
}

describe('ARF feedback reports', () => {
  for (const type of ['abuse', 'fraud', 'virus', 'other']) {
    it(`${type} is a complaint about the reported recipient`, async () => {
      const r = await parseBounceMessage(arf(type))
      expect(r.kind).toBe('complaint')
      expect(r.format).toBe('arf')
      expect(r.feedback?.feedbackType).toBe(type)
      expect(r.recipients.map((x) => [x.recipient, x.classification.reason, x.feedbackType])).toEqual([
        ['reader@isp.example', 'feedback', type],
      ])
    })
  }

  it('not-spam is no complaint: no recipient, the feedback kept', async () => {
    const r = await parseBounceMessage(arf('not-spam'))
    expect(r.kind).toBe('not-a-bounce')
    expect(r.format).toBe('arf')
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason, x.classification.ruleId, x.classification.hard])).toEqual([
      ['reader@isp.example', 'feedback', 'arf.not-spam', false],
    ])
    expect(r.feedback).toMatchObject({
      feedbackType: 'not-spam',
      userAgent: 'ExampleFBL/1.0',
      sourceIp: '192.0.2.25',
      originalMailFrom: 'news@shop.example.com',
      reportedDomain: 'shop.example.com',
    })
    expect(r.original?.messageId).toBe('offer-1@shop.example.com')
  })

  it('an RFC 6591 auth-failure report (a forgery in our name, sent to someone else) is no complaint', async () => {
    const r = await parseBounceMessage(arf('auth-failure', ['Auth-Failure: dmarc', 'Delivery-Result: reject']))
    expect(r.kind).toBe('not-a-bounce')
    expect(r.format).toBe('arf')
    expect(r.recipients.map((x) => [x.recipient, x.classification.ruleId])).toEqual([['reader@isp.example', 'arf.auth-failure']])
    expect(r.feedback).toMatchObject({ feedbackType: 'auth-failure', authFailure: 'dmarc' })
  })

  it('an SES complaint whose feedback type is not-spam is no complaint either', async () => {
    const body = JSON.stringify({
      notificationType: 'Complaint',
      complaint: { complainedRecipients: [{ emailAddress: 'reader@isp.example' }], complaintFeedbackType: 'not-spam' },
      mail: { source: 'news@shop.example.com', destination: ['reader@isp.example'] },
    })
    const r = await parseBounceMessage(`From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n${body}\n`)
    expect(r.kind).toBe('not-a-bounce')
    expect(r.recipients.map((x) => [x.recipient, x.classification.ruleId])).toEqual([['reader@isp.example', 'ses.not-spam']])
    expect(r.feedback).toMatchObject({ feedbackType: 'not-spam' })
  })
})
