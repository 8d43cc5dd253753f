import { describe, expect, it } from 'vitest'
import { classifyReply } from '../src/index.js'

/**
 * Replies of providers and MTAs whose codes are published in tables (NetEase's HL:/MI:/RP:/WM:
 * codes; a Chinese MTA family's short replies; Exchange's connection limit). Each row is the reason
 * the code table gives; the point of most rows is that a sender-side refusal is never hard.
 */
const NETEASE = (tag: string, code = 450): string =>
  `${code} ${tag} 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1&hostid=mx14&time=1700000000`

const CASES: readonly [string, string][] = [
  [NETEASE('MI:CEL'), 'toomanyconn'],
  [NETEASE('MI:CCL'), 'toomanyconn'],
  [NETEASE('RP:CCL'), 'toomanyconn'],
  [NETEASE('MI:DMC', 451), 'toomanyconn'],
  [NETEASE('RP:DRC'), 'toomanyconn'],
  [NETEASE('MI:SFQ', 451), 'speeding'],
  [NETEASE('HL:IFQ', 554), 'speeding'],
  [NETEASE('HL:IHU', 554), 'blocked'],
  [NETEASE('HL:IPB', 554), 'blocked'],
  [NETEASE('WM:BLI'), 'blocked'],
  [NETEASE('WM:BLU'), 'rejected'],
  ['552 mail from invalid.', 'rejected'],
  ['553 host denies the sender.', 'rejected'],
  ['554 Black mail address.', 'rejected'],
  ['554 sender is unvalidated.', 'rejected'],
  ['554 mail address invalid.', 'rejected'],
  ['556 remote ip check error.', 'authfailure'],
  ['550 black ip.', 'blocked'],
  ['553 host denies relay.', 'norelaying'],
  ['552 message is too long.', 'mesgtoobig'],
  ['554 attachment is too long.', 'mesgtoobig'],
  ['550 user is locked.', 'suspend'],
  ['451 out of allow RCPT numbers.', 'toomanyconn'],
  ['552 too many same size mails.', 'spamdetected'],
  ['555 helohost error.', 'blocked'],
  ['421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel', 'toomanyconn'],
  // Exchange / Microsoft 365
  ['554 5.6.0 Corrupt message content; STOREDRV.Deliver.Exception:ConversionFailedException', 'contenterror'],
  ['550 5.7.1 Message rejected due to content restrictions', 'policyviolation'],
  // Google's published SMTP error texts
  [
    '421 4.7.0 The IP address sending this message does not have a PTR record, or the corresponding forward DNS entry does not point to the sending IP. To protect our users from spam, email sent from your IP address has been temporarily rate limited.',
    'requireptr',
  ],
  [
    '451 4.7.24 The SPF record of the sending domain has one or more suspicious entries. To protect our users from spam, email sent from your IP address has been temporarily rate limited.',
    'authfailure',
  ],
  ["421 4.7.29 Your email has been rate limited because you're not using a TLS connection.", 'failedstarttls'],
  [
    '421 4.7.28 Gmail has detected an unusual rate of email. To protect our users from spam, email has been temporarily rate limited.',
    'speeding',
  ],
  [
    '550 5.7.1 This message is not RFC 5322 compliant because it has duplicate headers. To reduce the amount of spam sent to Gmail, this message has been blocked.',
    'notcompliantrfc',
  ],
  [
    '550 5.7.1 Encoded-word syntax is not permitted in message header Subject. To reduce the amount of spam sent to Gmail, this message has been blocked.',
    'notcompliantrfc',
  ],
  [
    '550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibits the email that you sent.',
    'policyviolation',
  ],
  ['450 4.2.1 Peak SMTP relay limit exceeded for this customer.', 'speeding'],
  ['421 4.7.0 IP not in whitelist for RCPT domain, closing connection.', 'blocked'],
  ['550 5.5.3 Too many recipients for this sender.', 'toomanyconn'],
  ['550 5.7.1 This message violates example.com email policy. - gcdp <sessionid> - gsmtp', 'policyviolation'],
  ['421-4.7.0 This message is suspicious due to the nature of the content or the links within.', 'spamdetected'],
  ['550 5.7.1 Unauthenticated email is not accepted from this domain.', 'authfailure'],
  [
    '550-5.7.1 [188.117.59.209 11] Our system has detected that this message is 550-5.7.1 not RFC 2822 compliant. To reduce the amount of spam sent to Gmail, 550-5.7.1 this message has been blocked.',
    'notcompliantrfc',
  ],
]

describe('replies of providers named by code tables', () => {
  it.each(CASES)('%s -> %s, not hard', (text, reason) => {
    const c = classifyReply(text)
    expect(c.reason).toBe(reason)
    expect(c.hard).toBe(false)
  })

  it('a NetEase reply is not called spam for the help_spam link alone', () => {
    for (const tag of ['MI:CEL', 'MI:DMC', 'RP:DRC', 'WM:BLI', 'WM:BLU', 'HL:IHU']) {
      expect(classifyReply(NETEASE(tag)).reason).not.toBe('spamdetected')
    }
  })

  it("a sender domain's null MX (RFC 7505 4.2) is the sender's problem; the recipient's is hard", () => {
    expect(classifyReply('550 5.7.27 Sender address has null MX')).toMatchObject({ reason: 'rejected', hard: false })
    expect(classifyReply('556 5.1.10 Recipient address has null MX')).toMatchObject({ reason: 'notaccept', hard: true })
  })

  it("Postfix's address probe that looped at the recipient's MX is not an unknown user", () => {
    const c = classifyReply(
      '550 5.1.1 <someone@example.com>: Recipient address rejected: undeliverable address: mail for example.com loops back to myself',
    )
    expect(c).toMatchObject({ reason: 'systemerror', hard: false })
    expect(classifyReply('550 Sender has no A, AAAA, or MX DNS records. example.org')).toMatchObject({ reason: 'rejected', hard: false })
  })

  it('an invalid RFC 5321 address is hard only when it is the recipient', () => {
    expect(classifyReply('553 5.1.3 The recipient address <foo@@example.com> is not a valid RFC 5321 address.').hard).toBe(true)
    expect(classifyReply('553 5.1.7 The sender address <bad@@example.org> is not a valid RFC 5321 address.').hard).toBe(false)
  })

  it('a recipient that does not exist stays hard beside these rules', () => {
    // the older wording Japanese ISPs' notices quote
    expect(classifyReply('550 user name is unknown')).toMatchObject({ reason: 'userunknown', hard: true })
    expect(classifyReply('550 host name is unknown')).toMatchObject({ reason: 'hostunknown', hard: true })
    expect(classifyReply('552 mail box is full')).toMatchObject({ reason: 'mailboxfull', hard: false })
    expect(classifyReply('550 User not found: someone@163.com').hard).toBe(true)
    expect(classifyReply('550 5.1.1 Recipient address is invalid').hard).toBe(true)
  })
})
