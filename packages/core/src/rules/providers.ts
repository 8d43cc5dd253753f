/**
 * Provider-specific rules: replies whose wording or code belongs to one mailbox provider or filter.
 * They run before the generic texts because providers reuse codes with their own meanings
 * (Gmail's 5.7.27/5.7.29/5.7.30, Microsoft's 5.4.1 for unknown users, Orange's 5.1.1 for a full
 * mailbox, Yandex's 5.7.1 for unknown users). Facts come from the providers' published error pages
 * and real bounces.
 */
import type { ReplyRule } from './types.js'

const gmail: ReplyRule[] = [
  {
    id: 'gmail.user-unknown',
    provider: 'gmail',
    reason: 'userunknown',
    keywords: ['the email account that you tried to reach does not exist', 'p=nosuchuser'],
    examples: [
      "550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking the recipient's email address for typos or\n550-5.1.1 unnecessary spaces. For more information, go to\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser d2si1234567qkb.123 - gsmtp",
      "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser 6a1803df08f44-6ef1234abcdsi123456 - gsmtp",
    ],
  },
  {
    id: 'gmail.domain-not-found',
    provider: 'gmail',
    reason: 'hostunknown',
    keywords: ["we weren't able to find the recipient domain"],
    examples: [
      "553-5.1.2 We weren't able to find the recipient domain. Please check for any\n553-5.1.2 spelling errors, and make sure you didn't enter any spaces, periods,\n553 5.1.2 or other punctuation after the recipient's email address. a1si3349185pfn.11 - gsmtp",
    ],
  },
  {
    id: 'gmail.invalid-address',
    provider: 'gmail',
    reason: 'userunknown',
    keywords: ['is not a valid rfc-5321 address', 'is not a valid rfc 5321 address'],
    // the same words name the sender's address in 553 5.1.7 "The sender address ... is not a valid"
    pattern: /recipient address/,
    examples: ['553-5.1.3 The recipient address <foo@@example.com> is not a valid RFC-5321\n553 5.1.3 address. z5si1234567pgn.12 - gsmtp'],
  },
  {
    id: 'gmail.disabled',
    provider: 'gmail',
    reason: 'suspend',
    keywords: ['account that you tried to reach is disabled', 'account that you tried to reach is inactive', 'p=disableduser'],
    examples: [
      '550-5.2.1 The email account that you tried to reach is disabled. Learn more at\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser h8si1234567iof.101 - gsmtp',
      '550 5.2.1 The email account that you tried to reach is inactive. For more information, go to https://support.google.com/mail/?p=DisabledUser - gsmtp',
    ],
  },
  {
    id: 'gmail.over-quota',
    provider: 'gmail',
    reason: 'mailboxfull',
    keywords: [
      'account that you tried to reach is over quota',
      "recipient's inbox is out of storage space",
      'p=overquotatemp',
      'p=overquotaperm',
    ],
    examples: [
      '452-4.2.2 The email account that you tried to reach is over quota. Please direct\n452-4.2.2 the recipient to\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp e12si1234567ywd.152 - gsmtp',
      "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\n452-4.2.2 recipient to\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp 5b1f17b1804b1-42cb1234si123456 - gsmtp",
      '552-5.2.2 The email account that you tried to reach is over quota and inactive. https://support.google.com/mail/?p=OverQuotaPerm - gsmtp',
    ],
  },
  {
    id: 'gmail.receiving-rate',
    provider: 'gmail',
    reason: 'speeding',
    scope: 'recipient',
    keywords: ['is receiving mail at a rate that prevents additional messages', 'is receiving mail too quickly'],
    examples: [
      '450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n450-4.2.1 prevents additional messages from being delivered. Please resend your\n450-4.2.1 message at a later time. If the user is able to receive mail at that\n450-4.2.1 time, your message will be delivered. For more information, go to\n450 4.2.1  https://support.google.com/mail/?p=ReceivingRate a5si1234567pgj.75 - gsmtp',
    ],
  },
  {
    id: 'gmail.sending-limit',
    provider: 'gmail',
    reason: 'speeding',
    keywords: [
      'daily user sending quota exceeded',
      'daily smtp relay limit exceeded',
      'you have reached a limit for sending mail',
      'user has exceeded their daily sending limit',
      'smtp relay limit exceeded',
    ],
    examples: [
      '550 5.4.5 Daily user sending quota exceeded. l1sm1234567pfb.33 - gsmtp',
      '550-5.4.5 Daily SMTP relay limit exceeded for customer. For more information on\n550-5.4.5 SMTP relay sending limits please contact your administrator or visit\n550 5.4.5 https://support.google.com/a/answer/166852 p1sm12345 - gsmtp',
      '450 4.2.1 Peak SMTP relay limit exceeded for this customer.',
    ],
  },
  {
    id: 'gmail.low-reputation',
    provider: 'gmail',
    reason: 'badreputation',
    keywords: ['very low reputation of the sending', 'low reputation of the sending domain', 'reputation of the sending ip address'],
    examples: [
      '421-4.7.0 This message is suspicious due to the very low reputation of the sending IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. https://support.google.com/mail/answer/188131 - gsmtp',
      '550-5.7.1 Our system has detected that this message is likely suspicious due to the very\n550-5.7.1 low reputation of the sending domain. To best protect our users from spam, the\n550 5.7.1 message has been blocked. https://support.google.com/mail/answer/188131 - gsmtp',
    ],
  },
  {
    // Google's current texts for these say "email sent from your IP address has been temporarily rate
    // limited" as well: the cause they name (no PTR, a suspicious SPF record, no TLS) decides,
    // before the rate-limit rule below
    id: 'gmail.no-ptr',
    provider: 'gmail',
    reason: 'requireptr',
    keywords: ['does not have a ptr record, or the corresponding forward dns', "doesn't have a ptr record, or the"],
    examples: [
      '421 4.7.0 The IP address sending this message does not have a PTR record, or the corresponding forward DNS entry does not point to the sending IP. To protect our users from spam, email sent from your IP address has been temporarily rate limited.',
      "550 5.7.25 This message was blocked because the sending IP address doesn't have a PTR record, or the forwarding DNS entry doesn't reference the sending IP address. Gmail requires that sending IP addresses have a PTR record.",
    ],
  },
  {
    id: 'gmail.spf-suspicious',
    provider: 'gmail',
    reason: 'authfailure',
    keywords: ['spf record of the sending domain has one or more suspicious entries'],
    examples: [
      '451 4.7.24 The SPF record of the sending domain has one or more suspicious entries. To protect our users from spam, email sent from your IP address has been temporarily rate limited.',
    ],
  },
  {
    id: 'gmail.tls-required',
    provider: 'gmail',
    reason: 'failedstarttls',
    keywords: ["because you're not using a tls connection", "wasn't sent over a tls connection"],
    examples: [
      "421 4.7.29 Your email has been rate limited because you're not using a TLS connection. Gmail requires all bulk email senders to use TLS/SSL for SMTP connections.",
      "550 5.7.29 This message was blocked because it wasn't sent over a TLS connection. Gmail requires all bulk email senders to use TLS/SSL for SMTP connections.",
    ],
  },
  {
    // the 5xx form of the unusual-rate texts: mail from the IP is refused outright, not slowed down
    id: 'gmail.unsolicited-ip-blocked',
    provider: 'gmail',
    reason: 'blocked',
    scope: 'sender',
    keywords: [
      'p=unsolicitediperror',
      'mail sent from your ip address has been blocked',
      'email sent from your ip address has been blocked',
    ],
    examples: [
      '550-5.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been blocked. https://support.google.com/mail/?p=UnsolicitedIPError - gsmtp',
      '550 5.7.28 There is an unusual rate of unsolicited email originating from your IP address. To protect our users from spam, email sent from your IP address has been blocked.',
    ],
  },
  {
    id: 'gmail.unusual-rate',
    provider: 'gmail',
    reason: 'speeding',
    keywords: [
      'unusual rate of unsolicited mail',
      'mail sent from your ip address has been temporarily rate limited',
      'unusual rate of mail originating from',
      'unusual rate of unsolicited email',
      'gmail has detected an unusual rate of email',
    ],
    examples: [
      '421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating\n421-4.7.28 from your IP address. To protect our users from spam, mail sent from your IP\n421-4.7.28 address has been temporarily rate limited. Please visit\n421 4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. d9si1234567ota.88 - gsmtp',
      '421 4.7.28 Gmail has detected an unusual rate of email. To protect our users from spam, email has been temporarily rate limited.',
    ],
  },
  {
    id: 'gmail.unsolicited',
    provider: 'gmail',
    reason: 'spamdetected',
    keywords: [
      'this message is likely unsolicited mail',
      'likely unsolicited mail. to reduce the amount of spam',
      'this message is likely unsolicited email',
      'p=unsolicitedmessageerror',
    ],
    examples: [
      '550-5.7.1 Our system has detected that this message is likely unsolicited mail. To\n550-5.7.1 reduce the amount of spam sent to Gmail, this message has been blocked.\n550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError o1si1234567wro.123 - gsmtp',
      '550 5.7.1 This message is likely unsolicited email. To reduce the amount of spam sent to Gmail, this message has been blocked.',
    ],
  },
  {
    id: 'gmail.unauthenticated',
    provider: 'gmail',
    reason: 'authfailure',
    keywords: [
      'gmail requires all senders to authenticate',
      "is not accepted due to domain's dmarc policy",
      'not pass authentication checks',
      'does not have authentication information',
      'dmarc policy of the sending domain',
      'do not pass spf or dkim',
    ],
    examples: [
      '550-5.7.26 This mail has been blocked because the sender is unauthenticated.\n550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\n550-5.7.26 \n550-5.7.26  Authentication results:\n550-5.7.26  DKIM = did not pass\n550-5.7.26  SPF [example.com] with ip: [1.2.3.4] = did not pass\n550 5.7.26 https://support.google.com/mail/answer/81126#authentication a1si1 - gsmtp',
      '421-4.7.27 This mail has been rate limited because it did not pass authentication checks. https://support.google.com/mail/answer/81126#authentication - gsmtp',
      "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's\n550-5.7.26 DMARC policy. Please contact the administrator of example.com domain if\n550 5.7.26 this was a legitimate mail. https://support.google.com/mail/answer/2451690 - gsmtp",
    ],
  },
  {
    id: 'gmail.ipv6-ptr',
    provider: 'gmail',
    reason: 'requireptr',
    keywords: [
      'does not meet ipv6 sending guidelines regarding ptr records',
      'does not have a ptr record setup',
      'does not match the ip address of the hostname specified in the pointer',
    ],
    examples: [
      '550-5.7.1 [2a00:1450:4000::1] Our system has detected that this message does\n550-5.7.1 not meet IPv6 sending guidelines regarding PTR records and\n550 5.7.1 authentication. https://support.google.com/mail/?p=IPv6AuthError a1si1 - gsmtp',
      '550-5.7.25 The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP. https://support.google.com/mail/answer/81126#ip-practices - gsmtp',
    ],
  },
  {
    id: 'gmail.ip-not-authorized',
    provider: 'gmail',
    reason: 'blocked',
    keywords: ["the ip you're using to send mail is not authorized to send email directly to our servers"],
    examples: [
      "550-5.7.1 [1.2.3.4] The IP you're using to send mail is not authorized to\n550-5.7.1 send email directly to our servers. Please use the SMTP relay at your\n550 5.7.1 service provider instead. https://support.google.com/mail/?p=NotAuthorizedError b1si1 - gsmtp",
    ],
  },
  {
    id: 'gmail.message-too-big',
    provider: 'gmail',
    reason: 'mesgtoobig',
    keywords: ["exceeded google's message size limits", 'p=maxsizeerror'],
    examples: [
      "552-5.3.4 Your message exceeded Google's message size limits. Please visit\n552-5.3.4  https://support.google.com/mail/?p=MaxSizeError to view our size\n552 5.3.4 guidelines. 188si12345qkh.64 - gsmtp",
    ],
  },
  {
    id: 'gmail.multiple-from',
    provider: 'gmail',
    reason: 'notcompliantrfc',
    keywords: ['messages with multiple addresses in from: header are not accepted', 'messages with multiple addresses in from:'],
    examples: ['550-5.7.1 [1.2.3.4] Messages with multiple addresses in From: header are not\n550 5.7.1 accepted. z1si1 - gsmtp'],
  },
  {
    id: 'gmail.not-rfc5322',
    provider: 'gmail',
    reason: 'notcompliantrfc',
    keywords: [
      'messages missing a valid address in from: header',
      'p=rfcmessagenoncompliant',
      'not rfc 2822 compliant. to reduce the amount of spam',
      'this message is not rfc 5322 compliant',
      'encoded-word syntax is not permitted',
      'unicode character in a disallowed header',
    ],
    examples: [
      "550-5.7.1 [1.2.3.4] Our system has detected that this message is not RFC\n550-5.7.1 5322 compliant:\n550-5.7.1 Multiple 'From' headers found.\n550-5.7.1 To reduce the amount of spam sent to Gmail, this message has been\n550-5.7.1 blocked. Please visit\n550-5.7.1  https://support.google.com/mail/?p=RfcMessageNonCompliant\n550 5.7.1 and review RFC 5322 specifications for more information. a1si1 - gsmtp",
      '550-5.7.1 [1.2.3.4] Messages missing a valid address in From: header, or having no From: header, are not accepted. x1si1 - gsmtp',
      '550 5.7.1 This message is not RFC 5322 compliant because it has duplicate headers. To reduce the amount of spam sent to Gmail, this message has been blocked.',
      '550 5.7.1 Encoded-word syntax is not permitted in message header Subject. To reduce the amount of spam sent to Gmail, this message has been blocked.',
      '550 5.7.1 The message contains a unicode character in a disallowed header.',
      // the older wording, without the help link; its "spam" sentence must not decide
      'host aspmx.l.google.com[74.125.143.27] said: 550-5.7.1 [188.117.59.209 11] Our system has detected that this message is 550-5.7.1 not RFC 2822 compliant. To reduce the amount of spam sent to Gmail, 550-5.7.1 this message has been blocked. Please review 550 5.7.1 RFC 2822 specifications for more information. nr8si8771738lab.216 (in reply to end of DATA command)',
    ],
  },
  {
    id: 'gmail.admin-policy',
    provider: 'gmail',
    reason: 'policyviolation',
    // "- gcdp" (Google Custom Domain Policies) marks a refusal by a Workspace administrator's own rule
    keywords: [
      'has a policy that prohibited the mail that you sent',
      'has a policy that prohibits the email that you sent',
      'p=blockedbyadmin',
      '- gcdp',
    ],
    examples: [
      '550-5.7.1 The user or domain that you are sending to (or from) has a policy that\n550-5.7.1 prohibited the mail that you sent. Please contact your domain\n550-5.7.1 administrator for further details. For more information, visit\n550 5.7.1  https://support.google.com/a/answer/172179 b1si1 - gsmtp',
      '550 5.7.1 This message violates example.com email policy. - gcdp <sessionid> - gsmtp',
      '550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibits the email that you sent. Contact your domain administrator for assistance.',
    ],
  },
  {
    // a recipient limit, not a refusal of this sender (the generic "... this sender" rules would say so)
    id: 'gmail.too-many-recipients',
    provider: 'gmail',
    reason: 'toomanyconn',
    keywords: ['too many recipients for this sender'],
    examples: ['550 5.5.3 Too many recipients for this sender.'],
  },
  {
    // the recipient domain accepts mail only from the IP addresses its administrator listed
    id: 'gmail.ip-not-listed',
    provider: 'gmail',
    reason: 'blocked',
    keywords: ['ip not in whitelist for rcpt domain'],
    examples: ['421 4.7.0 IP not in whitelist for RCPT domain, closing connection.'],
  },
  {
    id: 'gmail.suspicious-content',
    provider: 'gmail',
    reason: 'spamdetected',
    keywords: ['due to the nature of the content'],
    examples: [
      '421-4.7.0 This message is suspicious due to the nature of the content or the links within.',
      '550-5.7.1 [192.0.2.1] Gmail has detected this message is likely suspicious due to the nature of the content and/or the links within.',
    ],
  },
  {
    id: 'gmail.temporary-problem',
    provider: 'gmail',
    reason: 'systemerror',
    keywords: ['temporary system problem. try again later'],
    examples: [
      '421-4.3.0 Temporary System Problem.  Try again later (10). d1si1 - gsmtp',
      '451-4.3.0 Temporary System Problem. Try again later (WS). a6si1234 - gsmtp',
    ],
  },
]

const microsoft: ReplyRule[] = [
  {
    id: 'microsoft.access-denied-user',
    provider: 'microsoft',
    reason: 'userunknown',
    keywords: ['recipient address rejected: access denied'],
    // Exchange Online's directory-based edge blocking answers 5.4.1; the same words with another
    // status are Postfix's (generic.recipient-access-denied), not Microsoft's.
    status: ['5.4.1'],
    examples: [
      '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT036.eop-EUR03.prod.protection.outlook.com 2024-01-05T10:00:00.000Z 08DC0C1234567890]',
      '550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [AM4PEPF00012345.eurprd04.prod.outlook.com]',
    ],
  },
  {
    id: 'microsoft.recipient-not-found',
    provider: 'microsoft',
    reason: 'userunknown',
    keywords: ['recipnotfound', 'recipientnotfound', 'recipient not found by smtp address lookup'],
    examples: [
      '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found',
      "Remote Server returned '550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found'",
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient user@contoso.com not found by SMTP address lookup',
    ],
  },
  {
    // Exchange 2000/2003 notices: the directory did not know the recipient (IMS error 000C05A6).
    id: 'microsoft.name-not-recognized',
    provider: 'microsoft',
    reason: 'userunknown',
    keywords: [
      'recipient name is not recognized',
      'the e-mail account does not exist at the organization',
      "address was not found in the recipient's e-mail system",
      "the e-mail address you entered couldn't be found",
    ],
    examples: [
      'The recipient name is not recognized MSEXCH:IMS:EXAMPLE:SITE:SERVER 0 (000C05A6) Unknown Recipient',
      '550 5.1.1 The e-mail account does not exist at the organization this message was sent to.',
      "The recipient's e-mail address was not found in the recipient's e-mail system. Microsoft Exchange will not try to redeliver this message for you.",
    ],
  },
  {
    id: 'microsoft.group-restricted',
    provider: 'microsoft',
    reason: 'filtered',
    keywords: [
      'sendernotauthenticatedforgroup',
      'sendernotauthorizedforgroup',
      'restrictedtorecipientspermission',
      'resolver.rst.notauthorized',
      'resolver.rst.deliverytoclosedgroup',
    ],
    examples: [
      '550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed as sender not authenticated',
      "550 5.7.129 RESOLVER.RST.RestrictedToRecipientsPermission; not authorized to send to recipient because the sender isn't on the allowed senders list",
      '550 5.7.124 RESOLVER.RST.SenderNotAuthorizedForGroup; sender not in allowed-senders list [Stage: CreateMessage]',
    ],
  },
  {
    id: 'microsoft.auth-required',
    provider: 'microsoft',
    reason: 'securityerror',
    keywords: ['resolver.rst.authrequired'],
    examples: ['550 5.7.1 RESOLVER.RST.AuthRequired; authentication required [Stage: CreateMessage]'],
  },
  {
    id: 'microsoft.recipient-size-limit',
    provider: 'microsoft',
    reason: 'exceedlimit',
    keywords: ['resolver.rst.recipsizelimit', 'message too large for this recipient'],
    examples: ['550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient'],
  },
  {
    id: 'microsoft.quota',
    provider: 'microsoft',
    reason: 'mailboxfull',
    keywords: [
      'quotaexceededexception',
      'storedrv.deliver; mailbox full',
      "recipient's mailbox is full and can't accept messages now",
      'mailbox full; recipient mailbox',
    ],
    examples: [
      '554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception',
      "552 5.2.2 The recipient's mailbox is full and can't accept messages now. Please try resending this message later, or contact the recipient directly.",
    ],
  },
  {
    id: 'microsoft.auth-level',
    provider: 'microsoft',
    reason: 'authfailure',
    keywords: ['meet the required authentication level', 'does not pass dmarc verification', 'must pass either spf or dkim validation'],
    examples: [
      "550 5.7.515 Access denied, sending domain [EXAMPLE.COM] does not meet the required authentication level. The sender's domain in the 5322.From address doesn't meet the authentication requirements defined for the sender. To learn more, go to https://go.microsoft.com/fwlink/?linkid=2297902",
      '550 5.7.509 Access denied, sending domain [EXAMPLE.COM] does not pass DMARC verification and has a DMARC policy of reject.',
      '450 4.7.26 Access denied, a message sent over IPv6 [2a01:111:f400::1] must pass either SPF or DKIM validation, this message is not signed',
    ],
  },
  {
    id: 'microsoft.banned-ip',
    provider: 'microsoft',
    reason: 'blocked',
    blocklist: 'microsoft',
    keywords: [
      'banned sending ip',
      'access denied, banned sender',
      'spam abuse detected from ip range',
      'on our block list (s3',
      'part of their network is on our block list',
      'traffic not accepted from this ip',
    ],
    examples: [
      '550 5.7.606 Access denied, banned sending IP [1.2.3.4]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)',
      "550 5.7.1 Unfortunately, messages from [1.2.3.4] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM4PEPF00012345.eurprd04.prod.outlook.com]",
      "550 5.7.1 Unfortunately, messages from [1.2.3.4] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
      '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(843)',
      // 5.7.511 "banned sender[IP]": Microsoft documents it as the sending IP being banned
      '550 5.7.511 Access denied, banned sender[1.2.3.4]. To request removal from this list please forward this message to delist@messaging.microsoft.com.',
    ],
  },
  {
    id: 'microsoft.banned-sender',
    provider: 'microsoft',
    reason: 'rejected',
    keywords: ['access denied, bad outbound sender', 'sendasdenied'],
    examples: [
      '550 5.1.8 Access denied, bad outbound sender AS(42004)',
      '554 5.2.252 SendAsDenied; app@example.org not allowed to send as info@example.org; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied',
    ],
  },
  {
    id: 'microsoft.tenant-threshold',
    provider: 'microsoft',
    reason: 'blocked',
    keywords: ['tenant has exceeded threshold', 'client blocked from sending from unregistered domains'],
    examples: [
      '550 5.7.705 Access denied, tenant has exceeded threshold. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653',
      '550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653',
    ],
  },
  {
    // Exchange Online 5.7.703: the sender's own tenant allow/block list blocks the recipient address or
    // domain; an outbound policy of the sending organisation, not a dead address
    id: 'microsoft.tenant-block-list',
    provider: 'microsoft',
    reason: 'policyviolation',
    scope: 'sender',
    keywords: ['using tenant allow block list', 'mandantenliste für zulässige mandantensperren'],
    examples: [
      '550 5.7.703 Ihre Nachricht kann nicht zugestellt werden, da Nachrichten an <Empfänger> von Ihrem organization blockiert werden, indem die Mandantenliste für zulässige Mandantensperren verwendet wird.',
    ],
  },
  {
    id: 'microsoft.customer-blocklist',
    provider: 'microsoft',
    reason: 'blocked',
    keywords: ['using customer block list', 'blocked using fblw15', 'blocked using fbl'],
    examples: [
      '550 5.7.513 Service unavailable, Client host [1.2.3.4] blocked by contoso.com using Customer Block list (AS16012607)',
      '550 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using FBLW15; To request removal from this list see http://go.microsoft.com/fwlink/?LinkID=526654 AS(1430)',
    ],
  },
  {
    id: 'microsoft.ip-reputation',
    provider: 'microsoft',
    reason: 'badreputation',
    keywords: ['temporarily rate limited due to ip reputation'],
    examples: [
      '451 4.7.650 The mail server [1.2.3.4] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [Name=Protocol Filter Agent][AGT=PFA][MxId=11BA1234567890AB] [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]',
    ],
  },
  {
    id: 'microsoft.server-busy',
    provider: 'microsoft',
    reason: 'speeding',
    keywords: [
      'server busy, please try again later from',
      'access denied, please try again later',
      'we have limits for how many messages can be sent per hour',
      'some messages from',
      'organization queue quota exceeded',
    ],
    pattern: /server busy|try again later|limits for how many messages|queue quota exceeded/,
    examples: [
      '451 4.7.500 Server busy, please try again later from [1.2.3.4]. (AS843) [DB3EUR04FT012.eop-eur04.prod.protection.outlook.com]',
      "421 RP-001 (COL004-MC1F29) Unfortunately, some messages from 1.2.3.4 weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day. You can also refer to http://mail.live.com/mail/troubleshooting.aspx#errors.",
    ],
  },
  {
    id: 'microsoft.hotmail-policy',
    provider: 'microsoft',
    reason: 'blocked',
    keywords: [
      'mail rejected by windows live hotmail for policy reasons',
      'rejected by windows live hotmail',
      "weren't sent. please contact your internet service provider",
    ],
    examples: [
      '550 SC-002 (BAY004-MC1F12) Mail rejected by Windows Live Hotmail for policy reasons. The mail server IP connecting to Windows Live Hotmail has exhibited namespace mining behavior.',
      "550 DY-001 (SNT0-MC4-F14) Unfortunately, messages from 1.2.3.4 weren't sent. Please contact your Internet service provider. You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
      '550 OU-002 Mail rejected by Windows Live Hotmail for policy reasons. Reasons for rejection may be related to content with spam-like characteristics or IP/domain reputation problems.',
    ],
  },
  {
    id: 'microsoft.spam',
    provider: 'microsoft',
    reason: 'spamdetected',
    keywords: ['remote server returned message detected as spam', 'message detected as spam'],
    examples: ['550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Message rejected as spam'],
  },
  {
    id: 'microsoft.external-forwarding',
    provider: 'microsoft',
    reason: 'policyviolation',
    keywords: ['does not allow external forwarding'],
    examples: [
      '550 5.7.520 Access denied, Your organization does not allow external forwarding. Please contact your administrator for further assistance. AS(7555)',
    ],
  },
  {
    id: 'microsoft.relay',
    provider: 'microsoft',
    reason: 'norelaying',
    keywords: ['unable to relay recipient in non-accepted domain', 'tenantattribution; relay access denied'],
    examples: [
      '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain',
      '550 5.7.64 TenantAttribution; Relay Access Denied [SN1NAM02FT012.eop-nam02.prod.protection.outlook.com]',
    ],
  },
  {
    id: 'microsoft.dns-domain',
    provider: 'microsoft',
    reason: 'hostunknown',
    keywords: ['dns domain', 'nonexistentdomain'],
    pattern: /does not exist|nonexistentdomain/,
    examples: [
      '550 5.4.310 DNS domain example.invalid does not exist [Message=InfoDomainNonexistent] [LastAttemptedServerName=example.invalid] [DM6NAM11FT012.eop-nam11.prod.protection.outlook.com]',
      '554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain',
    ],
  },
  {
    id: 'microsoft.mx-no-route',
    provider: 'microsoft',
    reason: 'networkerror',
    keywords: ['smtpsend.dns.mxcheckfailed', 'dns query failed', 'infonodnsrecord'],
    examples: [
      '554 5.4.4 SMTPSEND.DNS.MxCheckFailed; UnavailableIpAddress; information reading dns records failed',
      '451 4.4.312 DNS query failed. The error was: DNS query failed with error ErrorRetry',
    ],
  },
  {
    id: 'microsoft.expired',
    provider: 'microsoft',
    reason: 'expired',
    keywords: ['message expired, connection refused', 'message expired, cannot connect to remote server', 'queue.expired'],
    examples: ['550 5.4.316 Message expired, connection refused(Socket error code 10061)', '550 4.4.7 QUEUE.Expired; message expired'],
  },
  {
    id: 'microsoft.bare-linefeeds',
    provider: 'microsoft',
    reason: 'notcompliantrfc',
    keywords: ['barelinefeedsareillegal', 'must be rfc 5322 section 3.6.2 compliant'],
    examples: [
      '550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds, which cannot be sent via DATA',
      '550 5.7.512 Access denied, message must be RFC 5322 section 3.6.2 compliant',
    ],
  },
  {
    id: 'microsoft.recipient-limit',
    provider: 'microsoft',
    reason: 'speeding',
    keywords: ["you've reached your daily limit for message recipients", 'daily limit for message recipients'],
    examples: ["550 5.1.90 Your message can't be sent because you've reached your daily limit for message recipients."],
  },
  {
    // the store could not convert the message: its content is broken, not the mailbox or the server
    id: 'microsoft.corrupt-content',
    provider: 'microsoft',
    reason: 'contenterror',
    keywords: ['corrupt message content', 'conversionfailedexception'],
    examples: ['554 5.6.0 Corrupt message content; STOREDRV.Deliver.Exception:ConversionFailedException'],
  },
  {
    // 4.3.2 "recipient thread limit exceeded": Microsoft documents it as the recipient mailbox being
    // throttled because it receives too many messages too quickly, a per-recipient rate limit like
    // Gmail's 4.2.1 receiving-rate reply (retry later; never the sender's fault nor a dead address)
    id: 'microsoft.recipient-thread-limit',
    provider: 'microsoft',
    reason: 'speeding',
    scope: 'recipient',
    keywords: ['recipient thread limit exceeded'],
    examples: ['432 4.3.2 STOREDRV.Deliver; recipient thread limit exceeded'],
  },
  {
    id: 'microsoft.storedrv-error',
    provider: 'microsoft',
    reason: 'systemerror',
    // Exchange's mailbox store failing or throttling delivery ("mailbox database thread limit
    // exceeded" is back-pressure on a busy database, said with the status of "system not accepting
    // messages"; the recipient's own thread limit is the rule before)
    keywords: ['storedrv.deliver.exception', 'storedrv.submission.exception', 'thread limit exceeded'],
    examples: [
      '554 5.2.0 STOREDRV.Deliver.Exception:StoragePermanentException.MapiExceptionNoReplicaHere; Failed to process message due to a permanent exception with message Cannot open mailbox',
    ],
  },
  {
    id: 'microsoft.anonymous',
    provider: 'microsoft',
    reason: 'securityerror',
    keywords: ['client was not authenticated to send anonymous mail', 'client not authenticated to send mail'],
    examples: [
      '530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful',
      '550 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM',
    ],
  },
]

const yahoo: ReplyRule[] = [
  {
    // Yahoo's submission and MX servers answer this after DATA, once the recipient was accepted, for
    // a message or sender they refuse (spam-like content, a From the account may not use): not a
    // dead mailbox, though it says "mailbox unavailable" (before generic.user-unknown)
    id: 'yahoo.request-failed',
    provider: 'yahoo',
    reason: 'rejected',
    scope: 'sender',
    keywords: ['request failed; mailbox unavailable'],
    examples: ['550 Request failed; Mailbox unavailable'],
  },
  {
    id: 'yahoo.user-unknown',
    provider: 'yahoo',
    reason: 'userunknown',
    keywords: ["this user doesn't have a yahoo.com account", "user doesn't have a", "this user doesn't have an aol.com account"],
    pattern: /\baccount\b/,
    examples: [
      "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.bf1.yahoo.com",
      "554 delivery error: dd This user doesn't have a ymail.com account (someone@ymail.com) [-5] - mta1012.mail.ne1.yahoo.com",
      "554 delivery error: dd This user doesn't have an aol.com account (someone@aol.com) [0] - mtaproxy1.mail.aol.com",
    ],
  },
  {
    id: 'yahoo.disabled',
    provider: 'yahoo',
    reason: 'suspend',
    keywords: ['this mailbox is disabled (554.30)', 'this account has been disabled or discontinued', 'mailbox is disabled (554.30)'],
    examples: [
      '554 delivery error: dd Sorry your message to someone@yahoo.com cannot be delivered. This mailbox is disabled (554.30). - mta1234.mail.gq1.yahoo.com',
      '554 delivery error: dd Sorry, your message to someone@yahoo.com cannot be delivered. This account has been disabled or discontinued [#102]. - mta1050.mail.sk1.yahoo.com',
    ],
  },
  {
    id: 'yahoo.over-quota',
    provider: 'yahoo',
    reason: 'mailboxfull',
    keywords: ['this account is over quota', 'dd sorry your message to', 'mailbox over quota (552'],
    pattern: /over quota|quota exceeded/,
    examples: [
      '452 4.2.2 dd Sorry your message to someone@yahoo.com cannot be delivered. This account is over quota. - mta1001.mail.ir2.yahoo.com',
    ],
  },
  {
    id: 'yahoo.deferred-complaints',
    provider: 'yahoo',
    reason: 'badreputation',
    keywords: [
      '[tss04]',
      '[ts01]',
      '[ts02]',
      '[ipts04]',
      'temporarily deferred due to user complaints',
      'temporarily deferred due to unexpected volume or user complaints',
      // Yahoo's older form: 'Message(s) temporarily deferred - 4.16.5x' (spam-like mail or complaints)
      'temporarily deferred - 4.16.5',
    ],
    examples: [
      '421 4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
      '421 4.7.0 [TS01] Messages from 1.2.3.4 temporarily deferred due to user complaints - 4.16.55.1; see http://postmaster.yahoo.com/421-ts01.html',
      '421 4.7.0 [TS02] Messages from 1.2.3.4 temporarily deferred due to user complaints - 4.16.56.1; see http://postmaster.yahoo.com/421-ts02.html',
      '421 Message temporarily deferred - 4.16.51',
    ],
  },
  {
    // Yahoo: "problematic volume or complaints" from the IP, made permanent: its reputation, like the
    // temporary TS01/TSS04 deferrals above
    id: 'yahoo.permanently-deferred',
    provider: 'yahoo',
    reason: 'badreputation',
    scope: 'sender',
    keywords: ['[ts03]', '[tss06]', '[tss09]', 'will be permanently deferred; retrying will not succeed'],
    examples: [
      '553 5.7.1 [TS03] All messages from 1.2.3.4 will be permanently deferred; Retrying will NOT succeed. See http://postmaster.yahoo.com/421-ts03.html',
      '553 5.7.2 [TSS09] All messages from 1.2.3.4 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes',
    ],
  },
  {
    id: 'yahoo.blocklisted',
    provider: 'yahoo',
    reason: 'blocked',
    blocklist: 'spamhaus',
    keywords: ['[bl21]', '[bl22]', '[bl23]', "because the ip is in spamhaus's list"],
    examples: [
      "553 5.7.1 [BL21] Connections will not be accepted from 1.2.3.4, because the ip is in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html",
      '553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see http://postmaster.yahoo.com/errors/550-bl23.html [550]',
    ],
  },
  {
    id: 'yahoo.policy',
    provider: 'yahoo',
    reason: 'policyviolation',
    keywords: ['[ph01]', 'message not accepted for policy reasons', 'email not accepted for policy reasons', 'message not allowed - ['],
    examples: [
      '554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes',
      '553 5.7.1 [PH01] Email not accepted for policy reasons. Please visit https://postmaster.yahooinc.com/error-codes',
    ],
  },
  {
    id: 'yahoo.unauthenticated',
    provider: 'yahoo',
    reason: 'authfailure',
    keywords: [
      'yahoo requires all senders to authenticate',
      'permanent error evaluating dmarc policy',
      'temporary error evaluating dmarc policy',
    ],
    examples: [
      '550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.',
      '554 5.7.5 Permanent error evaluating DMARC policy',
      '421 4.7.5 Temporary error evaluating DMARC policy',
    ],
  },
  {
    id: 'yahoo.unresolvable-from',
    provider: 'yahoo',
    reason: 'rejected',
    keywords: ['unresolvable rfc.5321 from domain', 'unresolvable rfc.5322 from domain'],
    examples: [
      '451 Message temporarily deferred due to unresolvable RFC.5321 from domain; see https://postmaster.yahooinc.com/error-codes',
    ],
  },
  {
    id: 'yahoo.max-messages',
    provider: 'yahoo',
    reason: 'toomanyconn',
    keywords: ['max message per connection reached', 'max recipients per connection reached'],
    examples: ['421 Max message per connection reached, closing transmission channel'],
  },
]

const apple: ReplyRule[] = [
  {
    id: 'apple.local-policy',
    provider: 'apple',
    reason: 'policyviolation',
    keywords: ['[cs01]', '[hm07]', '[hm08]'],
    examples: [
      '554 5.7.1 [HM08] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137',
      '554 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137',
    ],
  },
  {
    id: 'apple.ip-blocked',
    provider: 'apple',
    reason: 'blocked',
    keywords: ['[ips01]', '[ip01]', 'support.apple.com/en-us/102322'],
    pattern: /\[ips?0\d\]|blocked|listed/,
    examples: [
      '550 5.7.0 [IPS01] Message rejected due to IP reputation. Please visit https://support.apple.com/en-us/102322',
      '554 5.7.1 [IP01] Connection blocked due to local policy. Please visit https://support.apple.com/en-us/102322',
    ],
  },
  {
    id: 'apple.mailbox-disabled',
    provider: 'apple',
    reason: 'suspend',
    keywords: ['mailbox temporarily disabled'],
    examples: ['450 4.2.1 <someone@icloud.com>: mailbox temporarily disabled', '550 5.2.1 <someone@me.com>: mailbox temporarily disabled'],
  },
]

const european: ReplyRule[] = [
  {
    // before gmx.blocked, whose 'senderguidelines?ip=' also occurs in the PTR refusal
    id: 'gmx.ptr',
    provider: 'gmx',
    reason: 'requireptr',
    keywords: ['bad dns ptr resource record'],
    examples: [
      '554-gmx.net (mxgmx117) Nemesis ESMTP Service not available\n554-No SMTP service\n554-Bad DNS PTR resource record.\n554 For explanation visit https://www.gmx.net/mail/senderguidelines?c=pr',
      '554-web.de (mxweb111) Nemesis ESMTP Service not available\n554-No SMTP service\n554-Bad DNS PTR resource record.\n554 For explanation visit https://web.de/email/senderguidelines?ip=1.2.3.4&c=rdns',
    ],
  },
  {
    id: 'gmx.blocked',
    provider: 'gmx',
    reason: 'blocked',
    keywords: ['ip address is block listed', 'ip address is blocklisted', 'senderguidelines?ip='],
    examples: [
      '554-gmx.net (mxgmx012) Nemesis ESMTP Service not available\n554-No SMTP service\n554-IP address is block listed.\n554 For explanation visit https://www.gmx.net/mail/senderguidelines?ip=1.2.3.4&c=bl',
      '554-web.de (mxweb112) Nemesis ESMTP Service not available\n554-No SMTP service\n554-IP address is block listed.\n554 For explanation visit https://web.de/email/senderguidelines?ip=1.2.3.4&c=bl',
    ],
  },
  {
    id: 'gmx.policy',
    provider: 'gmx',
    reason: 'policyviolation',
    keywords: ['reject due to policy restrictions'],
    examples: [
      '554-gmx.net (mxgmx015) Nemesis ESMTP Service not available\n554-Reject due to policy restrictions.\n554 For explanation visit https://www.gmx.net/mail/senderguidelines?c=pol',
    ],
  },
  {
    id: 'mailru.disabled',
    provider: 'mailru',
    reason: 'suspend',
    keywords: ['is unavailable: account is disabled', 'is unavailable: account is blocked', 'is unavailable: user is terminated'],
    examples: [
      '550 Message was not accepted -- invalid mailbox.  Local mailbox someone@mail.ru is unavailable: account is disabled',
      '550 Message was not accepted -- invalid mailbox.  Local mailbox someone@bk.ru is unavailable: user is terminated',
    ],
  },
  {
    id: 'mailru.user-unknown',
    provider: 'mailru',
    reason: 'userunknown',
    keywords: ['message was not accepted -- invalid mailbox'],
    examples: [
      '550 Message was not accepted -- invalid mailbox.  Local mailbox someone@mail.ru is unavailable: user not found',
      '550 Message was not accepted -- invalid mailbox. Local mailbox someone@inbox.ru is unavailable: user not found',
    ],
  },
  {
    id: 'mailru.spam',
    provider: 'mailru',
    reason: 'spamdetected',
    keywords: ['spam message rejected. please visit http://help.mail.ru', 'help.mail.ru/notspam-support'],
    examples: [
      '550 spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=AbCdEf or report details to abuse@corp.mail.ru. Error code: 4ABC. ID: 00000000ABCDEF.',
    ],
  },
  {
    id: 'mailru.ratelimit',
    provider: 'mailru',
    reason: 'speeding',
    keywords: ['ratelimit exceeded for mailbox', 'try again later. ratelimit'],
    examples: ['451 Ratelimit exceeded for mailbox someone@mail.ru. Try again later.'],
  },
  {
    id: 'yandex.no-such-user',
    provider: 'yandex',
    reason: 'userunknown',
    keywords: ['no such user!'],
    examples: ['550 5.7.1 No such user!'],
  },
  {
    id: 'yandex.spam',
    provider: 'yandex',
    reason: 'spamdetected',
    keywords: ['message rejected under suspicion of spam'],
    examples: ['554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1234567890-AbCdEfGh'],
  },
  {
    // Yandex's help: the recipient's account is blocked for breaking the user agreement (the
    // address exists, the owner can unblock it), so the account is suspended, not filtering us
    id: 'yandex.policy',
    provider: 'yandex',
    reason: 'suspend',
    keywords: ['policy rejection on target address', 'policy rejection on the target address'],
    examples: ['550 5.7.1 Policy rejection on Target address'],
  },
  {
    id: 'yandex.mailbox-size',
    provider: 'yandex',
    reason: 'mailboxfull',
    keywords: ['mailbox size limit exceeded', 'mailbox is full, try again later'],
    examples: ['552 5.2.2 Mailbox size limit exceeded'],
  },
  {
    // Cox's "AUP#" codes name why the sending IP was refused, whatever the reply's words say
    // (its MX says "sender rejected" for an IP it blocks): CXBL/CDRBL/IPBL are IP blocks
    id: 'cox.ip-blocked',
    provider: 'cox',
    reason: 'blocked',
    keywords: ['aup#cxbl', 'aup#cdrbl', 'aup#ipbl'],
    examples: [
      '550 5.1.0 <bob@example.org> sender rejected. Refer to Error Codes section at https://www.cox.com/residential/support/email-error-codes.html for more information. AUP#CDRBL',
    ],
  },
  {
    id: 'cox.no-ptr',
    provider: 'cox',
    reason: 'requireptr',
    keywords: ['aup#cxdns'],
    examples: [
      '554 5.7.1 192.0.2.1 rejected - no rDNS. Refer to Error Codes section at https://www.cox.com/residential/support/email-error-codes.html for more information. AUP#CXDNS',
    ],
  },
  {
    id: 'cox.connection-limit',
    provider: 'cox',
    reason: 'toomanyconn',
    keywords: ['aup#cxcnct', 'aup#cxsmtp'],
    examples: ['421 4.7.0 192.0.2.1 too many sessions from your IP. AUP#CXCNCT'],
  },
  {
    // Spectrum (Charter) "AUP#In-1xxx" codes (older MTAs write "AUP#I-1xxx"): 10xx the sending IP
    // is on a block list, 13xx too many connections or messages from it
    id: 'spectrum.ip-blocked',
    provider: 'spectrum',
    reason: 'blocked',
    keywords: ['aup#in-10', 'aup#i-10'],
    examples: [
      '554 5.7.1 Mail from 192.0.2.1 refused. Please see https://www.spectrum.net/support/internet/understanding-email-error-codes for more information. AUP#In-1000',
    ],
  },
  {
    id: 'spectrum.connection-limit',
    provider: 'spectrum',
    reason: 'toomanyconn',
    keywords: ['aup#in-13', 'aup#i-13'],
    examples: [
      '550 5.1.0 <bob@example.org> sender rejected. Please see https://www.spectrum.net/support/internet/understanding-email-error-codes for more information. AUP#In-1310',
    ],
  },
  {
    id: 'orange.mailbox-full',
    provider: 'orange',
    reason: 'mailboxfull',
    keywords: ['boite du destinataire pleine', 'recipient overquota', 'boite pleine'],
    examples: [
      '552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417',
      '550 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]',
    ],
  },
  {
    id: 'orange.user-unknown',
    provider: 'orange',
    reason: 'userunknown',
    keywords: ['destinataire invalide', 'adresse d au moins un destinataire invalide'],
    examples: ['550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]'],
  },
  {
    id: 'orange.ip-blocked',
    provider: 'orange',
    reason: 'blocked',
    keywords: ['refus de connexion', 'adresse ip source bloquee'],
    examples: [
      '554 5.7.1 Refus de connexion en provenance de votre IP. Connection refused from your IP. OFR_506 [506]',
      '550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issue. OFR006_102 Ref http://csi.cloudmark.com',
    ],
  },
  {
    // Orange's code 505 is its own temporary trouble ("service refused, please try later"), not a block
    id: 'orange.service-refused-505',
    provider: 'orange',
    reason: 'systemerror',
    keywords: ['service refuse. veuillez essayer plus tard'],
    pattern: /_505\b|\[505\]/,
    examples: ['421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR005_505 [505]'],
  },
  {
    // Orange's code 506 after DATA: the content was refused as spam
    id: 'orange.mail-rejected',
    provider: 'orange',
    reason: 'spamdetected',
    keywords: ['mail rejete. mail rejected'],
    examples: ['550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]'],
  },
  {
    id: 'orange.service-refused',
    provider: 'orange',
    reason: 'blocked',
    keywords: ['service refuse. veuillez essayer plus tard'],
    examples: ['421 mwinf5c10 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR004_104 [104]'],
  },
  {
    id: 'proton.address-missing',
    provider: 'proton',
    reason: 'userunknown',
    keywords: ['recipient address rejected: address does not exist'],
    examples: [
      '550 5.1.1 <someone@protonmail.com>: Recipient address rejected: Address does not exist',
      '554 5.7.1 <someone@proton.me>: Recipient address rejected: Address does not exist',
    ],
  },
]

const asian: ReplyRule[] = [
  {
    id: 'qq.mailbox-not-found',
    provider: 'qq',
    reason: 'userunknown',
    keywords: ['mailbox not found. http://service.mail.qq.com', 'mailbox unavailable or access denied'],
    examples: [
      '550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728',
      '550 Mailbox unavailable or access denied [MMYjHQgMFYiS5abc] http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728',
    ],
  },
  {
    id: 'qq.content-denied',
    provider: 'qq',
    reason: 'spamdetected',
    keywords: ['mail content denied'],
    examples: ['550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726'],
  },
  {
    id: 'qq.connection-limited',
    provider: 'qq',
    reason: 'toomanyconn',
    keywords: ['connection frequency limited', 'ip connection frequency limited'],
    examples: ['421 Connection frequency limited. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000722'],
  },
  {
    id: 'qq.frequency',
    provider: 'qq',
    reason: 'speeding',
    keywords: ['ip frequency limited', 'domain frequency limited', 'frequency limited'],
    examples: [
      '550 Ip frequency limited. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725',
      '451 Domain frequency limited [MLZc1A5Abc] http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725',
    ],
  },
  {
    id: 'qq.rejected-by-recipient',
    provider: 'qq',
    reason: 'filtered',
    keywords: ['mail is rejected by recipients'],
    examples: ['550 Mail is rejected by recipients [MMLBaZ1Abc] http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000729'],
  },
  {
    id: 'netease.spam',
    provider: 'netease',
    reason: 'spamdetected',
    keywords: ['dt:spm'],
    examples: [
      '554 DT:SPM 163 smtp14,EsCowABHp1234567890--.12345S2 1700000000,please see http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=smtp14&time=1700000000',
    ],
  },
  {
    id: 'netease.rate',
    provider: 'netease',
    reason: 'speeding',
    // HL:IFQ / MI:SFQ: the IP, or the sender, sent too many messages in a short time
    keywords: ['rp:trc', 'rp:rcl', 'rp:qrc', 'hl:ifc', 'hl:ifq', 'mi:sfq'],
    examples: [
      '451 RP:TRC 163 mx13,QcCowABHp1234,Too many recipients in a short time, please try again later',
      '451 MI:SFQ 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
      '554 HL:IFQ 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
    ],
  },
  {
    id: 'netease.connection',
    provider: 'netease',
    reason: 'toomanyconn',
    // the per-connection limits: too many error commands (RP:CEL, MI:CEL) or commands (MI:CCL,
    // RP:CCL), messages (MI:DMC) or recipients (RP:DRC) in one connection
    keywords: ['rp:cel', 'mi:ceu', 'hl:icc', 'mi:cel', 'mi:ccl', 'rp:ccl', 'mi:dmc', 'rp:drc'],
    examples: [
      '450 RP:CEL 163 mx3,Connection limit exceeded, please try again later http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4',
      '421 HL:ICC 126 mx9,DcmowAB1234567890--.1S2 1700000000 http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx9&time=1700000000',
      '450 MI:DMC 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
      '450 RP:DRC 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
      '450 MI:CEL 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
    ],
  },
  {
    // HL:IHU: the IP is suspended for breaking the terms of service; HL:IPB, WM:BLI: the IP is not
    // on the list of addresses allowed to send
    id: 'netease.ip-blocked',
    provider: 'netease',
    reason: 'blocked',
    keywords: ['hl:ihu', 'hl:ipb', 'wm:bli'],
    examples: [
      '554 HL:IHU 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
      '450 WM:BLI 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
    ],
  },
  {
    // WM:BLU: the sender is not on the list of users allowed to send
    id: 'netease.sender-not-allowed',
    provider: 'netease',
    reason: 'rejected',
    keywords: ['wm:blu'],
    examples: [
      '450 WM:BLU 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
    ],
  },
  {
    id: 'netease.user-suspended',
    provider: 'netease',
    reason: 'suspend',
    keywords: ['user suspended', 'user has been suspended'],
    examples: ['550 User suspended: someone@163.com'],
  },
  {
    // NetEase's HL: codes name the reason; their URL (help_spam_16.htm) must not make every one spam
    id: 'netease.reputation',
    provider: 'netease',
    reason: 'badreputation',
    keywords: ['hl:rep', 'hl:mep'],
    examples: [
      '421 HL:REP 163 mx14,EsCowABHp1234567890--.1S2 1700000000, http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx14&time=1700000000',
    ],
  },
  {
    // T-Online answers IP-level refusals (blocklisted, dynamic, no rDNS) with this one text, the
    // kind of refusal in a suffix ("(BL)" blocklisted, "(DYN)" dynamic); relays and anonymisers may
    // rewrite the contact address, so the fixed wording decides as well
    id: 't-online.refused',
    provider: 't-online',
    reason: 'blocked',
    keywords: ['tosa@rx.t-online.de', 'a problem occurred. (ask your postmaster for help or to contact'],
    examples: [
      '554 IP=1.2.3.4 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to clarify.)',
      '554 IP=192.0.2.10 - A problem occurred. (Ask your postmaster for help or to contact postmaster@example.net to clarify.) (BL)',
    ],
  },
  {
    id: 'zoho.unusual-activity',
    provider: 'zoho',
    reason: 'speeding',
    keywords: ['unusual sending activity detected'],
    examples: ['550 5.4.6 Unusual sending activity detected. Please try after sometime.'],
  },
  {
    id: 'zoho.outgoing-blocked',
    provider: 'zoho',
    reason: 'rejected',
    keywords: ['email outgoing blocked'],
    examples: ['554 5.1.8 Email Outgoing Blocked.'],
  },
]

const filters: ReplyRule[] = [
  {
    // amavisd-new answers "Reject, id=<its log id> - <CATEGORY>": BAD-HEADER is a header that breaks
    // RFC 5322 (duplicate fields, bare 8-bit or control characters, bad syntax)
    id: 'amavis.bad-header',
    provider: 'amavis',
    reason: 'notcompliantrfc',
    scope: 'message',
    keywords: ['- bad header', '- bad-header'],
    pattern: /reject, id=/,
    examples: [
      '554 5.7.0 Reject, id=12345-04 - BAD HEADER: Duplicate header field: "Subject"',
      '554 5.7.0 Reject, id=20811-03 - BAD-HEADER-0: Improper use of control character (char 0D hex): To: <someone@example.com>\r',
    ],
  },
  {
    // ... and BANNED a part whose name or type the site's policy forbids (executables, macros): the
    // message's content, never the client host
    id: 'amavis.banned',
    provider: 'amavis',
    reason: 'policyviolation',
    scope: 'message',
    keywords: ['- banned'],
    pattern: /reject, id=/,
    examples: [
      '554 5.7.0 Reject, id=02311-17 - BANNED: P=p003,L=1,M=multipart/mixed | P=p002,L=1/2,M=application/x-msdownload,T=exe,N=setup.exe',
      '554 5.7.0 Reject, id=31337-02 - BANNED: invoice.docm',
    ],
  },
  {
    id: 'mimecast.invalid-recipient',
    provider: 'mimecast',
    reason: 'userunknown',
    keywords: ['invalid recipient - https://community.mimecast.com', 'invalid recipient - http'],
    examples: ['550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [AbCdEf12345.uk1]'],
  },
  {
    id: 'mimecast.user-block',
    provider: 'mimecast',
    reason: 'filtered',
    keywords: ['envelope blocked - user entry', 'envelope blocked - user domain entry', 'blocked senders - block policy'],
    examples: [
      '550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550 [AbCd.us33]',
      '550 Rejected by header based Blocked Senders - Block policy for Header From - https://community.mimecast.com/docs/DOC-1369#550 [AbCd.uk46]',
    ],
  },
  {
    id: 'mimecast.envelope-blocked',
    provider: 'mimecast',
    reason: 'rejected',
    keywords: ['administrative prohibition - envelope blocked'],
    examples: ['550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550 [AbCd.uk18]'],
  },
  {
    // the From: claims the recipient's own domain from outside: the sender is seen as forged
    id: 'mimecast.anti-spoofing',
    provider: 'mimecast',
    reason: 'securityerror',
    scope: 'sender',
    keywords: ['anti-spoofing policy', 'anti-spoofing - inbound'],
    examples: [
      '550 Rejected by header based Anti-Spoofing policy: someone@example.com - https://community.mimecast.com/docs/DOC-1369#550 [AbCd.uk51]',
      '550 Anti-Spoofing policy - Inbound not allowed - https://community.mimecast.com/docs/DOC-1369#550 [AbCd.us12]',
    ],
  },
  {
    id: 'mimecast.security-policy',
    provider: 'mimecast',
    reason: 'policyviolation',
    keywords: ['email rejected due to security policies', 'host network not allowed'],
    examples: ['554 Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554 [AbCd.us222]'],
  },
  {
    id: 'mimecast.open-relay',
    provider: 'mimecast',
    reason: 'norelaying',
    keywords: ['open relay not allowed'],
    examples: ['451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451 [AbCd.us12]'],
  },
  {
    id: 'proofpoint.blocked',
    provider: 'proofpoint',
    reason: 'blocked',
    blocklist: 'proofpoint',
    keywords: ['ipcheck.proofpoint.com', 'dnsbl-lookup.cgi', 'proofpoint.com/dnsbl'],
    examples: [
      '554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=1.2.3.4',
      '550 5.7.1 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=1.2.3.4',
    ],
  },
  {
    id: 'proofpoint.spam',
    provider: 'proofpoint',
    reason: 'spamdetected',
    keywords: ['message blocked due to spam content in the message', 'rejecting banned content'],
    examples: ['550 5.7.1 Message blocked due to spam content in the message.', '554 5.7.1 Rejecting banned content'],
  },
  {
    // Trend Micro Email Reputation Services: a DNS blocklist of sending IPs (mail-abuse.com is its
    // lookup site), named before the generic "reputation" wording
    id: 'trendmicro.ers',
    provider: 'trendmicro',
    reason: 'blocked',
    blocklist: 'trendmicro',
    keywords: ['trend micro email reputation', 'mail-abuse.com/cgi-bin/lookup'],
    examples: [
      'Mail from 192.0.2.1 deferred using Trend Micro Email Reputation database. Please see https://www.mail-abuse.com/cgi-bin/lookup?192.0.2.1',
    ],
  },
  {
    id: 'barracuda.reputation',
    provider: 'barracuda',
    reason: 'blocked',
    blocklist: 'barracuda',
    keywords: ['barracuda reputation', 'barracudacentral', 'barracudanetworks.com/reputation'],
    examples: [
      '554 Service unavailable; Client host [1.2.3.4] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=1.2.3.4',
      '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip=1.2.3.4',
    ],
  },
  {
    // MailChannels' outbound content filter: "[CS]" marks a message its spam scan refused (its support
    // explains the tag in jeremydumais/CPP-SMTPClient-library#46)
    id: 'mailchannels.content-scan',
    provider: 'mailchannels',
    reason: 'spamdetected',
    keywords: ['[cs] message blocked'],
    examples: ['550 5.7.1 [CS] Message blocked'],
  },
  {
    id: 'barracuda.blocked-recipients',
    provider: 'barracuda',
    reason: 'spamdetected',
    keywords: ['permanent failure for one or more recipients'],
    pattern: /:blocked\)/,
    examples: ['550 permanent failure for one or more recipients (someone@example.com:blocked)'],
  },
  {
    id: 'ironport.poor-reputation',
    provider: 'cisco-ironport',
    reason: 'badreputation',
    keywords: ["rejected due to the sending mta's poor reputation", 'poor reputation'],
    pattern: /poor reputation/,
    examples: [
      "554 5.7.1 Your access to this mail system has been rejected due to the sending MTA's poor reputation. If you believe that this failure is in error, please contact the intended recipient via alternate means.",
    ],
  },
  {
    // Cisco's default text for a connection its host access table rejects (sending host refused)
    id: 'ironport.access-rejected',
    provider: 'cisco-ironport',
    reason: 'blocked',
    keywords: ['your access to submit messages to this e-mail system has been'],
    examples: ['550 #5.7.1 Your access to submit messages to this e-mail system has been rejected.'],
  },
  {
    id: 'ironport.address-rejected',
    provider: 'cisco-ironport',
    reason: 'userunknown',
    keywords: ['address rejected'],
    pattern: /^address rejected/,
    status: ['5.1.0'],
    examples: ['550 #5.1.0 Address rejected.', '550 #5.1.0 Address rejected someone@example.com'],
  },
  {
    id: 'ironport.rate',
    provider: 'cisco-ironport',
    reason: 'speeding',
    keywords: ['too many recipients received this hour', 'too many messages received this hour'],
    examples: ['452 Too many recipients received this hour', '452 4.3.0 Too many messages received this hour from 1.2.3.4'],
  },
  {
    id: 'comcast.not-customer',
    provider: 'comcast',
    reason: 'userunknown',
    keywords: ['not our customer'],
    examples: ['550 5.1.1 <someone@comcast.net> Not our Customer'],
  },
  {
    id: 'comcast.dnsbl',
    provider: 'comcast',
    reason: 'blocked',
    keywords: ['smtp-error-codes.php#bl', 'found on one or more dnsbls', 'comcast block for spam'],
    examples: [
      '554 resimta-ch2-18v.sys.comcast.net resimta-ch2-18v.sys.comcast.net 1.2.3.4 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000000',
    ],
  },
  {
    id: 'comcast.connections',
    provider: 'comcast',
    reason: 'toomanyconn',
    keywords: ['rl000001', 'too many sessions opened'],
    examples: [
      '421 resimta-po-31v.sys.comcast.net 1.2.3.4 Too many sessions opened. See http://postmaster.comcast.net/smtp-error-codes.php#RL000001',
    ],
  },
  {
    id: 'comcast.rate',
    provider: 'comcast',
    reason: 'speeding',
    keywords: ['rl000010', 'rl000100', 'rl000011', 'rl000110', 'smtp-error-codes.php#rl'],
    examples: [
      '452 4.2.0 Too many messages per session - see http://postmaster.comcast.net/smtp-error-codes.php#RL000010',
      '421 4.7.0 Message rate limit exceeded - RL000100',
    ],
  },
]

/** Named DNS blocklists: the reply says the sending IP (or domain) is listed. */
const blocklists: ReplyRule[] = [
  {
    id: 'blocklist.spamhaus',
    reason: 'blocked',
    blocklist: 'spamhaus',
    keywords: ['spamhaus'],
    examples: [
      '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/1.2.3.4',
      '550 5.7.1 Service unavailable; client [1.2.3.4] blocked using sbl.spamhaus.org (https://www.spamhaus.org/sbl/query/SBL123456)',
    ],
  },
  {
    id: 'blocklist.spamcop',
    reason: 'blocked',
    blocklist: 'spamcop',
    keywords: ['spamcop'],
    examples: [
      '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?1.2.3.4',
    ],
  },
  {
    id: 'blocklist.sorbs',
    reason: 'blocked',
    blocklist: 'sorbs',
    keywords: ['sorbs.net', 'sorbs'],
    pattern: /\bsorbs\b/,
    examples: [
      '550 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using dnsbl.sorbs.net; Currently Sending Spam See: http://www.sorbs.net/lookup.shtml?1.2.3.4',
    ],
  },
  {
    id: 'blocklist.uceprotect',
    reason: 'blocked',
    blocklist: 'uceprotect',
    keywords: ['uceprotect'],
    examples: [
      '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using dnsbl-1.uceprotect.net; IP 1.2.3.4 is UCEPROTECT-Level 1 listed. See http://www.uceprotect.net/rblcheck.php?ipr=1.2.3.4',
    ],
  },
  {
    id: 'blocklist.cbl',
    reason: 'blocked',
    blocklist: 'cbl',
    keywords: ['cbl.abuseat.org', 'abuseat.org'],
    examples: ['550 5.7.1 Rejected: 1.2.3.4 listed at cbl.abuseat.org'],
  },
  {
    id: 'blocklist.psbl',
    reason: 'blocked',
    blocklist: 'psbl',
    keywords: ['psbl.surriel.com'],
    examples: [
      '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using psbl.surriel.com; Listed in PSBL, see http://psbl.org/listing?ip=1.2.3.4',
    ],
  },
  {
    id: 'blocklist.nixspam',
    reason: 'blocked',
    blocklist: 'nixspam',
    keywords: ['ix.dnsbl.manitu.net', 'nixspam'],
    examples: [
      '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using ix.dnsbl.manitu.net; Your e-mail service was detected by NiX Spam',
    ],
  },
  {
    id: 'blocklist.mailspike',
    reason: 'blocked',
    blocklist: 'mailspike',
    keywords: ['mailspike'],
    examples: ['550 5.7.1 Client host [1.2.3.4] blocked using bl.mailspike.net'],
  },
  {
    id: 'blocklist.invaluement',
    reason: 'blocked',
    blocklist: 'invaluement',
    keywords: ['invaluement'],
    examples: [
      '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using ivmSIP.invaluement; see https://www.invaluement.com/lookup/',
    ],
  },
  {
    id: 'blocklist.backscatterer',
    reason: 'blocked',
    blocklist: 'backscatterer',
    keywords: ['backscatterer'],
    examples: ['550 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using ips.backscatterer.org'],
  },
  {
    id: 'blocklist.surbl',
    reason: 'spamdetected',
    blocklist: 'surbl',
    keywords: ['surbl', 'uribl'],
    pattern: /\b(?:surbl|uribl)\b/,
    examples: ['554 5.7.1 Message rejected: the message contains a URL listed in multi.surbl.org'],
  },
]

/** Every provider-specific rule, in order: providers, filters, then named blocklists. */
export const PROVIDER_RULES: readonly ReplyRule[] = [
  ...gmail,
  ...microsoft,
  ...yahoo,
  ...apple,
  ...european,
  ...asian,
  ...filters,
  ...blocklists,
]
