/**
 * The fast path of `parseSmtpReply` (internal): the same parse, done by hand over the reply's bytes
 * for the common shapes, with no regular expression. It answers only when it is sure to give
 * exactly what the general parser gives; otherwise it declines and the caller takes the general
 * path.
 *
 * Covered: ASCII text, optionally behind a `Diagnostic-Code:` name and type and one of Nodemailer's
 * message prefixes, with the reply code and enhanced status at the start (`550 5.1.1 text`, also
 * over several lines, each with its code), or on one line after a colon, quote, bracket or `said`
 * (`host x said: 550 text`), with a code and status mid-text, or with a status alone. Declined:
 * non-ASCII text, several lines without a leading code, a status mid-text with white space runs
 * around it.
 *
 * The result is a set of offsets into the input (its bytes are its UTF-16 code units, the input
 * being ASCII): the text is `squash(input.slice(textStart, textEnd))` unless it had to be built
 * (`text`), the status is `input.slice(statusStart, statusEnd)`.
 */
import { dropRepeats, isSpace, squash } from './reply-text.js'

/** Offsets found by `parseReplyBytes` (reused: one instance per caller). */
export interface ReplyShape {
  /** The reply code, or -1 when there is none. */
  code: number
  /** The enhanced status is `input.slice(statusStart, statusEnd)`; equal offsets when there is none. */
  statusStart: number
  statusEnd: number
  /** The reply text is `squash(input.slice(textStart, textEnd))`, unless `text` is set. */
  textStart: number
  textEnd: number
  /**
   * The text, when it is not one slice of the input: several lines joined, a status cut out of
   * its middle, repeated codes removed. Null otherwise.
   */
  text: string | null
}

/** A fresh `ReplyShape` to pass to `parseReplyBytes`. */
export function createReplyShape(): ReplyShape {
  return { code: -1, statusStart: 0, statusEnd: 0, textStart: 0, textEnd: 0, text: null }
}

const DIAGNOSTIC_CODE = bytesOf('diagnostic-code')
const SMTP = bytesOf('smtp')
const UNIX = bytesOf('unix')
const MAILBOX = bytesOf('mailbox')
const SAID = bytesOf('said')
/** Prefixes Nodemailer puts in front of the server's reply in `err.message` (lower-case), tried in this order. */
export const NODEMAILER_PREFIXES: readonly string[] = [
  "can't send mail - all recipients were rejected:",
  'message failed:',
  'data command failed:',
  'mail command failed:',
  'recipient command failed:',
  'invalid login:',
  "can't send mail -",
]
const NODEMAILER_PREFIX_BYTES = NODEMAILER_PREFIXES.map(bytesOf)

function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

/** A lower-case ASCII letter for an upper-case one, other codes unchanged (what the `i` flag folds). */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c
}

/** `b[i, i + w.length)` equals `w` ignoring ASCII case (`w` is lower-case), within `end`. */
function startsWithFolded(b: Uint8Array, i: number, end: number, w: Uint8Array): boolean {
  if (i + w.length > end) return false
  for (let k = 0; k < w.length; k++) if (lower(b[i + k] as number) !== w[k]) return false
  return true
}

/** The first index from `i` (below `end`) that is not white space. */
function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end && isWs(b[i] as number)) i++
  return i
}

/** The first index from `i` (below `end`) that is not a space or a tab. */
function skipBlanks(b: Uint8Array, i: number, end: number): number {
  while (i < end && (b[i] === 32 || b[i] === 9)) i++
  return i
}

/** ASCII white space as `\s` sees it (CR and LF never reach here). */
function isWs(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}

/** `\w` without the `u` flag. */
function isWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/** Digits from `i` below `end`, at most 4 counted. */
function digits(b: Uint8Array, i: number, end: number): number {
  let n = 0
  while (n < 4 && i + n < end && isDigit(b[i + n] as number)) n++
  return n
}

/** Where `matchStatus` found the status digits begin. */
let statusAt = 0

/**
 * `#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)` anchored at `i`, the text ending at `end`: the end of the
 * match or -1; the status starts at `statusAt`.
 */
function matchStatus(b: Uint8Array, i: number, end: number): number {
  if (i < end && b[i] === 35) i++
  if (i + 1 >= end) return -1
  const c = b[i] as number
  if ((c !== 50 && c !== 52 && c !== 53) || b[i + 1] !== 46) return -1
  const a = digits(b, i + 2, end)
  if (a < 1 || a > 3 || i + 2 + a >= end || b[i + 2 + a] !== 46) return -1
  const j = i + 3 + a
  const d = digits(b, j, end)
  if (d < 1 || d > 3) return -1
  const e = j + d
  if (e + 1 < end && b[e] === 46 && isDigit(b[e + 1] as number)) return -1
  statusAt = i
  return e
}

/** A reply code `[245]\d\d` at `i` (below `end`), or -1. */
function codeAt(b: Uint8Array, i: number, end: number): number {
  if (i + 3 > end) return -1
  const c = b[i] as number
  const d1 = (b[i + 1] as number) - 48
  const d2 = (b[i + 2] as number) - 48
  if ((c !== 50 && c !== 52 && c !== 53) || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return -1
  return (c - 48) * 100 + d1 * 10 + d2
}

/** Set by `matchLead`: the code, and where the status it found starts and ends (equal: none). */
let leadCode = 0
let leadStatusStart = 0
let leadStatusEnd = 0

/**
 * A reply code at the start of `b[start, end)`: `550-5.1.1 text`, `550 5.1.1 text`, `550 text`,
 * `550` (blanks and a `#` may come first), as `^[ \t]*#?([245]\d\d)(?:([ -])[ \t]*(?:#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d))?|$)`:
 * the end of the match, or -1.
 */
function matchLead(b: Uint8Array, start: number, end: number): number {
  let i = skipBlanks(b, start, end)
  if (i < end && b[i] === 35) i++
  const code = codeAt(b, i, end)
  if (code < 0) return -1
  leadCode = code
  leadStatusStart = leadStatusEnd = 0
  i += 3
  if (i === end) return i
  if (b[i] !== 32 && b[i] !== 45) return -1
  i = skipBlanks(b, i + 1, end)
  const e = matchStatus(b, i, end)
  if (e < 0) return i
  leadStatusStart = statusAt
  leadStatusEnd = e
  return e
}

/** `[ \t]*(?:smtp|x-[a-z0-9-]{1,40}|unix|mailbox)[ \t]*;[ \t]*` (case-insensitive) at `i`: its end, or -1. */
function matchDiagType(b: Uint8Array, i: number, n: number): number {
  i = skipBlanks(b, i, n)
  let j = -1
  if (startsWithFolded(b, i, n, SMTP)) j = i + 4
  else if (startsWithFolded(b, i, n, UNIX)) j = i + 4
  else if (startsWithFolded(b, i, n, MAILBOX)) j = i + 7
  else if (i + 1 < n && lower(b[i] as number) === 120 && b[i + 1] === 45) {
    let k = i + 2
    while (k < n) {
      const c = lower(b[k] as number)
      if (!((c >= 97 && c <= 122) || isDigit(c) || c === 45)) break
      k++
    }
    if (k - (i + 2) >= 1 && k - (i + 2) <= 40) j = k
  }
  if (j < 0) return -1
  j = skipBlanks(b, j, n)
  if (j >= n || b[j] !== 59) return -1
  return skipBlanks(b, j + 1, n)
}

/** The reply's start once `parseSmtpReply`'s prefixes (Diagnostic-Code name and type, Nodemailer's) are skipped. */
function stripPrefixes(b: Uint8Array, n: number): number {
  if (n > 0 && isDigit(b[0] as number)) return 0
  let s = 0
  let k = skipBlanks(b, 0, n)
  let f = k < n ? lower(b[k] as number) : 32
  if (f === 100 && startsWithFolded(b, k, n, DIAGNOSTIC_CODE)) {
    const j = skipBlanks(b, k + DIAGNOSTIC_CODE.length, n)
    if (j < n && b[j] === 58) {
      s = skipBlanks(b, j + 1, n)
      f = s < n ? lower(b[s] as number) : 32
    }
  }
  if (f === 115 || f === 120 || f === 117 || f === 109) {
    const e = matchDiagType(b, s, n)
    if (e >= 0) s = e
  }
  k = s
  while (k < n && isWs(b[k] as number)) k++
  if (k - s >= 64 || k >= n) return s
  const lead = lower(b[k] as number)
  if (lead !== 99 && lead !== 100 && lead !== 105 && lead !== 109 && lead !== 114) return s
  for (const p of NODEMAILER_PREFIX_BYTES) {
    if (startsWithFolded(b, k, n, p)) return k + p.length - s <= 64 ? k + p.length : s
  }
  return s
}

/** Byte kinds for the search in a reply without a leading code (ASCII; see `KIND_*`). */
const KIND = new Uint8Array(256)
const KIND_CODE = 1 // 2, 4, 5: may start a code or a status
const KIND_MARK = 2 // : ' " ( [ may come before a bare code
const KIND_S = 3 // s, S: may start `said`
for (const c of [50, 52, 53]) KIND[c] = KIND_CODE
for (const c of [58, 39, 34, 40, 91]) KIND[c] = KIND_MARK
KIND[115] = KIND_S
KIND[83] = KIND_S

/**
 * White space by byte: 1 for a space, 2 for the white space squashing always rewrites (tab, VT, FF,
 * CR, LF), 0 otherwise. With `t` a byte's entry and `u` the previous one's, `(t & u) | (t >> 1)` is
 * non-zero exactly where squashing would change the text: no branch per byte (spaces come at
 * irregular intervals, and a mispredicted branch on each costs more than the whole test).
 */
const SQUASHED = new Uint8Array(256)
SQUASHED[32] = 1
for (const c of [9, 10, 11, 12, 13]) SQUASHED[c] = 2

/** Whether `b[from, to)` has only single plain spaces as white space (squashing leaves it as is). */
export function singleSpaced(b: Uint8Array, from: number, to: number): boolean {
  let bad = 0
  let u = 0
  for (let i = from; i < to; i++) {
    const t = SQUASHED[b[i] as number] as number
    bad |= (t & u) | (t >> 1)
    u = t
  }
  return bad === 0
}

/**
 * Parse the ASCII reply `input`, whose bytes are `b[0, n)` (`n === input.length`), into `out`, as
 * `parseSmtpReply` would; false (and `out` undefined) when the reply is not of a shape covered here.
 * The text is then `squash(input.slice(textStart, textEnd))` (the slice itself when its white
 * space is single spaces).
 */
export function parseReplyBytes(input: string, b: Uint8Array, n: number, out: ReplyShape): boolean {
  out.text = null
  const s = stripPrefixes(b, n)
  const nl = input.indexOf('\n', s)
  const cr = input.indexOf('\r', s)
  if (nl >= 0 || cr >= 0) return parseLines(input, b, n, s, nl < 0 ? cr : cr < 0 ? nl : Math.min(nl, cr), out)
  let code = -1
  let st0 = 0
  let st1 = 0
  let ts: number
  let te = n
  while (te > s && isWs(b[te - 1] as number)) te--
  // A code at the start: `550-5.1.1 text`, `550 5.1.1 text`, `550 text`, `550`.
  const leadEnd = matchLead(b, s, n)
  if (leadEnd >= 0) {
    st0 = leadStatusStart
    st1 = leadStatusEnd
  }
  if (leadEnd >= 0) {
    // text = squash(rest); a status may open it.
    code = leadCode
    ts = leadEnd
    if (te < ts) te = ts // nothing but white space after the code
    while (ts < te && isWs(b[ts] as number)) ts++
    if (st1 === st0) {
      const e = matchStatus(b, ts, te)
      if (e >= 0) {
        st0 = statusAt
        st1 = e
        ts = e
        while (ts < te && isWs(b[ts] as number)) ts++
      }
    }
  } else {
    // The regular expressions of the general path run on squash(src): one pass here finds what
    // each would (the first code with a status; else the first bare code after a mark; else the
    // first status), reading any run of white space as the one space squashing leaves of it.
    let a = s
    while (a < te && isWs(b[a] as number)) a++
    const z = te
    ts = a
    let weakCode = -1
    let weakEnd = 0
    let statusStart = -1
    let statusEnd = 0
    let strong = false
    for (let p = a; p < z; p++) {
      const c = b[p] as number
      const kind = KIND[c] as number
      if (kind === 0) continue
      if (kind === KIND_CODE) {
        if (p > a) {
          const q = b[p - 1] as number
          if (isWord(q) || q === 46) continue
        }
        // (?<![\w.])#?([245]\d\d)[ -]#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)
        const k = codeAt(b, p, z)
        const sep = p + 3 < z ? (b[p + 3] as number) : 0
        if (k >= 0 && (sep === 45 || isWs(sep))) {
          const e = matchStatus(b, sep === 45 ? p + 4 : skipWs(b, p + 4, z), z)
          if (e >= 0) {
            code = k
            st0 = statusAt
            st1 = e
            ts = e
            strong = true
            break
          }
        }
        // (?<![\w.])#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d), the first one only.
        if (statusStart < 0) {
          const e = matchStatus(b, p, z)
          if (e >= 0) {
            statusStart = p > a && b[p - 1] === 35 && (p - 1 === a || !(isWord(b[p - 2] as number) || b[p - 2] === 46)) ? p - 1 : p
            st0 = p
            st1 = e
            statusEnd = e
          }
        }
      } else if (weakCode < 0 && (kind === KIND_MARK || ((p === a || !isWord(b[p - 1] as number)) && startsWithFolded(b, p, z, SAID)))) {
        // (?:[:'"([]|\bsaid)[ \t]*#?([245]\d\d)(?=[ -]|$), the first one only.
        let j = skipWs(b, kind === KIND_MARK ? p + 1 : p + 4, z)
        if (j < z && b[j] === 35) j++
        const k = codeAt(b, j, z)
        if (k >= 0 && (j + 3 === z || b[j + 3] === 45 || isWs(b[j + 3] as number))) {
          weakCode = k
          weakEnd = j + 3
        }
      }
    }
    if (!strong) {
      if (weakCode >= 0) {
        code = weakCode
        st0 = st1 = 0
        ts = weakEnd
        // ^[ -]*#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)
        let m = ts
        while (m < z && (b[m] === 45 || isWs(b[m] as number))) m++
        const e = matchStatus(b, m, z)
        if (e >= 0) {
          st0 = statusAt
          st1 = e
          ts = e
        }
      } else if (statusStart >= 0) {
        ts = statusEnd
        if (statusStart !== a) {
          // The text around the status, joined by a space (not squashed), leading separators off;
          // only when squashing changed nothing (the pieces are then the squashed text's).
          if (!singleSpaced(b, a, z)) return false
          out.text = trimLeadingSeparators(`${input.slice(a, statusStart)} ${input.slice(statusEnd, z)}`)
        }
      } else {
        st0 = st1 = 0
      }
    }
    // Leading separators and white space.
    while (ts < te) {
      const c = b[ts] as number
      if (c !== 58 && c !== 59 && c !== 44 && c !== 45 && !isWs(c)) break
      ts++
    }
  }
  if (code >= 0 && repeatsCode(input, ts, te, code, st0, st1)) {
    // The general path removes the repeats from the squashed text (then squashes it again).
    const text = squash(input.slice(ts, te))
    const dropped = dropRepeats(text, code, st1 > st0 ? input.slice(st0, st1) : undefined)
    out.text = dropped !== text ? squash(dropped) : text
  }
  out.code = code
  out.statusStart = st0
  out.statusEnd = st1
  out.textStart = ts
  out.textEnd = te
  return true
}

/** `text` without its leading `:`, `;`, `,`, `-` and white space. */
function trimLeadingSeparators(text: string): string {
  let k = 0
  while (k < text.length) {
    const c = text.charCodeAt(k)
    if (c !== 58 && c !== 59 && c !== 44 && c !== 45 && !isSpace(c)) break
    k++
  }
  return k > 0 ? text.slice(k) : text
}

/**
 * `parseReplyBytes` for a reply of several lines (the first break at `firstBreak`), the reply
 * starting at `s`: covered when its first line starts with a code. Each line loses its leading
 * code (and status); the lines are joined by spaces and squashed; the status is the first line's
 * that has one, else one opening the text.
 */
function parseLines(input: string, b: Uint8Array, n: number, s: number, firstBreak: number, out: ReplyShape): boolean {
  if (matchLead(b, s, firstBreak) < 0) return false
  const code = leadCode
  let st0 = 0
  let st1 = 0
  const parts: string[] = []
  // Each line's own code is removed; lines split at CR LF, CR or LF.
  let first = -1 // where the text's first character is (in the input), and its line's end
  let firstEnd = 0
  let ls = s
  for (;;) {
    let le = ls
    while (le < n && b[le] !== 10 && b[le] !== 13) le++
    let from = matchLead(b, ls, le)
    if (from >= 0) {
      if (st1 === st0 && leadStatusEnd > leadStatusStart) {
        st0 = leadStatusStart
        st1 = leadStatusEnd
      }
    } else from = ls
    parts.push(input.slice(from, le))
    if (first < 0) {
      while (from < le && isWs(b[from] as number)) from++
      if (from < le) {
        first = from
        firstEnd = le
      }
    }
    if (le >= n) break
    ls = b[le] === 13 && le + 1 < n && b[le + 1] === 10 ? le + 2 : le + 1
  }
  let text = squash(parts.join(' '))
  if (st1 === st0 && first >= 0) {
    // A status opening the text (it cannot span lines: the text's first line holds it).
    const e = matchStatus(b, first, firstEnd)
    if (e >= 0) {
      st0 = statusAt
      st1 = e
      let k = e - first
      while (k < text.length && isSpace(text.charCodeAt(k))) k++
      text = text.slice(k)
    }
  }
  const dropped = dropRepeats(text, code, st1 > st0 ? input.slice(st0, st1) : undefined)
  out.text = dropped !== text ? squash(dropped) : text
  out.code = code
  out.statusStart = st0
  out.statusEnd = st1
  out.textStart = out.textEnd = 0
  return true
}

const CODE_STRINGS: string[] = []
for (let c = 0; c < 600; c++) CODE_STRINGS.push(String(c))

/** `input[ts, te)` holds `needle`. */
function holds(input: string, ts: number, te: number, needle: string): boolean {
  const at = input.indexOf(needle, ts)
  return at >= 0 && at + needle.length <= te
}

/**
 * Whether the general path would remove repeats of the code from `input[ts, te)`: it looks for them
 * only when the text holds the code and also the status (or `code-` when there is no status).
 */
function repeatsCode(input: string, ts: number, te: number, code: number, st0: number, st1: number): boolean {
  if (!holds(input, ts, te, CODE_STRINGS[code] as string)) return false
  return holds(input, ts, te, st1 > st0 ? input.slice(st0, st1) : `${code}-`)
}
