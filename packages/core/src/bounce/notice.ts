/**
 * General extraction from the human-readable part of a bounce: where the quoted original message
 * starts, which addresses are the failed recipients, and the diagnostic text near each one.
 * Written from how MTA families lay out their notices (an address alone on a line followed by the
 * remote server's words: Exim, qmail, Yahoo, Gmail, Courier, OpenSMTPD; "... to <address>" then a
 * reply line: DragonFly, Exchange; a "Recipient:" label: Domino, MessagingServer), not per sample.
 * Every regular expression is made of bounded, unambiguous pieces.
 */
import { splitLines } from './fields.js'

/** Most lines of a notice examined. */
const MAX_NOTICE_LINES = 400

/** Lines that announce the quoted original message (compared lower-cased). */
const SEPARATOR_PHRASES = [
  'this is a copy of the message',
  'below this line is a copy of the message',
  'original message follows',
  'original message --',
  'original message ---',
  '----- original message -----',
  'message headers follow',
  'the header of the original message',
  'returned message follows',
  'returned mail follows',
  'unsent message below',
  'undelivered message follows',
  'content-type: message/rfc822',
  'content-type: text/rfc822-headers',
  'headers of the original message',
  'original message header',
  'copy of the original message',
  'original message body',
  '------ original message',
  'message text follows',
  'first part of the message follows',
  'following is a copy of the message',
  'here is a copy of the first part of the message',
  'included is a copy of the message',
  'original message headers',
  '--- below this line',
  '元のメッセージ',
  'the original message headers',
  // the "Original message headers:" heading of Exchange NDRs in other languages
  'ursprüngliche nachrichtenkopfzeilen',
  "en-têtes de message d'origine",
  'encabezados del mensaje original',
  'intestazioni originali del messaggio',
  'oorspronkelijke berichtkoppen',
  'cabeçalhos da mensagem original',
  'below is a copy of the original message',
]

/** Header names that, at the start of a line and followed by another header line, begin a quoted header block. */
const QUOTED_HEADER_STARTS = [
  'received:',
  'return-path:',
  'dkim-signature:',
  'x-received:',
  'arc-seal:',
  'delivered-to:',
  'x-google-smtp-source:',
  'mime-version:',
  'message-id:',
]

export interface NoticeSplit {
  /** The notice lines (before the quoted message). */
  lines: string[]
  /** The quoted original message text, when found (may be headers only). */
  quoted?: string
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** One alternation of literal phrases (no quantifier: linear). */
const SEPARATOR_RE = new RegExp(SEPARATOR_PHRASES.map(escapeRe).join('|'), 'gi')
/** A quoted header field at the start of a line. */
const QUOTED_HEADER_RE = new RegExp(`^[ \\t]{0,16}(?:${QUOTED_HEADER_STARTS.map(escapeRe).join('|')})`, 'gim')

/** Start of the line holding `index`. */
function lineStart(text: string, index: number): number {
  const nl = text.lastIndexOf('\n', index - 1)
  return nl === -1 ? 0 : nl + 1
}

/** Split the body text into the notice and the quoted original message. */
export function splitNotice(text: string): NoticeSplit {
  // only the first MAX_NOTICE_LINES lines are examined
  let limit = 0
  for (let n = 0; n < MAX_NOTICE_LINES && limit !== -1; n++) limit = text.indexOf('\n', limit === 0 && n === 0 ? 0 : limit + 1)
  const head = limit === -1 ? text : text.slice(0, limit)
  let cut = -1
  let quotedFrom = -1
  SEPARATOR_RE.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = SEPARATOR_RE.exec(head)) !== null) {
    const start = lineStart(head, m.index)
    let end = head.indexOf('\n', m.index)
    if (end === -1) end = head.length
    const lineLen = end - start
    if (lineLen > 0 && lineLen < 120) {
      cut = start
      quotedFrom = Math.min(end + 1, text.length)
      break
    }
    SEPARATOR_RE.lastIndex = end
  }
  QUOTED_HEADER_RE.lastIndex = 0
  while ((m = QUOTED_HEADER_RE.exec(head)) !== null) {
    if (cut !== -1 && m.index >= cut) break
    const end = head.indexOf('\n', m.index)
    const lineLen = (end === -1 ? head.length : end) - m.index
    if (m.index > 0 && lineLen < 120 && end !== -1) {
      const summaryEnd = indentedSummaryEnd(head, m.index)
      if (summaryEnd !== -1) {
        // the notice's own summary of the message (MessagingServer's "the following header
        // fields:"), not the quoted message: the notice goes on after it
        QUOTED_HEADER_RE.lastIndex = summaryEnd
        continue
      }
      const nextEnd = text.indexOf('\n', end + 1)
      if (isHeaderish(text.slice(end + 1, nextEnd === -1 ? text.length : nextEnd))) {
        cut = m.index
        quotedFrom = m.index
        break
      }
    }
    QUOTED_HEADER_RE.lastIndex = end === -1 ? head.length : end
  }
  if (cut === -1) return { lines: splitLines(head) }
  return { lines: splitLines(text.slice(0, cut === 0 ? 0 : cut - 1)).slice(0, cut === 0 ? 0 : undefined), quoted: text.slice(quotedFrom) }
}

/** Fields a notice lists when it sums up the message it reports on (not the transport fields of a quoted message). */
const SUMMARY_FIELD = /^[ \t]{1,16}(?:message-id|date|from|to|cc|subject|sent)[ \t]{0,4}:/i

/**
 * The end of an indented block of summary fields starting at `from` (`  Message-id: ...`, `  To: ...`,
 * each line indented, only the fields `SUMMARY_FIELD` names, ended by an empty line and followed by
 * more notice text), or -1 when the block there is anything else (a quoted header section).
 */
function indentedSummaryEnd(text: string, from: number): number {
  let at = from
  for (let n = 0; n < 12; n++) {
    const end = text.indexOf('\n', at)
    if (end === -1) return -1
    const line = text.slice(at, end)
    if (line.trim() === '') return n >= 2 && /\S/.test(text.slice(end, end + 400)) ? at : -1
    if (!SUMMARY_FIELD.test(line)) return -1
    at = end + 1
  }
  return -1
}

function isHeaderish(line: string | undefined): boolean {
  if (!line) return false
  const c = line.charCodeAt(0)
  if (c === 32 || c === 9) return true
  return /^[A-Za-z][A-Za-z0-9-]{0,60}:/.test(line)
}

/** An address in running text, as `rawAddresses` finds it: local part of 1-64 characters from this set, '@', a domain of letters, digits, '.' and '-' starting with a letter or digit. */

/** Local parts that are never the failed recipient in a notice. */
const SYSTEM_LOCALS = new Set([
  'mailer-daemon',
  'postmaster',
  'mail-daemon',
  'maildaemon',
  'daemon',
  'root',
  'abuse',
  'noreply',
  'no-reply',
  'nobody',
])

/** Local parts of `SYSTEM_LOCALS` that are role mailboxes people write to (not the daemons that send notices). */
const ROLE_LOCALS = new Set(['abuse', 'noreply', 'no-reply', 'nobody'])

/** One recipient found in a notice. */
export interface NoticeRecipient {
  recipient: string
  /** The diagnostic lines near the address, joined with newlines. */
  diagnostic: string
  /** Whether the address stood alone on its line (strong evidence) or inside a sentence. */
  strong: boolean
}

/** Normalise an address found in text: trim punctuation, lower-case. */
export function tidyAddress(a: string): string {
  let s = a
  while (s.length > 0 && '.-'.includes(s.charAt(s.length - 1))) s = s.slice(0, -1)
  while (s.length > 0 && ".'`".includes(s.charAt(0))) s = s.slice(1)
  return s.toLowerCase()
}

/** Character classes of an address in running text (RFC 5322 atext and dot for the local part; letters, digits, dot and hyphen for the domain). */
const LOCAL_CHAR = new Uint8Array(128)
const DOMAIN_CHAR = new Uint8Array(128)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') {
  LOCAL_CHAR[c.charCodeAt(0)] = 1
  DOMAIN_CHAR[c.charCodeAt(0)] = 1
}
for (const c of "!#$%&'*+/=?^_`{|}~.-") LOCAL_CHAR[c.charCodeAt(0)] = 1
DOMAIN_CHAR[46] = 2 // '.'
DOMAIN_CHAR[45] = 2 // '-'

/**
 * Letters beyond ASCII that an internationalised address (RFC 6531/6532: `josé@example.es`,
 * `борис@пример.рф`) holds: Latin-1 and Latin Extended letters, Greek, Cyrillic. CJK characters and
 * full-width punctuation are left out: Japanese and Chinese notices write their words right against
 * an address (`宛先：a@b`).
 */
function nonAsciiLetter(c: number): boolean {
  return (
    (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) ||
    (c >= 0x370 && c <= 0x3ff && c !== 0x37e && c !== 0x387) ||
    (c >= 0x400 && c <= 0x52f)
  )
}

/** Addresses in a line, found from each '@' outwards (linear: each character is visited a bounded number of times). */
function rawAddresses(line: string): { raw: string; index: number; end: number }[] {
  const out: { raw: string; index: number; end: number }[] = []
  let from = 0
  let at = line.indexOf('@')
  while (at !== -1) {
    let a = at
    while (a > from && at - a < 64) {
      const c = line.charCodeAt(a - 1)
      if (c >= 128 ? !nonAsciiLetter(c) : LOCAL_CHAR[c] !== 1) break
      a--
    }
    let e = at + 1
    // an '@' ending the line starts no domain (and nothing past the end is read: that deoptimizes)
    const first = e < line.length ? line.charCodeAt(e) : 0
    if (a < at && (first < 128 ? DOMAIN_CHAR[first] === 1 : nonAsciiLetter(first))) {
      e++
      while (e < line.length && e - at <= 254) {
        const c = line.charCodeAt(e)
        if (c >= 128 ? !nonAsciiLetter(c) : DOMAIN_CHAR[c] === 0) break
        e++
      }
      out.push({ raw: line.slice(a, e), index: a, end: e })
      from = e
      at = line.indexOf('@', e)
    } else {
      at = line.indexOf('@', at + 1)
    }
  }
  return out
}

function addressesIn(line: string): { addr: string; index: number; end: number }[] {
  const out: { addr: string; index: number; end: number }[] = []
  if (!line.includes('@')) return out
  for (const m of rawAddresses(line)) {
    const addr = tidyAddress(m.raw)
    const at = addr.indexOf('@')
    if (at > 0 && addr.indexOf('.', at) > at + 1) out.push({ addr, index: m.index, end: m.end })
  }
  return out
}

/** The words after an address found on `line` (separators after it dropped), or '' without one. */
function wordsAfter(line: string, hit: { end: number } | undefined): string {
  return hit
    ? line
        .slice(hit.end)
        .replace(/^[\s>:;,.)\]-]+/, '')
        .trim()
    : ''
}

/** The line without its addresses (`<a@b>` leaves `<>`). */
export function withoutAddresses(line: string): string {
  if (!line.includes('@')) return line
  let out = ''
  let last = 0
  for (const m of rawAddresses(line)) {
    out += line.slice(last, m.index)
    last = m.end
  }
  return out + line.slice(last)
}

/** Words that precede a sender (not recipient) address. */
function precededBySenderWord(line: string, index: number): boolean {
  const before = line.slice(Math.max(0, index - 24), index).toLowerCase()
  return (
    before.includes('mail from') ||
    before.includes('from:') ||
    before.includes('from <') ||
    before.includes('sender') ||
    before.includes('contact') ||
    before.includes('envelope-from') ||
    // Exim names the address an alias expanded from: "(generated from sales@b)"
    before.includes('generated from') ||
    before.includes('generated by') ||
    before.includes('return-path')
  )
}

/** A line that holds little but the address: `<a@b>:`, `  a@b`, `To: a@b`, `Recipient: <a@b>`. */
function isAddressLine(line: string, hit: { index: number; end: number }): boolean {
  const src = withoutAddresses(line.slice(0, hit.index) + line.slice(hit.end))
  // ASCII text: count what the removal below keeps and stop past 40 (most lines naming an address
  // are sentences); lower-casing ASCII keeps lengths, and nothing lower-cases shorter
  let kept = 0
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i)
    if (c >= 128) return addressLineRest(src)
    if (LINE_PUNCTUATION[c] === 1) continue
    if (++kept > 40) return false
  }
  return kept <= 2 || addressLineRest(src)
}

/** ASCII characters `isAddressLine` removes: those of `[\s<>()[\]"':;,.*>=-]` below 128. */
const LINE_PUNCTUATION = new Uint8Array(128)
for (const c of ' \t\n\v\f\r<>()[]"\':;,.*=-') LINE_PUNCTUATION[c.charCodeAt(0)] = 1

/** `isAddressLine` on the line without the address: what is left once punctuation and spaces are removed. */
function addressLineRest(src: string): boolean {
  const rest = src.replace(/[\s<>()[\]"':;,.*>=-]/g, '').toLowerCase()
  if (rest.length <= 2) return true
  if (rest.length > 40) return false
  return (
    /^(?:to|rcptto|recipient|recipients|address|originalrecipient|finalrecipient|failedrecipient|forwardto|user|mailbox|宛先|受信者|delivereto|unknownuser|failedaddress|invalidrecipient|smtp|[a-z ]{0,20}\d{0,3})$/.test(
      rest,
    ) && !/^\d+$/.test(rest)
  )
}

/** A `To: a@b` line followed by `Subject:` / `Sent:` / `Date:`: the summary of the original message, not a failure. */
function summaryLine(lines: readonly string[], i: number): boolean {
  if (!/^[ \t]{0,12}to:/i.test(lines[i] ?? '')) return false
  for (let j = i + 1; j < lines.length && j <= i + 2; j++) {
    const l = lines[j] ?? ''
    if (l.trim() === '') continue
    return /^[ \t]{0,12}(?:subject|sent|date|cc):/i.test(l)
  }
  return false
}

/**
 * A line that starts with the address and goes on with the reason (`a@b: Domain does not exist`,
 * `<a@b>: host mx said: 550 ...`, `a@b Invalid Address, ERROR_CODE :550`): one line per failed
 * recipient, as Postfix, OpenSMTPD, Zoho and many others write their text notices.
 */
function leadingAddressLine(line: string, hit: { index: number; end: number }): boolean {
  if (hit.index > 12 || !/^[ \t]{0,8}[<"]?$/.test(line.slice(0, hit.index))) return false
  const after = line.slice(hit.end)
  if (!/^>?(?:[:,\s[(]|\.\.\.)/.test(after)) return false
  // Exchange 2003 in any language: `a@b on 4/2/2024 10:11 AM`, `a@b am 02.04.2024 10:11`
  if (/^[ \t]{1,4}(?:on|am|le|el|il|op|em|på|den)[ \t]{1,4}\d/.test(after)) return true
  return /[A-Za-z\u3040-\u30ff\u4e00-\u9fff]{3}/.test(after) && !/\bwrote:?\s*$/i.test(after)
}

/**
 * A line that lists failed recipients after a label: `The following recipients were rejected: a@b, c@d`.
 * Every address of the list counts; the label must speak of recipients or addresses.
 */
function labelledListLine(line: string, hits: readonly { index: number; end: number }[]): boolean {
  if (hits.length < 2 || hits.length > 20) return false
  const label = line.slice(0, hits[0]!.index)
  if (!/(?:recipients?|addresses?|users?)\b[^:]{0,40}:[ \t]{0,4}<?$/i.test(label) || /^[ \t]{0,12}(?:to|cc|bcc)[ \t]{0,4}:/i.test(label))
    return false
  for (let k = 0; k < hits.length; k++) {
    const between = line.slice(hits[k]!.end, k + 1 < hits.length ? hits[k + 1]!.index : line.length)
    if (!/^[ \t<>,;.]{0,8}(?:and[ \t<]{1,4})?$/i.test(between)) return false
  }
  return true
}

/**
 * A line naming the address after "could not be delivered to", "Delivery to ... failed" and the like,
 * the address possibly after a quoted display name (`Delivery to "Ann Lee" <ann@b> failed.`).
 */
function introducedAddressLine(line: string, hit: { index: number; end: number }): boolean {
  const before = line.slice(Math.max(0, hit.index - 150), hit.index).toLowerCase()
  if (
    !/(?:deliver(?:ed|ing)?|delivery|undeliverable|sen[dt]|reach(?:ed)?|delivering your (?:mail|message)) to[ \t:]{0,4}(?:"[^"\n]{0,80}"[ \t]{0,4})?[<"]?$/.test(
      before,
    )
  )
    return false
  const rest = line
    .slice(hit.end)
    .replace(/[\s<>()[\]"':;,.*=-]/g, '')
    .toLowerCase()
  return rest.length <= 2 || /^(?:has)?(?:failed|beendelayed|isdelayed)(?:permanently)?$/.test(rest)
}

/** Sendmail's per-recipient error line: `554 <a@b>... reason` or `550 5.1.1 <a@b>... reason`. */
function sendmailErrorLine(line: string, hit: { index: number; end: number }): boolean {
  const before = line.slice(0, hit.index)
  if (!/^[ \t]{0,8}[45]\d\d(?: [45]\.\d{1,3}\.\d{1,3})? <?$/.test(before)) return false
  return line.startsWith('>...', hit.end) || line.startsWith('...', hit.end)
}

/**
 * Find the failed recipients in a notice and the diagnostic near each.
 * @param lines - notice lines (see `splitNotice`)
 * @param exclude - addresses that are the bounce's sender / the original sender (lower-case)
 */
/** A header line naming message identifiers, not mailboxes. */
const MESSAGE_ID_LINE = /^[ \t]{0,16}(?:message-id|in-reply-to|references|x-original-message-id|original-envelope-id)[ \t]{0,4}:/i

/** Words that open a greeting before the address (`Hello a@b,`, `Dear a@b`). */
const GREETING = /^[ \t]{0,8}(?:hello|hi|dear|bonjour|hallo|hola|ciao)[ \t,]{1,4}[<"]?$/i

/** A line labelling the recipient's address before alias expansion. */
const ORIGINAL_LABEL = /^[ \t]{0,16}original[ -](?:address|recipient|rcpt)[ \t]{0,4}:/i

export function scanNotice(lines: readonly string[], exclude: ReadonlySet<string>): NoticeRecipient[] {
  const strongAt: { addr: string; line: number }[] = []
  const weakAt: { addr: string; line: number }[] = []
  const excludedStrong: { addr: string; line: number }[] = []
  const summaryAt: { addr: string; line: number }[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    // a line without '@' names no address (nothing below would be found on it)
    if (line.length > 2000 || !line.includes('@')) continue
    // a message identifier (`Message-ID: <id@host>`) looks like an address but never is a recipient
    if (MESSAGE_ID_LINE.test(line)) continue
    const hits = addressesIn(line)
    const listLine = labelledListLine(line, hits)
    for (const hit of hits) {
      const local = hit.addr.slice(0, hit.addr.indexOf('@'))
      // a role mailbox (abuse@, noreply@) is a failed recipient when the line says so ("Unable to
      // send to abuse@b"); the daemons' own addresses never are
      if (SYSTEM_LOCALS.has(local) && !(ROLE_LOCALS.has(local) && introducedAddressLine(line, hit))) continue
      if (precededBySenderWord(line, hit.index)) continue
      const strongLine =
        listLine ||
        isAddressLine(line, hit) ||
        sendmailErrorLine(line, hit) ||
        leadingAddressLine(line, hit) ||
        introducedAddressLine(line, hit)
      // a greeting names the person the notice is written to, not a failed recipient
      if (GREETING.test(line.slice(0, hit.index))) continue
      if (exclude.has(hit.addr)) {
        if (strongLine) excludedStrong.push({ addr: hit.addr, line: i })
        continue
      }
      if (strongLine && summaryLine(lines, i)) summaryAt.push({ addr: hit.addr, line: i })
      else if (strongLine) strongAt.push({ addr: hit.addr, line: i })
      else weakAt.push({ addr: hit.addr, line: i })
    }
  }
  // "Original address: b" beside "Recipient address: a" (MessagingServer, DSN-like text) names the
  // address before alias expansion: the same failure, not a recipient of its own
  for (let k = strongAt.length - 1; k >= 0 && strongAt.length > 1; k--) {
    const e = strongAt[k]!
    if (!ORIGINAL_LABEL.test(lines[e.line] ?? '')) continue
    if (strongAt.some((o) => o !== e && Math.abs(o.line - e.line) <= 3 && !ORIGINAL_LABEL.test(lines[o.line] ?? ''))) strongAt.splice(k, 1)
  }
  // The original sender can be a failed recipient too (a message to oneself): only when nothing else is there.
  // A "To:" line of the original message's summary (To/Subject/Sent) counts only when nothing else is there.
  if (strongAt.length === 0) strongAt.push(...summaryAt)
  if (strongAt.length === 0 && weakAt.length === 0) strongAt.push(...excludedStrong)
  const chosen = strongAt.length > 0 ? strongAt : weakAt.slice(0, 1)
  const strong = strongAt.length > 0
  const out: NoticeRecipient[] = []
  const seen = new Set<string>()
  const chosenAddrs = new Set(chosen.map((o) => o.addr))
  for (let k = 0; k < chosen.length; k++) {
    const c = chosen[k]!
    if (seen.has(c.addr)) continue
    seen.add(c.addr)
    out.push({ recipient: c.addr, diagnostic: diagnosticAt(lines, chosen, k, strong, chosenAddrs), strong })
  }
  return out
}

/** One place where the notice names a chosen recipient. */
interface Mention {
  addr: string
  line: number
}

/**
 * The diagnostic of the recipient `chosen[k]` (see `scanNotice`). (A function of its own, as are
 * the rarer cases it hands on: V8 compiles several small functions sooner and more cheaply than
 * one large one.)
 */
function diagnosticAt(
  lines: readonly string[],
  chosen: readonly Mention[],
  k: number,
  strong: boolean,
  chosenAddrs: ReadonlySet<string>,
): string {
  const c = chosen[k]!
  // diagnostic: following lines up to the next chosen address (or 24 lines); an address alone on
  // a line at the end of its paragraph takes the text after it, otherwise the text around it.
  let next = lines.length
  for (let j = k + 1; j < chosen.length; j++) {
    // the same address again (quoted inside its own diagnostic, e.g. Exim's wrapped "RCPT TO:\n<a@b>:") does not end it
    if (chosen[j]!.line > c.line && chosen[j]!.addr !== c.addr) {
      next = chosen[j]!.line
      break
    }
  }
  const end = Math.min(next, c.line + 25)
  const own = lines[c.line] ?? ''
  let diagnostic: string
  const ownHit = addressesIn(own).find((h) => h.addr === c.addr)
  if (strong && ownHit !== undefined && sendmailErrorLine(own, ownHit) && !isAddressLine(own, ownHit)) {
    diagnostic = sendmailDiagnostic(lines, c.line, k > 0 ? chosen[k - 1]!.line : -1)
  } else {
    // a transcript line `>>> RCPT To:<a@b>` names the command: keep it with the reply after it
    const after = trimmedLines(lines, strong && !/^[ \t]{0,8}>>> ?\w/.test(own) ? c.line + 1 : c.line, end)
    // words after the address on its own line (`a@b [User unknown]`, `a@b: Domain does not exist`) come first
    const tail = strong ? wordsAfter(own, ownHit) : ''
    if (tail.length > 0 && /[A-Za-z]{3}/.test(tail) && !/^>>>/.test(own.trim())) after.unshift(tail)
    // the same address named again further on, past another recipient (Exchange 2007 lists the
    // recipients once in words and once with the server's reply): that section belongs to it too
    if (strong && namedAgain(chosen, k, end)) sectionAgain(lines, chosen, k, end, after, chosenAddrs)
    diagnostic = after.join('\n')
  }
  if (!/[A-Za-z\u3040-\u30ff\u4e00-\u9fff]{3}/.test(diagnostic) || (!strong && diagnostic.length < 40)) {
    diagnostic = trimmedLines(lines, 0, lines.length).join('\n')
  }
  return diagnostic
}

/**
 * A Sendmail error line `554 <a@b>... reason` at `line`: its own words and the transcript lines just
 * before it (back to "while talking to" or the previous recipient's line `prev`), not the lines after.
 */
function sendmailDiagnostic(lines: readonly string[], line: number, prev: number): string {
  let from = line
  while (from > 0 && from - 1 > prev && line - from < 8) {
    from--
    if (/while talking to/i.test(lines[from] ?? '')) break
  }
  return trimmedLines(lines, from, line + 1).join('\n')
}

/** Whether the address of `chosen[k]` is named again on line `end` or after (rare: `sectionAgain` reads it). */
function namedAgain(chosen: readonly Mention[], k: number, end: number): boolean {
  const addr = chosen[k]!.addr
  for (let j = k + 1; j < chosen.length; j++) if (chosen[j]!.addr === addr && chosen[j]!.line >= end) return true
  return false
}

/**
 * The same address as `chosen[k]` named again further on (from `end`), past another recipient
 * (Exchange 2007 lists the recipients once in words and once with the server's reply): the lines of
 * that section are added to `after`.
 */
function sectionAgain(
  lines: readonly string[],
  chosen: readonly Mention[],
  k: number,
  end: number,
  after: string[],
  chosenAddrs: ReadonlySet<string>,
): void {
  const c = chosen[k]!
  for (let j = k + 1; j < chosen.length && after.length < 60; j++) {
    const again = chosen[j]!
    if (again.addr !== c.addr || again.line < end) continue
    let stop = lines.length
    for (let m = j + 1; m < chosen.length; m++) {
      if (chosen[m]!.line > again.line && chosen[m]!.addr !== c.addr) {
        stop = chosen[m]!.line
        break
      }
    }
    const againLine = lines[again.line] ?? ''
    const from = /^[ \t]{0,8}>>> ?\w/.test(againLine) ? again.line : again.line + 1
    if (from > again.line) {
      // words after the address on that line (`<a@b>... Deferred: 451 ...`) come first
      const tailAgain = wordsAfter(
        againLine,
        addressesIn(againLine).find((h) => h.addr === c.addr),
      )
      if (/[A-Za-z]{3}/.test(tailAgain)) after.push(tailAgain)
    }
    // the section ends where a new session starts or another recipient is named (a Sendmail
    // transcript talks to each recipient's host in turn)
    for (let m = from; m < Math.min(stop, again.line + 25); m++) {
      const l = lines[m] ?? ''
      if (m > from && /^[ \t]{0,8}\.{3} ?while talking to/i.test(l)) break
      if (m > again.line && l.length < 2000 && addressesIn(l).some((h) => h.addr !== c.addr && chosenAddrs.has(h.addr))) break
      if (l.trim().length > 0) after.push(l.trim())
    }
    break
  }
}

/**
 * `lines.slice(from, to).map((l) => l.trim()).filter((l) => l.length > 0)` for indexes >= 0, as a
 * loop: the chained array builtins, inlined into scanNotice, met lines of several string kinds
 * (one- and two-byte, sliced) and made V8 deoptimize and recompile scanNotice again and again.
 */
function trimmedLines(lines: readonly string[], from: number, to: number): string[] {
  const out: string[] = []
  const end = Math.min(to, lines.length)
  for (let i = from; i < end; i++) {
    const t = lines[i]!.trim()
    if (t.length > 0) out.push(t)
  }
  return out
}

/** The remote host a notice names (`host mx.example.com [192.0.2.1]`, `Remote-MTA`), when any. */
export function remoteHostIn(text: string): string | undefined {
  const m = /\bhost ([A-Za-z0-9][A-Za-z0-9.-]{0,200}\.[A-Za-z]{2,24})\b/.exec(text)
  return m ? m[1]!.toLowerCase() : undefined
}
