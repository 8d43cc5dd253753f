import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseBounceMessage, parseMbox, splitMbox } from '../src/index.js'

const corpus = join(fileURLToPath(new URL('../../..', import.meta.url)), 'test/fixtures/sisimai/emails') // vendored copy of ../shared/corpus
const read = (name: string): Buffer => readFileSync(join(corpus, name))

describe('parseBounceMessage on real bounces', () => {
  it('reads a Postfix RFC 3464 DSN: recipient, action, status, remote MTA, original message', async () => {
    const r = await parseBounceMessage(read('postfix-04.eml'))
    expect(r.kind).toBe('bounce')
    expect(r.format).toBe('rfc3464')
    expect(r.reportingMta).toBe('mv-osn-hcb007.ocn.ad.jp')
    expect(r.recipients).toHaveLength(1)
    const [rc] = r.recipients
    expect(rc!.recipient).toBe('kijitora@example.co.jp')
    expect(rc!.action).toBe('failed')
    expect(rc!.status).toBe('5.1.1')
    expect(rc!.classification.reason).toBe('userunknown')
    expect(rc!.classification.hard).toBe(true)
    expect(r.original?.to).toContain('kijitora@example.co.jp')
  })

  it('reads an Exim notice without a DSN: the address alone on its line and the remote reply', async () => {
    const r = await parseBounceMessage(read('exim-01.eml'))
    expect(r.format).toBe('text')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['kijitora@example.ed.jp'])
    expect(r.recipients[0]!.diagnosticCode).toContain('Please use the smtp server of your ISP')
    expect(r.recipients[0]!.classification.permanent).toBe(true)
  })

  it('reads a qmail notice and a Yahoo notice', async () => {
    const q = await parseBounceMessage(read('qmail-03.eml'))
    expect(q.recipients[0]!.recipient).toBe('kijitora@example.org')
    expect(q.recipients[0]!.classification.reason).toBe('rejected') // "sender was rejected" = refused at MAIL FROM
    const y = await parseBounceMessage(read('yahoo-02.eml'))
    expect(y.recipients[0]!.recipient).toBe('kijitora@example.ed.jp')
    expect(y.recipients[0]!.classification.reason).toBe('mailboxfull')
    expect(y.recipients[0]!.classification.hard).toBe(false)
  })

  it('reads an ARF feedback report as a complaint with its feedback type', async () => {
    const r = await parseBounceMessage(read('arf-02.eml'))
    expect(r.kind).toBe('complaint')
    expect(r.feedback?.feedbackType).toBe('abuse')
    expect(r.feedback?.userAgent).toContain('Yahoo!-Mail-Feedback')
    expect(r.recipients[0]!.classification.reason).toBe('feedback')
    expect(r.recipients[0]!.feedbackType).toBe('abuse')
    expect(r.recipients[0]!.recipient).toBe('this-local-part-does-not-exist-on-yahoo@yahoo.com')
  })

  it('reads RFC 3834 auto-replies as vacation', async () => {
    for (const f of ['rfc3834-01.eml', 'rfc3834-02.eml', 'rfc3834-03.eml']) {
      const r = await parseBounceMessage(read(f))
      expect(r.kind, f).toBe('auto-reply')
      expect(r.recipients[0]!.classification.reason, f).toBe('vacation')
    }
  })

  it('gives the same result for LF, CRLF and bare CR line endings', async () => {
    for (const f of ['postfix-04.eml', 'exim-01.eml', 'qmail-03.eml', 'arf-02.eml']) {
      const lf = read(f).toString('latin1').replace(/\r\n?/g, '\n')
      const base = await parseBounceMessage(Buffer.from(lf, 'latin1'))
      expect(base.recipients.length, f).toBeGreaterThan(0)
      const crlf = await parseBounceMessage(Buffer.from(lf.replace(/\n/g, '\r\n'), 'latin1'))
      const cr = await parseBounceMessage(Buffer.from(lf.replace(/\n/g, '\r'), 'latin1'))
      const pick = (r: typeof base) => r.recipients.map((x) => [x.recipient, x.classification.reason, x.status])
      expect(pick(crlf), `${f} CRLF`).toEqual(pick(base))
      expect(pick(cr), `${f} CR`).toEqual(pick(base))
      expect(crlf.kind).toBe(base.kind)
    }
  })

  it('decodes ISO-2022-JP notices (Japanese carriers)', async () => {
    const r = await parseBounceMessage(read('kddi-01.eml'))
    expect(r.kind).toBe('bounce')
    expect(r.recipients.length).toBeGreaterThan(0)
  })

  it('is not fooled by an ordinary message', async () => {
    const plain =
      'From: alice@example.com\nTo: bob@example.org\nSubject: lunch?\nMessage-ID: <1@example.com>\n\nSee you at noon, bob@example.org.\n'
    const r = await parseBounceMessage(plain)
    expect(r.kind).toBe('not-a-bounce')
    expect(r.recipients).toEqual([])
    expect(r.messageId).toBe('1@example.com')
  })
})

describe('mbox', () => {
  it('splits at From_ lines after a blank line and parses each message in order', async () => {
    const a = read('postfix-04.eml').toString('latin1')
    const b = read('qmail-03.eml').toString('latin1')
    const mbox = `From MAILER-DAEMON Thu Apr 29 23:34:45 2010\n${a}\n\nFrom MAILER-DAEMON Thu Apr 29 23:34:46 2010\n${b}\n`
    expect(splitMbox(mbox)).toHaveLength(2)
    const reports = await parseMbox(Buffer.from(mbox, 'latin1'))
    expect(reports.map((r) => r.recipients[0]?.recipient)).toEqual(['kijitora@example.co.jp', 'kijitora@example.org'])
  })

  it('undoes >From quoting and keeps a From inside a paragraph as text', () => {
    const mbox = 'From x Mon Jan 1 00:00:00 2024\nSubject: a\n\nline\nFrom here on, text\n>From quoted\n'
    const parts = splitMbox(mbox)
    expect(parts).toHaveLength(1)
    expect(parts[0]).toContain('From here on, text')
    expect(parts[0]).toContain('\nFrom quoted')
  })

  it('finds separators and quoting after CRLF and bare CR line ends, and removes one > of a run only at a line start', () => {
    const crlf = 'From x Mon Jan 1 00:00:00 2024\r\nSubject: a\r\n\r\n>>From two\r\nsee >From mid\r\n\r\nFrom y\r\nSubject: b\r\n'
    expect(splitMbox(crlf)).toEqual(['Subject: a\r\n\r\n>From two\r\nsee >From mid\r\n\r\n', 'Subject: b\r\n'])
    const cr = 'From x Mon Jan 1 00:00:00 2024\rSubject: a\r\r>From q\rFrom not a separator\r\rFrom y\rSubject: b\r'
    expect(splitMbox(cr)).toEqual(['Subject: a\r\rFrom q\rFrom not a separator\r\r', 'Subject: b\r'])
    // a 'From ' line right after a separator line is no separator of its own (no blank line, no date)
    expect(splitMbox('From x\nFrom y\nbody\n')).toEqual(['From y\nbody\n'])
  })
})

describe('parseBounceMessage: reports in other shapes', () => {
  it('gives one complaint entry per Original-Rcpt-To of an ARF report', async () => {
    const r = await parseBounceMessage(read('arf-16.eml'))
    expect(r.kind).toBe('complaint')
    expect(r.recipients.length).toBe(7)
    expect(new Set(r.recipients.map((x) => x.recipient)).size).toBe(7)
    expect(r.recipients.every((x) => x.classification.reason === 'feedback' && x.feedbackType === 'abuse')).toBe(true)
  })

  it('reads an Amazon SES complaint notification sent as JSON (with a "!" line-break artifact)', async () => {
    const r = await parseBounceMessage(read('amazonses-11.eml'))
    expect(r.kind).toBe('complaint')
    expect(r.recipients.map((x) => x.recipient)).toEqual(['complaint@simulator.amazonses.com'])
    expect(r.feedback?.feedbackType).toBe('abuse')
  })

  it('reads an SES bounce notification inside an SNS envelope', async () => {
    const inner = {
      notificationType: 'Bounce',
      bounce: {
        bounceType: 'Permanent',
        bouncedRecipients: [
          { emailAddress: 'gone@example.net', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
        ],
      },
    }
    const raw = `From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n${JSON.stringify({ Type: 'Notification', Message: JSON.stringify(inner) })}\n`
    const r = await parseBounceMessage(raw)
    expect(r.kind).toBe('bounce')
    expect(r.recipients[0]!.recipient).toBe('gone@example.net')
    expect(r.recipients[0]!.classification.reason).toBe('userunknown')
  })

  it('reads a DSN whose multipart boundary matches none of its parts from the raw body', async () => {
    const r = await parseBounceMessage(read('rhost-google-02.eml'))
    expect(r.recipients.map((x) => x.recipient)).toEqual(['neko-nyaan@example.org'])
    expect(r.recipients[0]!.status).toBe('5.1.1')
  })
})
