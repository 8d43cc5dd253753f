/**
 * Turning what a bounce says about one recipient into a `BounceClassification`: build the
 * `SmtpReply` from the diagnostic text and the DSN status, ask `classifyReply`, then apply the
 * reasons only the message's structure can tell (`delivered`, `expired`, `feedback`, `vacation`,
 * `onhold`/`undefined`).
 */
import { classifyReply } from '../classify.js'
import { parseSmtpReply } from '../smtp-reply.js'
import type { BounceClassification, BounceReason, ClassifyContext, SmtpReply } from '../types.js'
import { statusOf } from './fields.js'
import { withoutAddresses } from './notice.js'

/** What the parser knows about one recipient before classification. */
export interface RecipientFacts {
  recipient: string
  action?: string
  status?: string
  diagnostic?: string
  remoteMta?: string
  /** The SMTP command the failure answered, when the bounce says (see `commandIn`). */
  command?: ClassifyContext['command']
  /** The words after the code in the DSN's Status field (`5.2.1 (mailbox disabled, ...)`), when any. */
  statusComment?: string
  /** True when the facts come from an RFC 3464 delivery-status part (not a free-text notice). */
  dsn?: boolean
  /** True when the sending MTA gave up on this recipient (`Action: failed` or a failure notice). */
  final?: boolean
}

/**
 * The SMTP command a failure answered, from the words MTAs use for it: Postfix "(in reply to RCPT TO
 * command)", Exim "after MAIL FROM:", "after pipelined RCPT TO:" and (4.9x) "for RCPT TO command" /
 * "for TEXT command", hMailServer "hMailServer sent: RCPT TO:", Sendmail transcripts (">>> DATA"), MDaemon transcripts ("--> RCPT To:" then
 * "<-- 550"), qmail "does not like recipient" / "sender was rejected" / "my name was rejected" /
 * "failed after I sent the message",
 * Yahoo "[RCPT_TO]", Postfix recipient-table lookups ("User unknown in virtual alias table").
 */
export function commandIn(text: string): ClassifyContext['command'] | undefined {
  const t = text.length > 8000 ? text.slice(0, 8000) : text
  const m = COMMAND_AFTER.exec(t)
  let word = (m?.[1] ?? m?.[2])?.toLowerCase()
  // the transcript patterns need `>>>`/`-->` / `...` in the text: skipped (not run) without them
  if (!word && (t.includes('>>>') || t.includes('-->'))) {
    const tr = TRANSCRIPT_COMMAND.exec(t)
    word = tr?.[1]?.toLowerCase()
  }
  // Sendmail's transcript shows the server's reply right under "... while talking to host:" with no
  // ">>> COMMAND" line when the server refused at its greeting
  if (!word && t.includes('...') && SENDMAIL_GREETING_REFUSED.test(t)) return 'CONN'
  if (!word) {
    // none of the phrases below in any case: no lower-cased copy of the text is made (U+212A, the
    // Kelvin sign, lower-cases to 'k' but is no 'k' to the case-insensitive pattern: such text
    // takes the long way)
    if (!COMMAND_PHRASE.test(t) && !t.includes('\u212a')) return undefined
    const low = t.toLowerCase()
    // Postfix's "Recipient address rejected:" is an answer to RCPT TO by construction
    // ... and the local delivery agent's own "unknown user" (Sendmail's mail.local) is as final
    if (
      low.includes('does not like recipient') ||
      low.includes('[rcpt_to]') ||
      low.includes('recipient address rejected:') ||
      low.includes('mail.local: unknown user') ||
      POSTFIX_RECIPIENT_TABLE.test(low)
    )
      return 'RCPT'
    // Gmail's older notices end the remote reply with the SMTP state it came at: 14 after RCPT TO,
    // 15 and 18 after DATA
    if (low.includes('(state 14)')) return 'RCPT'
    if (low.includes('(state 18)') || low.includes('(state 15)')) return 'DATA'
    if (low.includes('sender was rejected') || low.includes('[mail_from]')) return 'MAIL'
    if (low.includes('my name was rejected')) return 'HELO'
    if (low.includes('greeting failed') || (low.includes('[data]') && false)) return 'CONN'
    // qmail-remote's words for a refusal of the message itself (after DATA)
    if (
      low.includes('did not like our final data') ||
      low.includes('did not like our data') ||
      low.includes('failed after i sent the message')
    )
      return 'DATA'
    return undefined
  }
  return commandOf(word)
}

/**
 * `in reply to RCPT TO`, `after MAIL FROM`, `after pipelined RCPT TO`, hMailServer's `sent: RCPT
 * TO:<a@b>`, ...: the words before the command, then the command (group 1); or Exim 4.9x's `for RCPT TO command` / `for TEXT command`
 * (the message text, i.e. DATA) (group 2).
 */
const COMMAND_AFTER =
  /\b(?:(?:in reply to|after(?: pipelined)?|smtp command:?|did not like our|smtp:|sent:)[ \t\r\n]{0,8}(rcpt to|rcpt|mail from|end of data|data|initial connection|helo|ehlo|starttls)|for (rcpt to|rcpt|mail from|data|text|helo|ehlo|starttls) command)\b/i
/**
 * A transcript command line followed by a 4xx/5xx reply line: Sendmail's `>>> RCPT To:` / `<<< 550`,
 * or MDaemon's `--> RCPT To:` / `<-- 550` after a time stamp (`Fri 2025-01-24 09:41:18.523: `).
 */
const TRANSCRIPT_COMMAND =
  /(?:^|\n)[ \t]*(?:[A-Za-z]{3} [0-9-]{8,10} [0-9:.]{5,12}: )?(?:>>>|-->) ?(rcpt to|mail from|data|helo|ehlo)\b[^\n]{0,300}\n[ \t]*(?:[A-Za-z]{3} [0-9-]{8,10} [0-9:.]{5,12}: )?(?:<<<|<--) ?[45]\d\d/i
/**
 * Postfix's own recipient-table lookups ("User unknown in virtual alias table", "... in local
 * recipient table"): its address check, which answers the RCPT TO (also when a text notice omits
 * Postfix's "Recipient address rejected:" words and stage).
 */
const POSTFIX_RECIPIENT_TABLE =
  /user unknown in[ \t\r\n]{1,8}(?:virtual alias|virtual mailbox|local recipient|relay recipient)[ \t\r\n]{1,8}table/
/** Any of the phrases `commandIn` looks for in lower-cased text (a literal alternation: linear). */
const COMMAND_PHRASE =
  /user unknown in[ \t\r\n]{1,8}(?:virtual alias|virtual mailbox|local recipient|relay recipient)[ \t\r\n]{1,8}table|does not like recipient|\[rcpt_to\]|recipient address rejected:|mail\.local: unknown user|\(state 1[458]\)|sender was rejected|\[mail_from\]|my name was rejected|greeting failed|did not like our (?:final )?data|failed after i sent the message/i
/** A Sendmail transcript whose first line from the server is a 4xx/5xx reply: refused at the greeting. */
const SENDMAIL_GREETING_REFUSED = /(?:^|\n)[ \t]*\.{3} ?while talking to [^\n]{1,300}\n[ \t]*<<< ?[45]\d\d\b/i
/** Text ending with the words before a command (the command itself would be in text appended to it). */
const COMMAND_WORDS_AT_END = /\b(?:in reply to|after(?: pipelined)?|smtp command:?|did not like our|smtp:|sent:)[ \t\r\n]{0,8}$/i

function commandOf(word: string): ClassifyContext['command'] {
  if (word === 'rcpt to' || word === 'rcpt') return 'RCPT'
  if (word === 'mail from') return 'MAIL'
  if (word === 'end of data' || word === 'data' || word === 'text') return 'DATA'
  if (word === 'initial connection') return 'CONN'
  if (word === 'helo') return 'HELO'
  if (word === 'ehlo') return 'EHLO'
  return 'STARTTLS'
}

/**
 * `commandIn(text + '\n' + more)` for any `more`, when `text` alone decides it (its own "in reply
 * to RCPT TO"-style words, which nothing appended can precede); else `undefined`. Lets a caller
 * skip computing `more`.
 */
export function commandInLeading(text: string): ClassifyContext['command'] | undefined {
  const t = text.length > 8000 ? text.slice(0, 8000) : text
  const m = COMMAND_AFTER.exec(t)
  if (!m) return undefined
  // a match starting in `text` and ending in the appended part would come first
  if (text.length < 8000 && COMMAND_WORDS_AT_END.test(text)) return undefined
  return commandOf((m[1] ?? m[2]!).toLowerCase())
}

/** Reasons that, given at MAIL FROM, mean the sender was refused (`rejected`). */
const AT_MAIL_MEANS_REJECTED = new Set<BounceReason>([
  'userunknown',
  'hostunknown',
  'onhold',
  'undefined',
  'securityerror',
  'filtered',
  'notaccept',
])
/** Reasons that, given at connection or HELO time, mean the client was refused (`blocked`). */
const AT_CONNECT_MEANS_BLOCKED = new Set<BounceReason>([
  'onhold',
  'undefined',
  'securityerror',
  'systemerror',
  'hostunknown',
  'syntaxerror',
  'requireptr',
  'notaccept',
  'rejected',
  'userunknown',
])

/**
 * Rules that match a bare "user unknown"-style phrase, which servers also give when a filter
 * refuses the message: at RCPT TO (or with an x.1.x status) it proves a missing mailbox, elsewhere not.
 */
const PLAIN_UNKNOWN_USER = new Set(['generic.user-unknown', 'yahoo.user-unknown'])

/**
 * A connection that could not be made, in the words of the MTA that tried: timed out (the words
 * may be wrapped apart), could not connect, network or host unreachable, no route, refused (a
 * literal alternation with a bounded gap: linear). Not "lost connection": a session that broke
 * off once connected stays a network error (the dev corpus labels Postfix's so).
 */
const GAVE_UP_CONNECTING =
  /timed?\s{0,8}out|unable\sto\sconnect|network\sis\sunreachable|host\sis\sunreachable|no\sroute\sto\shost|connection\srefused/i

/** Enhanced statuses that name the recipient address itself (x.1.0, x.1.1, x.1.3, x.1.10). */
const USER_STATUS = /^[45]\.1\.(?:0|1|3|10)$/

/** Rules that decide on the reply code or a bare status alone (no words understood). */
export function undecidedRule(ruleId: string): boolean {
  return ruleId === 'none' || ruleId.startsWith('basic.') || /^rfc3463\.[245]\.0\.0$/.test(ruleId)
}

/** A classification the parser decides by itself (no reply text involved). */
export function fixedClassification(reason: BounceReason, ruleId: string, extra: Partial<BounceClassification> = {}): BounceClassification {
  const scope =
    reason === 'feedback' || reason === 'vacation' || reason === 'delivered' ? 'recipient' : reason === 'expired' ? 'network' : 'recipient'
  return { reason, hard: false, permanent: false, scope, ruleId, ...extra }
}

/** Strip the `smtp;` / `X-Postfix;` type from a Diagnostic-Code value. */
function diagnosticText(d: string): string {
  const m = /^[ \t]*(?:smtp|x-[a-z0-9-]{1,40}|unix|mailbox|x400|x-unix)[ \t]*;[ \t]*/i.exec(d)
  return m ? d.slice(m[0].length) : d
}

/** True when a status is a generic one (`x.0.0`) that says little. */
function generic(status: string | undefined): boolean {
  return status === undefined || /^[245]\.0\.0$/.test(status)
}

/**
 * Classify one recipient of a bounce.
 * @param facts - recipient, action, status, diagnostic text, remote MTA
 */
export function classifyRecipient(facts: RecipientFacts): BounceClassification {
  const action = facts.action?.toLowerCase()
  const status = statusOf(facts.status)
  if (action === 'delivered' || action === 'relayed' || action === 'expanded' || (status?.startsWith('2.') && action !== 'failed')) {
    const c = fixedClassification('delivered', 'bounce.delivered', { permanent: false })
    if (status) c.enhancedStatus = status
    return c
  }
  const diag = facts.diagnostic ? diagnosticText(facts.diagnostic) : ''
  const parsed: SmtpReply = diag ? parseSmtpReply(diag) : { text: '', raw: '' }
  const reply: SmtpReply = { ...parsed }
  if (status && (generic(reply.enhancedStatus) || !reply.enhancedStatus)) {
    // The DSN's Status is more specific than (or the only) status in the text.
    if (!generic(status) || !reply.enhancedStatus) reply.enhancedStatus = status
  }
  if (!reply.raw) reply.raw = facts.status ?? ''
  const context: ClassifyContext = {}
  const at = facts.recipient.lastIndexOf('@')
  if (at > 0) context.recipientDomain = facts.recipient.slice(at + 1).toLowerCase()
  if (facts.remoteMta) context.remoteMta = facts.remoteMta
  if (facts.command) context.command = facts.command
  let c: BounceClassification
  if (
    facts.diagnostic &&
    /^[ \t]*(?:x-)?unix[ \t]*;/i.test(facts.diagnostic) &&
    !/quota|disk full|no space left|mailbox (?:is )?full/i.test(facts.diagnostic)
  ) {
    // A local delivery program (pipe, procmail, script) failed: Diagnostic-Code type unix/x-unix.
    const cls = facts.status?.startsWith('4.') ? false : true
    return { ...fixedClassification('mailererror', 'bounce.x-unix'), permanent: cls, ...(status ? { enhancedStatus: status } : {}) }
  }
  try {
    c = classifyReply(reply, context)
    if (undecidedRule(c.ruleId) && reply.text.includes('@') && reply.text.length < 4000) {
      // "User <a@b> not found", "Mailbox a@b does not exist": the address splits the phrase; read
      // the words without it (only when nothing but the code or status decided)
      const words = withoutAddresses(reply.text).split('<>').join(' ')
      const again = classifyReply({ ...reply, text: words, raw: words }, context)
      if (!undecidedRule(again.ruleId)) c = again
    }
  } catch {
    c = fixedClassification('undefined', 'bounce.classifier-error')
  }
  if (
    c.ruleId === 'generic.user-unknown' &&
    (reply.code === undefined || reply.code >= 500) &&
    /^unroute?able address\.?$/i.test((reply.code === undefined ? diag : reply.text).trim())
  ) {
    // Exim's router verdict written alone: no route to the domain. Its own (no code), or a remote
    // Exim's answer relayed by another MTA ("550 Unrouteable address" in a Gmail notice)
    c = { ...c, reason: 'hostunknown', hard: true, scope: 'domain', ruleId: 'bounce.exim-unrouteable' }
  }
  const cmd = facts.command
  const st = reply.enhancedStatus
  const statusSays = st !== undefined && !generic(st)
  const userStatus = statusSays && USER_STATUS.test(st!)
  if (c.reason === 'userunknown' && statusSays && /^[45]\.(?:2\.[23]|3\.4|1\.6)$/.test(st!)) {
    // The status says the mailbox is full or the message too big (x.2.2, x.2.3, x.3.4) while the
    // words are a vague "mailbox unavailable": the status is the precise statement, and a full
    // mailbox must not be taken for a dead address. Likewise x.1.6 (the mailbox has moved, no
    // forwarding address) under words like "no longer here" or "user unknown" is `hasmoved`.
    const byStatus = classifyReply(
      { text: '', raw: st!, enhancedStatus: st!, ...(reply.code !== undefined ? { code: reply.code } : {}) },
      context,
    )
    if (
      byStatus.reason === 'mailboxfull' ||
      byStatus.reason === 'exceedlimit' ||
      byStatus.reason === 'mesgtoobig' ||
      byStatus.reason === 'hasmoved'
    ) {
      c = { ...byStatus, ruleId: `${byStatus.ruleId}+over-${c.ruleId}` }
    }
  }
  if (
    c.reason === 'userunknown' &&
    !userStatus &&
    cmd === undefined &&
    facts.statusComment !== undefined &&
    /disabled|not accepting/i.test(facts.statusComment) &&
    PLAIN_UNKNOWN_USER.has(c.ruleId)
  ) {
    // "User unknown" at an unknown stage, with a Status field whose own words say "mailbox disabled,
    // not accepting messages" (PowerMTA writes them): the MTA's own reading is the precise one.
    c = { ...c, reason: 'suspend', hard: false, scope: 'recipient', ruleId: `${c.ruleId}+status-2.1` }
  } else if (
    c.reason === 'userunknown' &&
    !userStatus &&
    ((cmd === 'DATA' && c.ruleId === 'generic.user-unknown') || (cmd === undefined && PLAIN_UNKNOWN_USER.has(c.ruleId)))
  ) {
    // An unknown-user answer that did not come at RCPT TO (after DATA, or at an unknown stage) with
    // no x.1.x status is a recipient-side filter refusing the message (Japanese carriers answer
    // "User unknown" after DATA for a sender they filter), not a proven missing mailbox.
    c = {
      ...c,
      reason: 'filtered',
      hard: false,
      scope: 'recipient',
      ruleId: `${c.ruleId}+${cmd === 'DATA' ? 'after-data' : 'not-at-rcpt'}`,
    }
  } else if (cmd === 'MAIL' && (AT_MAIL_MEANS_REJECTED.has(c.reason) || c.ruleId === 'generic.access-denied')) {
    c = { ...c, reason: 'rejected', hard: false, scope: 'sender', ruleId: `${c.ruleId}+at-mail-from` }
  } else if ((cmd === 'CONN' || cmd === 'HELO' || cmd === 'EHLO') && AT_CONNECT_MEANS_BLOCKED.has(c.reason)) {
    c = { ...c, reason: 'blocked', hard: false, scope: 'sender', ruleId: `${c.ruleId}+at-connect` }
  }
  // no code and no status: a bare "Connection timed out" from the MTA that gave up says nothing permanent
  const temporary =
    reply.code !== undefined ? reply.code < 500 : reply.enhancedStatus === undefined || reply.enhancedStatus.startsWith('4.')
  const queueNotice = facts.final === true || (facts.final === false && !facts.dsn && reply.code === undefined)
  if (queueNotice && temporary && c.reason === 'networkerror' && GAVE_UP_CONNECTING.test(diag)) {
    // The MTA gave up after connections kept timing out (or the network or host stayed unreachable),
    // or its own delay warning (no remote reply code: Exim's "has not yet been delivered") says they
    // keep timing out: the message expired (or is expiring) in its queue.
    c = { ...c, reason: 'expired', scope: 'network', ruleId: `${c.ruleId}+gave-up` }
  }
  if (c.reason === 'networkerror' && st !== undefined && /^4\.4\.7$/.test(st) && !c.ruleId.includes('dns')) {
    // x.4.7 is "delivery time expired": the queue lifetime is running out or ran out, whatever
    // connection trouble the words describe (Exchange: "400 4.4.7 Message delayed"); a name-server
    // failure stays a network error
    c = { ...c, reason: 'expired', scope: 'network', ruleId: `${c.ruleId}+status-4.4.7` }
  }
  if (c.reason === 'hostunknown' && (reply.code !== undefined ? reply.code < 500 : reply.enhancedStatus?.startsWith('4.') === true)) {
    // a name lookup that failed with a temporary status (4.x.x: NXDOMAIN seen while retrying) is a
    // DNS trouble of the moment, not a proof that the domain does not exist
    c = { ...c, reason: 'networkerror', hard: false, scope: 'network', ruleId: `${c.ruleId}+temporary` }
  }
  if (
    action === 'expired' &&
    (c.reason === 'undefined' || c.reason === 'onhold' || c.reason === 'networkerror' || c.reason === 'systemerror')
  ) {
    // `Action: expired` (SendGrid and others, beside RFC 3464's list): the queue lifetime ran out
    c = { ...c, reason: 'expired', hard: false, scope: 'network', ruleId: `${c.ruleId}+action-expired` }
  }
  // a delay: `Action: delayed`, or a text notice that says it keeps trying
  const delayed = action === 'delayed' || (facts.final === false && !facts.dsn && action === undefined)
  if (delayed && (c.reason === 'undefined' || c.reason === 'onhold')) {
    c = { ...c, reason: 'expired', hard: false, scope: 'network', ruleId: 'bounce.delayed' }
  }
  if (c.reason === 'undefined' && (reply.text.trim().length > 0 || reply.enhancedStatus || reply.code)) {
    c = { ...c, reason: 'onhold', hard: false, ruleId: c.ruleId || 'bounce.onhold' }
  }
  return c
}
