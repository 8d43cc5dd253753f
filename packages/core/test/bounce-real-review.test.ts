/**
 * The parser over test/fixtures/bounces-review/real: bounces rebuilt from real notices quoted in
 * public threads (each label line names its source). Expected values are the labels, written from
 * what each notice means before the parser was run on them, never the parser's output.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { classifyRecipient } from '../src/bounce/classify-recipient.js'
import { parseDeliveryStatus } from '../src/bounce/fields.js'
import { parseBounceMessage } from '../src/index.js'
import { expectReadAsLabelled, readLabels, reviewAccuracy } from './support/review-labels.js'

const dir = fileURLToPath(new URL('./fixtures/bounces-review/real', import.meta.url))
const labels = readLabels(dir)
const byFile = new Map(labels.map((l) => [l.file, l]))

/** Files the parser read wrongly when they were added (each asserted exactly once fixed). */
const FIXED = [
  'exim-real-04.eml', // Exim delay warning whose DSN writes `Action: delayed` before `Final-Recipient:`: was a bounce, onhold
  'postfix-real-05.eml', // final notice after "Network is unreachable" kept recurring: expired, not networkerror
  'postfix-real-06.eml', // text-only "User unknown in virtual alias table" (Postfix's own RCPT check): was filtered
  'gmail-real-02.eml', // a remote Exim's "550 Unrouteable address" relayed by Gmail: was filtered, is hostunknown
  'jmrp-real-01.eml', // Microsoft JMRP: the complainer is in X-HmXmrOriginalRecipient (To: masked): was the masked To
  'postfix-real-23.eml', // a final recipient with a quoted local part ("a@b"@relay): lost its opening quote
]

describe('bounce parser on bounces rebuilt from real notices', () => {
  it('has labelled fixtures with a source each', () => {
    expect(labels.length).toBeGreaterThanOrEqual(40)
    for (const l of labels) expect(l.source, l.file).toMatch(/^https?:\/\//)
    for (const f of FIXED) expect(byFile.has(f), f).toBe(true)
  })

  for (const file of FIXED) {
    it(`reads ${file} as labelled`, async () => {
      await expectReadAsLabelled(dir, byFile.get(file)!)
    })
  }

  it('finds both recipients of a notice that writes "Unable to send to <address>", a role mailbox among them', async () => {
    const report = await parseBounceMessage(readFileSync(join(dir, 'cnwebmail-real-01.eml')))
    expect(report.recipients.map((r) => r.recipient)).toEqual(['abuse@jsdelivr.com', 'legal@jsdelivr.com'])
    expect(report.recipients[1]!.classification.reason).toBe('userunknown')
    expect(report.recipients[1]!.classification.hard).toBe(true)
  })

  it('keeps a floor on reason, hard-bounce and recipient accuracy', async () => {
    const { n, reason, hard, recipient } = await reviewAccuracy(dir, labels)
    expect(n).toBeGreaterThanOrEqual(60)
    // first 48 recipients when added: 79.2 % / 89.6 % / 97.9 %; all 66 after the fixes of issue 3:
    // 84.8 % / 93.9 % / 98.5 % (the rest: labels by meaning where the dev corpus's convention
    // differs, and reply texts no rule knows yet: see the set's README). The third pass added 35
    // recipients (80.0 % / 85.7 % / 88.6 % on them first); all 103 after its fixes: 85.4 % / 91.3 %
    // / 98.1 % (the new hard misses are the corpus's unknown-stage convention and one reply text
    // the rules do not read). The floor sits just below.
    expect(reason).toBeGreaterThanOrEqual(0.83)
    expect(hard).toBeGreaterThanOrEqual(0.9)
    expect(recipient).toBeGreaterThanOrEqual(0.97)
  })
})

describe('delivery-status blocks that open with another field than the recipient', () => {
  it('keeps `Action:` written before `Final-Recipient:` with its recipient (Exim warnings, Amazon SES)', () => {
    const { message, recipients } = parseDeliveryStatus(
      [
        'Reporting-MTA: dns; mx.example.net',
        'Arrival-Date: Tue, 14 Jan 2025 09:12:01 +0000',
        '',
        'Action: delayed',
        'Final-Recipient: rfc822;a@example.com',
        'Original-Recipient: rfc822;a@example.com',
        'Status: 4.0.0',
        '',
        'Action: failed',
        'Final-Recipient: rfc822;b@example.org',
        'Diagnostic-Code: smtp; 550 5.1.1 No such user',
        'Status: 5.1.1',
        '',
      ].join('\r\n'),
    )
    expect(message.has('action')).toBe(false)
    expect(recipients).toHaveLength(2)
    expect(recipients[0]!.get('final-recipient')).toBe('rfc822;a@example.com')
    expect(recipients[0]!.get('original-recipient')).toBe('rfc822;a@example.com')
    expect(recipients[0]!.get('action')).toBe('delayed')
    expect(recipients[0]!.get('status')).toBe('4.0.0')
    expect(recipients[1]!.get('final-recipient')).toBe('rfc822;b@example.org')
    expect(recipients[1]!.get('action')).toBe('failed')
    expect(recipients[1]!.get('status')).toBe('5.1.1')
  })

  it('still splits recipient blocks written without blank lines between them', () => {
    const { recipients } = parseDeliveryStatus(
      [
        'Reporting-MTA: dns; mx.example.net',
        '',
        'Final-Recipient: rfc822;a@example.com',
        'Action: failed',
        'Status: 5.1.1',
        'Final-Recipient: rfc822;b@example.com',
        'Action: failed',
        'Status: 5.2.2',
      ].join('\n'),
    )
    expect(recipients.map((r) => [r.get('final-recipient'), r.get('status')])).toEqual([
      ['rfc822;a@example.com', '5.1.1'],
      ['rfc822;b@example.com', '5.2.2'],
    ])
  })
})

describe('a final notice after connections kept failing', () => {
  const final = (diagnostic: string) =>
    classifyRecipient({ recipient: 'b@example.org', action: 'failed', status: '4.4.2', diagnostic, final: true, dsn: true })

  it('is expired whatever the words for the failed connection, wrapped or not', () => {
    for (const d of [
      'X-Postfix; conversation with mx.example.org[192.0.2.1] timed     out while receiving the initial server greeting',
      'X-Postfix; delivery temporarily suspended: connect to mx.example.org[2001:db8::1]:25: Network is unreachable',
      'X-Postfix; connect to mx.example.org[192.0.2.1]:25: No route to host',
      'X-Postfix; connect to mx.example.org[192.0.2.1]:25: Connection refused',
    ])
      expect(final(d).reason, d).toBe('expired')
  })

  it('keeps a connection lost after it was made a network error', () => {
    expect(final('X-Postfix; lost connection with mx.example.org[192.0.2.1] while sending end of data').reason).toBe('networkerror')
  })
})

describe('line endings do not change what a rebuilt real notice says', () => {
  const reading = async (raw: Buffer) => {
    const r = await parseBounceMessage(raw)
    return `${r.kind}|${r.recipients.map((x) => `${x.recipient}:${x.classification.reason}:${x.classification.hard}`).join(',')}`
  }
  it('reads each file alike with LF, CRLF and bare CR', async () => {
    for (const label of labels) {
      const lf = readFileSync(join(dir, label.file)).toString('latin1').replace(/\r\n?/g, '\n')
      const want = await reading(Buffer.from(lf, 'latin1'))
      expect(await reading(Buffer.from(lf.replace(/\n/g, '\r\n'), 'latin1')), `${label.file} CRLF`).toBe(want)
      expect(await reading(Buffer.from(lf.replace(/\n/g, '\r'), 'latin1')), `${label.file} CR`).toBe(want)
    }
  })
})
