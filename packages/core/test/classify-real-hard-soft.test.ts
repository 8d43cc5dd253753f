import { describe, expect, it } from 'vitest'
import { classifyReply } from '../src/index.js'

/**
 * Real replies quoted in public issue threads and provider help pages (the address of each is in
 * the comment, and the same texts are in fixtures/replies-review.jsonl with their labels). They are
 * the cases where a wrong `hard` costs the most: a sender-side or temporary refusal that uses the
 * words of a dead address ("mailbox unavailable", "5.1.1", "user") must never suppress a good
 * recipient, and a dead address written in an unusual form must still be suppressed. Expected
 * values are the labels written from what each reply means, not the classifier's output.
 */
const NOT_HARD: readonly [text: string, reason: string][] = [
  // Yahoo submission/MX after DATA, recipient already accepted (PHPMailer/PHPMailer#2685)
  ['550 Request failed; Mailbox unavailable', 'rejected'],
  // Korean portal: the account exists but is suspended, under a 5.1.1 status (puffinknight.tistory.com/102)
  ['550 5.1.1 Suspended user', 'suspend'],
  ['550 5.1.1 Inactive mbox', 'suspend'],
  // Interia: 5.2.1 "not available" is not proof of a missing address (pomoc.poczta.interia.pl)
  ['550 5.2.1 Mailbox not available', 'suspend'],
  // Forpsi chkuser: a full mailbox that also carries 5.1.1 (support.konto.pl kb a2871)
  ['552 5.1.1 5.2.2 sorry, final recipient mailbox is full (chkuser)', 'mailboxfull'],
  // the recipient's own block list, not a missing address (Interia; a Korean portal)
  ["550 5.7.1 Recipient doesn't want your mail", 'filtered'],
  ["550 You are registered as spammer (by user's reject list)", 'filtered'],
  // Mimecast: the recipient personally blocked the sender (openaustralia/planningalerts#1969)
  ['550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550 [gz1Vvz1VN9ikuIVSF81-Wg.au11]', 'filtered'],
  // the SENDER's account or return path, not the recipient (mailout.ru; shenxn/protonmail-bridge-docker#28)
  ['550 message sending for this account is disabled', 'rejected'],
  ['451 4.0.0 backend: invalid return path: not owned by user', 'rejected'],
  // Gmail: the sending IP is blocked for unsolicited volume (maxking/docker-mailman#303)
  [
    '550-5.7.1 [104.248.27.183       1] Our system has detected an unusual rate of 550-5.7.1 unsolicited mail originating from your IP address. To protect our 550-5.7.1 users from spam, mail sent from your IP address has been blocked. 550-5.7.1 Please visit 550-5.7.1  https://support.google.com/mail/?p=UnsolicitedIPError to review our 550 5.7.1 Bulk Email Senders Guidelines. q16si3475662wrs.311 - gsmtp',
    'blocked',
  ],
  // Yahoo: permanent deferral for volume or complaints (hardware/mailserver#202)
  [
    '553 5.7.2 [TSS06] All messages from 62.210.211.239 will be permanently deferred; Retrying will NOT succeed. See https://help.yahoo.com/kb/postmaster/SLN3436.html',
    'badreputation',
  ],
  // Rackspace: the receiver throttles a host for the spam it sends (docs.rackspace.com common-email-bounces)
  [
    '451 4.3.0 <mail.example.com[192.0.2.1]>: Client host rejected: Throttled - Too much spam from your mail server. Try again later.',
    'badreputation',
  ],
  // Rackspace G30: the recipient's mailbox takes in too much too fast (smtp.codes/rackspace)
  ['450 4.2.1 <user@example.com>: Mailbox received too much email in a short period of time (G30)', 'speeding'],
  // Trend Micro Email Reputation Services is a blocklist, not a content verdict (hardwaresecrets.com)
  [
    'Mail from 192.0.2.1 deferred using Trend Micro Email Reputation database. Please see https://www.mail-abuse.com/cgi-bin/lookup?192.0.2.1',
    'blocked',
  ],
  // Exchange Online: the organisation's queue quota, not the recipient's mailbox (smtp-field-manual#42)
  ['smtp;450 4.7.3 Organization queue quota exceeded. [outlook.com]', 'speeding'],
  // Aruba PEC: "unknown OR not enabled for uncertified mail" cannot prove a dead address (guide.pec.it)
  [
    '554 <indirizzoemail>: Messaggio rifiutato dal sistema. Indirizzo destinatario sconosciuto o non abilitato alla ricezione di posta non certificata',
    'filtered',
  ],
  // Postfix address verification reporting its own MX loop under 5.1.1 (modoboa/modoboa#2097)
  ['550 5.1.1 <admin@abit.dev>: Recipient address rejected: undeliverable address: mail for abit.dev loops back to myself', 'systemerror'],
  // Postmark refuses a send to an address on its suppression list (ActiveCampaign/postmark-gem#128)
  [
    'You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: HardBounce@bounce-testing.postmarkapp.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.',
    'suppressed',
  ],
  // Outlook.com holds the SENDER's account until it signs in, under 5.3.4 (avplayer/avbot#3)
  ['550 5.3.4 Requested action not taken; To continue sending messages, please sign in to your account.', 'rejected'],
  // Yandex: the recipient's account is blocked for user-agreement violations (yandex.com/support/mail/bounces)
  ['Policy rejection on the target address', 'suspend'],
  // Alibaba Mail: the recipient's account may not receive (sh-aliyun.com, Alibaba Mail reply table)
  ["542 This account isn't allowed to receive email", 'suspend'],
  // OpenSMTPD filter-regex refusing a recipient that matches an admin's regex, under 5.7.1
  // (OpenSMTPD/OpenSMTPD-extras extras/filters/filter-regex/filter_regex.c)
  ['554 5.7.1 Recipient rejected', 'filtered'],
  // Coremail: the client's SMTP AUTH failed for good; 551 alone would read as a moved address
  // (blog.sina.com.cn/s/blog_8dc13ec50101fxxr.html)
  ['551 auth error.', 'securityerror'],
  // Exchange Online 5.7.703: the sender's own tenant allow/block list names the recipient; the address
  // may be fine (Microsoft's NDR table for 5.7.700-5.7.750)
  [
    "550 5.7.703 Your message can't be delivered because messages to <recipients> are blocked by your organization using Tenant Allow Block List.",
    'policyviolation',
  ],
  // hMailServer's route-list miss, sent as a 4xx by older versions: a dead-address meaning, but a
  // temporary reply is never hard (hmailserver/hmailserver#21)
  ['421 Recipient not in route list', 'userunknown'],
  // Exim's sender verification: "Unrouteable address" names the SENDER's address (PHPMailer/PHPMailer#1187)
  ['Verification failed for <backoffice@Ydomain.lu>\nUnrouteable address\nSender verify failed', 'rejected'],
  // a disabled mailbox exists; it is not a dead address (mailpoet-bounce-handler v1.4.1 changelog)
  ['554 30 mailbox is disabled', 'suspend'],
  // the SENDER's address or return-path domain, in dead-address words (nodemailer/smtp-server#75;
  // postalserver/postal#1199)
  ['550 550 5.1.1 <>: Sender address rejected: User unknown in local sender table', 'rejected'],
  ['550 5.1.0 MailProtect : Domain of sender address khcrqq@psrp.mydmain.com does not exist', 'rejected'],
]

const HARD: readonly [text: string, reason: string][] = [
  // Spambrella SMTP discovery: the address is on its invalid list, under 5.7.1 (spambrella.com)
  ['550 5.7.1 <user@example.com>: Recipient address rejected: User email address is marked as invalid.', 'userunknown'],
  // Cisco IronPort bounce log example (Cisco AsyncOS guide)
  ['550 There is no such active account.', 'userunknown'],
  // a qmail log line: spaces written as underscores, Polish "Remote host said" (kei.pl)
  [
    'failure: 192.168.41.48_does_not_like_recipient./Remote_host_said:_/\n_Zdalny_host_odpowiedzial:_500_No_such_user/Giving_up_on_192.168.41.48.',
    'userunknown',
  ],
  // Coremail's keyword list (icoremail.vip); Seznam (napoveda.seznam.cz); Tutanota (tutao/tutanota#7713)
  ["local server don't exists that user", 'userunknown'],
  ["5.1.1 szn; User hasn't got the service mapped", 'userunknown'],
  ['550 5.7.1 <ensorin6@tutamail.com>: Recipient address rejected: Recipient not found', 'userunknown'],
  // Exim relaying a bare recipient refusal under 5.1.0 (weboke.nl knowledge base)
  [
    'SMTP error from remote mail server after RCPT TO:<email@adres.nl>  host mail.adres.nl [xxx.xx.x.xx]: 550 5.1.0 Recipient rejected.',
    'userunknown',
  ],
  // Coremail and other Chinese MTAs (dbmailserver.com bounce list); Alibaba Mail (sh-aliyun.com; bestwisewords.com)
  ['550 #2175041 unavailable mail user', 'userunknown'],
  ['550 Local User [xxx@123.com] not found.', 'userunknown'],
  ["554 RCPT (account) dosn't exist", 'userunknown'],
  ["503 Rcptto account isn't a local account", 'userunknown'],
  // SBB (mailgun/mailgun-php#105); Strato, with its own spelling (strato.de FAQ 2420)
  ['550 info@sbb.ch refused: user invalid', 'userunknown'],
  ['550 recipient e-mail adress unknown', 'userunknown'],
  // Tutanota: a dead address under a 5.7.1 status (tutao/tutanota#7713); Baruwa after a callout
  // to the delivery server (jeremymcs/baruwa#18)
  ['550 5.7.1 : Recipient address rejected: Recipient not found', 'userunknown'],
  ['550 REJECTED - Recipient Verification Failed - User Not Found', 'userunknown'],
]

describe('real replies where hard/soft matters most', () => {
  for (const [text, reason] of NOT_HARD) {
    it(`not hard (${reason}): ${text.slice(0, 70)}`, () => {
      expect(classifyReply(text)).toMatchObject({ reason, hard: false })
    })
  }
  for (const [text, reason] of HARD) {
    it(`hard (${reason}): ${text.slice(0, 70)}`, () => {
      expect(classifyReply(text)).toMatchObject({ reason, hard: true })
    })
  }
})
