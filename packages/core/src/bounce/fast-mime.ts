/**
 * The fast path of the MIME layer. Bounces are small, well-formed and mostly text: for them the
 * structure (header block, multipart boundaries) is found with `indexOf`, and only the parts the
 * parser reads (text bodies, delivery-status, feedback-report, the quoted original's headers) are
 * decoded; images, archives and other attachments are skipped without being decoded. Transfer
 * encodings: 7bit, 8bit, binary, base64 (Node's decoder) and quoted-printable; charsets through
 * `TextDecoder` (full ICU); encoded words in headers through postal-mime's `decodeWords`.
 *
 * It returns `undefined` for anything it does not handle (a multipart without a usable boundary,
 * an unknown transfer encoding such as uuencode, too deep a nesting); `readMail` then hands the
 * whole message to postal-mime, which stays the parser for everything unusual.
 *
 * Linear in the input: every scan is an `indexOf` loop or a bounded regular expression.
 */
import { Buffer, isAscii } from 'node:buffer'
import { TextDecoder } from 'node:util'
import { decodeWords } from 'postal-mime'
import { isBlank } from './fields.js'
import { headerOnlyInput, htmlToText, type MailPart, type ParsedMail, TEXT_PARTS } from './mime.js'

/** Most bytes of one part decoded as text (same bound as the postal-mime path). */
const MAX_PART_TEXT = 262_144
/** Deepest multipart nesting followed. */
const MAX_DEPTH = 32
/** Most leaf parts looked at. */
const MAX_PARTS = 512

interface Header {
  /** First occurrence of each field, names lower-cased, values unfolded. */
  map: Map<string, string>
}

const decoders = new Map<string, TextDecoder | null>()

function decoderFor(charset: string): TextDecoder {
  let d = decoders.get(charset)
  if (d === undefined) {
    try {
      d = new TextDecoder(charset, { fatal: false })
    } catch {
      d = null
    }
    if (decoders.size < 256) decoders.set(charset, d)
  }
  return d ?? utf8
}

const utf8 = new TextDecoder('utf-8', { fatal: false })
/**
 * Whether a latin1 string (one character a byte) holds a byte >= 0x80: exactly when its UTF-8 form
 * is longer than it. Counted natively (`/[\x80-\xff]/.test` scanned about 30 times slower).
 */
function hasHighByte(bin: string): boolean {
  return Buffer.byteLength(bin, 'utf8') !== bin.length
}
/** Charsets whose text is plain ASCII when no byte is >= 0x80. */
const ASCII_COMPATIBLE = /^(?:|us-ascii|ascii|utf-?8|iso-8859-\d{1,2}|windows-125\d|latin-?1|cp125\d)$/

/**
 * True while `readMailFast` reads an input with no byte >= 0x80 (checked once, natively): a raw
 * slice of it then needs no high-byte scan. Decoded base64 / quoted-printable bytes are still scanned.
 */
let asciiInput = false

/** Bytes (as a latin1 string, one char per byte) to text in `charset`; `raw` = a slice of the input as it is. */
function decodeText(bin: string, charset: string, raw = false): string {
  const cs = charset.toLowerCase()
  // (the commonest charsets compared before the pattern is run)
  if (((raw && asciiInput) || !hasHighByte(bin)) && (cs === 'us-ascii' || cs === 'utf-8' || ASCII_COMPATIBLE.test(cs))) return bin
  const bytes = Buffer.from(bin, 'latin1')
  if (cs === '' || cs === 'us-ascii' || cs === 'ascii' || cs === 'utf-8' || cs === 'utf8') return utf8.decode(bytes)
  return decoderFor(cs).decode(bytes)
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

/** Quoted-printable to bytes (latin1 string). Soft line breaks removed; bad escapes kept as-is. */
export function decodeQuotedPrintable(s: string): string {
  if (!s.includes('=')) return s
  let out = ''
  let last = 0
  let i = s.indexOf('=')
  while (i !== -1) {
    out += s.slice(last, i)
    const a = s.charCodeAt(i + 1)
    if (a === 10) {
      last = i + 2
    } else if (a === 13 && s.charCodeAt(i + 2) === 10) {
      last = i + 3
    } else {
      const h = hexValue(a)
      const l = hexValue(s.charCodeAt(i + 2))
      if (h >= 0 && l >= 0) {
        out += String.fromCharCode(h * 16 + l)
        last = i + 3
      } else {
        // "=" followed by spaces then a line end is a soft break too
        let j = i + 1
        while (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 9) j++
        if (s.charCodeAt(j) === 10) last = j + 1
        else {
          out += '='
          last = i + 1
        }
      }
    }
    i = s.indexOf('=', last)
  }
  return out + s.slice(last)
}

/** RFC 3676 format=flowed: a line ending in a space continues on the next one (not the "-- " signature). */
function unflow(text: string, delsp: boolean): string {
  const lines = text.split('\n')
  let out = ''
  let current = ''
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!
    // (no read past the end of an empty line: one there deoptimizes the optimized code)
    if (line.length > 0 && line.charCodeAt(0) === 32) line = line.slice(1)
    if (i > 0) {
      if (current.endsWith(' ') && current !== '-- ') {
        if (delsp) current = current.slice(0, -1)
      } else {
        out += `${current}\n`
        current = ''
      }
    }
    current += line
  }
  return out + current
}

/** Parse a header block (LF line ends) into the first value of each field. */
function parseHeaders(block: string): Header {
  const map = new Map<string, string>()
  let name = ''
  let value = ''
  let pos = 0
  const n = block.length
  let nextColon = block.indexOf(':')
  while (pos < n) {
    let end = block.indexOf('\n', pos)
    if (end === -1) end = n
    const start = pos
    pos = end + 1
    const c = block.charCodeAt(start)
    if (c === 32 || c === 9) {
      if (name) value += ` ${block.slice(start, end).trim()}`
      continue
    }
    if (name) map.set(name, value.trim())
    name = ''
    // the first colon of the line, within its first 77 characters (searched natively; a colon
    // found past this line is kept for the lines up to it, so the search stays linear)
    if (nextColon !== -1 && nextColon < start) nextColon = block.indexOf(':', start)
    const colon = nextColon !== -1 && nextColon < end && nextColon - start <= 76 ? nextColon : -1
    if (colon <= start) continue
    // the name trimmed and lower-cased; trimming is a no-op unless it starts or ends with a
    // character that may be white space (toLowerCase returns an all-lower-case name as it is)
    const last = block.charCodeAt(colon - 1)
    const key =
      c <= 32 || c >= 127 || last <= 32 || last >= 127
        ? block.slice(start, colon).trim().toLowerCase()
        : block.slice(start, colon).toLowerCase()
    // the first occurrence is kept: a repeated field (Received, ...) and its folded lines are skipped unread
    if (key.includes(' ') || map.has(key)) continue
    name = key
    value = block.slice(colon + 1, end)
  }
  if (name) map.set(name, value.trim())
  return { map }
}

/** The parameters of a value that has none (shared, never written). */
const NO_PARAMS: ReadonlyMap<string, string> = new Map()
/** One `; name=value` parameter (bounded pieces). */
const PARAM_RE = /;\s{0,20}([A-Za-z0-9*_.-]{1,80})\s{0,20}=\s{0,20}(?:"([^"]{0,1000})"|([^;\s]{0,1000}))/g

/** The `type/subtype` (or disposition) of a MIME header value, lower-cased, without its parameters. */
function mainValue(value: string | undefined): string {
  if (!value) return ''
  const semi = value.indexOf(';')
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
}

/** `type/subtype` and the parameters a MIME header value carries (lower-case names). */
function parseStructured(value: string | undefined): { value: string; params: ReadonlyMap<string, string> } {
  if (!value) return { value: '', params: NO_PARAMS }
  const semi = value.indexOf(';')
  const main = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
  if (semi === -1) return { value: main, params: NO_PARAMS }
  const params = new Map<string, string>()
  const re = PARAM_RE
  re.lastIndex = 0
  const rest = value.slice(semi)
  let m: RegExpExecArray | null
  while ((m = re.exec(rest)) !== null) {
    let k = m[1]!.toLowerCase()
    let v = m[2] ?? m[3] ?? ''
    if (k.endsWith('*')) {
      // RFC 2231 extended value: charset'lang'percent-encoded
      k = k.slice(0, -1)
      const q = v.indexOf("'")
      const q2 = q >= 0 ? v.indexOf("'", q + 1) : -1
      if (q2 > q) {
        try {
          v = decodeURIComponent(v.slice(q2 + 1))
        } catch {
          v = v.slice(q2 + 1)
        }
      }
    }
    if (!params.has(k)) params.set(k, v)
  }
  return { value: main, params }
}

/** Split at the first empty line: [header block, body]. Input has LF line ends. */
function splitEntity(s: string): [string, string] {
  // (reads stay within the string: a read past the end deoptimizes the optimized code once)
  if (s.length > 0 && s.charCodeAt(0) === 10) return ['', s.slice(1)]
  const i = s.indexOf('\n\n')
  if (i === -1) return [s, '']
  return [s.slice(0, i), s.slice(i + 2)]
}

interface Collected {
  plain: string[]
  html: string[]
  parts: MailPart[]
  leaves: number
  /** The top-level multipart's body holds no delimiter line (then nothing was collected). */
  noDelimiter: boolean
}

/** Decode a leaf body to text per its transfer encoding and charset; undefined = not handled. */
function leafText(body: string, cte: string, charset: string): string | undefined {
  let bin: string
  let raw = false
  if (cte === '' || cte === '7bit' || cte === '8bit' || cte === 'binary') {
    bin = body.length > MAX_PART_TEXT ? body.slice(0, MAX_PART_TEXT) : body
    raw = true
  } else if (cte === 'base64') {
    const cut = body.length > MAX_PART_TEXT * 2 ? body.slice(0, MAX_PART_TEXT * 2) : body
    bin = Buffer.from(cut, 'base64').toString('latin1')
  } else if (cte === 'quoted-printable') {
    bin = decodeQuotedPrintable(body.length > MAX_PART_TEXT * 3 ? body.slice(0, MAX_PART_TEXT * 3) : body)
  } else {
    return undefined
  }
  if (bin.length > MAX_PART_TEXT) bin = bin.slice(0, MAX_PART_TEXT)
  return decodeText(bin, charset, raw)
}

/** Walk one entity; false = something this fast path does not handle. */
function walk(headers: Map<string, string>, body: string, depth: number, out: Collected, defaultType: string): boolean {
  if (depth > MAX_DEPTH) return false
  const ct = parseStructured(headers.get('content-type'))
  const type = ct.value.includes('/') ? ct.value : defaultType
  if (type.startsWith('multipart/')) {
    const boundary = ct.params.get('boundary')
    if (!boundary) return false
    const delim = `--${boundary}`
    // delimiter lines: at the start of the body or after a line feed (the pattern built once)
    const lineDelim = `\n${delim}`
    let start = body.startsWith(delim) ? 0 : body.indexOf(lineDelim)
    if (start === -1) {
      if (depth === 0) out.noDelimiter = true
      return false
    }
    if (start > 0) start += 1
    const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain'
    for (;;) {
      const lineEnd = body.indexOf('\n', start)
      // closing delimiter (both characters within the body: no read past its end)
      const after = start + delim.length
      if (after + 1 < body.length && body.charCodeAt(after) === 45 && body.charCodeAt(after + 1) === 45) return true
      if (lineEnd === -1) return true
      let next = body.indexOf(lineDelim, lineEnd)
      const partEnd = next === -1 ? body.length : next
      if (++out.leaves > MAX_PARTS) return true
      const [h, b] = splitEntity(body.slice(lineEnd + 1, partEnd))
      if (!walk(parseHeaders(h).map, b, depth + 1, out, childDefault)) return false
      if (next === -1) return true
      next += 1
      start = next
    }
  }
  const disposition = mainValue(headers.get('content-disposition'))
  const cte = (headers.get('content-transfer-encoding') ?? '').trim().toLowerCase()
  const charset = ct.params.get('charset') ?? ''
  const inline = disposition !== 'attachment'
  if (inline && (type === 'text/plain' || type === 'text/html')) {
    let t = leafText(body, cte, charset)
    if (t === undefined) return false
    const format = ct.params.get('format')
    if (type === 'text/plain' && format !== undefined && format.toLowerCase() === 'flowed')
      t = unflow(t, (ct.params.get('delsp') ?? '').toLowerCase() === 'yes')
    ;(type === 'text/plain' ? out.plain : out.html).push(t)
    return true
  }
  if (!TEXT_PARTS.has(type)) return true
  if (type === 'message/rfc822' || type === 'message/global') {
    // the quoted original: kept as raw text (only its headers are read); transfer-encoded
    // originals are decoded like any leaf
    const t =
      cte === '' || cte === '7bit' || cte === '8bit' || cte === 'binary'
        ? decodeText(body.length > MAX_PART_TEXT ? body.slice(0, MAX_PART_TEXT) : body, 'utf-8', true)
        : leafText(body, cte, 'utf-8')
    if (t === undefined) return false
    out.parts.push({ mimeType: type, text: t })
    return true
  }
  const t = leafText(body, cte, charset || 'utf-8')
  if (t === undefined) return false
  out.parts.push({ mimeType: type, text: t })
  return true
}

/** `Name <addr>` / `addr (Name)` / `addr`: the address and the display name. */
function parseFrom(value: string | undefined): { address: string; name: string } {
  if (!value) return { address: '', name: '' }
  const v = value.includes('=?') ? decodeWords(value) : value
  const lt = v.lastIndexOf('<')
  const gt = lt >= 0 ? v.indexOf('>', lt) : -1
  if (lt >= 0 && gt > lt) {
    const name = v.slice(0, lt).trim().replace(/^"|"$/g, '').trim()
    return { address: v.slice(lt + 1, gt).trim(), name }
  }
  const paren = v.indexOf('(')
  const addr = (paren >= 0 ? v.slice(0, paren) : v).trim()
  const name = paren >= 0 ? v.slice(paren + 1, v.lastIndexOf(')') > paren ? v.lastIndexOf(')') : v.length).trim() : ''
  const first = addr.split(/[\s,;]/)[0] ?? ''
  return { address: first.replace(/^["']|["']$/g, ''), name }
}

/**
 * Read a message without postal-mime when its structure is simple enough; `undefined` otherwise.
 * @param input - the raw message (bytes or string), line ends LF or CRLF (bare CR converted before)
 */
export function readMailFast(input: Uint8Array | string): ParsedMail | undefined {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  const s = bytes.toString('latin1')
  asciiInput = isAscii(bytes)
  try {
    // split/join: faster than a global replace, and join gives a flat string (replaceAll's result
    // is a rope that the first charCodeAt would copy again)
    return readLatin1(s.includes('\r') ? s.split('\r\n').join('\n') : s, input)
  } finally {
    asciiInput = false
  }
}

function readLatin1(s: string, input: Uint8Array | string): ParsedMail | undefined {
  const [headBlock, body] = splitEntity(s)
  if (headBlock.length === 0) return undefined
  const head = parseHeaders(!asciiInput && hasHighByte(headBlock) ? utf8.decode(Buffer.from(headBlock, 'latin1')) : headBlock).map
  if (head.size === 0) return undefined
  const out: Collected = { plain: [], html: [], parts: [], leaves: 0, noDelimiter: false }
  if (!walk(head, body, 0, out, 'text/plain')) {
    // A multipart whose boundary no line of the body uses: postal-mime reads such a message as its
    // header section alone (no text, no parts) when `headerOnlyInput` says so; the same here
    if (!out.noDelimiter || headerOnlyInput(input) === undefined) return undefined
  }
  let text = out.plain.join('\n')
  if (out.html.length > 0 && isBlank(text)) text = htmlToText(out.html.join('\n'))
  const subjectRaw = head.get('subject') ?? ''
  const from = parseFrom(head.get('from'))
  const mail: ParsedMail = {
    headers: head,
    subject: subjectRaw.includes('=?') ? decodeWords(subjectRaw) : subjectRaw,
    from: from.address.toLowerCase(),
    fromName: from.name,
    // always present (one hidden class for every ParsedMail)
    messageId: head.get('message-id') || undefined,
    text,
    parts: out.parts,
  }
  return mail
}
