import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { decodeQuotedPrintable, readMailFast } from '../src/bounce/fast-mime.js'
import { parseBounceMessage } from '../src/index.js'

const corpus = join(fileURLToPath(new URL('../../..', import.meta.url)), 'test/fixtures/sisimai/emails') // vendored copy of ../shared/corpus

describe('fast MIME path', () => {
  it('gives the same reports as postal-mime on every corpus message', async () => {
    const files = readdirSync(corpus)
      .filter((f) => f.endsWith('.eml'))
      .sort()
    expect(files.length).toBeGreaterThan(100)
    const differ: string[] = []
    let fast = 0
    for (const f of files) {
      const raw = readFileSync(join(corpus, f))
      if (readMailFast(raw)) fast++
      const a = await parseBounceMessage(raw)
      const b = await parseBounceMessage(raw, { mimeParser: 'postal-mime' })
      const key = (r: typeof a): string =>
        JSON.stringify([
          r.kind,
          r.subject,
          r.original,
          r.recipients.map((x) => [x.recipient, x.classification.reason, x.status, x.diagnosticCode]),
        ])
      if (key(a) !== key(b)) differ.push(f)
    }
    expect(differ).toEqual([])
    // the fast path reads nearly all of them; postal-mime gets the broken ones
    expect(fast).toBeGreaterThan(files.length * 0.9)
  })

  it('keys header fields by lower-cased name whatever their spelling (common, upper, lower, non-ASCII, a space before the colon); the first of a repeated field', () => {
    const raw = [
      'FROM: Mail Delivery System <MAILER-DAEMON@example.org>',
      'subject: Undelivered Mail',
      'X-Failed-Recipients: a@example.com',
      'X-FAILED-RECIPIENTS: ignored@example.com',
      'Message-Id: <id-1@example.org>',
      'X-Custom-Ünïcode: kept',
      'X-Spaced : value',
      'Content-type: text/plain',
      '',
      'body',
      '',
    ].join('\r\n')
    const mail = readMailFast(raw)!
    expect(mail.headers.get('from')).toBe('Mail Delivery System <MAILER-DAEMON@example.org>')
    expect(mail.headers.get('subject')).toBe('Undelivered Mail')
    expect(mail.headers.get('x-failed-recipients')).toBe('a@example.com')
    expect(mail.headers.get('message-id')).toBe('<id-1@example.org>')
    expect(mail.headers.get('x-custom-ünïcode')).toBe('kept')
    expect(mail.headers.get('x-spaced')).toBe('value') // white space around the name is dropped
    expect(mail.headers.get('content-type')).toBe('text/plain')
    expect(mail.text).toBe('body\n')
  })

  it('decodes quoted-printable: escapes, soft breaks, bad escapes kept', () => {
    expect(decodeQuotedPrintable('a=3Db=\nc')).toBe('a=bc')
    expect(decodeQuotedPrintable('x=\r\ny')).toBe('xy')
    expect(decodeQuotedPrintable('50=ZZ off=  \nend')).toBe('50=ZZ offend')
    expect(Buffer.from(decodeQuotedPrintable('=E3=81=82'), 'latin1').toString('utf8')).toBe('あ')
  })

  it('decodes base64 ISO-2022-JP text and encoded-word subjects, skips binary attachments', () => {
    const body = Buffer.from('\x1b$B$3$s$K$A$O\x1b(B', 'latin1').toString('base64')
    const raw = [
      'From: =?UTF-8?B?44Oh44O844Or?= <mailer-daemon@example.org>',
      'Subject: =?ISO-2022-JP?B?GyRCJTUlcyVXJWsbKEI=?=',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=ISO-2022-JP',
      'Content-Transfer-Encoding: base64',
      '',
      body,
      '--b1',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      'AAAA',
      '--b1--',
      '',
    ].join('\r\n')
    const m = readMailFast(raw)
    expect(m).toBeDefined()
    expect(m!.text).toBe('こんにちは')
    expect(m!.subject).toBe('サンプル')
    expect(m!.from).toBe('mailer-daemon@example.org')
    expect(m!.fromName).toBe('メール')
    expect(m!.parts).toEqual([])
  })

  it('declines what it does not handle (no boundary, uuencode), so postal-mime reads it', () => {
    expect(readMailFast('Subject: x\nContent-Type: multipart/mixed\n\nbody\n')).toBeUndefined()
    expect(readMailFast('Subject: x\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n')).toBeUndefined()
  })

  it('reads a multipart whose boundary the body never uses as postal-mime does: header only, notice from the raw body', async () => {
    const raw = [
      'From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>',
      'Subject: Returned mail: see transcript for details',
      'Content-Type: multipart/report; report-type=delivery-status;',
      '    boundary="written.in.header/mx.example.net"',
      '',
      '--written.in.body/mx.example.net',
      '',
      '   ----- The following addresses had permanent fatal errors -----',
      '<kijitora@example.org>',
      '    (reason: 550 5.1.1 <kijitora@example.org>... User unknown)',
      '',
    ].join('\n')
    const m = readMailFast(raw)
    expect(m).toBeDefined()
    expect(m!.text).toBe('')
    expect(m!.parts).toEqual([])
    const fast = await parseBounceMessage(raw)
    expect(fast.recipients.map((r) => [r.recipient, r.classification.reason])).toEqual([['kijitora@example.org', 'userunknown']])
    expect(fast).toEqual(await parseBounceMessage(raw, { mimeParser: 'postal-mime' }))
    // a boundary written oddly (a comment) is left to postal-mime
    expect(readMailFast(raw.replace('delivery-status;', 'delivery-status; (odd);'))).toBeUndefined()
  })
})
