/**
 * Generic reply texts: how the common MTAs (Postfix, Exim, Sendmail, qmail, Exchange/Office 365,
 * Courier, Dovecot/LMTP, Haraka, ...) and the diagnostic lines of bounce messages phrase each
 * failure. Order matters: a more specific phrase comes before a broader one that it contains or
 * that may appear beside it (e.g. "sender address rejected: domain not found" before "domain not
 * found"; SPF/DKIM before "sender address rejected"; DNS blocklists before "spam").
 */
import type { BounceReason, BounceScope } from '../types.js'
import type { ReplyRule } from './types.js'

interface Extra {
  pattern?: RegExp
  classes?: readonly (2 | 4 | 5)[]
  codes?: readonly number[]
  status?: readonly string[]
  scope?: BounceScope
  permanentWhenUnknown?: boolean
}

function g(name: string, reason: BounceReason, keywords: string[], examples: string[], extra: Extra = {}): ReplyRule {
  return { id: `generic.${name}`, reason, keywords, examples, ...extra }
}

export const GENERIC_RULES: readonly ReplyRule[] = [
  g('spam-verdict', 'spamdetected', ['blacklisted url in message', 'blocklisted url in message', 'uribl policy', 'reject bulk.advertising', 'rejecting mail content', 'this message scored', 'recurrent pattern detection', 'temporarily blocked by our filter', 'due to spam classification', 'classified as spam', 'detected as spam', 'rejected as spam', 'identified as spam', 'message is spam', 'considered spam', 'considered as spam', 'looks like spam'], [
    '550 5.7.1 This message scored 12.2 points. Rejected.',
    '550 Rejecting mail content: bulk advertising',
    '550 5.7.1 Your email to group team@example.com was rejected due to spam classification. To address this issue: check the SPF and DKIM records of your domain.',
    '554 5.7.1 Message classified as spam',
  ]),
  g('spf-dkim-dmarc', 'authfailure', ['spf', 'dkim', 'dmarc', 'sender policy framework', 'domainkeys', 'sender is unauthenticated', 'authentication checks failed', 'arc validation'], [
    '550 5.7.23 <someone@example.com>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=bob@example.org;ip=1.2.3.4;r=mx.example.com',
    '550 5.7.1 Email rejected per DMARC policy for example.org',
    '550 5.7.1 Email rejected due to DMARC policy of example.org',
    '550 5.7.20 Message rejected because no passing DKIM signature was found',
    '451 4.7.24 SPF validation error: temporary DNS failure',
  ], { pattern: /\b(?:spf|dkim|dmarc)\b|sender policy framework|domainkeys|unauthenticated|authentication checks|arc validation/ }),
  // the client's IP address or host is refused (said before any sender- or content-level wording)
  g('client-ip-refused', 'blocked', ['bad sender ip address', 'sender ip address rejected', 'confirm this mail server', 'connection was dropped by remote host', 'dns resolution of the ip address has failed', 'bad ip profile', 'no access from mail server', 'open proxy', 'remotehost looks suspiciously like spammer', 'too many spams from your ip', 'unwanted messages have been sent from the following ip', 'not allowed to connect', 'not currently accepting mail from your ip', 'esmtp not accepting messages'], [
    '554 mx.example.net ESMTP not accepting messages',
    '550 Bad sender IP address',
    '550 5.7.1 Rejecting open proxy 192.0.2.1',
    '553 sorry, your remotehost looks suspiciously like spammer (#5.7.1)',
    '550 Too many spams from your IP (192.0.2.1), please visit https://example.net',
  ]),
  // "unknown"/"does not exist" said of the SENDER (its address or domain), or of the client's own
  // host name: before the recipient-side unknown-user/unknown-domain rules, which would make a good
  // recipient a hard bounce
  g('client-hostname', 'requireptr', ['cannot find your hostname', 'cannot find your reverse hostname', 'client host name unknown', 'client hostname unknown', 'hosts without reverse', 'servers without reverse', 'without a ptr', 'without ptr', 'reverse lookup of', 'reverse lookup failed', 'reverse dns lookup failed', 'reverse dns lookup of', 'ptr lookup failed'], [
    '550 5.7.1 Client host rejected: reverse lookup of 198.51.100.7 failed: host not found',
    '450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]',
    '550 5.7.1 Client host rejected: cannot find your hostname, unknown host',
  ]),
  g('sender-unknown', 'rejected', ['sender address unknown', 'sender address does not exist', "sender address doesn't exist", 'in mail from', 'domain in sender address', 'lookup of sender domain', 'sender domain failed', 'your domain has no mx', 'your domain does not exist', 'mail from an unknown domain', 'from an unknown domain', 'email address is not verified', 'unverified sender', 'sender address is invalid', 'invalid sender domain', 'sender domain unknown', 'unknown sender domain', 'sender mx'], [
    '553 5.1.8 Invalid domain in sender address',
    '550 5.7.1 Sender address unknown',
    '550 Unknown user in MAIL FROM',
    '550 5.7.1 Mail from an unknown domain is not accepted',
    '550 DNS lookup of sender domain failed, domain does not exist',
    '550 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: bob@example.org',
  ]),
  g('sender-domain', 'rejected', ['sender address rejected: domain not found', 'sender domain must exist', 'sender domain does not exist', 'domain of sender address', 'sender address domain', 'sender domain not found', 'unresolvable sender domain', 'mail from domain does not exist', 'sender domain is empty', 'invalid dns mx or a/aaaa resource record'], [
    // GMX/Web.de/IONOS: the SENDER's domain has no usable MX/A record, despite "mailbox unavailable"
    '550-Requested action not taken: mailbox unavailable\n550 invalid DNS MX or A/AAAA resource record.',
    '450 4.1.8 <bob@nonexistent.example>: Sender address rejected: Domain not found',
    '553 5.1.8 <bob@nonexistent.example>... Domain of sender address bob@nonexistent.example does not exist',
    '501 5.1.8 Sender domain must exist',
  ]),
  // the sender's domain (or return path) named and said not to exist / resolve: "Sender domain
  // example.org does not exist" must not fall through to the x.1.2 table as a dead recipient domain
  g('sender-domain-named', 'rejected', ['does not exist', 'not found', 'unknown', 'does not resolve', 'unresolvable', 'cannot be resolved', 'has no mx'], [
    '553 5.1.2 Sender domain example.org does not exist',
    '550 5.7.1 Return path (bounce@example.org) does not exist',
    "451 4.1.8 Sender's domain example.org cannot be resolved",
  ], { pattern: /sender(?:'s)? domain|domain of (?:the )?sender|mail from domain|return path|reverse path/ }),
  g('sender-rejected', 'rejected', ['batv failed', 'batv validation failure', 'rejected by batv', 'backscatter protection detected an invalid', 'bogus mail from', 'bouncedeny', 'valid-address-filter', 'emetteur invalide', 'empty envelope senders', 'no third-party dsns', 'from: domain is invalid', 'fully qualified email address required', 'not a registered gateway user', 'mail from not owned by user', 'returned mail not accepted here', 'sender email address rejected', 'sender is spammer', 'sender not pre-approved', 'spam reporting address', 'empty email address', 'unsigned dsn', 'unroutable sender address', 'an address that has been blacklisted', 'submit messages to this e-mail system has been rejected', 'your email address has been blacklisted', 'your email address has been blocklisted', 'sender address rejected', 'sender rejected', 'sender verify failed', 'sender verification failed', 'sender denied', 'sender not allowed', 'invalid sender', 'unknown sender', 'sender unknown', 'bad sender', 'sender address is not allowed', 'envelope sender is in my badmailfrom list', 'your envelope sender has been denied', 'mail from rejected', 'null sender', 'sender address has null mx', 'sender is not allowed', 'from address rejected', 'bad sender address syntax', 'sender is blocked', 'sender blocked', 'sender address has been blocked', 'sender domain is not permitted', 'sender domain not permitted', 'could not complete sender verify', 'not one of your addresses', 'permissions to send as', 'not allowed to send as', 'delivery not authorized, message refused', 'delivery not authorised, message refused'], [
    // Exchange: this sender may not deliver here (a sender restriction, DESIGN.md: the sender's problem)
    '550 5.7.1 Delivery not authorized, message refused',
    '451 Could not complete sender verify callout',
    '550 5.7.0 Your sender address has been blocked',
    '550 5.7.1 BATV validation failure',
    '553 5.7.1 Sender is spammer',
    '550 Your email address has been blacklisted',
    '550 You are sending to/from an address that has been blacklisted',
    '553 5.7.1 MAIL FROM not owned by user',
    '553 5.7.1 <bob@example.org>: Sender address rejected: not logged in',
    '553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)',
    '550 5.1.0 Sender denied',
    '550-Verification failed for <bob@example.org>\n550-Unrouteable address\n550 Sender verify failed',
    '550 5.7.1 <bob@example.org>: Sender address rejected: Access denied',
  ]),
  g('relaying', 'norelaying', ['as a relay', 'when attempting to send to a non-local e-mail address', 'not a gateway', 'not an open relay', "we don't handle mail for", 'we do not handle mail for', 'relay access denied', 'relaying denied', 'relay not permitted', 'relaying not permitted', 'relaying not allowed', 'not permitted to relay', 'unable to relay', 'we do not relay', 'relay denied', 'not allowed to relay', 'relaying prohibited', 'relay prohibited', 'relay not allowed', 'no relaying', "isn't in my list of allowed rcpthosts", 'is not in my list of allowed rcpthosts', 'relaying to', 'relaying mail to', 'is not a local domain', 'insecure mail relay', 'not configured to relay', 'delivery is not allowed to this address'], [
    '550 Delivery is not allowed to this address.',
    '550 not local host example.com, not a gateway',
    "550 5.7.1 We don't handle mail for example.com",
    '554 5.7.1 <someone@example.com>: Relay access denied',
    '550 5.7.1 Unable to relay for someone@example.com',
    "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
    '550 relay not permitted',
    '550 5.7.1 Relaying denied. IP name lookup failed [1.2.3.4]',
    '550 Insecure Mail Relay',
    '501 Rcpt-To validation failed: RCPT TO not accepted: 5.7.1 This system is not configured to relay mail (r) from <bob@example.org> to <someone@example.jp> for 127.0.0.1',
  ], { pattern: /relay|rcpthosts|not a local domain|not a gateway|handle mail for|non-local e-mail|delivery is not allowed to this address/ }),
  g('moved', 'hasmoved', ['has been replaced by', 'mailbox has moved', 'address has changed', 'user has moved', 'account has moved', 'has moved to', 'user not local; please try', 'no forwarding address', 'address has been changed', 'moved permanently to'], [
    '550 5.1.6 someone@example.com has been replaced by someone@example.org',
    '550 5.1.6 <someone@example.com>: Mailbox has moved, no forwarding address',
    '551 5.1.6 User not local; please try <someone@example.net>',
    '550 5.1.6 Recipient address has changed and no forwarding address was provided',
  ]),
  // a recipient or domain that refuses mail from this sender, or of this kind: said before the
  // null-MX wording it contains ("does not accept mail" + "from you"), which would make it hard
  // "does not accept mail from" + our IP, network, server or dynamic range: a block of the sending
  // host (sender-wide, never a recipient's own filter that could escalate to a suppression)
  g('refuses-client', 'blocked', ['accept mail from dynamic', 'accepting mail from dynamic', 'mail from your ip', 'mail from your server', 'mail from your host', 'mail from your network', 'mail from your mail server', 'mail from ip address', 'mail from residential', 'mail from us;', 'mail from us.', 'mail from this ip', 'mail from this server', 'mail from this host', 'mail from this network'], [
    '554 5.7.1 This server does not accept mail from dynamic IP addresses',
    '550 5.7.1 We do not accept mail from your IP address',
    '554 5.7.1 Your server is not accepting mail from us; IP blocked',
  ], { scope: 'sender' }),
  g('refuses-sender', 'filtered', ['for this sender', 'from this sender', 'does not accept mail from', 'does not accept email from', 'does not accept e-mail from', 'not accepting mail from', 'not accepting email from', 'not accept mail from'], [
    '550 5.7.1 This user is not accepting mail from your domain',
    '550 5.1.1 Recipient rejected: not authorized to receive from this sender',
    '550 5.7.1 The recipient does not accept mail from example.org',
  ]),
  g('refuses-kind', 'policyviolation', ['not accepting mail with', 'does not accept mail with', 'not accepting email with'], [
    '550 5.7.1 Because the recipient is not accepting mail with attachments',
  ]),
  g('receiving-disabled', 'notaccept', ['mail receiving disabled', 'no route for current request'], [
    '550 5.7.1 Mail receiving disabled',
  ]),
  // the host refuses mail over some path only (IPv6, an unencrypted channel): about how we connect,
  // not a domain that takes no mail at all
  g('refuses-transport', 'blocked', ['does not accept mail over', 'does not accept email over', 'not accepting mail over', 'does not accept mail via', 'does not accept mail through', 'does not accept mail on ipv6', 'does not accept email via'], [
    '550 5.7.1 This server does not accept mail over IPv6 from your network',
    '554 5.7.1 example.org does not accept mail over IPv6, please use IPv4',
  ], { scope: 'sender' }),
  g('null-mx', 'notaccept', ['null mx', 'nullmx', 'does not accept mail', 'does not accept email', 'does not accept e-mail', 'not accepting mail', 'accepts no mail', 'domain does not receive mail', 'no smtp service here', 'does not accept any mail', 'not accept mail for'], [
    '554 5.3.2 example.com does not accept mail',
    '550 5.1.10 This host accepts no mail',
  ], { pattern: /null ?mx|does not accept (?:any )?e?-?mail|not accepting mail|accepts no mail|does not receive mail|no smtp service here|not accept mail for/ }),
  g('dns-temporary', 'networkerror', ['dns records for the destination computer could not be found', 'malformed name server reply', 'malformed or unexpected name server reply', 'unable to resolve route', 'host not found, try again', 'temporary failure in name resolution', 'dns lookup failure', 'host name lookup failure', 'name lookup failure', 'dns temporary failure', 'dns server failure', 'name server failure', 'servfail', 'temporary dns failure', 'dns query timed out', 'dns timeout'], [
    'DNS records for the destination computer could not be found',
    'Name service error for name=example.com type=MX: Host not found, try again',
    '451 4.4.3 Temporary failure in name resolution',
    '451 Temporary local problem - please try later (DNS lookup failure)',
  ]),
  // the client's HELO name or host: said before the recipient-domain rule ("Helo command rejected: Host not found")
  g('helo', 'blocked', ['helo domain', 'ehlo domain', 'client host rejected: unknown', 'connecting client has no name', 'unknown host in ehlo', 'unknown host in helo', "your server's hostname", 'helo command rejected', 'ehlo command rejected', 'invalid helo', 'bad helo', 'helo rejected', 'helo/ehlo', 'invalid ehlo', 'helo name', 'helo hostname', 'forged helo'], [
    '504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname',
    '550 5.7.1 Invalid HELO name (See RFC2821 4.1.1.1)',
    '550 Bad HELO - Host impersonating example.com',
    '550 5.7.1 <bad.example>: Helo command rejected: Host not found',
  ]),
  g('host-unknown', 'hostunknown', ['domain is not reachable', 'name or service not known', 'recipient domain must exist', 'the account or domain may not exist', 'host or domain name not found', 'domain name not found', 'name service error', 'unrouteable mail domain', 'unroutable mail domain', 'domain not found', 'unknown domain', 'no such domain', 'domain does not exist', 'host unknown', 'unknown host', 'host not found', 'nxdomain', 'no mx or a record', 'domain has no mx', 'no mx found', 'mx lookup failed', 'could not resolve', 'unresolvable domain', 'domain is not valid', 'invalid domain', 'bad destination system address', 'domain name does not exist', 'recipient domain does not exist', 'dns error: domain', 'no valid mx', 'has no mx'], [
    '550 5.1.2 Recipient domain must exist',
    'Host or domain name not found. Name service error for name=example.invalid type=A: Host not found',
    '550 5.1.2 <someone@example.invalid>: Recipient address rejected: Domain not found',
    '550 Unrouteable mail domain "example.invalid"',
    '550 5.1.2 someone@example.invalid... Host unknown (Name server: example.invalid: host not found)',
    "DNS Error: DNS type 'mx' lookup of example.invalid responded with code NXDOMAIN Domain name not found: example.invalid",
  ]),
  // many unknown recipients in a row: a directory-harvest / reputation refusal of the sender,
  // not a statement about this recipient
  g('harvest', 'blocked', ['too many invalid recipients', 'too many unknown recipients', 'too many unknown users', 'too many invalid users', 'excessive unknown recipients', 'too many bad recipients', 'too many recipient errors', 'too many failed recipients', 'too many non-existent', 'too many nonexistent', 'dictionary attack', 'directory harvest'], [
    '550 5.7.1 Too many invalid recipients',
    '421 4.7.0 [TSS11] Excessive unknown recipients - possible Open Relay (#4.1.8)',
    '550 Rejected: dictionary attack detected, too many unknown users',
  ], { scope: 'sender' }),
  g('recipient-rejected-bare', 'userunknown', ['recipient address rejected'], [
    '550 <someone@example.jp>: Recipient address rejected.',
    '550 5.1.1 <someone@example.jp>: Recipient address rejected (in reply to RCPT TO command)',
  ], { pattern: /recipient address rejected\.?(?: \(in reply to rcpt to command\))?$/ }),
  g('sending-quota', 'speeding', ['sending quota exceeded', 'submission quota exceeded', 'sending limit exceeded', 'exceeded the sending limit', 'message submission rate', 'daily sending quota', 'daily message quota exceeded', 'throttling failure', 'sender quota exceeded', 'sending quota', 'ip quota exceeded', 'connection quota exceeded', 'outbound quota', 'hourly quota exceeded', 'quota for this hour', 'quota for this day', 'relay quota exceeded'], [
    '550 5.7.1 Sender quota exceeded',
    '421 4.7.0 IP quota exceeded, try later',
    '550 5.4.5 Daily sending quota exceeded',
    '454 Throttling failure: Daily message quota exceeded.',
    '554 5.2.2 Submission quota exceeded',
  ]),
  g('mailbox-full', 'mailboxfull', ['zuviele mails', 'zu viele mails', 'postfach voll', 'postfach ist voll', 'mailbox voll', 'speicherplatz', 'quota überschritten', 'boîte pleine', 'boite aux lettres pleine', 'boîte aux lettres pleine', 'casella piena', 'buzón lleno', 'buzon lleno', 'exceeding their quota', 'diskspace quota', 'does not have enough space', 'full mailbox', 'mailbox exceeded the local limit', 'not enough storage space', 'not sufficient disk space', 'over the allowed quota', 'quota violation', 'exceed maximum allowed storage', 'space has been used up', 'too much mail data', 'too many messages on the server', 'exceeded quota', 'exceeding receiving limits', 'maximum size allowed for mail delivery', 'is over disk quota', 'reached disk quota', 'exceeded its disk space limit', 'mailbox full', 'mailbox is full', 'mailbox was full', 'over quota', 'overquota', 'quota exceeded', 'quota exceed', 'exceeded storage allocation', 'mailbox quota', 'user is over', 'mailbox size limit', 'mailbox exceeds', 'exceeds its quota', 'would exceed quota', 'disk quota', 'out of storage space', 'inbox is full', 'account is full', 'mail box full', 'mailfolder is full', 'mailbox has exceeded', 'mailbox limit exceeded', 'storage quota', 'quota reached', 'over the quota', 'not enough space in mailbox', 'has exceeded the storage', 'maildir over quota', 'insufficient space in mailbox'], [
    '550 Benutzer hat zuviele Mails auf dem Server',
    '552 Postfach voll',
    'The users mailfolder is over the allowed quota (size). (#5.2.2)',
    'Sorry the user has exceeded quota, bouncing mail',
    '552 too much mail data',
    "550 5.2.2 The user's space has been used up.",
    'Account disabled temporarly for exceeding receiving limits',
    '552 5.2.2 <someone@example.com>: Recipient address rejected: Mailbox full',
    '452 4.2.2 Mailbox full',
    '552 5.2.2 Quota exceeded (mailbox for user is full)',
    '552 Requested mail action aborted: exceeded storage allocation',
    '450 4.2.2 <someone@example.com>: user is overquota',
    "554 5.2.2 mailbox quota exceeded for this recipient",
  ]),
  // "your account" / "sending account" is OUR account (at a relay or submission server): a refusal
  // of the sender, never the recipient's suspended mailbox (which policy.ts may escalate)
  g('own-account-auth', 'securityerror', ['authentication failed: account', 'auth failed: account'], [
    '535 5.7.8 Error: authentication failed: account disabled',
  ], { scope: 'sender' }),
  g('own-account', 'rejected', ['your account has been suspended', 'your account is suspended', 'your account has been disabled', 'your account is disabled', 'your account has been locked', 'your account is locked', 'your account has been blocked', 'your account is blocked', 'your account has been deactivated', 'sending account', 'outgoing mail from this account', 'sending has been disabled', 'sending is disabled', 'sending has been suspended', 'sending paused for this account'], [
    '554 5.7.1 Your account has been suspended for sending spam',
    '554 Message rejected: Sending paused for this account. For more information, please check the AWS Management Console.',
  ], { scope: 'sender' }),
  g('suspended', 'suspend', ['administratively disabled', 'mailbox is not active', 'temporary locked', 'archived recipient', 'destinataire archivee', 'user is terminated', 'currently suspended', 'temporarily inactive', 'suspend the service', 'has been disabled or discontinued', 'account temporarily suspended', 'mailbox temporarily suspended', 'is temporarily suspended', 'has been temporarily suspended', 'blocked due to inactivity', 'mailbox has been blocked', 'domain is disabled', 'account is locked', 'mailbox has been suspended', 'mailbox is suspended', 'account disabled', 'account is disabled', 'account has been disabled', 'mailbox disabled', 'mailbox is disabled', 'mailbox has been disabled', 'account inactive', 'inactive account', 'account is inactive', 'mailbox is inactive', 'inactive mailbox', 'inactive user', 'account suspended', 'account is suspended', 'account has been suspended', 'mailbox suspended', 'account is locked', 'account locked', 'account has been locked', 'mailbox is locked', 'account expired', 'account has expired', 'deactivated', 'account is frozen', 'mailbox is frozen', 'account is not active', 'account has been closed', 'account closed', 'user account is disabled', 'user disabled', 'user suspended', 'is currently suspended', 'account is blocked', 'mailbox is blocked', 'account blocked', 'mailbox blocked', 'temporarily disabled', 'account is unavailable', 'blocked account', 'disabled mailbox', 'mailbox is restricted'], [
    '550 Mailaddress is administratively disabled',
    '550 5.2.1 Mailbox currently suspended - please contact the recipient by other means',
    '550 5.7.1 Recipient rejected: temporarily inactive',
    '550 5.2.1 <someone@example.com>: Mailbox disabled, not accepting messages',
    '550 5.2.1 The account is disabled',
    '554 5.2.1 Account inactive',
    '550 5.7.13 User account disabled',
    '450 4.2.1 Mailbox is inactive',
    '550 5.2.1 Account has been suspended',
  ]),
  g('greylisted', 'onhold', ['greylist', 'grey list', 'graylist', 'gray list', 'grey-list', 'greylisting'], [
    '450 4.2.0 <someone@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html',
    '451 4.7.1 Please try again later (greylisting)',
    '451 Greylisted, please try again in 300 seconds',
  ]),
  g('ptr', 'requireptr', ['reverse dns', 'reverse-dns', 'ptr record', 'ptr resource record', 'rdns', 'reverse lookup', 'cannot find your hostname', 'cannot find your reverse hostname', 'ip name lookup failed', 'no ptr', 'missing ptr', 'reverse address', 'reverse hostname', 'reverse mapping', 'fcrdns', 'forward confirmed reverse', 'pointer record', 'does not resolve to your ip', 'no reverse', 'unverifyable sending ip', 'unverifiable sending ip'], [
    '554 5.7.1 Your IP has no reverse DNS (rDNS); see https://example.net/rdns',
    '450 service permits 2 unverifyable sending IPs - example.org is not 192.0.2.1',
  ]),
  g('dnsbl', 'blocked', ['blocked using', 'listed in', 'listed at', 'listed on', 'listed by', 'blacklisted', 'blocklisted', 'blacklist', 'blocklist', 'block list', 'black list', 'dnsbl', 'rbl', 'realtime blackhole', 'is listed', 'found on one or more'], [
    '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using dnsbl.example.net; see https://dnsbl.example.net/lookup?1.2.3.4',
    '550 5.7.1 Rejected because 1.2.3.4 is listed at rbl.example.org',
    '554 Your IP address 1.2.3.4 is blacklisted',
    '550 5.7.1 IP address is on our block list',
    '421 4.7.1 Your IP 1.2.3.4 is listed in an RBL',
  ], { pattern: /blocked using|listed (?:in|at|on|by)|is listed|black ?list|block ?list|dnsbl|\brbl\b|realtime blackhole|found on one or more/ }),
  g('reputation', 'badreputation', ['reputation', 'sender score', 'senderscore'], [
    '554 5.7.1 Rejected due to poor sender reputation',
    '421 4.7.0 IP not in whitelist and has low reputation, try again later',
    '550 5.7.1 Message rejected due to bad IP reputation score',
  ]),
  g('host-blocked', 'blocked', ['client host blocked', 'host blocked', 'ip blocked', 'ip address blocked', 'ip is blocked', 'ip address is blocked', 'your ip has been blocked', 'ip has been blocked', 'address is blocked', 'blocked ip', 'ip banned', 'ip has been banned'], [
    '554 5.7.1 Client host blocked for spamming issue',
    '550 5.7.1 Your IP has been blocked due to abuse',
  ]),
  g('dynamic-ip', 'blocked', ['dynamic ip', 'dynamic address', 'dynamic ips', 'dynamically assigned', 'residential ip', 'dial-up', 'dialup', 'generic rdns', 'looks like a dynamic', 'end-user ip', 'smtp server of your isp', 'use your isp', "use your provider's smtp", 'use the smtp server of your provider'], [
    '550 5.7.1 Mail from dynamic IP addresses is not accepted, use your ISP relay',
    '554 5.7.1 Client host rejected: Looks like a dynamic IP (1-2-3-4.dyn.example.net)',
    '550 5.7.0 <bob@example.org>... Please use the smtp server of your ISP.',
  ]),
  g('virus', 'virusdetected', ['virus', 'malware', 'infected', 'trojan', 'malicious content', 'malicious attachment', 'phishing', 'eicar'], [
    '550 5.7.1 Message rejected: virus found (Eicar-Test-Signature)',
    '554 5.7.0 Reject, id=12345-01 - INFECTED: Win.Trojan.Agent-12345',
    '550 5.7.350 Malware detected in message',
  ]),
  g('spam', 'spamdetected', ['spam', '垃圾邮件', 'unsolicited', 'junk mail', 'bulk mail', 'content filter', 'message content rejected', 'content rejected', 'identified as junk', 'suspicious content', 'looks like junk', 'scored too high', 'score too high', 'high probability of being', 'message rejected as bulk'], [
    '550 5.7.1 Message rejected: spam content',
    '554 5.7.1 Spam message rejected',
    '554 5.7.1 邮件被识别为垃圾邮件',
    '550 High probability of spam',
    '554 5.7.0 Reject, id=12345-02 - SPAM',
    '550 5.7.1 Message content rejected, UBE, id=12345-03',
    '554 5.7.1 Spam score (12.5) exceeds threshold',
  ]),
  g('recipients-rate', 'speeding', ['too many recipients this hour', 'sent to too many recipients', 'too many recipients in a short time', 'too many recipients per hour', 'recipient rate limit'], [
    '550 5.1.1 <someone@example.com> - 192.0.2.1 has sent to too many recipients this hour. IB607',
  ]),
  // "mailbox unavailable" is RFC 5321's stock text for any 550; when the enhanced status is more
  // specific (x.2.1 disabled, x.2.2 full, x.7.x policy) the status decides, not a hard unknown user
  g('unavailable-disabled', 'suspend', ['mailbox unavailable', 'mailbox is unavailable'], [
    '550 5.2.1 Requested action not taken: mailbox unavailable',
  ], { status: ['x.2.1'] }),
  g('unavailable-full', 'mailboxfull', ['mailbox unavailable', 'mailbox is unavailable'], [
    '550 5.2.2 Requested action not taken: mailbox unavailable',
  ], { status: ['x.2.2'] }),
  g('unavailable-policy', 'securityerror', ['mailbox unavailable', 'mailbox is unavailable'], [
    '550 5.7.1 Requested action not taken: mailbox unavailable',
  ], { status: ['x.7.'], scope: 'sender' }),
  g('user-unknown', 'userunknown', ['address not present in directory', "can't accept user", 'destination addresses were unknown', 'email address could not be found', 'is not an active address at this host', 'mailbox invalid', 'mailbox not present', 'nessun utente simile', 'no existe dicha persona', 'no existe ese usuario', 'no mail box available for this user', 'no mailbox found', 'no such email address', 'no such mail drop', 'no such person at this address', 'recipient not exist', 'recipient is not local', 'badrcptto', 'badrecipientto', 'validrcptto', 'envelope recipient has been denied', 'email name is not found', 'there is no one at this address', 'wrong or no longer valid', 'spectator does not exist', 'user missing home directory', 'user not active', 'user not exist', 'user not known', 'utilisateur inconnu', 'unknown virtual user', 'adresse nicht gefunden', 
    'user unknown', 'unknown user', 'no such user', 'no such mailbox', 'no such recipient', 'no such address', 'no such account',
    'user not found', 'recipient not found', 'mailbox not found', 'address not found', 'account not found',
    'user does not exist', "user doesn't exist", 'address does not exist', "address doesn't exist", 'mailbox does not exist', "mailbox doesn't exist",
    'recipient does not exist', "recipient doesn't exist", 'account does not exist', "account doesn't exist", 'user does not have an account',
    'unknown recipient', 'recipient unknown', 'unknown mailbox', 'mailbox unknown', 'unknown address', 'address unknown', 'addressee unknown', 'unknown local part', 'unknown or illegal alias',
    'invalid recipient', 'invalid mailbox', 'not a valid mailbox', 'not a valid recipient', 'is not a valid user', 'invalid user', 'invalid address', 'bad recipient', 'bad destination mailbox',
    'unrouteable address', 'unroutable address', 'no mailbox here by that name', 'no mailbox by that name', 'no account by that name',
    'not listed in domino directory', 'not listed in public name & address book', 'user is unknown', 'is not a known user', 'recipient is not known', 'no such local user',
    'non-existent user', 'nonexistent user', 'non existent user', 'recipient address rejected: undeliverable address', 'undeliverable address',
    'mailbox name not allowed', 'mailbox name invalid', 'unknown account', "the email address you entered couldn't be found", 'address is no longer available', 'address is no longer active', 'address is no longer valid', 'mailbox is no longer available', 'mailbox is no longer active', 'account is no longer available', 'account is no longer active', 'user is no longer available', 'recipient is no longer available', 'address no longer valid', 'address no longer exists', 'mailbox no longer exists', 'account no longer exists', 'user no longer exists', 'is not a valid address',
    'this address no longer accepts mail', 'user unknown in', 'user is not found', 'recipient address is invalid', 'recipient invalid', 'address invalid', 'mailbox is unavailable', 'mailbox unavailable', 'mailbox not available', 'mailbox is not available',
  ], [
    '553 sorry, this recipient is not in my validrcptto list (#5.1.1)',
    '550 Utilisateur inconnu !',
    '550 vdeliver: Invalid or unknown virtual user someone@example.com',
    '553 sorry, your envelope recipient has been denied (#5.7.1)',
    '550 5.1.1 <someone@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    '550 5.1.1 <someone@example.com>... User unknown',
    '550 5.1.1 <someone@example.com> User doesn\'t exist: someone@example.com',
    '511 sorry, no mailbox here by that name (#5.1.1)',
    '550 Unrouteable address',
    '550 5.1.1 Mailbox does not exist',
    '550 5.1.1 No such user - psmtp',
    '550 Requested action not taken: mailbox unavailable',
    '550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM4PEPF00012345.eurprd04.prod.outlook.com]',
    '550 5.1.1 <someone@example.com>: Recipient address rejected: undeliverable address: host mx.example.com[1.2.3.4] said: 550 5.1.1 User unknown (in reply to RCPT TO command)',
    '553 5.1.3 <some one@example.com>... Invalid recipient address',
    "550 'someone@example.com' is not a valid mailbox",
    '550 No such recipient here',
    '550 Address unknown',
    'The email address you entered couldn\'t be found. Please check the recipient\'s email address and try to resend the message.',
  ]),
  // unknown recipient in other languages
  // "User <address> does not exist": the recipient's address named between the noun and the verb
  // (sender and domain forms are decided by the earlier sender-*/host-unknown rules)
  g('named-user-not-exist', 'userunknown', ['does not exist', "doesn't exist"], [
    '550 User jane@example.com does not exist',
    '550 5.1.1 Recipient <jane.doe@example.net> does not exist here',
    "550 Mailbox info@example.org doesn't exist",
  ], { pattern: /\b(?:user|mailbox|account)\b|\brecipient </ }),
  g('user-unknown-intl', 'userunknown', ['unbekannter empf', 'empfaenger unbekannt', 'empfänger unbekannt', 'benutzer unbekannt', 'utente sconosciuto', 'utente inesistente', 'destinatario sconosciuto', 'indirizzo inesistente', 'usuario desconocido', 'destinatario desconocido', 'usuario no existe', 'no existe el usuario', 'adresse inconnue', 'destinataire inconnu', 'usuário desconhecido', 'usuario desconhecido', 'destinatário desconhecido', 'conta inexistente', 'onbekende gebruiker', 'gebruiker onbekend', 'mailbox nicht gefunden', 'postfach nicht gefunden', 'postfach existiert nicht', 'empfänger existiert nicht', 'empfaenger existiert nicht', 'utilisateur inexistant', 'destinataire inexistant', 'casella inesistente', 'usuário não existe', 'usuario não existe', '用户不存在', '收件人不存在', '邮箱不存在', '帐户不存在', '账户不存在'], [
    '550 Unbekannter Empfaenger',
    '550 Postfach nicht gefunden',
    '550 5.1.1 收件人不存在',
    '550 utente sconosciuto',
    '550 5.1.1 usuario desconocido',
    '550 Adresse inconnue',
  ]),
  g('too-many-recipients', 'toomanyconn', ['too many recipients', 'recipient limit exceeded', 'too many rcpt', 'maximum number of recipients'], [
    '452 4.5.3 Too many recipients',
    '552 Too many recipients',
  ]),
  g('size-limit-admin', 'exceedlimit', ['message length exceeds administrative limit', 'exceeds administrative limit'], [
    '552 5.2.3 Message length exceeds administrative limit',
  ]),
  g('message-too-big', 'mesgtoobig', ['letter exceeds the limit', 'size of the letter', 'inbound message size', 'max message size exceeded', 'message size exceeds maximum value', 'taille limite du message atteinte', 'message size exceeds', 'message too large', 'message is too large', 'message too big', 'message is too big', 'size limit', 'exceeds size limit', 'size exceeds', 'exceeded the maximum message size', 'exceeds the maximum message size', 'exceeds maximum message size', 'exceeds the maximum size', 'maximum message size', 'message size', 'message file too big', 'mail size', 'too large for this system', 'email is too large', 'message exceeds', 'exceeds the size', 'line limit exceeded'], [
    '550 Size of the letter exceeds the limit',
    '552 5.3.4 Taille limite du message atteinte',
    '552 5.3.4 Message size exceeds fixed limit',
    '500 Line limit exceeded',
    '552 5.3.4 Message size exceeds fixed maximum message size',
    '552 Message size exceeds maximum permitted',
    '552 5.2.3 Message too large',
    '554 5.3.4 message file too big',
    '552 5.3.4 Error: message file too big',
  ], { pattern: /size|too (?:large|big)|message exceeds|line limit exceeded|taille limite/ }),
  g('not-rfc-compliant', 'notcompliantrfc', ['rfc 5322', 'rfc5322', 'rfc 2822', 'rfc2822', 'rfc 822', 'rfc822', 'duplicate header', 'multiple from', 'multiple subject', 'more than one from', 'missing date header', 'missing message-id', 'no message-id', 'message-id header', 'bare lf', 'bare linefeed', 'not compliant with rfc', 'non-compliant', 'not rfc compliant', 'malformed header', 'header is missing', 'missing required header', 'invalid header', 'header syntax', 'header field'], [
    '550 5.7.1 Message is not RFC 5322 compliant: duplicate headers',
    '554 5.6.0 Message contains bare LF and is violating 822.bis section 2.3',
    '550 5.7.1 Message rejected: missing Date header',
    '554 5.7.0 Reject, id=12345-04 - BAD HEADER: Duplicate header field: "Subject"',
  ]),
  g('content-error', 'contenterror', ['invalid mime', 'mime error', 'malformed mime', 'mime structure', 'bad mime', '8bit', '8-bit', 'illegal character', 'invalid character', 'encoding error', 'bad encoding', 'character set', 'charset', 'utf-8', 'smtputf8', 'non-ascii', 'media not supported', 'conversion required', 'content not available', 'message content', 'invalid content'], [
    '554 5.6.211 Invalid MIME Content',
    '550 5.6.7 Non-ASCII addresses are not permitted for that sender',
    '554 5.6.0 Message contains invalid MIME structure',
    '554 5.6.1 Media not supported',
  ]),
  g('policy', 'policyviolation', ['blocked by policy', 'illegal attachment', 'members-only list', 'closed mailing list', 'header are not accepted', 'organizational settings', 'message given low priority', 'not subscribed to this group', 'organization policy', 'containing images or other attachments', 'using a mass mailer', 'executable files are not allowed', 'policy violation', 'violates our policy', 'violation of our', 'not allowed by policy', 'denied by policy', 'rejected by policy', 'for policy reasons', 'policy reasons', 'local policy', 'policy restrictions', 'due to policy', 'content policy', 'prohibited attachment', 'attachment type', 'attachment is not allowed', 'attachments are not allowed', 'banned attachment', 'blocked attachment', 'file type', 'executable', 'forbidden attachment', 'message rejected due to local policy', 'policy rejection', 'administrative prohibition', 'prohibited by administrator', 'disallowed'], [
    '550 5.7.1 Message bounced due to organizational settings',
    '554 5.7.1 Message rejected due to local policy',
    '550 5.7.1 Policy violation',
    '552 5.7.0 Attachment type not allowed',
    '554 5.7.1 Rejected for policy reasons',
    '550 Administrative prohibition',
  ]),
  g('filtered', 'filtered', ['only accepting mail from specific email addresses', 'bounced address', 'due to extended inactivity', 'restricted sms e-mail', 'is not accepting any mail', 'due to recipient preferences', 'this account is protected by', 'refuses to receive this mail', 'user reject', 'refuse to receive mail', 'blocked by the recipient', 'filtered', 'rejected by recipient', 'blocked by recipient', 'blocked by the recipient', 'rejected by the recipient', "recipient's filter", 'recipient filter', 'refused by recipient', 'recipient has blocked', 'recipient blocked', 'recipient refuses', 'user has blocked', 'does not accept mail from you', 'do not accept mail from you', 'not accept messages from you', "recipient's block list", "recipient's blocklist", 'sender is on the blocked senders list', 'blocked senders list', 'mail refused by', 'refused to accept', 'address filtering', 'sender not allowed by recipient', 'not authorized to send to this recipient', 'not authorised to send to this recipient', 'delivery to this address is restricted'], [
    "550 5.7.1 Your message can't be delivered because delivery to this address is restricted.",
    '550 5.7.1 Your message was rejected because the recipient is only accepting mail from specific email addresses',
    '550 5.7.1 Message refused due to recipient preferences',
    '550 You have been blocked by the recipient',
    '550 5.7.1 Message filtered by the recipient',
    '550 5.7.1 Your message was rejected by the recipient\'s filter',
    '550 5.7.1 The recipient has blocked messages from you',
    '550 5.7.1 Sender is on the blocked senders list of the recipient',
  ]),
  g('starttls', 'failedstarttls', ['must issue a starttls command first', 'starttls is required', 'starttls required', 'tls required', 'tls is required', 'requires tls', 'require tls', 'encryption required', 'encryption needed', 'tls negotiation failed', 'tls handshake', 'starttls failed', 'tls connection failed', 'ssl routines', 'tls not available', 'cannot start tls', 'could not start tls', 'tls failure', 'secure connection required', 'requiretls', 'certificate verification failed', 'certificate verify failed', 'ssl handshake', 'tls 1.0 and 1.1 are not supported', 'client to support tls 1.2', 'before secure tls connection was established', 'unable to verify the first certificate', 'self-signed certificate', 'self signed certificate', 'certificate has expired', 'unable to get local issuer certificate'], [
    'Client network socket disconnected before secure TLS connection was established',
    'unable to verify the first certificate',
    '530 5.7.0 Must issue a STARTTLS command first',
    '530 5.7.10 Encryption required for requested authentication mechanism',
    '454 4.7.0 TLS not available due to local problem',
    '550 5.7.30 REQUIRETLS support required',
    'TLS negotiation failed: SSL routines:tls_process_server_certificate:certificate verify failed',
  ]),
  g('auth-required', 'securityerror', ['account not subscribed to ses', 'authentication turned on in your email client', 'unauthenticated senders not allowed', 'verification failure', 'authentication required', 'authentication is required', 'must authenticate', 'authentication failed', 'authentication unsuccessful', 'authentication credentials invalid', 'username and password not accepted', 'missing credentials', 'invalid credentials', 'not authenticated', 'auth required', 'smtp auth', 'authentication mechanism is too weak', 'access denied - invalid', 'forged', 'spoof', 'impersonat'], [
    '550 Unauthenticated senders not allowed',
    '530 5.7.0 Authentication required',
    '535 5.7.8 Authentication credentials invalid',
    '535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm1 - gsmtp',
    '550 5.7.1 Message appears to be forged',
  ]),
  g('too-many-connections', 'toomanyconn', ['at maximum connection limit', 'too many errors from your ip', 'trop de connexions', 'numerous attempts to deliver this message', 'too many connections', 'too many concurrent', 'too many simultaneous', 'too many open connections', 'too many sessions', 'too many smtp sessions', 'connection limit', 'maximum number of connections', 'concurrent connections', 'max connections', 'connections per ip', 'connections from your ip', 'connection count', 'too many connection', 'connection rate limit'], [
    '421 4.7.0 Too many errors from your IP (192.0.2.1)',
    '421 Trop de connexions, veuillez reessayer plus tard',
    '421 4.7.0 Too many concurrent SMTP connections; please try again later',
    '421 Too many connections from 1.2.3.4, please try again later',
    '421 4.3.2 Connection limit exceeded',
  ]),
  g('rate-limit', 'speeding', ['rate limit', 'ratelimit', 'rate-limit', 'rate limited', 'too many messages', 'too many mails', 'too many emails', 'too many e-mails', 'sending rate', 'message rate', 'too fast', 'throttl', 'slow down', 'sending limit', 'hourly limit', 'daily limit', 'per hour', 'per minute', 'per day', 'exceeded the maximum number of messages', 'mail flood', 'flood', 'frequency limit', 'too frequent', 'rate exceeded', 'rate control', 'volume limit', 'unusual volume', 'excessive volume', 'high volume', 'exceeded the limit', 'too much mail from'], [
    '450 4.7.1 Error: too much mail from 198.51.100.7',
    '421 4.7.0 Rate limit exceeded, please try again later',
    '450 4.7.1 Too many messages from 1.2.3.4, slow down',
    '452 4.3.1 Throttled: too many messages per hour',
    '550 5.7.28 Mail flood detected',
    '421 4.7.0 Our system has detected an unusual volume of messages',
  ]),
  g('expired', 'expired', ['could not find a gateway for', 'delivery attempts will continue to be', 'failed to deliver to domain', 'giving up on', 'failing for a long time', 'has not been collected after', 'could not be delivered for more than', 'has been in the queue too long', 'retry time not reached for any host after a long failure period', 'after a long failure period', 'not reachable within the allowed queue period', 'delivery time expired', 'message expired', 'retry timeout exceeded', 'could not be delivered within', 'was not delivered within', 'retry time exceeded', 'retry period exceeded', 'queue lifetime', 'too long in queue', 'in the queue too long', 'delivery period expired', 'message timed out', 'delivery expired', 'expired after', 'max queue time', 'maximum queue time', 'gave up after', 'giving up after', 'message is too old', 'expired in queue', 'no successful delivery', 'undeliverable after'], [
    'retry time not reached for any host after a long failure period',
    'Your message could not be delivered for more than 4 hours',
    'This message has been in the queue too long',
    'Retry time exceeded',
    '550 4.4.7 Delivery expired (message too old) [Timeout]',
    'Message was not delivered within 3 days; giving up',
    'Undeliverable after 5 days in queue'
  ]),
  // a socket error on the sending side as Node/Nodemailer report it (ECONNREFUSED, no greeting):
  // the network path, not a refusal by the receiving MTA ("554 Connection refused" stays blocked)
  g('socket-error', 'networkerror', ['econnrefused', 'econnreset', 'etimedout', 'ehostunreach', 'enetunreach', 'enotfound', 'eai_again', 'greeting never received', 'unexpected socket close', 'socket hang up'], [
    'getaddrinfo ENOTFOUND smtp.relay.example',
    'connect ECONNREFUSED 203.0.113.9:25',
    'Greeting never received',
  ]),
  g('refused-by-host', 'blocked', ['connection refused by'], [
    'Deferred: Connection refused by mx.example.ne.jp.',
    '554 Connection refused by mx.example.com',
  ]),
  g('refused-by-server', 'blocked', ['connection refused', 'connection rejected', 'refused'], [
    '554 5.7.1 Connection refused',
    '421 4.7.0 Connection refused from your network',
  ], { codes: [421, 450, 451, 454, 550, 553, 554, 521, 571] }),
  g('network', 'networkerror', ['connection timed out', 'timed out', 'connection refused', 'no route to host', 'network is unreachable', 'host unreachable', 'host is unreachable', 'connection reset', 'lost connection', 'could not connect', 'unable to connect', 'cannot connect', "can't connect", 'failed to connect', 'connection closed', 'connection dropped', 'broken pipe', 'no answer from host', 'bad connection', 'conversation with', 'connect to', 'unreachable', 'network error', 'socket error', 'read timeout', 'timeout', 'connection failed', 'connection lost', 'premature eof', 'unexpected eof'], [
    'connect to mx.example.com[1.2.3.4]:25: Connection timed out',
    'connect to mx.example.com[1.2.3.4]:25: Connection refused',
    'lost connection with mx.example.com[1.2.3.4] while receiving the initial server greeting',
    'conversation with mx.example.com[1.2.3.4] timed out while sending end of data -- message may be sent more than once',
    'Network is unreachable',
    '421 4.4.2 Connection dropped due to timeout',
  ]),
  g('routing-loop', 'networkerror', ['maximum forwarding loop count exceeded', 'routing loop', 'too many hops', 'hop count exceeded', 'too many received headers', 'maximum hop count'], [
    '554 5.4.6 Maximum forwarding loop count exceeded',
    '550 5.4.14 Hop count exceeded - possible mail loop',
    '554 5.4.6 Too many received headers (routing loop)',
  ]),
  g('mail-loop', 'systemerror', ['mail loop', 'loops back to myself', 'loop detected', 'mail forwarding loop', 'looping'], [
    'mail for example.com loops back to myself',
    '554 5.4.0 Mail loop detected',
  ]),
  g('mailer-error', 'mailererror', ['pipe to |', 'command died with status', 'unknown mailer error', 'mailer error', 'local delivery program', 'delivery program', 'procmail', 'maildrop', 'exited with status', 'exit code', 'returned error code', 'command output:', 'exited abnormally', 'child process', 'local delivery failed'], [
    'Command died with status 1: "/usr/bin/procmail -a $EXTENSION". Command output: procmail: Couldn\'t create "/var/spool/mail/someone"',
    '554 5.3.0 unknown mailer error 1',
    'pipe to |/usr/local/bin/handler generated by someone@example.com: Child process of address_pipe transport returned 69 (could mean service or program unavailable) from command: /usr/local/bin/handler',
  ]),
  g('system-full', 'systemfull', ['insufficient system storage', 'system storage', 'disk full', 'disk is full', 'out of disk', 'no space left', 'mail system full', 'spool full', 'insufficient disk space', 'system is full', 'queue full', 'not enough disk space', 'filesystem full', 'file system full'], [
    '452 4.3.1 Insufficient system storage',
    '451 4.3.0 Temporary failure: no space left on device',
  ]),
  g('system-error', 'systemerror', ["can't create user output file", 'encountered an error while being processed', 'internal error', 'internal server error', 'write error', 'local error', 'temporary local problem', 'system error', 'server error', 'configuration error', 'misconfigur', 'ldap', 'directory server', 'lookup failure', 'database error', 'unexpected error', 'resources temporarily unavailable', 'temporary server error', 'temporary system problem', 'service is currently unavailable', 'try again later', 'service not available', 'service unavailable', 'service temporarily unavailable', 'temporarily unavailable', 'not available at this time', 'transaction failed', 'processing error', 'error in processing', 'unable to process', 'system problem', 'cannot process', 'requested action aborted', 'server busy', 'system busy', 'overloaded', 'shutting down', 'closing connection', 'closing transmission channel'], [
    "550 5.3.0 Can't create user output file",
    '451 4.3.0 Internal error',
    '451 Temporary local problem - please try later',
    '451 4.3.5 Server configuration error',
    '421 4.3.2 Service not available, closing transmission channel',
    '451 Requested action aborted: local error in processing',
    '451 4.3.0 Error: queue file write error',
  ]),
  g('syntax', 'syntaxerror', ['command unrecognized', 'unrecognized command', 'command not recognized', 'syntax error', 'bad sequence of commands', 'command not implemented', 'invalid command', 'unknown command', 'command out of sequence', 'parameter not implemented', 'not implemented', 'line too long', 'bad syntax', 'protocol error', 'pipelining', 'improper use of smtp command', 'error: command', 'invalid argument', 'syntax'], [
    '500 5.5.1 Command unrecognized: "XYZ"',
    '503 5.5.1 Bad sequence of commands',
    '501 5.5.4 Syntax error in parameters or arguments',
    '502 5.5.2 Error: command not recognized',
  ]),
  g('access-denied', 'blocked', ['access denied', 'blocked', 'banned', 'not allowed to send', 'refused', 'denied', 'connections not accepted', 'not welcome', 'go away', 'your ip', 'your host', 'client host rejected', 'connection rejected'], [
    '550 5.7.1 Access denied',
    '554 5.7.1 Your host 1.2.3.4 is blocked',
    '550 Client host rejected: Access denied',
    '554 Sorry, you are not welcome here',
  ]),
]
