/**
 * `parseSmtpReply`: turns whatever a caller holds (a bare reply, a multi-line reply, a DSN
 * `Diagnostic-Code` value, the message of a Nodemailer error, an MTA log line with the code in the
 * middle) into an `SmtpReply { code, enhancedStatus, text, raw }`.
 *
 * It never throws, runs in time linear in the input and looks at no more than `MAX_REPLY_INPUT`
 * characters. Every regular expression here is anchored or made of bounded, unambiguous pieces.
 */
import { digitRun } from './bounce/fields.js'
import { createReplyShape, NODEMAILER_PREFIXES, parseReplyBytes } from './reply-bytes.js'
import { dropRepeats, isSpace, squash } from './reply-text.js'

export { squash } from './reply-text.js'
import type { SmtpReply } from './types.js'

/** Characters of input examined; the rest of a larger input is ignored (it still appears in `raw`). */
export const MAX_REPLY_INPUT = 65_536

/** A reply code followed by an enhanced status anywhere in the text. */
const STRONG = /(?<![\w.])#?([245]\d\d)[ -]#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/
/** A bare reply code after a colon, a quote, an opening bracket or `said`. */
const WEAK = /(?:[:'"([]|\bsaid)[ \t]*#?([245]\d\d)(?=[ -]|$)/i
/** An enhanced status alone. */
const STATUS = /(?<![\w.])#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/
/** `Diagnostic-Code:` header name, then a type such as `smtp;` or `X-Postfix;`. */
const DIAG_NAME = /^[ \t]*diagnostic-code[ \t]*:[ \t]*/i
const DIAG_TYPE = /^[ \t]*(?:smtp|x-[a-z0-9-]{1,40}|unix|mailbox)[ \t]*;[ \t]*/i
const LINE_BREAK = /\r\n|\r|\n/

/** `NODEMAILER_PREFIXES` after white space, in list order (ASCII letters only: `i` ignores case the same as lower-casing would). */
const NODEMAILER_PREFIX = new RegExp(`^\\s*(?:${NODEMAILER_PREFIXES.map((p) => p.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|')})`, 'i')

/** The first character code after spaces and tabs (NaN at the end). */
function firstAfterBlanks(s: string): number {
  let k = 0
  while (k < s.length && (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9)) k++
  return s.charCodeAt(k)
}

function stripPrefixes(s: string): string {
  const c0 = s.charCodeAt(0)
  if (c0 >= 48 && c0 <= 57) return s // starts with a reply code: nothing to strip
  let out = s
  // The anchored patterns run only when the first character after blanks can start them.
  let f = firstAfterBlanks(out) | 0x20
  if (f === 100) {
    const d = DIAG_NAME.exec(out)
    if (d) {
      out = out.slice(d[0].length)
      f = firstAfterBlanks(out) | 0x20
    }
  }
  if (f === 115 || f === 120 || f === 117 || f === 109) {
    const t = DIAG_TYPE.exec(out)
    if (t) out = out.slice(t[0].length)
  }
  // Every prefix starts with c, d, i, m or r: other first characters need no lower-casing.
  let k = 0
  while (k < out.length && isSpace(out.charCodeAt(k))) k++
  const lead = out.charCodeAt(k) | 0x20
  if (k >= 64 || (lead !== 99 && lead !== 100 && lead !== 105 && lead !== 109 && lead !== 114 && out.charCodeAt(k) < 128)) return out
  // One anchored, case-insensitive pattern (no lower-cased copy): the first prefix of the list that
  // starts the text after white space, within its first 64 characters.
  const m = NODEMAILER_PREFIX.exec(out)
  return m !== null && m[0].length <= 64 ? out.slice(m[0].length) : out
}

/** Where `matchStatus` found the status digits begin. */
let statusStart = 0

/**
 * `#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)` anchored at `i`, by hand: the end of the match, or -1.
 * The status itself is `s.slice(statusStart, end)`.
 */
function matchStatus(s: string, i: number): number {
  if (s.charCodeAt(i) === 35) i++
  const c = s.charCodeAt(i)
  if ((c !== 50 && c !== 52 && c !== 53) || s.charCodeAt(i + 1) !== 46) return -1
  const a = digitRun(s, i + 2)
  if (a < 1 || a > 3 || s.charCodeAt(i + 2 + a) !== 46) return -1
  const j = i + 3 + a
  const b = digitRun(s, j)
  if (b < 1 || b > 3) return -1
  const e = j + b
  if (s.charCodeAt(e) === 46) {
    const d = s.charCodeAt(e + 1)
    if (d >= 48 && d <= 57) return -1
  }
  statusStart = i
  return e
}

/** Set by `matchLead`: the reply code and the enhanced status (or undefined) it found. */
let leadCode = 0
let leadStatus: string | undefined

/**
 * A reply code at the start of `s[0, end)`: `550-5.1.1 text`, `550 5.1.1 text`, `550 text`, `550`
 * (blanks and a `#` may come first). By hand, the same as the anchored pattern
 * `^[ \t]*#?([245]\d\d)(?:([ -])[ \t]*(?:#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d))?|$)`: returns the
 * length of the match (-1 when none) and leaves the code and status in `leadCode`/`leadStatus`.
 */
function matchLead(s: string, end: number): number {
  let i = 0
  while (i < end && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++
  if (i < end && s.charCodeAt(i) === 35) i++
  if (i + 3 > end) return -1
  const c0 = s.charCodeAt(i)
  const d1 = s.charCodeAt(i + 1) - 48
  const d2 = s.charCodeAt(i + 2) - 48
  if ((c0 !== 50 && c0 !== 52 && c0 !== 53) || !(d1 >= 0 && d1 <= 9) || !(d2 >= 0 && d2 <= 9)) return -1
  leadCode = (c0 - 48) * 100 + d1 * 10 + d2
  leadStatus = undefined
  i += 3
  if (i === end) return i
  const sep = s.charCodeAt(i)
  if (sep !== 32 && sep !== 45) return -1
  i++
  while (i < end && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++
  const e = matchStatus(s, i)
  if (e < 0 || e > end) return i
  leadStatus = s.slice(statusStart, e)
  return e
}

/** The first index from `i` that is not white space. */
function skipSpaces(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  return i
}

/** Inputs up to this long (ASCII) may take the byte-level fast path. */
const FAST_INPUT_MAX = 4096
const INPUT_BYTES = new Uint8Array(FAST_INPUT_MAX)
const ENCODER = new TextEncoder()
const SHAPE = createReplyShape()

function toInput(raw: unknown): string {
  if (typeof raw === 'string') return raw
  if (raw === null || raw === undefined) return ''
  try {
    return String(raw)
  } catch {
    return ''
  }
}

/**
 * Parse an SMTP reply, in whatever wrapping it arrives.
 *
 * - `code`: the RFC 5321 reply code (`550`), when one is found at the start of a line or, failing
 *   that, in the middle of the text (`host mx.example.com said: 550 ...`).
 * - `enhancedStatus`: the RFC 3463 status (`5.1.1`, `5.7.26`, `4.7.650`), when present.
 * - `text`: the human-readable part, continuation lines joined with one space, the codes removed.
 * - `raw`: the input as given.
 *
 * Never throws; unrecognisable input gives `{ text, raw }` with no code.
 * @param raw - the reply text (non-strings are converted with `String`, failures give `""`)
 */
export function parseSmtpReply(raw: string): SmtpReply {
  const input = toInput(raw)
  const n = input.length
  if (n <= FAST_INPUT_MAX) {
    // The common shapes, parsed by hand over the bytes (see reply-bytes.ts); the same result.
    const r = ENCODER.encodeInto(input, INPUT_BYTES)
    if (r.read === n && r.written === n && parseReplyBytes(input, INPUT_BYTES, n, SHAPE)) {
      const reply: SmtpReply = { text: SHAPE.text ?? squash(input.slice(SHAPE.textStart, SHAPE.textEnd)), raw: input }
      if (SHAPE.code >= 0) reply.code = SHAPE.code
      if (SHAPE.statusEnd > SHAPE.statusStart) reply.enhancedStatus = input.slice(SHAPE.statusStart, SHAPE.statusEnd)
      return reply
    }
  }
  const src = stripPrefixes(input.length > MAX_REPLY_INPUT ? input.slice(0, MAX_REPLY_INPUT) : input)
  let code: number | undefined
  let status: string | undefined
  let text: string

  const nl = src.indexOf('\n')
  const cr = src.indexOf('\r')
  const firstBreak = nl < 0 ? cr : cr < 0 ? nl : Math.min(nl, cr)
  const leadEnd = matchLead(src, firstBreak < 0 ? src.length : firstBreak)
  if (leadEnd >= 0 && firstBreak < 0) {
    code = leadCode
    status = leadStatus
    text = squash(src.slice(leadEnd))
    if (status === undefined) {
      const st = matchStatus(text, 0)
      if (st >= 0) {
        status = text.slice(statusStart, st)
        text = text.slice(skipSpaces(text, st))
      }
    }
  } else if (leadEnd >= 0) {
    code = leadCode
    status = leadStatus
    const parts: string[] = []
    const lines = src.split(LINE_BREAK)
    for (const line of lines) {
      const m = matchLead(line, line.length)
      if (m >= 0) {
        if (status === undefined && leadStatus !== undefined) status = leadStatus
        parts.push(line.slice(m))
      } else {
        parts.push(line)
      }
    }
    text = squash(parts.join(' '))
    if (status === undefined) {
      // `550 <x>: ... 5.1.1 ...` style: a status later in the text.
      const st = matchStatus(text, 0)
      if (st >= 0) {
        status = text.slice(statusStart, st)
        text = text.slice(skipSpaces(text, st))
      }
    }
  } else {
    const flat = squash(src)
    const strong = STRONG.exec(flat)
    const weak = strong ? null : WEAK.exec(flat)
    if (strong) {
      code = Number(strong[1])
      status = strong[2]
      text = flat.slice(strong.index + strong[0].length)
    } else if (weak) {
      code = Number(weak[1])
      text = flat.slice(weak.index + weak[0].length)
      const st = /^[ -]*#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/.exec(text)
      if (st) {
        status = st[1]
        text = text.slice(st[0].length)
      }
    } else {
      const st = STATUS.exec(flat)
      if (st) {
        status = st[1]
        text = st.index === 0 ? flat.slice(st[0].length) : `${flat.slice(0, st.index)} ${flat.slice(st.index + st[0].length)}`
      } else {
        text = flat
      }
    }
    let k = 0
    while (k < text.length) {
      const c = text.charCodeAt(k)
      if (c !== 58 && c !== 59 && c !== 44 && c !== 45 && !isSpace(c)) break
      k++
    }
    if (k > 0) text = text.slice(k)
  }
  const dropped = dropRepeats(text, code, status)
  if (dropped !== text) text = squash(dropped)
  const reply: SmtpReply = { text, raw: input }
  if (code !== undefined) reply.code = code
  if (status !== undefined) reply.enhancedStatus = status
  return reply
}

/** The class digit (2, 4 or 5) of a reply, from its code or else its enhanced status. */
export function replyClass(reply: Pick<SmtpReply, 'code' | 'enhancedStatus'>): 2 | 4 | 5 | undefined {
  const c = reply.code !== undefined ? Math.floor(reply.code / 100) : reply.enhancedStatus ? Number(reply.enhancedStatus.charAt(0)) : NaN
  return c === 2 || c === 4 || c === 5 ? c : undefined
}
