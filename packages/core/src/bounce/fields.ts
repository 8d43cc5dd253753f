/**
 * Reading `Name: value` field blocks: RFC 3464 delivery-status bodies, RFC 5965 feedback reports
 * and header sections quoted inside notices. Linear in the input; no regular expression here can
 * backtrack.
 */

import { isSpace } from '../reply-text.js'

/** One DSN recipient block (or the per-message block), field names lower-cased. */
export type FieldBlock = Map<string, string>

const LINE_SPLIT = /\r\n|\r|\n/

/** Split on LF, CRLF or bare CR. */
export function splitLines(text: string): string[] {
  // the MIME layer hands over LF-only text: a plain string split is several times faster than the regex
  return text.includes('\r') ? text.split(LINE_SPLIT) : text.split('\n')
}

/** `Name: value` at the start of a line: the name has no spaces. Returns [name, value] or undefined. */
export function fieldOf(line: string): [string, string] | undefined {
  const colon = fieldColon(line)
  if (colon === -1) return undefined
  return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
}

/** Where the colon of a `Name: value` line is (see `fieldOf`), or -1. */
function fieldColon(line: string): number {
  const colon = line.indexOf(':')
  if (colon <= 0 || colon > 60) return -1
  for (let i = 0; i < colon; i++) {
    const c = line.charCodeAt(i)
    // letters, digits, '-', '_', '.'
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 46
    if (!ok) return -1
  }
  return colon
}

/**
 * Parse a delivery-status body into the per-message block and the per-recipient blocks. Tolerates
 * missing blank lines (a new `Final-Recipient` or `Original-Recipient` starts a new block) and
 * folded values.
 */
export function parseDeliveryStatus(text: string): { message: FieldBlock; recipients: FieldBlock[] } {
  const message: FieldBlock = new Map()
  const recipients: FieldBlock[] = []
  let current: FieldBlock = message
  let lastName = ''
  let sawBlank = false
  /** The field that opened the current recipient block when it was not a recipient field. */
  let openedBy = ''
  // lines walked by index (LF, CRLF or bare CR, as splitLines cuts them), no array of lines
  const len = text.length
  let pos = 0
  let cr = text.indexOf('\r')
  let lf = text.indexOf('\n')
  let more = true
  while (more) {
    if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos)
    if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos)
    let end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
    const start = pos
    if (end === -1) {
      end = len
      more = false
    } else {
      pos = end === cr && lf === end + 1 ? end + 2 : end + 1
    }
    if (blankAt(text, start, end)) {
      sawBlank = true
      continue
    }
    const first = text.charCodeAt(start)
    if ((first === 32 || first === 9) && lastName) {
      // folded continuation
      current.set(lastName, `${current.get(lastName) ?? ''} ${text.slice(start, end).trim()}`)
      continue
    }
    const colon = fieldColonAt(text, start, end)
    if (colon === -1) {
      lastName = ''
      continue
    }
    const name = text.slice(start, colon).toLowerCase()
    const value = text.slice(colon + 1, end).trim()
    const startsRecipient = name === 'final-recipient' || name === 'original-recipient' || name === 'x-actual-recipient'
    if (startsRecipient) {
      const inRecipient = current !== message
      // a field that opened the block (before its recipient) does not complete it
      const complete =
        namesRecipient(current) &&
        ((current.has('action') && openedBy !== 'action') ||
          (current.has('status') && openedBy !== 'status') ||
          current.has('diagnostic-code'))
      if (!inRecipient || current.has(name) || complete) {
        current = new Map()
        recipients.push(current)
        openedBy = ''
      }
    } else if (
      sawBlank &&
      PER_RECIPIENT_FIRST.has(name) &&
      (current === message ? message.size > 0 : current.has(name) && namesRecipient(current))
    ) {
      // a blank line ends a block: a recipient block may open with another field than the
      // recipient's (Exim's delay warnings and Amazon SES write `Action:` before `Final-Recipient:`)
      current = new Map()
      recipients.push(current)
      openedBy = name
    } else if (current !== message && sawBlank && !current.has(name) && (name === 'reporting-mta' || name === 'arrival-date')) {
      // a second per-message block (some MTAs repeat it); keep the first values
      current = message
    }
    sawBlank = false
    if (!current.has(name)) current.set(name, value)
    else if (name === 'diagnostic-code') current.set(name, `${current.get(name) ?? ''} ${value}`)
    lastName = name
  }
  return { message, recipients }
}

/** Per-recipient fields that may open a recipient block before its `Final-Recipient`. */
const PER_RECIPIENT_FIRST = new Set(['action', 'status'])

/** True when a field block names its recipient. */
function namesRecipient(block: FieldBlock): boolean {
  return block.has('final-recipient') || block.has('original-recipient') || block.has('x-actual-recipient')
}

/** Remove an RFC 3464 type prefix (`rfc822;`, `dns;`, `smtp;`) from a value. */
export function stripType(value: string): string {
  const semi = value.indexOf(';')
  if (semi > 0 && semi < 24 && !value.slice(0, semi).includes(' ') && !value.slice(0, semi).includes('@')) {
    return value.slice(semi + 1).trim()
  }
  return value.trim()
}

/** An address from a field value: drops the type, angle brackets, quotes and trailing junk. */
export function cleanAddress(value: string): string {
  let v = stripType(value)
  const lt = v.indexOf('<')
  if (lt >= 0) {
    const gt = v.indexOf('>', lt)
    v = gt > lt ? v.slice(lt + 1, gt) : v.slice(lt + 1)
  }
  v = v.trim()
  // up to the first white space, ',' or ';' (`v.search(/[\s,;]/)`), unless that is the first character
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c === 44 || c === 59 || isSpace(c)) {
      if (i > 0) v = v.slice(0, i)
      break
    }
  }
  if (v.startsWith('"') && v.endsWith('"') && v.length > 1) v = v.slice(1, -1)
  // `v.replace(/^[<('"]+|[>)'".:]+$/g, '')`: the leading run, then the trailing run after it
  let start = 0
  // a quoted local part (`"a@b"@relay.example`, Postfix's final recipient of a pipe transport)
  // keeps its opening quote: it belongs to the address
  const quotedLocal = v.charCodeAt(0) === 34 && v.indexOf('"@', 1) > 0
  if (!quotedLocal) while (start < v.length && OPENERS.includes(v[start]!)) start++
  let end = v.length
  while (end > start && CLOSERS.includes(v[end - 1]!)) end--
  return start === 0 && end === v.length ? v : v.slice(start, end)
}

/** Characters `cleanAddress` drops before an address, and after it. */
const OPENERS = `<('"`
const CLOSERS = `>)'".:`

/** Most characters before the colon of a field name (see `fieldOf`). */
const MAX_NAME = 60

/** ASCII code to 1 for a character of a field name (letters, digits, '-', '_', '.'), 2 for the colon. */
const NAME_CHAR: Uint8Array = (() => {
  const t = new Uint8Array(128)
  for (let c = 0; c < 128; c++) {
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 46) t[c] = 1
  }
  t[58] = 2
  return t
})()

/** Where the colon of a `Name: value` line that starts at `start` is (the same test as `fieldColon`), or -1. */
function fieldColonAt(text: string, start: number, end: number): number {
  const stop = Math.min(end, start + MAX_NAME + 1)
  for (let i = start; i < stop; i++) {
    const c = text.charCodeAt(i)
    const kind = c < 128 ? NAME_CHAR[c] : 0
    if (kind !== 1) return kind === 2 && i > start ? i : -1
  }
  return -1
}

/**
 * Whether a colon stands at `start + n` for some length `n` in the bit set `lengths`: the line at
 * `start` may be a field whose name has one of those lengths (a quick test; `fieldColonAt` decides).
 */
function colonAfterLength(text: string, start: number, lengths: number): boolean {
  for (let m = lengths; m !== 0; m &= m - 1) {
    // the lowest bit set; no read past the end (one there deoptimizes the optimized code)
    const at = start + 31 - Math.clz32(m & -m)
    if (at < text.length && text.charCodeAt(at) === 58) return true
  }
  return false
}

/** Whether `text[start, end)` is empty or white space only (as `String.prototype.trim` sees it). */
function blankAt(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13)) continue
    // other white space is non-ASCII: let trim() decide
    return c < 128 ? false : text.slice(start, end).trim() === ''
  }
  return true
}

/** Whether `text` is empty or white space only: `text.trim() === ''` without making the trimmed copy. */
export function isBlank(text: string): boolean {
  return blankAt(text, 0, text.length)
}

/** Stands for `last` when the field is not one of `only` (names never hold a space). */
const SKIPPED = ' '

/** Parse a simple header section (`Name: value` lines with folding) until the first blank line. */
export function parseHeaderSection(text: string, maxLines = 400, only?: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>()
  let last = ''
  let n = 0
  // `only`: the values (and names) of other fields are not built (the section still ends at the
  // same line); a name whose length no wanted name has is skipped without being cut out
  let lengths = 0
  if (only !== undefined) for (const name of only) if (name.length < 31) lengths |= 1 << name.length
  let seen = false
  // lines are walked one at a time by index (the section is usually a small head of a large quoted
  // message): the same lines as splitLines (LF, CRLF or bare CR), without cutting out each line
  const len = text.length
  let pos = 0
  let cr = text.indexOf('\r')
  let lf = text.indexOf('\n')
  let more = true
  while (more) {
    if (++n > maxLines) break
    if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos)
    if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos)
    let end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
    const start = pos
    if (end === -1) {
      end = len
      more = false
    } else {
      pos = end === cr && lf === end + 1 ? end + 2 : end + 1
    }
    if (blankAt(text, start, end)) {
      if (seen) break
      continue
    }
    const c = text.charCodeAt(start)
    if ((c === 32 || c === 9) && last) {
      if (last !== SKIPPED) out.set(last, `${out.get(last) ?? ''} ${text.slice(start, end).trim()}`)
      continue
    }
    // once a field was seen, a line that cannot be one of `only` is skipped without reading its name
    // (a line that is no field at all then counts as a skipped one: both ignore the lines folded under them)
    if (seen && only !== undefined && !colonAfterLength(text, start, lengths)) {
      last = SKIPPED
      continue
    }
    const colon = fieldColonAt(text, start, end)
    if (colon === -1) {
      last = ''
      continue
    }
    seen = true
    if (only !== undefined) {
      const nameLength = colon - start
      if (nameLength > 30 || (lengths & (1 << nameLength)) === 0) {
        last = SKIPPED
        continue
      }
    }
    const name = text.slice(start, colon).toLowerCase()
    if (only !== undefined && !only.has(name)) {
      last = SKIPPED
      continue
    }
    if (!out.has(name)) out.set(name, text.slice(colon + 1, end).trim())
    last = name
  }
  return out
}

/**
 * Digits in `s` from `i`, at most 4 counted (enough to tell a run of 1 to 3 from a longer one): the
 * enhanced-status scans here and in `smtp-reply.ts`.
 */
export function digitRun(s: string, i: number): number {
  // (no read past the end: one there deoptimized the optimized code)
  const stop = Math.min(i + 4, s.length)
  let n = 0
  while (i + n < stop) {
    const c = s.charCodeAt(i + n)
    if (!(c >= 48 && c <= 57)) break
    n++
  }
  return n
}

/**
 * The first `c.d.d` status in `text` (class digit 4 or 5, or also 2 with `success`), each number of
 * at most three digits, not inside a longer number or dotted sequence: the first match of
 * `/(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d])/`, found from each dot.
 */
export function firstStatus(text: string, success: boolean): string | undefined {
  let dot = text.indexOf('.', 1)
  while (dot !== -1) {
    const c = text.charCodeAt(dot - 1)
    const before = dot >= 2 ? text.charCodeAt(dot - 2) : -1
    if ((c === 52 || c === 53 || (success && c === 50)) && !(before >= 48 && before <= 57) && before !== 46) {
      const a = digitRun(text, dot + 1)
      if (a >= 1 && a <= 3 && dot + 1 + a < text.length && text.charCodeAt(dot + 1 + a) === 46) {
        const b = digitRun(text, dot + 2 + a)
        if (b >= 1 && b <= 3) return text.slice(dot - 1, dot + 2 + a + b)
      }
    }
    dot = text.indexOf('.', dot + 1)
  }
  return undefined
}

/** The status code `x.y.z` inside a value, or undefined. */
export function statusOf(value: string | undefined): string | undefined {
  if (!value) return undefined
  return firstStatus(value, true)
}
