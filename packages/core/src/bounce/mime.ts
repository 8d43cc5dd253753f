/**
 * The MIME layer: postal-mime 4 turns the raw message into headers, the text body and the parts
 * (delivery-status, feedback-report, the quoted original). It decodes quoted-printable, base64
 * and every charset Node's TextDecoder knows (with full ICU: ISO-2022-JP, Shift_JIS, GB2312,
 * KOI8-R, ...). This file only adapts its output; it never throws.
 */
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

/** Part types read as text; any other attachment is skipped unread. */
const TEXT_PARTS = new Set([
  'message/delivery-status', 'message/global-delivery-status', 'message/feedback-report',
  'message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers',
  'message/partial', 'text/plain', 'message/disposition-notification',
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

/** Parse a raw message with postal-mime; `undefined` when it cannot be read at all. */
export async function readWithPostalMime(raw: Uint8Array | string): Promise<ParsedMail | undefined> {
  let email: Awaited<ReturnType<typeof PostalMime.parse>>
  try {
    const input = typeof raw === 'string' ? raw : raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw.buffer : new Uint8Array(raw).buffer
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
