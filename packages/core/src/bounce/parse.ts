/**
 * `parseBounceMessage`: read one e-mail and report what it says about deliveries: an RFC 3464
 * DSN, an RFC 5965 feedback report, an RFC 3834 auto-reply, or the plain-text notice of an MTA that
 * follows no standard. Never throws; unreadable input gives `kind: "not-a-bounce"`.
 */
import { TextDecoder } from 'node:util'
import { REASON_SCOPE } from '../classify.js'
import type { BounceReason, BounceScope } from '../types.js'
import { autoReplyHeaders, autoReplySubject } from './auto-reply.js'
import {
  classifyRecipient,
  commandIn,
  commandInLeading,
  fixedClassification,
  type RecipientFacts,
  undecidedRule,
} from './classify-recipient.js'
import {
  cleanAddress,
  fieldOf,
  firstStatus,
  isBlank,
  parseDeliveryStatus,
  parseHeaderSection,
  statusOf,
  stripType,
  type FieldBlock,
} from './fields.js'
import { readMailSync, readWithPostalMime, type ParsedMail } from './mime.js'
import { remoteHostIn, scanNotice, splitNotice, tidyAddress, type NoticeRecipient, type NoticeSplit } from './notice.js'
import type { BounceKind, BounceRecipient, BounceReport, ParseBounceOptions } from './types.js'

/** @default 10 MiB */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024

/** Subject phrases of delivery-failure notices (lower-case substrings). */
const BOUNCE_SUBJECTS: readonly string[] = [
  'undeliver',
  'undelivered',
  'delivery status notification',
  'delivery failure',
  'delivery failed',
  'failure notice',
  'returned mail',
  'mail delivery failed',
  'delivery notification',
  'non-delivery',
  'nondeliverable',
  'non delivery',
  'could not be delivered',
  'delivery problem',
  'mail system error',
  'delivery report',
  'returned to sender',
  'rejected',
  'failed delivery',
  'delivery has failed',
  'mail could not be delivered',
  'warning: could not send',
  'message not delivered',
  'not delivered',
  'delivery final failure',
  'undeliverable',
  'error sending',
  'delivery error',
  'mail failure',
  'delivery unsuccessful',
  'message delivery',
  'unzustellbar',
  'non remis',
  'no entregado',
  '配信エラー',
  '配送エラー',
  'エラー',
  '未送達',
  'не доставлено',
  'недоставлено',
  'failed',
  'bounce',
  'returned',
  'delayed',
  'delivery delay',
  'warning: message',
  'notification',
  'mail delivery status',
]

/** From local parts / names of delivery systems. */
function fromDeliverySystem(mail: ParsedMail): boolean {
  const local = mail.from.slice(0, mail.from.indexOf('@') >= 0 ? mail.from.indexOf('@') : mail.from.length)
  if (
    /^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mailerdaemon|mmdf|smtp|bounce|bounces|mail|root|daemon|mailadmin|nobody)$/i.test(
      local,
    )
  )
    return true
  const name = mail.fromName.toLowerCase()
  return (
    name.includes('mail delivery') ||
    name.includes('mailer-daemon') ||
    name.includes('postmaster') ||
    name.includes('mail administrator') ||
    name.includes('mail system') ||
    name.includes('delivery subsystem') ||
    name.includes('mail server at')
  )
}

/** A mailing-list manager's alert about a posting it refused (fml: `X-MLServer`, subject "Loop Alert: ..."). */
function listManagerAlert(mail: ParsedMail): boolean {
  const ml = mail.headers.get('x-mlserver')
  return (
    ml !== undefined &&
    /\bfml\b/i.test(ml) &&
    /^(?:loop alert|rejected|message rejected|not member|unauthorized)\b/i.test(mail.subject.trim())
  )
}

/**
 * Subject prefixes with which Exchange, Office 365 and Outlook.com (in their users' languages) mark a
 * non-delivery or delay report (lower-case; matched at the start after white space).
 */
const NDR_SUBJECT_PREFIXES: readonly string[] = [
  'undeliverable:',
  'undelivered:',
  'delivery delayed:',
  'unzustellbar:',
  'übermittlung verzögert:',
  'non remis',
  'remise différée',
  'no se puede entregar:',
  'entrega retrasada:',
  'onbestelbaar:',
  'impossibile recapitare:',
  'não é possível entregar:',
  'não entregue:',
  'niedostarczalne:',
  'nedoručitelné:',
  'не доставлено:',
  'kézbesíthetetlen:',
  'olevererbart:',
  'ikke leveret:',
  'kan ikke leveres:',
  'toimittamaton:',
  '配信不能:',
  '配信不能：',
  '无法投递:',
  '無法傳遞:',
  '배달 못 함:',
]

/**
 * Evidence that a message is a non-delivery report even though it carries auto-reply headers:
 * Exchange marks its NDRs `Auto-Submitted: auto-replied` and `X-MS-Exchange-Message-Is-Ndr`, sends
 * them from `MicrosoftExchange<hex>@` or `postmaster@`, and prefixes the subject ("Undeliverable:").
 */
function ndrEvidence(mail: ParsedMail): boolean {
  if (mail.headers.has('x-ms-exchange-message-is-ndr') || mail.headers.has('x-failed-recipients')) return true
  const local = mail.from.slice(0, Math.max(0, mail.from.indexOf('@')))
  if (/^microsoftexchange[0-9a-f]{32}$/i.test(local)) return true
  const s = mail.subject.trimStart().toLowerCase()
  return NDR_SUBJECT_PREFIXES.some((p) => s.startsWith(p))
}

/**
 * Sendmail lists the failed recipients under "The following addresses had permanent fatal errors"
 * and then shows the session, whose `>>> RCPT To:<b>` names the address an alias or forwarding
 * expanded the listed one into. With one listed recipient, addresses seen only in such transcript
 * lines are its expansion: their words become its diagnostic and they are not recipients of their own.
 */
function foldExpansions(found: NoticeRecipient[], lines: readonly string[]): NoticeRecipient[] {
  if (found.length < 2 || found.length > 20) return found
  const listed = new Set<string>()
  const inTranscript = new Set<string>()
  let inList = false
  for (const line of lines) {
    if (line.length > 2000) continue
    const low = line.toLowerCase()
    if (low.includes('following addresses had')) {
      inList = true
      continue
    }
    if (inList && (line.trim() === '' || line.includes('-----'))) inList = false
    const rcptLine = /^[ \t]{0,8}>>> ?rcpt to:/i.test(line)
    if (!inList && !rcptLine) continue
    for (const f of found) {
      if (!low.includes(f.recipient.toLowerCase())) continue
      if (inList) listed.add(f.recipient)
      else inTranscript.add(f.recipient)
    }
  }
  if (listed.size !== 1) return found
  const main = found.find((f) => listed.has(f.recipient))!
  const others = found.filter((f) => f !== main)
  if (!others.every((f) => inTranscript.has(f.recipient) && !listed.has(f.recipient))) return found
  return [{ ...main, diagnostic: [main.diagnostic, ...others.map((o) => o.diagnostic)].join('\n') }]
}

/** Whether address `b` is on the line right after address `a`, each alone on its line (a list of recipients). */
function listedTogether(lines: readonly string[], a: string, b: string): boolean {
  const alone = (line: string, addr: string): boolean =>
    line.length < 400 &&
    line
      .trim()
      .replace(/^<|>[:,;]?$/g, '')
      .toLowerCase() === addr.toLowerCase()
  for (let k = 0; k + 1 < lines.length; k++) if (alone(lines[k]!, a) && alone(lines[k + 1]!, b)) return true
  return false
}

/** A transcript reply line: `<<< 250 ok`, `<-- 550 5.1.1 ...` (MDaemon, Sendmail), possibly after a time stamp. */
const TRANSCRIPT_REPLY = /(?:<<<|<--)[ \t]{0,4}([2-5])\d\d(?:[ \t-]|$)/

/**
 * A session transcript's successful replies (`<-- 250 2.1.0 Ok`) come before the failing one: put the
 * failing reply first so the code, status and words read are the refusal's. Text without a success
 * reply before a failure is returned as it is.
 */
function failingReplyFirst(text: string): string {
  if (!text.includes('<<<') && !text.includes('<--')) return text
  const lines = text.split('\n')
  let sawSuccess = false
  for (const line of lines) {
    const m = TRANSCRIPT_REPLY.exec(line)
    if (!m) continue
    if (m[1] === '2' || m[1] === '3') {
      sawSuccess = true
      continue
    }
    if (!sawSuccess) return text
    // both markers are three characters long
    return `${line.slice(m.index + 3).trim()}\n${text}`
  }
  return text
}

/** The first 4.x.x or 5.x.x status in a notice's text, when any. */
function failureStatusOf(text: string): string | undefined {
  return firstStatus(text, false)
}

function subjectLooksBounce(subject: string): boolean {
  const s = subject.toLowerCase()
  return BOUNCE_SUBJECTS.some((p) => s.includes(p))
}

function emptyReport(kind: BounceKind = 'not-a-bounce'): BounceReport {
  return { kind, recipients: [], format: 'none' }
}

function toBytes(raw: unknown, maxBytes: number): Uint8Array | string | undefined {
  if (typeof raw === 'string') {
    const s = raw.length > maxBytes ? raw.slice(0, maxBytes) : raw
    // Old Mac files end lines with a bare CR, which the MIME parser does not split on.
    return !s.includes('\n') && s.includes('\r') ? s.replace(/\r/g, '\n') : s
  }
  let bytes: Uint8Array | undefined
  if (raw instanceof Uint8Array) bytes = raw.byteLength > maxBytes ? raw.subarray(0, maxBytes) : raw
  else if (raw instanceof ArrayBuffer) bytes = new Uint8Array(raw, 0, Math.min(raw.byteLength, maxBytes))
  if (!bytes) return undefined
  if (bytes.indexOf(10) === -1 && bytes.indexOf(13) !== -1) {
    const copy = new Uint8Array(bytes)
    for (let i = 0; i < copy.length; i++) if (copy[i] === 13) copy[i] = 10
    return copy
  }
  return bytes
}

/** The body of a raw message (after the first empty line) as text, bounded. */
function rawBody(input: Uint8Array | string): string {
  const s = typeof input === 'string' ? input : utf8.decode(input.subarray(0, Math.min(input.byteLength, 1_048_576)))
  const m = /\r?\n\r?\n/.exec(s)
  return m ? s.slice(m.index + m[0].length) : ''
}

const utf8 = new TextDecoder('utf-8', { fatal: false })

/** The first address in a header value (`Name <a@b>` or `a@b`), lower-cased. */
function firstAddress(value: string | undefined): string | undefined {
  if (!value) return undefined
  const a = cleanAddress(value)
  return a.includes('@') ? a.toLowerCase() : undefined
}

/** All addresses in a header value. */
function addressesOf(value: string | undefined): string[] {
  if (!value) return []
  const out: string[] = []
  for (const piece of value.split(',')) {
    const a = firstAddress(piece)
    if (a) out.push(a)
  }
  return out
}

/** The fields of the quoted original message that `readOriginal` reports. */
const ORIGINAL_FIELDS: ReadonlySet<string> = new Set(['message-id', 'from', 'to', 'subject'])

function readOriginal(mail: ParsedMail, ctx: NoticeContext): BounceReport['original'] {
  let src: string | undefined
  for (const p of mail.parts) {
    if (
      p.mimeType === 'message/rfc822' ||
      p.mimeType === 'text/rfc822-headers' ||
      p.mimeType === 'message/global' ||
      p.mimeType === 'message/global-headers'
    ) {
      src = p.text
      break
    }
  }
  if (src === undefined) src = ctx.split().quoted
  if (!src) return undefined
  const first = src.search(/\S/)
  const h = parseHeaderSection(first === -1 ? '' : first === 0 ? src : src.slice(first), 400, ORIGINAL_FIELDS)
  const original: NonNullable<BounceReport['original']> = {}
  const mid = h.get('message-id')
  if (mid) original.messageId = withoutAngles(mid, false).trim()
  const from = firstAddress(h.get('from'))
  if (from) original.from = from
  const to = h.get('to')
  if (to) original.to = to
  const subject = h.get('subject')
  if (subject) original.subject = subject
  return Object.keys(original).length > 0 ? original : undefined
}

/**
 * Facts about one recipient with every field present (`undefined` until known): all facts then share
 * one hidden class, and the classifier's reads of them stay monomorphic (a field added only when
 * known gave each combination its own class, and those reads went megamorphic).
 */
function newFacts(recipient: string, dsn?: boolean): RecipientFacts {
  return {
    recipient,
    action: undefined,
    status: undefined,
    diagnostic: undefined,
    remoteMta: undefined,
    command: undefined,
    statusComment: undefined,
    dsn,
    final: undefined,
  }
}

function recipientEntry(facts: RecipientFacts, fixed?: { reason: BounceReason; ruleId: string }): BounceRecipient {
  const classification = fixed ? fixedClassification(fixed.reason, fixed.ruleId) : classifyRecipient(facts)
  const r: BounceRecipient = { recipient: facts.recipient, classification }
  if (facts.action) r.action = facts.action
  const st = statusOf(facts.status) ?? classification.enhancedStatus
  if (st) r.status = st
  if (facts.diagnostic) r.diagnosticCode = facts.diagnostic
  if (facts.remoteMta) r.remoteMta = facts.remoteMta
  return r
}

function kindOf(recipients: readonly BounceRecipient[]): BounceKind {
  if (recipients.length === 0) return 'not-a-bounce'
  let delayed = 0
  let delivered = 0
  for (const r of recipients) {
    const a = r.action?.toLowerCase()
    if (r.classification.reason === 'delivered') delivered++
    else if (a === 'delayed') delayed++
  }
  if (delivered === recipients.length) return 'delivered'
  if (delayed + delivered === recipients.length) return 'delay'
  return 'bounce'
}

/** A diagnostic worth keeping: has some words, not just `smtp;`. */
function meaningful(d: string | undefined): boolean {
  return d !== undefined && /[A-Za-z\u3040-\u30ff\u4e00-\u9fff]{3}/.test(stripType(d))
}

/**
 * The SMTP command a Sendmail-style transcript shows for one recipient of several: `>>> RCPT To:<a@b>`
 * followed by an error, or a `<<<` error naming the address right after `>>> DATA`.
 */
function transcriptCommand(lines: readonly string[], rcpt: string): RecipientFacts['command'] | undefined {
  if (!rcpt.includes('@')) return undefined
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    if (l.length > 2000 || !l.toLowerCase().includes(rcpt)) continue
    const t = l.trim()
    if (/^>>> ?rcpt to:/i.test(t)) {
      const next = (lines[i + 1] ?? '').trim()
      if (/^<<< ?[45]\d\d/.test(next)) return 'RCPT'
    } else if (/^<<< ?[45]\d\d/.test(t)) {
      for (let j = i - 1; j >= 0 && j >= i - 3; j--) {
        const p = (lines[j] ?? '').trim()
        if (/^>>> ?data\b/i.test(p)) return 'DATA'
        if (/^>>> ?rcpt to:/i.test(p)) return p.toLowerCase().includes(rcpt) ? 'RCPT' : undefined
      }
    }
  }
  return undefined
}

/**
 * The notice's words on the line naming `rcpt` (`postmaster@example.org: Domain does not exist`), for
 * a DSN recipient the notice scan skipped (e.g. a system address such as postmaster).
 */
function lineAbout(lines: readonly string[], rcpt: string): string | undefined {
  if (!rcpt.includes('@')) return undefined
  for (const l of lines) {
    if (l.length > 2000) continue
    const at = l.toLowerCase().indexOf(rcpt)
    if (at === -1) continue
    const rest = `${l.slice(0, at)} ${l.slice(at + rcpt.length)}`.replace(/^[\s<>:;,()"'-]+|[\s<>:;,()"'-]+$/g, '')
    if (meaningful(rest)) return rest
  }
  return undefined
}

function fromDsn(ctx: NoticeContext, blocks: FieldBlock[]): BounceRecipient[] {
  const out: BounceRecipient[] = []
  for (const b of blocks) {
    const rcpt = cleanAddress(b.get('final-recipient') ?? b.get('original-recipient') ?? b.get('x-actual-recipient') ?? '').toLowerCase()
    const facts = newFacts(rcpt, true)
    const action = b.get('action')?.toLowerCase().split(/[\s(]/)[0]
    if (action) facts.action = action
    const status = b.get('status')
    if (status) facts.status = statusOf(status) ?? status
    const comment = status ? /\(([^()]{3,200})\)/.exec(status) : null
    if (comment) facts.statusComment = comment[1]!
    let diag = b.get('diagnostic-code')
    if (!meaningful(diag)) {
      const hit = ctx.recipientNamed(rcpt) ?? (blocks.length === 1 ? ctx.notice()[0] : undefined)
      const text = hit && meaningful(hit.diagnostic) ? hit.diagnostic : lineAbout(ctx.split().lines, rcpt)
      if (text !== undefined) diag = diag ? `${diag}\n${text}` : text
    }
    if (diag) facts.diagnostic = diag
    // several recipients: a transcript line naming this one is the most precise; else its own words
    // (with the notice's words about it, scanned only when its own do not decide)
    const cmd =
      (blocks.length > 1 ? transcriptCommand(ctx.split().lines, rcpt) : undefined) ??
      commandInLeading(diag ?? '') ??
      commandIn(`${diag ?? ''}\n${ctx.recipientNamed(rcpt)?.diagnostic ?? ''}`) ??
      (blocks.length === 1 ? commandIn(ctx.text()) : undefined)
    if (cmd) facts.command = cmd
    facts.final = action === undefined || action === 'failed'
    const remote = b.get('remote-mta')
    if (remote) facts.remoteMta = stripType(remote).toLowerCase()
    out.push(recipientEntry(facts))
  }
  return out
}

/**
 * Parse a bounce, complaint or auto-reply. Asynchronous because the MIME parser (postal-mime) is.
 * @param raw - the whole message, as bytes or a string; LF, CRLF and bare CR line endings all work
 * @param options - `maxBytes` (default 10 MiB): input beyond it is ignored
 * @returns a report; `kind: "not-a-bounce"` when the message is none of the known kinds. Never rejects.
 */
export function parseBounceMessage(raw: Uint8Array | string, options: ParseBounceOptions = {}): Promise<BounceReport> {
  // Synchronous whenever the fast MIME path reads the message (nearly always): no await chain.
  try {
    const r = parseInner(raw, options, 0)
    return r instanceof Promise ? r.catch(() => emptyReport()) : Promise.resolve(r)
  } catch {
    return Promise.resolve(emptyReport())
  }
}

/** Most levels of bounces inside messages (forwarded or attached) that are opened. */
const MAX_DEPTH = 2

/**
 * A bounce forwarded inline: its lines quoted with `> `. When the quoted lines hold DSN fields,
 * return them with one level of quoting removed (a message of their own: header, blank line, body).
 */
function unquotedForward(text: string): string | undefined {
  if (!text.includes('\n>') || !/^>[ \t>]{0,8}(?:final|original)-recipient:/im.test(text)) return undefined
  const lines = text.split('\n', 5000)
  const first = lines.findIndex((l) => l.startsWith('>'))
  if (first < 0) return undefined
  const out: string[] = []
  for (let i = first; i < lines.length; i++) {
    const l = lines[i]!
    out.push(l.startsWith('> ') ? l.slice(2) : l.startsWith('>') ? l.slice(1) : l)
  }
  return out.join('\n')
}

/** An attached message that is itself a delivery-status report (a bounce forwarded as an attachment). */
function attachedReport(mail: ParsedMail): string | undefined {
  // a person forwarding a bounce: the attached message may be a plain-text notice (Exim, qmail)
  const byPerson = !fromDeliverySystem(mail) && !mail.headers.has('x-failed-recipients')
  for (const p of mail.parts) {
    if (p.mimeType !== 'message/rfc822' && p.mimeType !== 'message/global') continue
    const head = p.text.slice(0, 65_536)
    if (
      p.text.includes('ecipient:') &&
      /^content-type:[ \t]*multipart\/report/im.test(head) &&
      /^(?:final|original)-recipient:/im.test(head)
    )
      return p.text
    const headerEnd = byPerson ? head.search(/\r?\n\r?\n/) : -1
    if (headerEnd > 0 && ATTACHED_NOTICE.test(head.slice(0, Math.min(headerEnd, 8192)))) return p.text
  }
  return undefined
}

/** A header section that marks a delivery notice: from a mailer daemon or postmaster, or naming failed recipients. */
const ATTACHED_NOTICE =
  /^(?:from:[^\n]{0,200}\b(?:mailer-daemon|postmaster|mail delivery (?:system|subsystem))\b|x-failed-recipients:|subject:[ \t]{0,8}(?:undeliver|mail delivery failed|delivery status notification \(failure\)|returned mail|failure notice))/im

/** Parse one message: synchronous when the fast MIME path reads it, else a promise (postal-mime). */
function parseInner(raw: Uint8Array | string, options: ParseBounceOptions, depth: number): BounceReport | Promise<BounceReport> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
  const input = toBytes(raw, maxBytes)
  if (input === undefined) return emptyReport()
  const fast = readMailSync(input, options.mimeParser ?? 'auto')
  if (fast) return fromMail(fast, input, options, depth)
  return readWithPostalMime(input).then((mail) => (mail ? fromMail(mail, input, options, depth) : emptyReport()))
}

/**
 * What the steps of `fromMail` read lazily from one message: the notice/quoted-original split, the
 * recipients the notice names and the notice's text, each computed once and only when asked for.
 * (A class rather than closures: no function objects are made per message.)
 */
class NoticeContext {
  readonly mail: ParsedMail
  /**
   * The quoted original message's From and To (set once `readOriginal` has run; kept as strings: the
   * `original` objects have one hidden class per set of fields present, and reading them from an
   * optimized caller deoptimized it when a new one came along).
   */
  originalFrom: string | undefined
  originalTo: string | undefined
  private splitCache: NoticeSplit | undefined
  private noticeCache: NoticeRecipient[] | undefined
  /** The notice's lines joined; set from outside when the notice is read from the raw body instead. */
  textCache: string | undefined

  constructor(mail: ParsedMail) {
    this.mail = mail
  }

  /** The notice lines and the quoted original (see `splitNotice`). */
  split(): NoticeSplit {
    if (this.splitCache === undefined) this.splitCache = splitNotice(this.mail.text)
    return this.splitCache
  }

  /** The recipients the notice names, with the words near each (see `scanNotice`). */
  notice(): NoticeRecipient[] {
    if (this.noticeCache !== undefined) return this.noticeCache
    const mail = this.mail
    const exclude = new Set<string>()
    if (mail.from) exclude.add(mail.from)
    for (const a of addressesOf(mail.headers.get('to'))) exclude.add(a)
    if (this.originalFrom) exclude.add(this.originalFrom)
    const rp = firstAddress(mail.headers.get('return-path'))
    if (rp) exclude.add(rp)
    this.noticeCache = scanNotice(this.split().lines, exclude)
    return this.noticeCache
  }

  /** The notice entry for `rcpt`, when the notice names it. */
  recipientNamed(rcpt: string): NoticeRecipient | undefined {
    for (const n of this.notice()) if (n.recipient === rcpt) return n
    return undefined
  }

  /** The notice lines joined with line feeds. */
  text(): string {
    if (this.textCache === undefined) this.textCache = this.split().lines.join('\n')
    return this.textCache
  }
}

/** A nested report that stands for the message (see step 2b of `fromMail`). */
function usableNested(r: BounceReport): boolean {
  return r.recipients.length > 0 && r.kind !== 'auto-reply' && r.kind !== 'not-a-bounce'
}

/** The report for a message read by the MIME layer (a promise only when a nested message needs postal-mime). */
function fromMail(
  mail: ParsedMail,
  input: Uint8Array | string,
  options: ParseBounceOptions,
  depth: number,
): BounceReport | Promise<BounceReport> {
  if (mail.parts.length === 0 && isBlank(mail.text)) {
    // A multipart whose boundary is missing or matches no part (it happens): read the raw body
    // as text, so the notice and any DSN fields written in it are still found.
    mail.text = rawBody(input)
  }

  const base: BounceReport = { kind: 'not-a-bounce', recipients: [], format: 'none' }
  if (mail.subject) base.subject = mail.subject
  if (mail.from) base.from = mail.from
  if (mail.messageId) base.messageId = withoutAngles(mail.messageId, true)
  // The notice/quoted-original split is computed only when something reads it.
  const context = new NoticeContext(mail)
  const original = readOriginal(mail, context)
  context.originalFrom = original?.from
  context.originalTo = original?.to
  if (original) base.original = original

  // 1. RFC 5965 feedback report
  for (const p of mail.parts) if (p.mimeType === 'message/feedback-report') return feedbackReport(base, p.text, original, mail)

  // 1b. An Amazon SES notification (JSON, possibly inside an SNS envelope) sent by e-mail
  if (hasSesTypeField(mail.text)) {
    const ses = sesNotification(base, mail.text)
    if (ses) return ses
  }

  // 2. RFC 3464 delivery status (a part, or DSN fields written into the text body)
  for (const p of mail.parts) {
    if (p.mimeType !== 'message/delivery-status' && p.mimeType !== 'message/global-delivery-status') continue
    const dsn = parseDeliveryStatus(p.text)
    if (dsn.recipients.length === 0) continue
    return dsnReport(base, context, dsn)
  }
  const inText = hasRecipientField(mail.text) ? parseDeliveryStatus(mail.text) : undefined
  if (inText && inText.recipients.length > 0 && inText.recipients.some((b) => b.has('action') || b.has('status'))) {
    return dsnReport(base, context, inText)
  }

  // 2b. A bounce forwarded inline ("> " quoting) or attached as a message of its own
  if (depth < MAX_DEPTH) {
    const inner = attachedReport(mail) ?? unquotedForward(mail.text)
    // A bounce of a bounce: a delivery system's own notice, naming the recipients it failed, returns
    // a message that is itself a DSN (sent to a bounce address that no longer works). The outer
    // notice is the report; the inner DSN is about an older message to someone else.
    if (inner !== undefined && fromDeliverySystem(mail) && context.notice().length > 0) return notDsn(base, context, input, depth)
    if (inner !== undefined) {
      const r = parseInner(inner, options, depth + 1)
      if (r instanceof Promise) return r.then((rr) => (usableNested(rr) ? rr : notDsn(base, context, input, depth)))
      if (usableNested(r)) return r
    }
  }
  return notDsn(base, context, input, depth)
}

/**
 * Whether `text` holds `inal-Recipient:`, `INAL-RECIPIENT:` or `inal-recipient:` (DSN fields written
 * into a text body): the lower-case spellings found from each `nal-` (one scan), then the upper-case one.
 */
function hasRecipientField(text: string): boolean {
  for (let i = text.indexOf('nal-'); i !== -1; i = text.indexOf('nal-', i + 4)) {
    if (i > 0 && text.charCodeAt(i - 1) === 105 && (text.startsWith('nal-Recipient:', i) || text.startsWith('nal-recipient:', i)))
      return true
  }
  return text.includes('INAL-RECIPIENT:')
}

/**
 * `value` without the `<` that opens it and the `>` that closes it: `value.replace(/^<|>$/g, '')`, or
 * with `spaces` `value.replace(/^\s*<|>\s*$/g, '')` (white space before `<` and after `>` goes with
 * them; `trimStart`/`trimEnd` drop the characters `\s` matches).
 */
function withoutAngles(value: string, spaces: boolean): string {
  const lead = spaces ? value.length - value.trimStart().length : 0
  const start = value.charCodeAt(lead) === 60 ? lead + 1 : 0
  // the `>` must lie after the `<` removed (`<` alone is removed once)
  const body = spaces ? value.trimEnd() : value
  const end = body.length > start && body.charCodeAt(body.length - 1) === 62 ? body.length - 1 : value.length
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

/** The report of an RFC 3464 delivery-status body. */
function dsnReport(base: BounceReport, ctx: NoticeContext, dsn: { message: FieldBlock; recipients: FieldBlock[] }): BounceReport {
  const recipients = fromDsn(ctx, dsn.recipients)
  const reporting = dsn.message.get('reporting-mta')
  if (reporting) base.reportingMta = stripType(reporting).toLowerCase()
  // the fields set last keep their place (kind, recipients, format come first in every report)
  base.kind = kindOf(recipients)
  base.recipients = recipients
  base.format = 'rfc3464'
  return base
}

/** An entry whose reason says nothing known yet. */
function undecidedReason(e: BounceRecipient): boolean {
  return e.classification.reason === 'onhold' || e.classification.reason === 'undefined'
}

/** The notice's lines, trimmed, without empty ones, joined. */
function trimmedLines(lines: readonly string[]): string {
  let out = ''
  for (const l of lines) {
    const t = l.trim()
    if (t.length === 0) continue
    out = out.length === 0 ? t : `${out}\n${t}`
  }
  return out
}

/** Steps 3 and 4 of `fromMail`: an auto-reply, or a notice in plain text. */
function notDsn(base: BounceReport, ctx: NoticeContext, input: Uint8Array | string, depth: number): BounceReport {
  // (kept small, each step in a function of its own: V8 optimizes small functions sooner)
  const mail = ctx.mail
  // 3. RFC 3834 auto-reply (checked after DSNs: some MTAs mark bounces auto-replied too)
  const systemSent = fromDeliverySystem(mail) || mail.headers.has('x-failed-recipients') || listManagerAlert(mail) || ndrEvidence(mail)
  // a person's reply that talks about a bounce ("Re: your mail bounced?") is no notice: its subject is no evidence
  const bounceLike = systemSent || (subjectLooksBounce(mail.subject) && !personReply(mail))
  const autoHeaders = autoReplyHeaders(mail.headers)
  if ((autoHeaders && !fromDeliverySystem(mail) && !ndrEvidence(mail)) || (!bounceLike && autoReplySubject(mail.subject))) {
    return autoReplyReport(base, ctx)
  }
  // 4. A notice in plain text
  if (!bounceLike) return base
  const found = noticeRecipients(ctx, input, depth)
  if (found.length === 0) return base
  return textReport(base, ctx, found)
}

/**
 * Reply prefixes of mail clients (English and Outlook's, Thunderbird's and Apple Mail's localised
 * ones: German "AW:", Nordic "SV:"/"VS:", Dutch "Antw:", Italian "R:", French "Réf. :", Portuguese
 * "RES:", Chinese "回复:"/"答复:", ...), repeated or numbered ("Re[2]:"). Linear: one bounded
 * character class and a literal alternation, at the start.
 */
const REPLY_SUBJECT = /^[ \t]{0,8}(?:re|aw|sv|vs|antw|r|res|ref|réf\.?|odp|ynt|回复|答复|回覆)(?:\[\d{1,3}\])?[ \t]{0,2}[:：]/i

/**
 * A message written by a person in reply to another (a reply prefix in the subject, or
 * In-Reply-To/References with a subject that does not start like a delivery notice's), sent by no
 * delivery system (the caller checks that). Such a message is never read as a text notice, whatever
 * its subject mentions.
 */
function personReply(mail: ParsedMail): boolean {
  if (REPLY_SUBJECT.test(mail.subject)) return true
  if (!mail.headers.has('in-reply-to') && !mail.headers.has('references')) return false
  const s = mail.subject.trimStart().toLowerCase()
  return !BOUNCE_SUBJECTS.some((p) => s.startsWith(p)) && !NDR_SUBJECT_PREFIXES.some((p) => s.startsWith(p))
}

/** Step 3 of `fromMail`: the report of an RFC 3834 auto-reply. */
function autoReplyReport(base: BounceReport, ctx: NoticeContext): BounceReport {
  const mail = ctx.mail
  const who = mail.from || firstAddress(mail.headers.get('reply-to')) || ''
  const facts = newFacts(who)
  facts.diagnostic = ctx.text().trim().slice(0, 2000)
  const r = recipientEntry(facts, { reason: 'vacation', ruleId: 'rfc3834.auto-reply' })
  base.kind = 'auto-reply'
  base.recipients = [r]
  base.format = 'rfc3834'
  return base
}

/** The recipients a plain-text notice names (with fallbacks to the headers and the raw body). */
function noticeRecipients(ctx: NoticeContext, input: Uint8Array | string, depth: number): NoticeRecipient[] {
  const mail = ctx.mail
  const lines = ctx.split().lines
  let found = foldExpansions(ctx.notice(), lines)
  if (found.length > 0) return found
  const failedHeader = addressesOf(mail.headers.get('x-failed-recipients'))
  if (failedHeader.length > 0) {
    const all = trimmedLines(lines)
    // (an array built by push, as the other lists of recipients: one hidden class for all of them)
    found = []
    for (const a of failedHeader) found.push({ recipient: a, diagnostic: all, strong: false })
  }
  if (found.length === 0 && ctx.originalTo) {
    const to = addressesOf(ctx.originalTo)
    const all = trimmedLines(lines)
    if (to.length > 0 && all.length > 0) found = [{ recipient: tidyAddress(to[0]!), diagnostic: all, strong: false }]
  }
  if (found.length === 0 && depth === 0) found = rawBodyRecipients(ctx, input)
  return found
}

/**
 * The MIME parser found no readable text where the notice is (a part whose Content-Type line is
 * malformed, say): scan the raw body instead.
 */
function rawBodyRecipients(ctx: NoticeContext, input: Uint8Array | string): NoticeRecipient[] {
  const mail = ctx.mail
  const body = rawBody(input)
  if (body.length === 0 || body.length >= 1_048_576) return []
  const exclude = new Set<string>([mail.from, ...addressesOf(mail.headers.get('to'))].filter(Boolean))
  const rawSplit = splitNotice(body)
  const found = scanNotice(rawSplit.lines, exclude)
  if (found.length > 0) ctx.textCache = rawSplit.lines.join('\n')
  return found
}

/** A notice that says it will keep trying (the same for every recipient, so read once). */
const KEEPS_TRYING =
  /\b(?:will (?:continue|keep) (?:trying|to try)|will be retried|will retry|still trying|warning message only|a warning only|temporary failure report|delayed|not yet been delivered|attempts will continue)\b/i

/**
 * The same in the languages Exchange / Office 365 and localised Postfix or Exim delay templates
 * write (no `\b` beside a letter outside ASCII: to a non-Unicode pattern it is no word character):
 * - German: Exchange "Die Zustellung an diese Empfänger oder Gruppen ist verzögert" (2007/2010:
 *   "... Verteilerlisten wurde verzögert"), "Diese Nachricht wurde noch nicht zugestellt. Es wird
 *   weiterhin versucht, die Nachricht zuzustellen."; Postfix/Exim templates "Dies ist nur eine
 *   Warnung", "Es werden weitere Zustellversuche unternommen";
 * - French: Exchange "La remise à ces destinataires ou groupes est différée", "Ce message n'a pas
 *   encore été remis. La remise continuera d'être tentée.", "Le serveur continuera d'essayer ...";
 *   Postfix/Exim templates "Ceci est (seulement) un avertissement", "une nouvelle tentative sera
 *   effectuée" (not "aucune nouvelle tentative", said by a final notice);
 * - Spanish, Italian, Dutch, Portuguese Exchange: "se ha retrasado" / "Se seguirá intentando",
 *   "non è ancora stato recapitato", "is vertraagd" / "nog niet bezorgd", "ainda não foi entregue".
 * A literal alternation (linear).
 */
const KEEPS_TRYING_LOCALISED =
  /(?:ist verzögert|wurde verzögert|noch nicht zugestellt|wird weiterhin versucht|weitere zustellversuche|nur eine warnung|est différée|pas encore été remis|continuera d['’]être tenté|continuera d['’]essayer|ceci est un avertissement|ceci est seulement un avertissement|ceci est uniquement un avertissement|\bune nouvelle tentative|nouvelles tentatives seront|se ha retrasado|se seguirá intentando|solo una advertencia|ancora stato recapitato|is vertraagd|nog niet bezorgd|ainda não foi entregue)/i

/**
 * Subject prefixes of Exchange / Office 365 delay reports ("Delivery delayed:" in the sender's
 * language): the report says delivery goes on even when its body's words are in a language not
 * listed above.
 */
const DELAY_SUBJECT_PREFIXES: readonly string[] = ['delivery delayed:', 'übermittlung verzögert:', 'remise différée', 'entrega retrasada:']

/** Whether the notice says delivery goes on (it is a delay warning, not a final failure). */
function keepsTrying(ctx: NoticeContext): boolean {
  const text = ctx.text()
  if (KEEPS_TRYING.test(text)) return true
  if (KEEPS_TRYING_LOCALISED.test(text)) return true
  const subject = ctx.mail.subject.trimStart().toLowerCase()
  return DELAY_SUBJECT_PREFIXES.some((p) => subject.startsWith(p))
}

/** Step 4 of `fromMail`: the report of a plain-text notice naming `found`. */
function textReport(base: BounceReport, ctx: NoticeContext, found: NoticeRecipient[]): BounceReport {
  const final = !keepsTrying(ctx)
  const allFacts: RecipientFacts[] = []
  const recipients: BounceRecipient[] = []
  for (const n of found) {
    const facts = noticeFacts(ctx, n, found.length, final)
    allFacts.push(facts)
    recipients.push(recipientEntry(facts))
  }
  if (recipients.length > 1) shareListReasons(ctx, found, recipients)
  // The lines near the addresses say nothing known (James puts the error above "RCPT TO: a@b",
  // MailMarshal lists the recipients after the one reason they share): read the whole notice, for
  // one recipient, or for several when none of them has words of its own.
  if (found.length === 1 || recipients.every(undecidedReason)) rereadWhole(ctx, found, allFacts, recipients)
  if (!final) markDelayed(recipients)
  base.kind = kindOf(recipients)
  base.recipients = recipients
  base.format = 'text'
  return base
}

/** The notice says delivery goes on: its recipients are delayed, not failed. */
function markDelayed(recipients: readonly BounceRecipient[]): void {
  for (const r of recipients) if (r.classification.reason !== 'delivered' && !r.action) r.action = 'delayed'
}

/** What a plain-text notice says about one recipient it names. */
function noticeFacts(ctx: NoticeContext, n: NoticeRecipient, count: number, final: boolean): RecipientFacts {
  const facts = newFacts(n.recipient)
  facts.diagnostic = failingReplyFirst(n.diagnostic)
  const host = remoteHostIn(n.diagnostic)
  if (host) facts.remoteMta = host
  // a session transcript lists the 250 replies before the failing one: the failure's status counts
  const st = failureStatusOf(n.diagnostic) ?? statusOf(n.diagnostic)
  if (st) facts.status = st
  const cmd = commandIn(n.diagnostic) ?? (count === 1 ? commandIn(ctx.text()) : undefined)
  if (cmd) facts.command = cmd
  facts.final = final
  return facts
}

/**
 * Addresses listed one per line with nothing between them (MailMarshal's "The following
 * recipients were affected:") share one reason: an undecided one takes its list neighbour's.
 */
function shareListReasons(ctx: NoticeContext, found: readonly NoticeRecipient[], recipients: BounceRecipient[]): void {
  for (let i = 1; i < recipients.length; i++) {
    const prev = recipients[i - 1]!
    if (!undecidedReason(recipients[i]!) || undecidedReason(prev)) continue
    if (listedTogether(ctx.split().lines, found[i - 1]!.recipient, found[i]!.recipient)) {
      recipients[i] = { ...prev, recipient: recipients[i]!.recipient }
    }
  }
}

/** Undecided recipients classified again from the whole notice's text (see `textReport`). */
function rereadWhole(
  ctx: NoticeContext,
  found: readonly NoticeRecipient[],
  allFacts: readonly RecipientFacts[],
  recipients: BounceRecipient[],
): void {
  const whole = ctx.text().trim()
  const wholeStatus = statusOf(whole)
  for (let i = 0; i < recipients.length; i++) {
    const entry = recipients[i]!
    const n = found[i]!
    if (!undecidedReason(entry) || whole.length <= n.diagnostic.length || whole.length >= 20_000) continue
    const facts = Object.assign(newFacts(''), allFacts[i]!)
    facts.diagnostic = whole
    if (wholeStatus) facts.status = wholeStatus
    const cmd = facts.command ?? commandIn(whole)
    if (cmd) facts.command = cmd
    const again = recipientEntry(facts)
    if (!undecidedReason(again)) recipients[i] = again
  }
}

/**
 * ARF feedback types that are no complaint about a recipient: `not-spam` (RFC 6430: the user marked
 * the message as *not* spam) and `auth-failure` (RFC 6591: an SPF/DKIM/DMARC failure report about a
 * message that claimed the sender's domain, often a forgery sent to someone else). Suppressing the
 * reported recipient on either would be wrong, and a forger could get its victims suppressed. Their
 * reports are `not-a-bounce` (format `arf`, `feedback` kept); the recipients they name are listed
 * (reason `feedback`, rule `arf.<type>`) for information, and nothing downstream records them.
 */
export const NOT_COMPLAINT_FEEDBACK_TYPES: ReadonlySet<string> = new Set(['not-spam', 'auth-failure'])

/** The header field of Microsoft's JMRP reports that names the complaining mailbox in the attached message (its To: is masked). */
const JMRP_RECIPIENT_FIELD: ReadonlySet<string> = new Set(['x-hmxmroriginalrecipient'])

function feedbackReport(base: BounceReport, text: string, original: BounceReport['original'], mail: ParsedMail): BounceReport {
  const f = parseHeaderSection(text)
  const feedbackType = (f.get('feedback-type') ?? 'other').toLowerCase().trim()
  const report: BounceReport = { ...base, kind: 'complaint', format: 'arf', feedback: { feedbackType } }
  const auth = f.get('auth-failure')
  if (auth) report.feedback!.authFailure = auth.toLowerCase().trim()
  const ua = f.get('user-agent')
  if (ua) report.feedback!.userAgent = ua
  const ip = f.get('source-ip')
  if (ip) report.feedback!.sourceIp = ip
  const omf = f.get('original-mail-from')
  if (omf) report.feedback!.originalMailFrom = cleanAddress(omf)
  const rd = f.get('reported-domain')
  if (rd) report.feedback!.reportedDomain = rd
  let rcpts: string[] = []
  for (const line of text.split(/\r?\n/, 400)) {
    const fl = fieldOf(line)
    if (fl && (fl[0] === 'original-rcpt-to' || fl[0] === 'removal-recipient')) rcpts.push(...addressesOf(fl[1]))
  }
  if (rcpts.length === 0) {
    // Microsoft JMRP: no Original-Rcpt-To; the attached message carries the complainer's address in
    // X-HmXmrOriginalRecipient while its To: is masked ("xxxxxxxxx@hotmail.com")
    for (const p of mail.parts) {
      if (p.mimeType !== 'message/rfc822') continue
      const first = p.text.search(/\S/)
      const jmrp = parseHeaderSection(first <= 0 ? p.text : p.text.slice(first), 400, JMRP_RECIPIENT_FIELD).get('x-hmxmroriginalrecipient')
      if (jmrp) rcpts = addressesOf(jmrp)
      break
    }
  }
  if (rcpts.length === 0) rcpts = addressesOf(original?.to)
  const complaint = !NOT_COMPLAINT_FEEDBACK_TYPES.has(feedbackType)
  if (!complaint) report.kind = 'not-a-bounce'
  if (rcpts.length === 0) rcpts = complaint ? [''] : []
  const ruleId = complaint ? 'arf.feedback' : `arf.${feedbackType}`
  report.recipients = rcpts.map((r) => {
    const e = recipientEntry(newFacts(r), { reason: 'feedback', ruleId })
    e.feedbackType = feedbackType
    return e
  })
  return report
}

/**
 * Whether `text` holds the field that types an Amazon SES notification: `"notificationType"` (SES
 * notifications) or `"eventType"` (SES event publishing), plain or escaped inside an SNS envelope's
 * `Message` string (each spelling starts with a quote or a backslash, rare characters: the searches
 * skip ahead fast).
 */
function hasSesTypeField(text: string): boolean {
  return (
    text.includes('"notificationType"') ||
    text.includes('\\"notificationType\\"') ||
    text.includes('"eventType"') ||
    text.includes('\\"eventType\\"')
  )
}

/**
 * SES notification and event types that say nothing about a delivery to a recipient (sending,
 * opens, clicks, template failures, subscription changes, a message SES refused to send because of
 * a virus): a report of them is `not-a-bounce`, never a text notice to scan for addresses.
 */
const SES_OTHER_TYPES: ReadonlySet<string> = new Set(['Send', 'Open', 'Click', 'Rendering Failure', 'Subscription', 'Reject'])

/**
 * What SES's `bounceSubType` says by itself, for a recipient whose own status and diagnostic decide
 * nothing (SES documents the sub-types per `bounceType`: Permanent `General`, `NoEmail`,
 * `Suppressed`, `OnAccountSuppressionList`; Transient `General`, `MailboxFull`, `MessageTooLarge`,
 * `ContentRejected`, `AttachmentRejected`; `Undetermined`). `General` and `Undetermined` say
 * nothing and are not listed. `hard` applies only to a `Permanent` bounce.
 */
const SES_BOUNCE_SUBTYPES: Readonly<Record<string, { reason: BounceReason; status?: string; hard?: boolean }>> = {
  // "the recipient's email provider sent a bounce message stating that the address doesn't exist"
  NoEmail: { reason: 'userunknown', status: '5.1.1', hard: true },
  // SES did not send: the address is on SES's (global) or the account's suppression list
  Suppressed: { reason: 'suppressed' },
  OnAccountSuppressionList: { reason: 'suppressed' },
  MailboxFull: { reason: 'mailboxfull', status: '4.2.2' },
  MessageTooLarge: { reason: 'mesgtoobig', status: '5.3.4' },
  // the recipient's provider refused the message for its content or for an attachment
  ContentRejected: { reason: 'policyviolation' },
  AttachmentRejected: { reason: 'policyviolation' },
}

/**
 * What SES's `deliveryDelay.delayType` says by itself (event publishing's `DeliveryDelay`), for a
 * delayed recipient whose status and diagnostic decide nothing. SES's documented values:
 * `InternalFailure` (an issue inside SES), `General` (a generic failure in the SMTP conversation),
 * `MailboxFull`, `SpamDetected` (the recipient's server saw much unsolicited mail from the account),
 * `RecipientServerError` (a temporary issue of the recipient's server), `IPFailure` (the sending IP
 * is blocked or throttled by the recipient's provider), `TransientCommunicationFailure` (a temporary
 * communication failure in the SMTP conversation), `BYOIPHostNameLookupUnavailable` (SES could not
 * look up the DNS host name of the account's own IP addresses), `Undetermined`, `SendingDeferral`
 * (SES chose to defer the message itself). `General`, `Undetermined` and `SendingDeferral` say no
 * more than "delayed" and are not listed (the delay becomes `expired` unless the diagnostic says more).
 */
const SES_DELAY_TYPES: Readonly<Record<string, { reason: BounceReason; scope?: BounceScope }>> = {
  InternalFailure: { reason: 'systemerror', scope: 'sender' },
  MailboxFull: { reason: 'mailboxfull' },
  SpamDetected: { reason: 'badreputation' },
  RecipientServerError: { reason: 'systemerror' },
  IPFailure: { reason: 'blocked' },
  TransientCommunicationFailure: { reason: 'networkerror' },
  BYOIPHostNameLookupUnavailable: { reason: 'requireptr' },
}

/** A classification that the recipient's own status and diagnostic did not decide (see `undecidedRule`). */
function undecidedEntry(e: BounceRecipient): boolean {
  return undecidedReason(e) || e.classification.ruleId === 'bounce.delayed' || undecidedRule(e.classification.ruleId)
}

/** `entry` with the reason that SES's sub-type or delay type gives (`entry` itself when none). */
function sesTyped(
  entry: BounceRecipient,
  typed: { reason: BounceReason; status?: string; hard?: boolean; scope?: BounceScope } | undefined,
  permanent: boolean,
  ruleId: string,
): BounceRecipient {
  if (typed === undefined) return entry
  const c = entry.classification
  const classification = fixedClassification(typed.reason, ruleId, {
    hard: typed.hard === true && permanent,
    permanent,
    scope: typed.scope ?? REASON_SCOPE[typed.reason],
  })
  if (c.code !== undefined) classification.code = c.code
  const status = entry.status ?? typed.status
  if (status) classification.enhancedStatus = status
  const out: BounceRecipient = { ...entry, classification }
  if (status && !out.status) out.status = status
  return out
}

/** Read an Amazon SES notification (Bounce, Complaint, Delivery, DeliveryDelay) given as JSON in the body. */
function sesNotification(base: BounceReport, text: string): BounceReport | undefined {
  const start = text.indexOf('{')
  if (start === -1 || text.length > 1_048_576) return undefined
  const endMark = text.indexOf('\n--\n', start)
  const end = text.lastIndexOf('}', endMark === -1 ? text.length : endMark)
  if (end <= start) return undefined
  // some MTAs break long lines with "!" + newline + space; undo that before parsing
  const json = text
    .slice(start, end + 1)
    .replace(/!\r?\n /g, '')
    .replace(/\r?\n/g, '')
  let doc: Record<string, unknown>
  try {
    doc = JSON.parse(json) as Record<string, unknown>
    // an SNS envelope: the SES notification is the JSON string in `Message`
    if (typeof doc.Message === 'string' && (doc.Message.includes('notificationType') || doc.Message.includes('eventType')))
      doc = JSON.parse(doc.Message) as Record<string, unknown>
  } catch {
    return undefined
  }
  const type = String(doc.notificationType ?? doc.eventType ?? '')
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {})
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(obj) : [])
  const addr = (r: Record<string, unknown>): string => cleanAddress(String(r.emailAddress ?? r.address ?? '')).toLowerCase()
  const report: BounceReport = { ...base, format: 'text' }
  if (type === 'Complaint') {
    const c = obj(doc.complaint)
    const feedbackType = String(c.complaintFeedbackType ?? 'other').toLowerCase()
    const complaint = !NOT_COMPLAINT_FEEDBACK_TYPES.has(feedbackType)
    report.kind = complaint ? 'complaint' : 'not-a-bounce'
    report.feedback = { feedbackType }
    if (!complaint) report.format = 'arf'
    const ruleId = complaint ? 'ses.complaint' : `ses.${feedbackType}`
    report.recipients = list(c.complainedRecipients).map((r) => {
      const e = recipientEntry(newFacts(addr(r)), { reason: 'feedback', ruleId })
      e.feedbackType = feedbackType
      return e
    })
  } else if (type === 'Delivery') {
    const d = obj(doc.delivery)
    const recipients = Array.isArray(d.recipients) ? d.recipients.map((x) => String(x)) : []
    report.recipients = recipients.map((r) => {
      const facts = newFacts(cleanAddress(r).toLowerCase())
      facts.action = 'delivered'
      facts.status = '2.0.0'
      facts.diagnostic = String(d.smtpResponse ?? '')
      return recipientEntry(facts)
    })
  } else if (type === 'Bounce') {
    const b = obj(doc.bounce)
    const permanent = String(b.bounceType ?? '') === 'Permanent'
    const subType = String(b.bounceSubType ?? '')
    const typed = Object.hasOwn(SES_BOUNCE_SUBTYPES, subType) ? SES_BOUNCE_SUBTYPES[subType] : undefined
    // SES did not try this delivery (suppression list): the sub-type is the whole story
    const always = typed?.reason === 'suppressed'
    report.recipients = list(b.bouncedRecipients).map((r) => {
      const facts = newFacts(addr(r), true)
      facts.final = permanent
      if (typeof r.action === 'string') facts.action = r.action.toLowerCase()
      if (typeof r.status === 'string') facts.status = r.status
      if (typeof r.diagnosticCode === 'string') facts.diagnostic = r.diagnosticCode
      const e = recipientEntry(facts)
      return always || undecidedEntry(e) ? sesTyped(e, typed, permanent, `ses.bounce-subtype.${subType}`) : e
    })
  } else if (type === 'DeliveryDelay') {
    const d = obj(doc.deliveryDelay)
    const delayType = String(d.delayType ?? '')
    const typed = Object.hasOwn(SES_DELAY_TYPES, delayType) ? SES_DELAY_TYPES[delayType] : undefined
    report.recipients = list(d.delayedRecipients).map((r) => {
      const facts = newFacts(addr(r), true)
      facts.action = 'delayed'
      facts.final = false
      if (typeof r.status === 'string') facts.status = r.status
      if (typeof r.diagnosticCode === 'string') facts.diagnostic = r.diagnosticCode
      const e = recipientEntry(facts)
      return undecidedEntry(e) ? sesTyped(e, typed, false, `ses.delay-type.${delayType}`) : e
    })
    const mta = typeof d.reportingMTA === 'string' ? stripType(d.reportingMTA).toLowerCase() : ''
    if (mta) report.reportingMta = mta
  } else if (SES_OTHER_TYPES.has(type)) {
    return { ...base, kind: 'not-a-bounce', recipients: [], format: 'none' }
  } else {
    return undefined
  }
  // an SES notification read as such: never a text notice to scan for addresses (that would take
  // the sender, `mail.source`, for a failed recipient)
  if (report.recipients.length === 0) return { ...base, kind: 'not-a-bounce', recipients: [], format: 'none' }
  if (report.feedback === undefined) report.kind = kindOf(report.recipients)
  return report
}
