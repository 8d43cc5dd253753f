/**
 * A person's reply that talks about a bounce is not a delivery notice: an address in the person's
 * sentences must never become a (hard) failed recipient. Notices from delivery systems keep being
 * read whatever their subject says.
 */
import { describe, expect, it } from 'vitest'
import { parseBounceMessage } from '../src/index.js'

function mail(headers: string[], body: string[]): string {
  return [...headers, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', ...body, ''].join('\n')
}

const CHAT = [
  'Hi, your newsletter arrived fine here. My colleague ann@firm.example says hers',
  'bounced with "550 5.1.1 User unknown" but she is new, maybe that is why.',
  '',
  'Pat',
]

describe('a person replying about a bounce', () => {
  const cases: [string, string[]][] = [
    ['Re: subject', ['From: Pat Doe <pat@firm.example>', 'To: news@shop.example.com', 'Subject: Re: your order update bounced?']],
    ['German AW: subject', ['From: Pat Doe <pat@firm.example>', 'To: news@shop.example.com', 'Subject: AW: Unzustellbar: Ihre Bestellung']],
    ['numbered RE[2]: subject', ['From: pat@firm.example', 'To: news@shop.example.com', 'Subject: RE[2]: Mail delivery failed?']],
    [
      'In-Reply-To with a subject that mentions a bounce',
      [
        'From: Pat Doe <pat@firm.example>',
        'To: news@shop.example.com',
        'Subject: your order update bounced for my colleague',
        'In-Reply-To: <order-77@shop.example.com>',
      ],
    ],
  ]
  for (const [name, headers] of cases) {
    it(`is not a bounce (${name})`, async () => {
      const r = await parseBounceMessage(mail(headers, CHAT))
      expect(r.kind).toBe('not-a-bounce')
      expect(r.recipients.some((x) => x.classification.hard)).toBe(false)
    })
  }

  it('still reads a delivery notice whose subject carries the original "Re:"', async () => {
    const r = await parseBounceMessage(
      mail(
        [
          'From: Mail Delivery System <MAILER-DAEMON@mx.shop.example.com>',
          'To: news@shop.example.com',
          'Subject: Re: Undelivered Mail Returned to Sender',
          'In-Reply-To: <order-77@shop.example.com>',
        ],
        [
          'This is the mail system at host mx.shop.example.com.',
          '',
          "I'm sorry to have to inform you that your message could not",
          'be delivered to one or more recipients.',
          '',
          '<gone@partner.example>: host mx.partner.example[192.0.2.8] said: 550 5.1.1',
          '    <gone@partner.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)',
        ],
      ),
    )
    expect(r.kind).toBe('bounce')
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason, x.classification.hard])).toEqual([
      ['gone@partner.example', 'userunknown', true],
    ])
  })
})
