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
  messageId?: string
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
function headerOnlyInput(raw: Uint8Array | string): Uint8Array | string | undefined {
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
    const c = l.charCodeAt(0)
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
    text,
    parts,
  }
  if (email.messageId) mail.messageId = email.messageId
  return mail
}

/** A crude, linear HTML-to-text for notices sent as HTML only. */
export function htmlToText(html: string): string {
  const s = html.length > MAX_PART_TEXT ? html.slice(0, MAX_PART_TEXT) : html
  return s
    .replace(/<(?:style|script)[^>]{0,200}>[^<]{0,100000}<\/(?:style|script)>/gi, ' ')
    .replace(/<br[^>]{0,50}>|<\/(?:p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]{0,2000}>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
}
