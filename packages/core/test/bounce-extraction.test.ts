/**
 * What the notice reader extracts from non-standard notices whose layout differs from the dev
 * corpus: every failed recipient, the words that belong to it (and not to its neighbour), whatever
 * the line endings or transfer encoding. Messages are the hand-written review fixtures or built here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseBounceMessage, type BounceReport } from '../src/index.js'

const dir = fileURLToPath(new URL('./fixtures/bounces-review', import.meta.url))
const fixture = (name: string): Promise<BounceReport> => parseBounceMessage(readFileSync(join(dir, name)))
const diagOf = (r: BounceReport, rcpt: string): string => r.recipients.find((x) => x.recipient === rcpt)?.diagnosticCode ?? ''

describe('notice extraction', () => {
  it('keeps each Sendmail session with its own recipient', async () => {
    const r = await fixture('sendmail-09.eml')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['alice@example.net', 'frank@example.com'])
    expect(diagOf(r, 'alice@example.net')).toContain('User unknown')
    expect(diagOf(r, 'alice@example.net')).not.toContain('Mailbox full')
    expect(diagOf(r, 'frank@example.com')).toContain('Mailbox full')
  })

  it('reads the recipients below an indented header summary, once each', async () => {
    const r = await fixture('messagingserver-01.eml')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['alice@example.net'])
    expect(diagOf(r, 'alice@example.net')).toContain('unknown or illegal alias')
  })

  it('does not take the alias an Exim address was generated from for a recipient', async () => {
    const r = await fixture('exim-14.eml')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['mike@example.net', 'nina@example.org', 'oscar@example.com'])
    expect(diagOf(r, 'nina@example.org')).toContain('non-existent hosts')
  })
})

describe('notice extraction under other encodings', () => {
  const notice = readFileSync(join(dir, 'sendmail-09.eml'), 'latin1')
  const [head = '', body = ''] = notice.split(/\n\n(.*)/s)
  const variants: [string, string][] = [
    ['CRLF', notice.replace(/\n/g, '\r\n')],
    ['bare CR', notice.replace(/\n/g, '\r')],
    ['base64', `${head}\nContent-Transfer-Encoding: base64\n\n${Buffer.from(body).toString('base64').replace(/.{76}/g, '$&\n')}`],
  ]
  for (const [name, raw] of variants) {
    it(`reads the same recipients and words with ${name}`, async () => {
      const r = await parseBounceMessage(raw)
      expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([
        ['alice@example.net', 'userunknown'],
        ['frank@example.com', 'mailboxfull'],
      ])
      expect(diagOf(r, 'alice@example.net')).not.toContain('Mailbox full')
    })
  }
})

describe('addresses in running text', () => {
  it('finds internationalised addresses but does not swallow Japanese words written against one', async () => {
    const raw = [
      'From: MAILER-DAEMON@mx.example.jp',
      'To: news@example.org',
      'Subject: =?UTF-8?B?6YWN5L+h44Ko44Op44O8?=',
      'Content-Type: text/plain; charset=utf-8',
      '',
      '以下の宛先へのメール配送に失敗しました：ゆき@例え.jp alice@example.jp',
      '',
      '<zoë@example.nl>: host mx.example.nl[192.0.2.7] said: 550 5.1.1 User unknown (in reply to RCPT TO command)',
      '',
    ].join('\n')
    const r = await parseBounceMessage(raw)
    expect(r.recipients.map((x) => x.recipient)).toEqual(['zoë@example.nl'])
  })
})

describe('addresses against CJK text', () => {
  it('stops an address at the Japanese words and full-width colon before it', async () => {
    const raw = [
      'From: MAILER-DAEMON@mx.example.jp',
      'To: news@example.org',
      'Subject: Returned mail',
      'Content-Type: text/plain; charset=utf-8',
      '',
      '宛先：bob@example.jp',
      '550 5.1.1 <bob@example.jp>: Recipient address rejected: User unknown (in reply to RCPT TO command)',
      '',
    ].join('\n')
    const r = await parseBounceMessage(raw)
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([['bob@example.jp', 'userunknown']])
  })
})

describe('recipient lines without words of their own', () => {
  it('keeps each Exchange 2003 recipient with its own paragraph', async () => {
    const r = await fixture('exchange2003-01.eml')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['alice@example.net', 'kim@example.net'])
    expect(diagOf(r, 'alice@example.net')).toContain('#5.1.1')
    expect(diagOf(r, 'alice@example.net')).not.toContain('#5.2.2')
  })

  it('reads every address of a labelled list, but not of a To: summary', async () => {
    const r = await fixture('list-01.eml')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['alice@example.net', 'ed@example.net'])
    const summary = [
      'From: postmaster@example.net',
      'To: news@example.org',
      'Subject: Undeliverable mail',
      '',
      'Your message',
      '  To: ann@example.net, bea@example.net',
      '  Subject: hello',
      '',
      'could not be delivered to:',
      '',
      '  bea@example.net',
      '',
      'Reason: 550 5.1.1 Mailbox does not exist',
    ].join('\n')
    const s = await parseBounceMessage(summary)
    expect(s.recipients.map((x) => x.recipient)).toEqual(['bea@example.net'])
  })
})

describe('words on the line that names a recipient again', () => {
  it("gives each Sendmail 'Deferred:' transcript line to its own recipient", async () => {
    const r = await fixture('sendmail-delay-02.eml')
    expect(r.kind).toBe('delay')
    expect(diagOf(r, 'alice@example.net')).toContain('Greylisted')
    expect(diagOf(r, 'fay@example.com')).toContain('Connection refused')
    expect(diagOf(r, 'fay@example.com')).not.toContain('Greylisted')
  })

  it('does not take the person a notice greets for a failed recipient', async () => {
    const r = await fixture('googlegroups-01.eml')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['team@example-groups.com'])
  })
})
