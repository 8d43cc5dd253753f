import { describe, expect, it } from 'vitest'
import { classifyReply, parseBounceMessage, splitMbox } from '../src/index.js'

/** A Sendmail-style DSN for one recipient, with the given Status line and Diagnostic-Code. */
function dsn(opts: { status: string; diagnostic: string; notice?: string; boundary?: string }): string {
  const b = opts.boundary ?? 'B0UNDARY.1/mx.example.net'
  return [
    'From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>',
    'To: <alice@example.org>',
    'Subject: Returned mail: see transcript for details',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain',
    '',
    opts.notice ?? 'The original message was received at Mon, 2 Mar 2026 10:00:00 +0000',
    '',
    `--${b}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    'Final-Recipient: rfc822; bob@example.com',
    'Action: failed',
    `Status: ${opts.status}`,
    `Diagnostic-Code: smtp; ${opts.diagnostic}`,
    '',
    `--${b}--`,
    '',
  ].join('\n')
}

describe('unknown-user answers and the stage they came at', () => {
  it('is userunknown (hard) when the notice says the answer came at RCPT TO', async () => {
    const r = await parseBounceMessage(
      dsn({
        status: '5.0.0',
        diagnostic: '550 <bob@example.com>: User unknown',
        notice: '<bob@example.com>: host mx.example.com said: 550 User unknown (in reply to RCPT TO command)',
      }),
    )
    expect(r.recipients[0]!.classification.reason).toBe('userunknown')
    expect(r.recipients[0]!.classification.hard).toBe(true)
  })

  it('is filtered (soft) when the stage is unknown and no x.1.x status backs it', async () => {
    const r = await parseBounceMessage(dsn({ status: '5.0.0', diagnostic: '550 bob@example.com... No such user' }))
    expect(r.recipients[0]!.classification.reason).toBe('filtered')
    expect(r.recipients[0]!.classification.hard).toBe(false)
  })

  it('reads "User <a@b> not found" (an address inside the phrase) as unknown user, and the same said of the sender as rejected', async () => {
    const a = await parseBounceMessage(
      dsn({
        status: '5.0.0',
        diagnostic: '550 User <bob@example.com> not found',
        notice: '<bob@example.com>: host mx.example.com said: 550 User <bob@example.com> not found (in reply to RCPT TO command)',
      }),
    )
    expect(a.recipients[0]!.classification.reason).toBe('userunknown')
    const b = await parseBounceMessage(dsn({ status: '5.0.0', diagnostic: '550 Sender address <alice@example.org> unknown' }))
    expect(b.recipients[0]!.classification.reason).toBe('rejected')
    expect(b.recipients[0]!.classification.hard).toBe(false)
  })

  it('is suspend when the Status field itself says the mailbox is disabled', async () => {
    const r = await parseBounceMessage(
      dsn({ status: '5.2.1 (mailbox disabled, not accepting messages)', diagnostic: '550 5.2.1 <bob@example.com>... User Unknown' }),
    )
    expect(r.recipients[0]!.classification.reason).toBe('suspend')
    expect(r.recipients[0]!.classification.hard).toBe(false)
  })

  it('never calls a full mailbox a dead address: an x.2.2 status beats a vague "mailbox unavailable"', async () => {
    const r = await parseBounceMessage(dsn({ status: '5.2.2', diagnostic: '552 Requested action not taken: mailbox unavailable' }))
    expect(r.recipients[0]!.classification.reason).toBe('mailboxfull')
    expect(r.recipients[0]!.classification.hard).toBe(false)
  })

  it('takes a temporary NXDOMAIN as a network trouble, and Action: expired as expired', async () => {
    const a = await parseBounceMessage(
      dsn({ status: '4.0.0', diagnostic: "DNS Error: DNS type 'mx' lookup of example.com responded with code NXDOMAIN" }),
    )
    expect(a.recipients[0]!.classification.reason).toBe('networkerror')
    const b = await parseBounceMessage(
      dsn({ status: '4.4.1', diagnostic: 'Connection timed out' }).replace('Action: failed', 'Action: expired'),
    )
    expect(b.recipients[0]!.classification.reason).toBe('expired')
  })
})

describe('several recipients of one Sendmail DSN', () => {
  it("takes each recipient's SMTP command from its own transcript lines", async () => {
    const b = 'MULTI.3/mx.example.net'
    const msg = [
      'From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>',
      'To: <alice@example.org>',
      'Subject: Returned mail: see transcript for details',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`,
      '',
      `--${b}`,
      'Content-Type: text/plain',
      '',
      '   ----- The following addresses had permanent fatal errors -----',
      '<bob@example.com>',
      '<carol@example.com>',
      '',
      '   ----- Transcript of session follows -----',
      '... while talking to mx.example.com.:',
      '>>> RCPT To:<bob@example.com>',
      '<<< 550 No such user here',
      '>>> DATA',
      '<<< 550 Unknown user carol@example.com',
      '',
      `--${b}`,
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.net',
      '',
      'Final-Recipient: RFC822; bob@example.com',
      'Action: failed',
      'Status: 5.0.0',
      'Diagnostic-Code: SMTP; 550 No such user here',
      '',
      'Final-Recipient: RFC822; carol@example.com',
      'Action: failed',
      'Status: 5.0.0',
      'Diagnostic-Code: SMTP; 550 Unknown user carol@example.com',
      '',
      `--${b}--`,
      '',
    ].join('\n')
    const r = await parseBounceMessage(msg)
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([
      ['bob@example.com', 'userunknown'], // refused at RCPT TO: the mailbox does not exist
      ['carol@example.com', 'filtered'], // refused after DATA: a filter, not a dead address
    ])
  })
})

describe('bounces inside other messages', () => {
  it('opens a bounce forwarded inline with "> " quoting', async () => {
    const inner = dsn({ status: '5.1.1', diagnostic: '550 5.1.1 <bob@example.com>... User unknown' })
    const fwd = [
      'From: Alice <alice@example.org>',
      'To: postmaster@example.org',
      'Subject: Fwd: Returned mail',
      '',
      'Can you look at this?',
      '',
      'Begin forwarded message:',
      '',
      ...inner.split('\n').map((l) => (l === '' ? '>' : `> ${l}`)),
    ].join('\n')
    const r = await parseBounceMessage(fwd)
    expect(r.recipients.map((x) => x.recipient)).toEqual(['bob@example.com'])
    expect(r.recipients[0]!.classification.reason).toBe('userunknown')
  })

  it('opens a multipart/report attached as a message of its own', async () => {
    const inner = dsn({ status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full', boundary: 'INNER.2' })
    const outer = [
      'From: MAILER-DAEMON@relay.example.net',
      'To: alice@example.org',
      'Subject: Returned mail',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="OUTER.1"',
      '',
      '--OUTER.1',
      'Content-Type: text/plain',
      '',
      '----- The following addresses had permanent delivery errors -----',
      '',
      '--OUTER.1',
      'Content-Type: message/rfc822',
      '',
      inner,
      '--OUTER.1--',
      '',
    ].join('\n')
    const r = await parseBounceMessage(outer)
    expect(r.recipients.map((x) => x.recipient)).toEqual(['bob@example.com'])
    expect(r.recipients[0]!.classification.reason).toBe('mailboxfull')
  })
})

describe('recipients of text notices', () => {
  const notice = (body: string[]): string =>
    ['From: MAILER-DAEMON@mx.example.net', 'To: alice@example.org', 'Subject: Undelivered Mail', '', ...body, ''].join('\n')

  it('reads one recipient per "address reason" line', async () => {
    const r = await parseBounceMessage(
      notice([
        'A message that you sent could not be delivered to one or more of its recipients.',
        'bob@example.com Invalid Address, ERROR_CODE :550, ERROR_CODE :Requested action not taken: mailbox unavailable',
        'carol@example.net Mailbox is full, ERROR_CODE :552, ERROR_CODE :Requested mail action aborted: exceeded storage allocation',
      ]),
    )
    expect(r.recipients.map((x) => x.recipient)).toEqual(['bob@example.com', 'carol@example.net'])
    expect(r.recipients[1]!.classification.reason).toBe('mailboxfull')
  })

  it('reads each recipient of an old Sendmail transcript from its "554 <a>... reason" line', async () => {
    const r = await parseBounceMessage(
      notice([
        '   ----- Transcript of session follows -----',
        '550 example.invalid (smtp)... 550 Host unknown',
        '554 <bob@example.invalid>... 550 Host unknown (Authoritative answer from name server)',
        'While talking to mx.example.com:',
        '>>> RCPT To:<carol@example.com>',
        '<<< 550 No such user here',
        '550 <carol@example.com>... User unknown',
        '   ----- Unsent message follows -----',
      ]),
    )
    expect(r.recipients.map((x) => x.recipient)).toEqual(['bob@example.invalid', 'carol@example.com'])
    expect(r.recipients[0]!.classification.reason).toBe('hostunknown')
    expect(r.recipients[1]!.classification.reason).toBe('userunknown') // the transcript shows RCPT TO
  })

  it('reads the whole notice when the lines after the address say nothing (error given above the recipient)', async () => {
    const r = await parseBounceMessage(
      notice([
        'I was not able to deliver your message to the following addresses.',
        'Error message below:',
        '550 - Requested action not taken: no such user here',
        '',
        'Message details:',
        '  Subject: Hello',
        '  RCPT TO: bob@example.com',
        '  Size (in bytes): 1024',
      ]),
    )
    expect(r.recipients.map((x) => x.recipient)).toEqual(['bob@example.com'])
    expect(['filtered', 'userunknown']).toContain(r.recipients[0]!.classification.reason)
  })

  it('reads the SMTP state Gmail appends to the remote reply: 14 is RCPT TO (hard), 18 is after DATA (filtered)', async () => {
    const g = (state: number): string =>
      notice([
        'Delivery to the following recipient failed permanently:',
        '',
        '     bob@example.com',
        '',
        'Technical details of permanent failure:',
        'Google tried to deliver your message, but it was rejected by the recipient domain. The error that the other server returned was:',
        `550 550 Unknown user bob@example.com (state ${state}).`,
      ])
    expect((await parseBounceMessage(g(14))).recipients[0]!.classification.reason).toBe('userunknown')
    expect((await parseBounceMessage(g(18))).recipients[0]!.classification.reason).toBe('filtered')
  })

  it('reads several "There was an error delivering your mail to <a@b>." paragraphs (DragonFly)', async () => {
    const r = await parseBounceMessage(
      notice([
        'There was an error delivering your mail to <bob@example.com>.',
        '',
        'mx.example.com [192.0.2.1] did not like our RCPT TO:',
        '550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown',
        '',
        'There was an error delivering your mail to <carol@example.net>.',
        '',
        'mx.example.net [192.0.2.2] did not like our RCPT TO:',
        '552 5.2.2 <carol@example.net>: Mailbox full',
      ]),
    )
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([
      ['bob@example.com', 'userunknown'],
      ['carol@example.net', 'mailboxfull'],
    ])
  })

  it('joins the two sections Exchange 2007 writes for each recipient (words, then the server reply)', async () => {
    const r = await parseBounceMessage(
      notice([
        'Delivery has failed to these recipients or distribution lists:',
        '',
        'bob@example.com',
        'Please check the e-mail address and try resending this message.',
        '',
        'carol@example.net',
        'Microsoft Exchange will not try to redeliver this message for you.',
        '',
        'Diagnostic information for administrators:',
        '',
        'bob@example.com',
        '#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##',
        '',
        'carol@example.net',
        '#550 5.2.2 STOREDRV.Deliver; mailbox full ##',
      ]),
    )
    expect(r.recipients.map((x) => [x.recipient, x.classification.reason])).toEqual([
      ['bob@example.com', 'userunknown'],
      ['carol@example.net', 'mailboxfull'],
    ])
  })

  it('keeps the words after an address on its own line', async () => {
    const r = await parseBounceMessage(
      notice(['---The following addresses had delivery errors---', '', 'bob@example.com [User unknown]', '']),
    )
    expect(r.recipients[0]!.diagnosticCode).toContain('User unknown')
  })
})

describe('mbox separators', () => {
  it('starts a message at a full ctime separator even without a blank line before it', () => {
    const box =
      'From a@example.org Thu Jul  2 12:05:05 2020\nSubject: one\n\nbody\n--b--\nFrom b@example.org Thu Jul  2 12:06:05 2020\nSubject: two\n\nbody\nFrom here on, text\n'
    const msgs = splitMbox(box)
    expect(msgs).toHaveLength(2)
    expect(msgs[1]).toContain('From here on, text')
  })
})

describe('replies that refuse a sender are not dead addresses', () => {
  it.each([
    ['550 5.7.1 The recipient does not accept mail from example.org', 'filtered'],
    ['550 5.7.1 This user is not accepting mail from your domain', 'filtered'],
    ['550 5.7.1 Because the recipient is not accepting mail with attachments', 'policyviolation'],
    ['553 5.1.8 Invalid domain in sender address', 'rejected'],
    ['550 Unknown user in MAIL FROM', 'rejected'],
    ['550 DNS lookup of sender domain failed, domain does not exist', 'rejected'],
    ['553 5.1.8 <bob@example.org>... Domain unknown', 'rejected'],
    ['550 5.7.1 Client host rejected: cannot find your hostname, unknown host', 'requireptr'],
  ])('%s', (text, reason) => {
    const c = classifyReply(text)
    expect(c.reason).toBe(reason)
    expect(c.hard).toBe(false)
  })
})
