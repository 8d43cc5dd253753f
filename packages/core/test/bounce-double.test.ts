/**
 * A bounce of a bounce: a delivery system's notice returns a message that is itself a DSN (our
 * bounce address, or the address a DSN went to, no longer works). The outer notice is the report;
 * the inner DSN is about an older message. A message that attaches a DSN without naming any
 * recipient of its own still reads the attached one.
 */
import { describe, expect, it } from 'vitest'
import { parseBounceMessage } from '../src/index.js'

const INNER_DSN = [
  'Return-Path: <>',
  'From: MAILER-DAEMON@mx.partner.example (Mail Delivery System)',
  'To: news@shop.example.com',
  'Subject: Undelivered Mail Returned to Sender',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=delivery-status; boundary="INNER"',
  '',
  '--INNER',
  'Content-Type: text/plain',
  '',
  '<someone-else@partner.example>: mailbox full',
  '',
  '--INNER',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns; mx.partner.example',
  '',
  'Final-Recipient: rfc822; someone-else@partner.example',
  'Action: failed',
  'Status: 5.2.2',
  'Diagnostic-Code: smtp; 552 5.2.2 Mailbox full',
  '',
  '--INNER--',
  '',
]

function outer(from: string, notice: string[]): string {
  return [
    `From: ${from}`,
    'To: postmaster@shop.example.com',
    'Subject: Mail delivery failed: returning message to sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="OUTER"',
    '',
    '--OUTER',
    'Content-Type: text/plain',
    '',
    ...notice,
    '',
    '--OUTER',
    'Content-Type: message/rfc822',
    '',
    ...INNER_DSN,
    '--OUTER--',
    '',
  ].join('\n')
}

describe('a bounce of a bounce', () => {
  it('reads the outer Exim notice, not the returned DSN', async () => {
    const r = await parseBounceMessage(
      outer('Mail Delivery System <Mailer-Daemon@relay.example>', [
        'This message was created automatically by mail delivery software.',
        '',
        'A message that you sent could not be delivered to one or more of its',
        'recipients. This is a permanent error. The following address(es) failed:',
        '',
        '  bounces@old-shop.example.net',
        '    host mx.old-shop.example.net [192.0.2.5]',
        '    SMTP error from remote mail server after RCPT TO:<bounces@old-shop.example.net>:',
        '    550 5.1.1 <bounces@old-shop.example.net>: Recipient address rejected: User unknown',
      ]),
    )
    expect(r.kind).toBe('bounce')
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([['bounces@old-shop.example.net', 'userunknown']])
  })

  it('still reads an attached DSN when the wrapper names no recipient of its own', async () => {
    const r = await parseBounceMessage(outer('MAILER-DAEMON@relay.example', ['The attached delivery report was forwarded to you.']))
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([['someone-else@partner.example', 'mailboxfull']])
  })
})
