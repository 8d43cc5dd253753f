/**
 * The postal-mime fallback reads only the header section of a multipart message whose boundary no
 * body line uses; its result must equal what postal-mime gives for the whole message.
 */
import PostalMime from 'postal-mime'
import { describe, expect, it } from 'vitest'
import { readWithPostalMime } from '../src/bounce/mime.js'
import { parseBounceMessage } from '../src/index.js'

const body = [
  'This is a MIME-encapsulated message.',
  '',
  '--OTHER.123/mx.example.net',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  '<alice@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 <alice@example.org>: Recipient',
  '    address rejected: User unknown in local recipient table (in reply to RCPT TO command)',
  '',
  '--OTHER.123/mx.example.net--',
  '',
].join('\n')

function message(contentType: string[], extra: string[] = []): string {
  return [
    'From: MAILER-DAEMON@mx.example.net (Mail Delivery System)',
    'To: sender@example.com',
    'Subject: Undelivered Mail',
    '\tReturned to Sender =?utf-8?B?44Ko44Op44O8?=',
    'Message-Id: <1@mx.example.net>',
    'Received: by mx.example.net (Postfix)',
    '\tid 49E71; Thu, 29 Apr 2018 23:34:45 +0900',
    ...contentType,
    ...extra,
    '',
    body,
  ].join('\n')
}

/** What readWithPostalMime must give: postal-mime's reading of the whole message. */
async function whole(raw: string): Promise<Record<string, unknown>> {
  const e = await PostalMime.parse(raw, { forceRfc822Attachments: true, attachmentEncoding: 'arraybuffer', maxNestingDepth: 32 })
  const headers = new Map<string, string>()
  for (const h of e.headers) if (!headers.has(h.key.toLowerCase())) headers.set(h.key.toLowerCase(), h.value)
  return {
    subject: e.subject ?? '',
    from: (e.from?.address ?? '').toLowerCase(),
    fromName: e.from?.name ?? '',
    headers: [...headers],
    text: e.text ?? '',
    parts: e.attachments.length,
    messageId: e.messageId,
  }
}

describe('postal-mime fallback', () => {
  const cases: Record<string, string> = {
    'unused boundary (header section only)': message([
      'Content-Type: multipart/report; report-type=delivery-status;',
      '\tboundary="AA92.1720/mx.example.net"',
    ]),
    'boundary in use': message(['Content-Type: multipart/report; boundary="OTHER.123/mx.example.net"']),
    'unused boundary, CRLF': message(['Content-Type: multipart/mixed; boundary=XYZ']).replace(/\n/g, '\r\n'),
    'two Content-Type fields': message([
      'Content-Type: multipart/mixed; boundary="NOPE"',
      'Content-Type: multipart/mixed; boundary="OTHER.123/mx.example.net"',
    ]),
    'a comment in Content-Type': message(['Content-Type: multipart/mixed; boundary="OTHER.123/mx.example.net" (comment)']),
    'RFC 2231 boundary': message(["Content-Type: multipart/mixed; boundary*=us-ascii''OTHER.123%2Fmx.example.net"]),
    'blank first line': `\n${message(['Content-Type: multipart/mixed; boundary="NOPE"'])}`,
  }
  for (const [name, raw] of Object.entries(cases)) {
    it(`${name}: same mail as postal-mime on the whole message`, async () => {
      const mail = await readWithPostalMime(raw)
      expect(mail).toBeDefined()
      const expected = await whole(raw)
      expect({
        subject: mail!.subject,
        from: mail!.from,
        fromName: mail!.fromName,
        headers: [...mail!.headers],
        text: mail!.text,
        parts: mail!.parts.length,
        messageId: mail!.messageId,
      }).toEqual(expected)
      const bytes = await readWithPostalMime(new TextEncoder().encode(raw))
      expect(bytes?.subject).toBe(expected.subject)
      expect(bytes?.text).toBe(expected.text)
    })
  }

  it('a bounce whose boundary is unused is still read from its raw body', async () => {
    const r = await parseBounceMessage(cases['unused boundary (header section only)']!)
    expect(r.kind).toBe('bounce')
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([['alice@example.org', 'userunknown']])
  })
})
