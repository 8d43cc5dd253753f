/**
 * The MIME layer: postal-mime 4 turns the raw message into headers, the text body and the parts
 * (delivery-status, feedback-report, the quoted original). It decodes quoted-printable, base64
 * and every charset Node's TextDecoder knows (with full ICU: ISO-2022-JP, Shift_JIS, GB2312,
 * KOI8-R, ...). This file only adapts its output; it never throws.
 */
import { Buffer } from 'node:buffer'
import PostalMime from 'postal-mime'
import { readMailFast } from './fast-mime.js'

/** One MIME part the bounce parser cares about, its content decoded to text (bounded). */
export interface MailPart {
  mimeType: string
  text: string
}

/** What the parser needs from a message. */
export interface ParsedMail {
  /** Header fields, names lower-cased, first occurrence kept; values unfolded. */
  headers: Map<string, string>
  subject: string
  from: string
  fromName: string
  /** Always present (`undefined` when the message has none): every ParsedMail has one hidden class. */
  messageId: string | undefined
  /** text/plain body (or text/html converted to text by postal-mime). */
  text: string
  parts: MailPart[]
}

/** Part types read as text, by both MIME paths; any other attachment is skipped unread. */
export const TEXT_PARTS = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/feedback-report',
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
  'message/partial',
  'text/plain',
  'message/disposition-notification',
])

/** Most bytes of one part decoded as text. */
const MAX_PART_TEXT = 262_144

const utf8 = new TextDecoder('utf-8', { fatal: false })

function partText(content: unknown): string {
  if (typeof content === 'string') return content.length > MAX_PART_TEXT ? content.slice(0, MAX_PART_TEXT) : content
  if (content instanceof ArrayBuffer) {
    const view = new Uint8Array(content, 0, Math.min(content.byteLength, MAX_PART_TEXT))
    return utf8.decode(view)
  }
  if (ArrayBuffer.isView(content)) {
    const v = content as ArrayBufferView
    return utf8.decode(new Uint8Array(v.buffer, v.byteOffset, Math.min(v.byteLength, MAX_PART_TEXT)))
  }
  return ''
}

/**
 * Read a raw message: the fast path (`readMailFast`) for the common, simple structures, else
 * postal-mime. `undefined` when it cannot be read at all.
 * @param raw - the message
 * @param parser - `auto` (default): fast path first; `postal-mime`: always postal-mime
 */
export async function readMail(raw: Uint8Array | string, parser: 'auto' | 'postal-mime' = 'auto'): Promise<ParsedMail | undefined> {
  if (parser === 'auto') {
    try {
      const fast = readMailFast(raw)
      if (fast) return fast
    } catch {
      // fall through to postal-mime
    }
  }
  return readWithPostalMime(raw)
}

/**
 * The synchronous part of `readMail`: the fast path's result, or `undefined` when the message
 * needs postal-mime (then call `readMail`, which is asynchronous).
 * @param raw - the message
 * @param parser - as for `readMail`
 */
export function readMailSync(raw: Uint8Array | string, parser: 'auto' | 'postal-mime' = 'auto'): ParsedMail | undefined {
  if (parser !== 'auto') return undefined
  try {
    return readMailFast(raw)
  } catch {
    return undefined
  }
}

/** One parameter of a plain Content-Type value: a token name, `=`, a quoted string or a token. */
const PLAIN_PARAM = /^([A-Za-z0-9-]{1,40})=(?:"([^"]{0,200})"|([A-Za-z0-9._/+=:-]{1,200}))$/
const MULTIPART_TYPE = /^multipart\/[A-Za-z0-9.+-]{1,40}$/i

/**
 * The header section alone (through its blank line) of a multipart message whose boundary no line
 * of the body uses (the MTA wrote a different one): postal-mime finds no part in such a message and
 * gives the same result for the header section alone, without decoding the body into blobs (about
 * ten times faster). Only for a single, plainly written Content-Type (no comments, escapes or
 * RFC 2231 values) whose boundary any reader takes the same; `undefined` otherwise.
 */
export function headerOnlyInput(raw: Uint8Array | string): Uint8Array | string | undefined {
  const s = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1')
  // the header section ends at the first line that is empty or all CR (as postal-mime reads lines)
  let end = -1
  for (let pos = 0; pos < s.length && pos < 262_144; ) {
    const nl = s.indexOf('\n', pos)
    if (nl === -1) break
    let blank = true
    for (let i = pos; i < nl; i++) {
      if (s.charCodeAt(i) !== 13) {
        blank = false
        break
      }
    }
    if (blank) {
      end = nl + 1
      break
    }
    pos = nl + 1
  }
  if (end <= 0) return undefined
  const head = s.slice(0, end)
  let value: string | undefined
  let inType = false
  for (const line of head.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line
    // (no read past the end of an empty line: one there deoptimizes the optimized code)
    const c = l.length > 0 ? l.charCodeAt(0) : -1
    if (c === 32 || c === 9) {
      if (inType) value += l
      continue
    }
    inType = false
    const colon = l.indexOf(':')
    const name = (colon === -1 ? l : l.slice(0, colon)).trim().toLowerCase()
    if (name !== 'content-type') continue
    if (value !== undefined || l.slice(0, colon).toLowerCase() !== 'content-type') return undefined
    value = l.slice(colon + 1)
    inType = true
  }
  if (value === undefined || /[()\\\r]/.test(value)) return undefined
  const pieces = value.split(';')
  if (!MULTIPART_TYPE.test(pieces[0]!.trim())) return undefined
  let boundary: string | undefined
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i]!.trim()
    if (piece === '' && i === pieces.length - 1) break
    const m = PLAIN_PARAM.exec(piece)
    if (!m) return undefined
    if (m[1]!.toLowerCase() !== 'boundary') continue
    if (boundary !== undefined) return undefined
    boundary = m[2] ?? m[3]!
  }
  if (!boundary || s.includes(`--${boundary}`)) return undefined
  return typeof raw === 'string' ? head : raw.subarray(0, end)
}

/** Parse a raw message with postal-mime; `undefined` when it cannot be read at all. */
export async function readWithPostalMime(raw: Uint8Array | string): Promise<ParsedMail | undefined> {
  let email: Awaited<ReturnType<typeof PostalMime.parse>>
  try {
    raw = headerOnlyInput(raw) ?? raw
    const input =
      typeof raw === 'string'
        ? raw
        : raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength
          ? raw.buffer
          : new Uint8Array(raw).buffer
    email = await PostalMime.parse(input as ArrayBuffer | string, {
      forceRfc822Attachments: true,
      attachmentEncoding: 'arraybuffer',
      maxNestingDepth: 32,
    })
  } catch {
    return undefined
  }
  const headers = new Map<string, string>()
  for (const h of email.headers ?? []) {
    const k = h.key.toLowerCase()
    if (!headers.has(k)) headers.set(k, h.value)
  }
  const parts: MailPart[] = []
  for (const a of email.attachments ?? []) {
    const t = (a.mimeType || '').toLowerCase()
    if (!TEXT_PARTS.has(t)) continue
    parts.push({ mimeType: t, text: partText(a.content) })
  }
  let text = email.text ?? ''
  if (!text.trim() && email.html) text = htmlToText(email.html)
  const mail: ParsedMail = {
    headers,
    subject: email.subject ?? '',
    from: (email.from?.address ?? '').toLowerCase(),
    fromName: email.from?.name ?? '',
    messageId: email.messageId || undefined,
    text,
    parts,
  }
  return mail
}

/** ASCII letter at `i` of `s`, lower-cased (other characters as they are). */
function lowerAt(s: string, i: number): number {
  const c = s.charCodeAt(i)
  return c >= 65 && c <= 90 ? c + 32 : c
}

/** Whether `s` holds the lower-case ASCII word `word` at `i`, in any case. */
function wordAt(s: string, i: number, word: string): boolean {
  if (i + word.length > s.length) return false
  for (let k = 0; k < word.length; k++) if (lowerAt(s, i + k) !== word.charCodeAt(k)) return false
  return true
}

/** Where the closing `</style>` or `</script>` at `i` ends, or -1. */
function closingScriptEnd(s: string, i: number): number {
  if (s.charCodeAt(i) !== 60 || s.charCodeAt(i + 1) !== 47) return -1
  const name = wordAt(s, i + 2, 'style') ? 5 : wordAt(s, i + 2, 'script') ? 6 : 0
  return name > 0 && s.charCodeAt(i + 2 + name) === 62 ? i + 3 + name : -1
}

/**
 * `<style ...>text</style>` and `<script ...>text</script>` blocks (the text without `<`) to one
 * space: the leftmost-first matches of `/<(?:style|script)[^>]{0,200}>[^<]{0,100000}<\/(?:style|script)>/gi`.
 */
function dropScripts(s: string): string {
  let out = ''
  let last = 0
  let i = s.indexOf('<')
  while (i !== -1) {
    const name = wordAt(s, i + 1, 'style') ? 5 : wordAt(s, i + 1, 'script') ? 6 : 0
    let end = -1
    if (name > 0) {
      const gt = s.indexOf('>', i + 1 + name)
      if (gt !== -1 && gt - (i + 1 + name) <= 200) {
        const lt = s.indexOf('<', gt + 1)
        if (lt !== -1 && lt - (gt + 1) <= 100_000) end = closingScriptEnd(s, lt)
      }
    }
    if (end === -1) {
      i = s.indexOf('<', i + 1)
      continue
    }
    out += `${s.slice(last, i)} `
    last = end
    i = s.indexOf('<', end)
  }
  return last === 0 ? s : out + s.slice(last)
}

/** Where a `<br ...>` (at most 50 characters inside) or `</p>`, `</div>`, `</tr>`, `</li>`, `</hN>` at `i` ends, or -1. */
function lineBreakTagEnd(s: string, i: number): number {
  const c1 = lowerAt(s, i + 1)
  if (c1 === 98 && lowerAt(s, i + 2) === 114) {
    // <br[^>]{0,50}>
    const gt = s.indexOf('>', i + 3)
    return gt !== -1 && gt - (i + 3) <= 50 ? gt + 1 : -1
  }
  if (c1 !== 47) return -1
  const a = lowerAt(s, i + 2)
  let at = -1
  if (a === 112)
    at = i + 3 // p
  else if (a === 100 && lowerAt(s, i + 3) === 105 && lowerAt(s, i + 4) === 118)
    at = i + 5 // div
  else if (a === 116 && lowerAt(s, i + 3) === 114)
    at = i + 4 // tr
  else if (a === 108 && lowerAt(s, i + 3) === 105)
    at = i + 4 // li
  else if (a === 104) {
    const d = s.charCodeAt(i + 3)
    if (d >= 48 && d <= 57) at = i + 4 // hN
  }
  return at !== -1 && s.charCodeAt(at) === 62 ? at + 1 : -1
}

/** Line-ending tags to a line feed: the matches of `/<br[^>]{0,50}>|<\/(?:p|div|tr|li|h\d)>/gi`. */
function breakLines(s: string): string {
  let out = ''
  let last = 0
  let i = s.indexOf('<')
  while (i !== -1) {
    const end = lineBreakTagEnd(s, i)
    if (end === -1) {
      i = s.indexOf('<', i + 1)
      continue
    }
    out += `${s.slice(last, i)}\n`
    last = end
    i = s.indexOf('<', end)
  }
  return last === 0 ? s : out + s.slice(last)
}

/** Every tag removed: the matches of `/<[^>]{0,2000}>/g` (a `<` whose first `>` is further away stays). */
function dropTags(s: string): string {
  let out = ''
  let last = 0
  let gt = -1
  let i = s.indexOf('<')
  while (i !== -1) {
    // the first '>' after this '<' (kept while it lies ahead: linear even with many '<')
    if (gt < i) {
      gt = s.indexOf('>', i + 1)
      if (gt === -1) break
    }
    if (gt - i - 1 <= 2000) {
      out += s.slice(last, i)
      last = gt + 1
      i = s.indexOf('<', last)
    } else {
      i = s.indexOf('<', i + 1)
    }
  }
  return last === 0 ? s : out + s.slice(last)
}

const ENTITIES: Readonly<Record<string, string>> = { '&nbsp;': ' ', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' }
const ENTITY_RE = /&(?:nbsp|lt|gt|quot|#39|amp);/g

/**
 * A crude, linear HTML-to-text for notices sent as HTML only: style and script blocks dropped, line
 * breaks for `<br>` and closing block tags, other tags removed, the common entities decoded. Each
 * step is a scan from `<` to `<` (the regular expression it stands for is in its comment).
 */
export function htmlToText(html: string): string {
  const s = html.length > MAX_PART_TEXT ? html.slice(0, MAX_PART_TEXT) : html
  const text = dropTags(breakLines(dropScripts(s)))
  // one pass for the entities: no replacement makes a new one (`&amp;lt;` gives `&lt;`)
  return text.includes('&') ? text.replace(ENTITY_RE, (e) => ENTITIES[e] ?? e) : text
}
