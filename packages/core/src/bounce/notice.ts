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
  'below is a copy of the original message',
]

/** Header names that, at the start of a line and followed by another header line, begin a quoted header block. */
const QUOTED_HEADER_STARTS = ['received:', 'return-path:', 'dkim-signature:', 'x-received:', 'arc-seal:', 'delivered-to:', 'x-google-smtp-source:', 'mime-version:', 'message-id:']

export interface NoticeSplit {
  /** The notice lines (before the quoted message). */
  lines: string[]
  /** The quoted original message text, when found (may be headers only). */
  quoted?: string
}

/** Split the body text into the notice and the quoted original message. */
export function splitNotice(text: string): NoticeSplit {
  const all = splitLines(text)
  const limit = Math.min(all.length, MAX_NOTICE_LINES)
  for (let i = 0; i < limit; i++) {
    const line = all[i] ?? ''
    const low = line.toLowerCase()
    if (low.length > 0 && low.length < 120) {
      const t = low.trim()
      if (SEPARATOR_PHRASES.some((p) => t.includes(p))) {
        return { lines: all.slice(0, i), quoted: all.slice(i + 1).join('\n') }
      }
      if (QUOTED_HEADER_STARTS.some((h) => t.startsWith(h)) && i > 0 && isHeaderish(all[i + 1])) {
        return { lines: all.slice(0, i), quoted: all.slice(i).join('\n') }
      }
    }
  }
  return { lines: all.slice(0, limit) }
}

function isHeaderish(line: string | undefined): boolean {
  if (!line) return false
  const c = line.charCodeAt(0)
  if (c === 32 || c === 9) return true
  return /^[A-Za-z][A-Za-z0-9-]{0,60}:/.test(line)
}

/** An address in running text. Bounded pieces only. */
const ADDRESS = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9][A-Za-z0-9.-]{0,253}/g

/** Local parts that are never the failed recipient in a notice. */
const SYSTEM_LOCALS = new Set(['mailer-daemon', 'postmaster', 'mail-daemon', 'maildaemon', 'daemon', 'root', 'abuse', 'noreply', 'no-reply', 'nobody'])

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

function addressesIn(line: string): { addr: string; index: number; end: number }[] {
  const out: { addr: string; index: number; end: number }[] = []
  if (!line.includes('@')) return out
  ADDRESS.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = ADDRESS.exec(line)) !== null) {
    const addr = tidyAddress(m[0])
    const at = addr.indexOf('@')
    if (at > 0 && addr.indexOf('.', at) > at + 1) out.push({ addr, index: m.index, end: m.index + m[0].length })
  }
  return out
}

/** Words that precede a sender (not recipient) address. */
function precededBySenderWord(line: string, index: number): boolean {
  const before = line.slice(Math.max(0, index - 24), index).toLowerCase()
  return before.includes('mail from') || before.includes('from:') || before.includes('from <') || before.includes('sender') || before.includes('contact') || before.includes('envelope-from') || before.includes('return-path')
}

/** A line that holds little but the address: `<a@b>:`, `  a@b`, `To: a@b`, `Recipient: <a@b>`. */
function isAddressLine(line: string, hit: { index: number; end: number }): boolean {
  const rest = (line.slice(0, hit.index) + line.slice(hit.end)).replace(ADDRESS, '').replace(/[\s<>()\[\]"':;,.*>=-]/g, '').toLowerCase()
  if (rest.length <= 2) return true
  if (rest.length > 40) return false
  return /^(?:to|rcptto|recipient|recipients|address|originalrecipient|finalrecipient|failedrecipient|forwardto|user|mailbox|宛先|受信者|delivereto|unknownuser|failedaddress|invalidrecipient|smtp|[a-z ]{0,20}\d{0,3})$/.test(rest) && !/^\d+$/.test(rest)
}

/**
 * Find the failed recipients in a notice and the diagnostic near each.
 * @param lines - notice lines (see `splitNotice`)
 * @param exclude - addresses that are the bounce's sender / the original sender (lower-case)
 */
export function scanNotice(lines: readonly string[], exclude: ReadonlySet<string>): NoticeRecipient[] {
  const strongAt: { addr: string; line: number }[] = []
  const weakAt: { addr: string; line: number }[] = []
  const excludedStrong: { addr: string; line: number }[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (line.length > 2000) continue
    for (const hit of addressesIn(line)) {
      const local = hit.addr.slice(0, hit.addr.indexOf('@'))
      if (SYSTEM_LOCALS.has(local)) continue
      if (precededBySenderWord(line, hit.index)) continue
      const strongLine = isAddressLine(line, hit)
      if (exclude.has(hit.addr)) {
        if (strongLine) excludedStrong.push({ addr: hit.addr, line: i })
        continue
      }
      if (strongLine) strongAt.push({ addr: hit.addr, line: i })
      else weakAt.push({ addr: hit.addr, line: i })
    }
  }
  // The original sender can be a failed recipient too (a message to oneself): only when nothing else is there.
  if (strongAt.length === 0 && weakAt.length === 0) strongAt.push(...excludedStrong)
  const chosen = strongAt.length > 0 ? strongAt : weakAt.slice(0, 1)
  const strong = strongAt.length > 0
  const out: NoticeRecipient[] = []
  const seen = new Set<string>()
  for (let k = 0; k < chosen.length; k++) {
    const c = chosen[k]!
    if (seen.has(c.addr)) continue
    seen.add(c.addr)
    // diagnostic: following lines up to the next chosen address (or 24 lines); an address alone on
    // a line at the end of its paragraph takes the text after it, otherwise the text around it.
    let next = lines.length
    for (let j = k + 1; j < chosen.length; j++) {
      if (chosen[j]!.line > c.line) {
        next = chosen[j]!.line
        break
      }
    }
    const end = Math.min(next, c.line + 25)
    const after = lines.slice(strong ? c.line + 1 : c.line, end).map((l) => l.trim()).filter((l) => l.length > 0)
    let diagnostic = after.join('\n')
    if (!/[A-Za-z\u3040-\u30ff\u4e00-\u9fff]{3}/.test(diagnostic) || (!strong && diagnostic.length < 40)) {
      diagnostic = lines.map((l) => l.trim()).filter((l) => l.length > 0).join('\n')
    }
    out.push({ recipient: c.addr, diagnostic, strong })
  }
  return out
}

/** The remote host a notice names (`host mx.example.com [192.0.2.1]`, `Remote-MTA`), when any. */
export function remoteHostIn(text: string): string | undefined {
  const m = /\bhost ([A-Za-z0-9][A-Za-z0-9.-]{0,200}\.[A-Za-z]{2,24})\b/.exec(text)
  return m ? m[1]!.toLowerCase() : undefined
}
