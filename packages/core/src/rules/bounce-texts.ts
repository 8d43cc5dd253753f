/**
 * MTA-specific diagnostic texts found inside bounce messages (owned by the bounce-message parser).
 * Same rule shape as the other rule files; `rules/index.ts` places these after the provider rules
 * and before the generic texts. Each rule is written from the wording an MTA family or service uses
 * in its notices (Google Groups, Gmail's queue reports, DragonFly, qmail, Domino, IMail, Trend Micro
 * InterScan, Mail.ru, Postfix's own diagnostics), with real example texts from bounces.
 */
import type { BounceReason } from '../types.js'
import type { ReplyRule } from './types.js'

function b(name: string, reason: BounceReason, keywords: string[], examples: string[], extra: Partial<ReplyRule> = {}): ReplyRule {
  return { id: `bounce.${name}`, reason, keywords, examples, ...extra }
}

/** Rules for diagnostic texts of non-standard bounce bodies. */
export const BOUNCE_TEXT_RULES: readonly ReplyRule[] = [
  b(
    'google-groups',
    'rejected',
    ['groups.google.com/support', 'the group you tried to contact', 'google groups'],
    [
      "We're writing to let you know that the group you tried to contact (example) may not exist, or you may not have permission to post messages to the group.",
      'If you have questions related to this or any other Google Group, visit the Help Center at https://groups.google.com/support/.',
    ],
    { scope: 'sender' },
  ),
  // a mailing list that takes posts from its members only (ezmlm, Mailman, Topicbox): the sender
  // may not post, the list address is alive
  b(
    'list-members-only',
    'rejected',
    [
      'only subscribers may post',
      'only subscribers can post',
      'non-members are not allowed to post',
      'you are not allowed to post to this mailing list',
    ],
    ['Non-members are not allowed to post.'],
    { scope: 'sender' },
  ),
  // Exim's own diagnostics (what it writes, not what a remote server said)
  b(
    'exim-mailbox-full',
    'mailboxfull',
    ['mailbox is full: retry timeout exceeded', 'mailbox full: retry timeout exceeded'],
    ['mailbox is full: retry timeout exceeded'],
    { scope: 'recipient' },
  ),
  b(
    'exim-no-hosts',
    'hostunknown',
    ['all relevant mx records point to non-existent hosts', 'all host address lookups failed permanently'],
    ['all relevant MX records point to non-existent hosts'],
    { scope: 'domain' },
  ),
  b(
    'exim-network',
    'networkerror',
    ['too many "received" headers', 'remote host closed connection in response to end of data', 'host lookup did not complete'],
    ['Too many "Received" headers - suspected mail loop', 'Remote host closed connection in response to end of data'],
    { scope: 'network' },
  ),
  b(
    'exim-local-config',
    'systemerror',
    ['lowest numbered mx record points to local host', 'delivery to file forbidden', 'delivery to pipe forbidden', 'lmtp error after'],
    ['lowest numbered MX record points to local host'],
    { scope: 'domain' },
  ),
  // hMailServer's own verdict when the recipient's domain has no MX or A record ("Error Type: DNS")
  b(
    'hmailserver-no-mx',
    'hostunknown',
    ['no mail servers appear to exist'],
    ['No mail servers appear to exists for the recipients address.'],
    { scope: 'domain' },
  ),
  // The sending MTA's own refusal to go on without TLS (Exim hosts_require_tls, Postfix smtp_tls_security_level=encrypt)
  b(
    'tls-required-not-offered',
    'failedstarttls',
    [
      'tls session is required',
      'did not offer tls support',
      'but was not offered by host',
      'does not support starttls',
      'did not offer starttls',
      'starttls not supported',
      'starttls not offered',
      'unable to negotiate tls',
      'unable to establish tls',
      'could not establish tls',
      'tls connection could not be established',
    ],
    [
      'a TLS session is required, but the server did not offer TLS support',
      'TLS is required, but was not offered by host mail.example.org[192.0.2.201]',
      'Remote server did not offer STARTTLS',
      'Unable to establish TLS connection with mx.example.org',
    ],
    { scope: 'domain' },
  ),
  // Exchange's back-pressure answer (its own disk or memory is short): the receiving system is full
  b(
    'exchange-back-pressure',
    'systemfull',
    ['insufficient system resources'],
    ['452 4.3.1 Insufficient system resources', 'Insufficient system resources (UsedDiskSpace[C:\\Exchange\\Queue])'],
    { scope: 'domain' },
  ),
  b('exim-no-smtp', 'notaccept', ['no host found for existing smtp connection'], ['no host found for existing SMTP connection'], {
    scope: 'domain',
  }),
  // Amazon SES's own rejection of an outgoing message over its size limit
  b('ses-too-large', 'mesgtoobig', ['message_too_large'], ['550 5.7.1 Message rejected: MESSAGE_TOO_LARGE'], { scope: 'message' }),
  // The sending service did not try at all: the address is on its suppression list (Amazon SES's
  // global list, "a recent history of bouncing", or the account's own list; Mailgun's bounce list).
  // Said before the words "invalid address" in SES's text can make it an unknown user.
  b(
    'provider-suppression-list',
    'suppressed',
    [
      'has suppressed sending to this address',
      'on the suppression list for your account',
      'not delivering to previously bounced address',
      'not delivering to a previously bounced address',
      // SendGrid's drop reasons, each the whole text
      'bounced address',
      'spam reporting address',
      'unsubscribed address',
      // Postmark's API error 406 (InactiveRecipientError)
      'found inactive addresses',
    ],
    [
      'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address. For more information about how to remove an address from the suppression list, see the Amazon SES Developer Guide: http://docs.aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppressionlist.html',
      'Amazon SES did not send the message to this address because it is on the suppression list for your account. For more information about removing addresses from the suppression list, see the Amazon SES Developer Guide at https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html',
      'Not delivering to previously bounced address',
      'You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: luxiar_temp@fjord.jp. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.',
    ],
    {
      scope: 'recipient',
      pattern:
        /has suppressed sending to this address|on the suppression list for your account|previously bounced address|found inactive addresses|^(?:bounced|spam reporting|unsubscribed) address$/,
    },
  ),
  b(
    'queue-expired',
    'expired',
    [
      'has not yet been delivered to one or more of its recipients after more than',
      'has been frozen',
      'was frozen on arrival',
      'could not deliver for the last',
      'message will be retried for',
      'did not accept our requests to connect',
      'message still undelivered after',
      'retry timeout exceeded',
      'message expired',
      'delivery time expired',
      'too long in queue',
      'maximum time in queue',
      'could not be delivered within',
      'has not been delivered for',
      // SparkPost's own give-up: "message timeout (exceeded max time, last transfail: ...)"
      'exceeded max time',
      // OpenSMTPD's own give-up when the envelope's queue lifetime ran out
      'envelope expired',
    ],
    [
      'There was an error delivering your mail to <user@example.net>. Could not deliver for the last 432000 seconds.',
      'Message will be retried for 2 more day(s)',
      'The recipient server did not accept our requests to connect. Learn more at https://support.google.com/mail/answer/7720',
      'retry timeout exceeded',
      'Warning: message still undelivered after 4 hours Will keep trying until message is 8 hours old',
    ],
    { scope: 'network' },
  ),
  // Japanese notices (carriers, ISPs, Japanese-localised MTAs), said in Japanese only
  b(
    'ja-mailbox-full',
    'mailboxfull',
    ['メールボックスが一杯', 'メールボックスがいっぱい', 'メールボックスの容量', '容量オーバー', '容量を超え'],
    ['送信先のメールボックスが一杯のため、送信できませんでした。'],
  ),
  b(
    'ja-user-unknown',
    'userunknown',
    [
      'メールアドレスが見つかりません',
      'アドレスが存在しません',
      'ユーザーが存在しません',
      'ユーザが存在しません',
      '宛先不明',
      '存在しないメールアドレス',
      'メールアドレスは存在しません',
    ],
    ['送信先のメールアドレスが存在しないため、送信できませんでした。宛先不明'],
  ),
  b(
    'ja-filtered',
    'filtered',
    ['受信拒否', '指定受信', 'ドメイン指定', '迷惑メールフィルタ'],
    ['受信者の受信拒否設定により送信できませんでした。'],
  ),
  // au/EZweb (KDDI) notices: the carrier's server refused the recipient for this sender (the
  // subscriber's domain/address filter); the address itself is not said to be unknown
  b(
    'ezweb-rejected',
    'filtered',
    ['each of the following recipients was rejected by a remote mail server'],
    ['Each of the following recipients was rejected by a remote mail server.'],
  ),
  // fml mailing-list manager alerts: the list server refused the posting for a loop it detected
  b('ml-loop-alert', 'systemerror', ['duplicated message-id', 'loop alert:'], ['Duplicated Message-ID in <list@example.co.jp>.']),
  // RFC 7505 section 4.2: the SENDER's domain publishes a null MX (a sender-side refusal; only the
  // recipient's null MX, 556 5.1.10, says the address cannot receive mail)
  b(
    'sender-null-mx',
    'rejected',
    ['sender address has null mx', 'sender domain has null mx', 'sender domain has a null mx'],
    ['550 5.7.27 Sender address has null MX', '556 5.7.27 Sender address has null MX'],
  ),
  b(
    'no-mx',
    'notaccept',
    [
      "couldn't find a mail exchanger",
      'no mx record found for domain',
      'an mx or srv record indicated no smtp service',
      'null mx',
      'no mx found for domain',
    ],
    [
      "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)",
      'No mx record found for domain=example.org',
      'an MX or SRV record indicated no SMTP service',
      'No MX found for domain',
    ],
    { scope: 'domain' },
  ),
  b(
    'domino-directory',
    'userunknown',
    ['not listed in domino directory', 'not listed in public name & address book', 'invalid final delivery userid', 'no such local user'],
    ['User some.name (user@example.jp) not listed in Domino Directory', 'Invalid final delivery userid: user@example.co.jp'],
  ),
  b(
    'no-smtp-connection',
    'networkerror',
    [
      "wasn't able to establish an smtp connection",
      'was not able to establish an smtp connection',
      'unable to establish an smtp connection',
    ],
    [
      "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to try again; this message has been in the queue too long.",
    ],
    { scope: 'network' },
  ),
  b(
    'hop-count',
    'networkerror',
    ['too many hops', 'maximum hop count exceeded', 'malformed or unexpected name server reply'],
    [
      'SMTP; 554 5.4.6 Too many hops',
      'Error transferring to mx.example.org; Maximum hop count exceeded. Message probably in a routing loop.',
      'Name service error for name=example.org type=MX: Malformed or unexpected name server reply',
    ],
    { scope: 'network' },
  ),
  b(
    // the client broke the SMTP dialogue (talked before the greeting, pipelined after STARTTLS): a
    // protocol fault of the sending side, not a content or policy verdict
    'smtp-protocol-violation',
    'syntaxerror',
    ['smtp protocol violation'],
    ['554 SMTP protocol violation. Polite people say hello after the server greets them (#5.7.1)'],
    { scope: 'sender' },
  ),
  b(
    'content-policy',
    'policyviolation',
    ['content presents a potential', 'protocol violation', 'header error'],
    [
      '552-5.7.0 This message was blocked because its content presents a potential security issue.',
      '550 Protocol violation',
      '554 5.7.9 Header error',
    ],
    { scope: 'message' },
  ),
  b(
    'ptr-mismatch',
    'requireptr',
    ['mismatches client ip', 'bad dns ptr resource record'],
    ['550 domain [example.com] mismatches client ip 192.0.2.225.'],
    { scope: 'sender' },
  ),
  b(
    'refused-connection',
    'blocked',
    ['not accepting connections', 'server refused to talk to me', 'invalid ip for sending mail'],
    [
      '554 mx.example.com ESMTP not accepting connections',
      'connect to mx.example.com[192.0.2.232]: server refused to talk to me: 421 Service not available',
      '554 INVALID IP FOR SENDING MAIL OF DOMAIN example.com',
    ],
    { scope: 'sender' },
  ),
  b(
    'remote-unavailable',
    'systemerror',
    ['service currently unavailable', 'transaction failed', 'could not load drd', 'unable to contact ldap server', 'server is too busy'],
    ['554 Service currently unavailable', '554 Transaction failed', '451 Could not load DRD for domain (example.com)'],
    // "Transaction failed: <why>" (Amazon SES) names its cause: the words after the colon decide
    {
      pattern: /service currently unavailable|transaction failed(?!:)|could not load drd|unable to contact ldap server|server is too busy/,
    },
  ),
  b(
    'temporarily-locked',
    'suspend',
    ['temporary locked', 'temporarily locked', 'account has been locked'],
    ['550 5.7.1 <user@example.com>: Recipient address rejected: User user@example.com temporary locked'],
  ),
  b(
    'other-recipients-same-domain',
    'userunknown',
    ['(and other recipients in the same domain)'],
    ['Unable to deliver message to <user@example.jp> (and other recipients in the same domain).'],
  ),
]
