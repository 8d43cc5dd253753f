import { describe, expect, it } from 'vitest'
import {
  BOUNCE_REASONS,
  BounceGuardError,
  classifyReply,
  createClassifier,
  HARD_REASONS,
  parseSmtpReply,
  type BounceReason,
} from '@bounce-guard/core'

const SENDER_SIDE: BounceReason[] = [
  'blocked',
  'badreputation',
  'authfailure',
  'requireptr',
  'speeding',
  'toomanyconn',
  'spamdetected',
  'virusdetected',
  'policyviolation',
  'mesgtoobig',
  'contenterror',
  'rejected',
  'norelaying',
  'securityerror',
]

describe('classifyReply: invariants', () => {
  const samples = [
    '550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    '450 4.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table',
    '550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
    '552 5.2.2 Mailbox full',
    '550 5.7.26 This mail has been blocked because the sender is unauthenticated.',
    '421 4.7.0 Too many concurrent SMTP connections; please try again later',
    'Connection timed out',
    '556 5.1.10 Recipient address has null MX',
    '450 4.1.10 Recipient address has null MX',
    'gibberish',
  ]
  it('hard only for userunknown, hostunknown, hasmoved, notaccept, and only when permanent', () => {
    for (const s of samples) {
      const c = classifyReply(s)
      if (c.hard) {
        expect(HARD_REASONS.has(c.reason)).toBe(true)
        expect(c.permanent).toBe(true)
      }
      expect(BOUNCE_REASONS).toContain(c.reason)
      expect(c.ruleId).toBeTruthy()
    }
  })

  it('permanent follows the reply class, not the reason', () => {
    expect(classifyReply('550 5.1.1 User unknown')).toMatchObject({
      reason: 'userunknown',
      permanent: true,
      hard: true,
      scope: 'recipient',
    })
    expect(classifyReply('450 4.1.1 User unknown')).toMatchObject({ reason: 'userunknown', permanent: false, hard: false })
    expect(classifyReply('556 5.1.10 Recipient address has null MX')).toMatchObject({ reason: 'notaccept', hard: true, scope: 'domain' })
    expect(classifyReply('451 4.3.2 This host accepts no mail right now')).toMatchObject({
      reason: 'notaccept',
      hard: false,
      permanent: false,
    })
  })

  it('never makes a sender- or message-caused 5xx hard', () => {
    const replies = [
      '550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1',
      '550-5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. - gsmtp',
      '550 5.7.515 Access denied, sending domain [EXAMPLE.COM] does not meet the required authentication level.',
      '550 5.7.25 The IP address sending this message does not have a PTR record setup',
      '552 5.3.4 Message size exceeds fixed limit',
      '550 5.7.1 Message rejected: virus found',
      "554 5.7.1 Your access to this mail system has been rejected due to the sending MTA's poor reputation.",
      '550 5.4.5 Daily user sending quota exceeded.',
    ]
    for (const r of replies) {
      const c = classifyReply(r)
      expect(c.hard, r).toBe(false)
      expect(c.permanent, r).toBe(true)
      expect(SENDER_SIDE, r).toContain(c.reason)
    }
  })

  it("never reads an AUTH refusal or the sender's own account as a dead recipient", () => {
    // dead-address words about the sender: an AUTH reply (530/534/535/538, RFC 4954), or the
    // sender's account or mailbox named as their subject
    const replies = [
      '535 5.7.8 Error: authentication failed: user [bob@example.com] not found',
      '535 Authentication failed: user invalid',
      '554 5.7.1 Sender user invalid',
      "553 MAIL FROM account doesn't exist",
      '550 From mailbox not available',
      '551 5.7.1 Sender account [bob@example.com] not found',
    ]
    for (const r of replies) {
      const c = classifyReply(r)
      expect(c.hard, r).toBe(false)
      expect(c.scope, r).toBe('sender')
    }
    // the same words about the recipient stay hard
    expect(classifyReply('550 5.1.1 <bob@example.com>: user [bob@example.com] not found').hard).toBe(true)
    expect(classifyReply('550 Mailbox not available').hard).toBe(true)
  })

  it('never throws and gives undefined for nothing', () => {
    expect(classifyReply('')).toMatchObject({ reason: 'undefined', ruleId: 'none', hard: false, permanent: false })
    for (const w of [null, undefined, 5, {}, '\u0000'.repeat(1000)]) expect(() => classifyReply(w as string)).not.toThrow()
    expect(classifyReply({ text: 42, raw: null, code: 'x' } as unknown as string).reason).toBe('undefined')
  })
})

describe('classifyReply: the DESIGN.md refinements', () => {
  it('Microsoft 550 5.4.1 "Recipient address rejected: Access denied" is an unknown user', () => {
    const c = classifyReply(
      '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT036.eop-EUR03.prod.protection.outlook.com]',
    )
    expect(c).toMatchObject({ reason: 'userunknown', hard: true, provider: 'microsoft', ruleId: 'microsoft.access-denied-user' })
  })
  it('5.4.1 without that text is a routing/network problem, not a dead user', () => {
    const c = classifyReply('550 5.4.1 No answer from host mx.example.com')
    expect(c.reason).toBe('networkerror')
    expect(c.hard).toBe(false)
    expect(classifyReply('550 5.4.1 Host or domain name not found').reason).toBe('hostunknown')
  })
  it("a 550 5.7.1 policy block is never hard and is the sender's or the message's problem", () => {
    for (const r of [
      '550 5.7.1 Delivery not authorized, message refused',
      '550 5.7.1 Message rejected due to local policy',
      '550 5.7.1 Access denied',
      '550 5.7.1 Client host rejected: cannot find your hostname',
    ]) {
      const c = classifyReply(r)
      expect(c.hard, r).toBe(false)
      expect(['sender', 'message']).toContain(c.scope)
    }
  })
  it('552 5.2.2 mailbox full is soft, like 452 4.2.2', () => {
    expect(classifyReply('552 5.2.2 <a@example.com>: Recipient address rejected: Mailbox full')).toMatchObject({
      reason: 'mailboxfull',
      hard: false,
      permanent: true,
      scope: 'recipient',
    })
    expect(classifyReply('452 4.2.2 Mailbox full')).toMatchObject({ reason: 'mailboxfull', hard: false, permanent: false })
  })
})

describe('classifyReply: text beats codes', () => {
  it('Orange sends quota as 5.1.1, Yandex unknown users as 5.7.1', () => {
    expect(classifyReply('552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417')).toMatchObject({
      reason: 'mailboxfull',
      hard: false,
      provider: 'orange',
    })
    expect(classifyReply('550 5.7.1 No such user!')).toMatchObject({ reason: 'userunknown', hard: true, provider: 'yandex' })
  })
  it('falls back to the RFC 3463 table, then the basic code', () => {
    expect(classifyReply('550 5.1.2 <a@nowhere.invalid>')).toMatchObject({ reason: 'hostunknown', ruleId: 'rfc3463.5.1.2' })
    expect(classifyReply('550 5.7.650 whatever')).toMatchObject({ reason: 'securityerror', ruleId: 'rfc3463.5.7.0' })
    expect(classifyReply('503 out of order')).toMatchObject({ reason: 'syntaxerror', ruleId: 'basic.503' })
    expect(classifyReply('550 nope')).toMatchObject({ reason: 'onhold', hard: false, ruleId: 'basic.550' })
    expect(classifyReply('250 2.0.0 Ok: queued')).toMatchObject({ reason: 'delivered', permanent: false })
  })
  it('reads bounce-message texts without codes', () => {
    expect(
      classifyReply('Host or domain name not found. Name service error for name=nowhere.invalid type=A: Host not found'),
    ).toMatchObject({ reason: 'hostunknown', hard: true })
    expect(classifyReply('connect to mx.example.com[192.0.2.1]:25: Connection timed out')).toMatchObject({
      reason: 'networkerror',
      hard: false,
      scope: 'network',
    })
    expect(classifyReply('Retry time exceeded')).toMatchObject({ reason: 'expired' })
  })
  it('uses the prefix before the code when the reply text alone decides nothing', () => {
    expect(
      classifyReply('host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@example.com>: User unknown (in reply to RCPT TO command)').reason,
    ).toBe('userunknown')
  })
  it('finds the text after its code when the text repeats the host name in the prefix', () => {
    // Postfix's "refused to talk to me" with a greeting that is only the host's name (an IronPort
    // refusing the client at connect): the prefix's words decide, on both parse paths
    const reply = 'host mx.example.org[192.0.2.9] refused to talk to me: 554 mx.example.org'
    for (const input of [reply, parseSmtpReply(reply)]) {
      expect(classifyReply(input)).toMatchObject({ reason: 'blocked', scope: 'sender', hard: false })
    }
    expect(classifyReply('host mx.example.org[192.0.2.9] said: 554 mx.example.org').reason).toBe('onhold')
  })
})

describe('classifyReply: attribution', () => {
  it('takes the provider from the text, the remote MTA, then the recipient domain', () => {
    expect(classifyReply('550 5.1.1 unknown - gsmtp').provider).toBe('gmail')
    expect(classifyReply('550 5.1.1 User unknown', { remoteMta: 'ALT1.ASPMX.L.GOOGLE.COM.' }).provider).toBe('gmail')
    expect(classifyReply('550 5.1.1 User unknown', { recipientDomain: 'hotmail.co.uk' }).provider).toBe('microsoft')
    expect(
      classifyReply('550 5.1.1 User unknown', { remoteMta: 'example-com.mail.protection.outlook.com', recipientDomain: 'example.com' })
        .provider,
    ).toBe('microsoft')
    expect(classifyReply('550 5.1.1 User unknown', { recipientDomain: 'example.com' }).provider).toBeUndefined()
    expect(classifyReply('550 5.1.1 User unknown', { remoteMta: 'mx1.example.com', recipientDomain: 'yahoo.com' }).provider).toBe('yahoo')
  })
  it('names the blocklist', () => {
    expect(classifyReply('554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.spamcop.net')).toMatchObject({
      reason: 'blocked',
      blocklist: 'spamcop',
      scope: 'sender',
    })
    expect(classifyReply('550 5.7.1 blocked using dnsbl-1.uceprotect.net').blocklist).toBe('uceprotect')
    expect(
      classifyReply("553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list"),
    ).toMatchObject({ blocklist: 'spamhaus', provider: 'yahoo' })
  })
  it('extracts retryAfter in seconds when the text states a delay', () => {
    expect(classifyReply('451 4.7.1 Greylisted, please try again in 5 minutes').retryAfter).toBe(300)
    expect(classifyReply('421 4.7.0 Rate limit exceeded, retry after 3600 seconds').retryAfter).toBe(3600)
    expect(classifyReply('450 4.2.1 Too many messages, wait 2 hours').retryAfter).toBe(7200)
    expect(classifyReply('421 4.7.0 Try again later').retryAfter).toBeUndefined()
  })
})

describe('createClassifier', () => {
  it('puts user rules ahead of the built-in ones', () => {
    const c = createClassifier({
      rules: [
        { id: 'acme.quota', reason: 'mailboxfull', keywords: ['acme storage exhausted'], examples: [] },
        { id: 'acme.550', reason: 'blocked', codes: [550], pattern: /^acme gate\b/ },
      ],
    })
    expect(classifyReply('550 5.1.1 Acme storage exhausted for user', undefined, { classifier: c })).toMatchObject({
      reason: 'mailboxfull',
      ruleId: 'acme.quota',
      hard: false,
    })
    expect(c.classify('550 5.1.1 ACME gate says no')).toMatchObject({ reason: 'blocked', ruleId: 'acme.550' })
    expect(c.classify('550 5.1.1 User unknown').ruleId).toBe('generic.user-unknown')
  })
  it('rejects malformed rules and non-linear patterns with EINVALID_RULE', () => {
    const bad: unknown[] = [
      null,
      { id: '', reason: 'blocked', keywords: ['x'] },
      { id: 'a', reason: 'nope', keywords: ['x'] },
      { id: 'a', reason: 'blocked' },
      { id: 'a', reason: 'blocked', keywords: [''] },
      { id: 'a', reason: 'blocked', status: ['5.1'] },
      { id: 'a', reason: 'blocked', keywords: ['x'], hard: true },
      { id: 'a', reason: 'blocked', pattern: /(a+)+$/ },
      { id: 'a', reason: 'blocked', pattern: /(?:x|x)*y/ },
      { id: 'a', reason: 'blocked', pattern: /^(\w+\s?)*$/ },
      { id: 'a', reason: 'blocked', pattern: 'not a regexp' },
    ]
    for (const rule of bad) {
      let err: unknown
      try {
        createClassifier({ rules: [rule as never] })
      } catch (e) {
        err = e
      }
      expect(err, JSON.stringify(String(rule && (rule as { pattern?: unknown }).pattern))).toBeInstanceOf(BounceGuardError)
      expect((err as BounceGuardError).code).toBe('EINVALID_RULE')
    }
    expect(() =>
      createClassifier({
        rules: [
          { id: 'd', reason: 'blocked', keywords: ['x'], examples: [] },
          { id: 'd', reason: 'blocked', keywords: ['y'], examples: [] },
        ],
      }),
    ).toThrow(/duplicate/)
  })
  it('a parsed SmtpReply and its string classify alike', () => {
    const s = "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's\n550 5.7.26 DMARC policy. - gsmtp"
    expect(classifyReply(parseSmtpReply(s))).toEqual(classifyReply(s))
  })
})
