/**
 * The mailbox providers the demo's SMTP server plays, with the replies their real servers send.
 * Domains are under the reserved `.test` TLD and everything is routed to one local server, so the
 * demo needs no DNS and no network. The reply texts are real ones (host names, IPs and tracking ids
 * changed); the Gmail ones are multi-line, as Gmail sends them.
 *
 * A real provider blocks a whole IP, not one recipient; here each behaviour is tied to one mailbox
 * so that one campaign shows them all side by side.
 */

/** One SMTP reply, possibly multi-line (each line already carries its enhanced code, as Gmail's do). */
export interface ScriptedReply {
  code: number
  lines: string[]
}

/** What a mailbox does: a reply per attempt (the last one repeats); `accept` delivers. */
export interface MailboxScript {
  /** Answer at RCPT TO (`rcpt`) or after the message data (`data`). @default 'rcpt' */
  phase?: 'rcpt' | 'data'
  replies: Array<ScriptedReply | 'accept'>
  /** What a reader should expect, for the demo's legend. */
  story: string
}

/** A provider: its domain, the mailboxes with a scripted behaviour, and its DMARC rejection text. */
export interface Provider {
  name: string
  domain: string
  mailboxes: Record<string, MailboxScript>
  /** Reply to a message whose From domain fails DMARC (see `UNAUTHENTICATED_DOMAINS`). */
  dmarcReject?: (fromDomain: string) => ScriptedReply
}

/** The IP the replies quote as "your IP" (TEST-NET-3). */
export const DEMO_SENDER_IP = '203.0.113.25'

/** From domains that have `p=reject` and no DKIM: every provider refuses them with its DMARC text. */
export const UNAUTHENTICATED_DOMAINS = new Set(['partner-news.test'])

const gsmtp = (id: string) => `${id} - gsmtp`

/** The providers of the demo. Unlisted mailboxes at these domains accept mail. */
export const PROVIDERS: Provider[] = [
  {
    name: 'Gmail',
    domain: 'gmail.test',
    mailboxes: {
      'old.friend': {
        story: 'account deleted: Gmail NoSuchUser',
        replies: [
          {
            code: 550,
            lines: [
              '5.1.1 The email account that you tried to reach does not exist. Please try',
              "5.1.1 double-checking the recipient's email address for typos or",
              '5.1.1 unnecessary spaces. For more information, go to',
              `5.1.1  https://support.google.com/mail/?p=NoSuchUser ${gsmtp('d2e1a72fcca58-7398a3bd2b3si1234561b3a.321')}`,
            ],
          },
        ],
      },
      bruno: {
        story: 'Gmail rate-limits our IP once (421 4.7.28), then accepts',
        replies: [
          {
            code: 421,
            lines: [
              `4.7.28 [${DEMO_SENDER_IP}      15] Our system has detected an unusual rate of`,
              '4.7.28 unsolicited mail originating from your IP address. To protect our',
              '4.7.28 users from spam, mail sent from your IP address has been temporarily',
              '4.7.28 rate limited. Please visit',
              '4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to',
              `4.7.28 review our Bulk Email Senders Guidelines. ${gsmtp('a640c23a62f3a-ab6c1b2c3d4si1234566b.412')}`,
            ],
          },
          'accept',
        ],
      },
      ivy: {
        story: 'mailbox over quota for days (552 5.2.2): soft, escalated when it persists',
        replies: [
          {
            code: 552,
            lines: [
              '5.2.2 The email account that you tried to reach is over quota. Please direct',
              '5.2.2 the recipient to',
              `5.2.2  https://support.google.com/mail/?p=OverQuotaPerm ${gsmtp('5b1f17b1804b1-43cd2f7e1b2si1234567f9.95')}`,
            ],
          },
        ],
      },
    },
    dmarcReject: (fromDomain) => ({
      code: 550,
      lines: [
        `5.7.26 Unauthenticated email from ${fromDomain} is not accepted due to`,
        "5.7.26 domain's DMARC policy. Please contact the administrator of",
        `5.7.26 ${fromDomain} domain if this was a legitimate mail. To learn`,
        '5.7.26 about the DMARC initiative, go to',
        `5.7.26  https://support.google.com/mail/?p=DmarcRejection ${gsmtp('98e67ed59e1d1-2ff4e2b1c3asi1234569a91.123')}`,
      ],
    }),
  },
  {
    name: 'Outlook.com',
    domain: 'outlook.test',
    mailboxes: {
      gone: {
        story: 'Outlook.com: mailbox unavailable (unknown user)',
        replies: [
          {
            code: 550,
            lines: [
              '5.5.0 Requested action not taken: mailbox unavailable. [AM4PEPF00027A5F.eurprd04.prod.outlook.com 2025-03-03T09:00:01.123Z 08DD5A1234567890]',
            ],
          },
        ],
      },
      dan: {
        story: 'our IP is on Spamhaus: the block is about us, not about dan',
        replies: [
          {
            code: 550,
            lines: [
              `5.7.1 Service unavailable, Client host [${DEMO_SENDER_IP}] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/${DEMO_SENDER_IP} (AS3130). [AM4PEPF00027A5F.eurprd04.prod.outlook.com 2025-03-03T09:00:02.456Z 08DD5A1234567891]`,
            ],
          },
        ],
      },
      erin: {
        story: 'Microsoft reputation block S3150: about us, not about erin',
        replies: [
          {
            code: 550,
            lines: [
              `5.7.1 Unfortunately, messages from [${DEMO_SENDER_IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM4PEPF00027A5F.eurprd04.prod.outlook.com 2025-03-03T09:00:03.789Z 08DD5A1234567892]`,
            ],
          },
        ],
      },
    },
  },
  {
    name: 'Yahoo',
    domain: 'yahoo.test',
    mailboxes: {
      grace: {
        story: 'Yahoo defers us once for volume (TSS04), then accepts',
        replies: [
          {
            code: 421,
            lines: [
              `4.7.0 [TSS04] Messages from ${DEMO_SENDER_IP} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes`,
            ],
          },
          'accept',
        ],
      },
      hank: {
        story: 'account disabled (554.30): soft at first, escalated when it persists',
        phase: 'data',
        replies: [
          {
            code: 554,
            lines: [
              'delivery error: dd Sorry, your message to hank@yahoo.test cannot be delivered. This mailbox is disabled (554.30). - mta4471.mail.bf1.yahoo.com',
            ],
          },
        ],
      },
    },
  },
  {
    name: 'a small ISP with greylisting',
    domain: 'smallbiz.test',
    mailboxes: {
      kim: {
        story: 'postgrey greylists the first attempt, accepts the retry',
        replies: [
          {
            code: 451,
            lines: [
              '4.7.1 <kim@smallbiz.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/smallbiz.test.html',
            ],
          },
          'accept',
        ],
      },
    },
  },
]

/** The script of an address, if it has one. */
export function scriptFor(address: string): MailboxScript | undefined {
  const at = address.lastIndexOf('@')
  const local = address.slice(0, at).toLowerCase()
  const domain = address.slice(at + 1).toLowerCase()
  return PROVIDERS.find((p) => p.domain === domain)?.mailboxes[local]
}

/** The provider of an address's domain, if the demo plays it. */
export function providerFor(address: string): Provider | undefined {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase()
  return PROVIDERS.find((p) => p.domain === domain)
}
