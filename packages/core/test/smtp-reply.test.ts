import { describe, expect, it } from 'vitest'
import { parseSmtpReply } from '@bounce-guard/core'

describe('parseSmtpReply', () => {
  it('reads a bare reply with an enhanced status', () => {
    expect(parseSmtpReply('550 5.1.1 <a@example.com>: Recipient address rejected: User unknown')).toEqual({
      code: 550,
      enhancedStatus: '5.1.1',
      text: '<a@example.com>: Recipient address rejected: User unknown',
      raw: '550 5.1.1 <a@example.com>: Recipient address rejected: User unknown',
    })
  })

  it('reads two- and three-digit subject/detail codes', () => {
    expect(parseSmtpReply('550-5.7.26 Unauthenticated email').enhancedStatus).toBe('5.7.26')
    expect(parseSmtpReply('451 4.7.650 The mail server [1.2.3.4] has been temporarily rate limited').enhancedStatus).toBe('4.7.650')
    expect(parseSmtpReply('550 5.1.10 RESOLVER.ADR.RecipientNotFound').enhancedStatus).toBe('5.1.10')
  })

  it('joins multi-line continuations, stripping each repeated code', () => {
    const r = parseSmtpReply(
      "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550 5.1.1  unnecessary spaces. - gsmtp",
    )
    expect(r.code).toBe(550)
    expect(r.enhancedStatus).toBe('5.1.1')
    expect(r.text).toBe(
      "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. - gsmtp",
    )
  })

  it('strips codes repeated inside a reply that was flattened to one line', () => {
    const r = parseSmtpReply('550-5.1.1 The email account does not exist. Please try 550-5.1.1 double-checking 550 5.1.1 the address.')
    expect(r.text).toBe('The email account does not exist. Please try double-checking the address.')
  })

  it('joins lines without an enhanced status', () => {
    const r = parseSmtpReply(
      '554-gmx.net (mxgmx012) Nemesis ESMTP Service not available\n554-No SMTP service\n554 IP address is block listed.',
    )
    expect(r).toMatchObject({
      code: 554,
      text: 'gmx.net (mxgmx012) Nemesis ESMTP Service not available No SMTP service IP address is block listed.',
    })
    expect(r.enhancedStatus).toBeUndefined()
  })

  it('accepts a Diagnostic-Code header value and a bare "smtp;" value', () => {
    expect(parseSmtpReply('Diagnostic-Code: smtp; 550 5.7.26 Unauthenticated email')).toMatchObject({
      code: 550,
      enhancedStatus: '5.7.26',
      text: 'Unauthenticated email',
    })
    expect(parseSmtpReply('smtp;452 4.2.2 Mailbox full')).toMatchObject({ code: 452, enhancedStatus: '4.2.2', text: 'Mailbox full' })
    expect(parseSmtpReply('X-Postfix; connect to mx.example.com[192.0.2.1]:25: Connection refused')).toMatchObject({
      text: 'connect to mx.example.com[192.0.2.1]:25: Connection refused',
    })
  })

  it('accepts the message of a Nodemailer error', () => {
    expect(parseSmtpReply("Can't send mail - all recipients were rejected: 550 5.1.1 <x@y.example>: User unknown")).toMatchObject({
      code: 550,
      enhancedStatus: '5.1.1',
      text: '<x@y.example>: User unknown',
    })
    expect(parseSmtpReply('Message failed: 552 5.3.4 Message size exceeds fixed limit')).toMatchObject({
      code: 552,
      enhancedStatus: '5.3.4',
      text: 'Message size exceeds fixed limit',
    })
  })

  it('finds a code in the middle of the text', () => {
    expect(
      parseSmtpReply('host mx.example.com[1.2.3.4] said: 550 5.1.1 <x@y.example>: User unknown (in reply to RCPT TO command)'),
    ).toMatchObject({ code: 550, enhancedStatus: '5.1.1', text: '<x@y.example>: User unknown (in reply to RCPT TO command)' })
    expect(parseSmtpReply('SMTP error from remote mail server after RCPT TO:<x@y.example>: 550 No such user here')).toMatchObject({
      code: 550,
      text: 'No such user here',
    })
    expect(parseSmtpReply("Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'")).toMatchObject({
      code: 550,
      enhancedStatus: '5.1.1',
    })
    expect(parseSmtpReply('550 #5.1.0 Address rejected.')).toMatchObject({ code: 550, enhancedStatus: '5.1.0', text: 'Address rejected.' })
  })

  it('does not take IP addresses or version numbers for codes', () => {
    const r = parseSmtpReply(
      '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
    )
    expect(r).toMatchObject({ code: 421, enhancedStatus: '4.7.0' })
    expect(r.text).toContain('4.16.55.1')
    expect(parseSmtpReply('delivery to 10.5.1.1 failed').enhancedStatus).toBeUndefined()
  })

  it('reads an enhanced status without a code', () => {
    expect(parseSmtpReply('5.1.1 bad address')).toEqual({ enhancedStatus: '5.1.1', text: 'bad address', raw: '5.1.1 bad address' })
  })

  it('returns text alone for text without codes', () => {
    expect(parseSmtpReply('Connection timed out')).toEqual({ text: 'Connection timed out', raw: 'Connection timed out' })
    expect(parseSmtpReply('')).toEqual({ text: '', raw: '' })
  })

  it('never throws, on nonsense, binary or non-string input', () => {
    const weird: unknown[] = [
      undefined,
      null,
      42,
      {},
      {
        toString() {
          throw new Error('x')
        },
      },
      '\u0000\uffff\ud800',
      '5'.repeat(10_000),
      '550-'.repeat(5000),
      '\n'.repeat(10_000),
    ]
    for (const w of weird) expect(() => parseSmtpReply(w as string)).not.toThrow()
    expect(parseSmtpReply(null as unknown as string)).toEqual({ text: '', raw: '' })
  })

  it('caps the work on huge inputs and stays fast', () => {
    const huge = '550 5.1.1 ' + 'a '.repeat(2_000_000)
    const t0 = performance.now()
    const r = parseSmtpReply(huge)
    expect(performance.now() - t0).toBeLessThan(2000)
    expect(r.code).toBe(550)
    expect(r.text.length).toBeLessThanOrEqual(65_536)
    expect(r.raw).toBe(huge)
  })
})
