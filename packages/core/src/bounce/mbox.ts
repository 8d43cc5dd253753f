/**
 * UNIX mbox files: many messages, each starting with a `From ` separator line.
 */
import { parseBounceMessage } from './parse.js'
import type { BounceReport, ParseBounceOptions } from './types.js'

/** A full separator line (`From sender Thu Jul  2 12:05:05 2020`): one even without a blank line before it. */
const SEPARATOR =
  /^From [^ \t\r\n]{1,300} {1,2}(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d\d:\d\d:\d\d \d{4}[ \t]*\r?\n?$/

/**
 * Split an mbox into its messages. A message starts at a line beginning with `From ` at the start
 * of the file, after a blank line, or anywhere when the line is a complete separator with its
 * ctime date (a bare `From ` line inside a paragraph is body text); the separator
 * line itself is dropped and mboxrd quoting (`>From `) is undone. LF, CRLF and CR line endings.
 * Text with no separator at its start is returned as one message.
 * @param mbox - the whole file (bytes are read as latin1 so that no byte is lost)
 */
export function splitMbox(mbox: Uint8Array | string): string[] {
  const text = typeof mbox === 'string' ? mbox : Buffer.from(mbox.buffer, mbox.byteOffset, mbox.byteLength).toString('latin1')
  if (!text.startsWith('From ')) return text.trim() ? [text] : []
  const out: string[] = []
  // Lines end after LF, after CRLF, or after a bare CR; each message is kept as slices of the
  // text (no per-line arrays), cut where a `>From ` line loses its first `>`.
  const n = text.length
  let pieces: string[] | undefined
  let segStart = 0
  let prevBlank = true
  let start = 0
  // the next LF and CR at or after `start` (found natively, each searched again only once passed)
  let lf = text.indexOf('\n')
  let cr = text.indexOf('\r')
  while (start < n) {
    if (lf !== -1 && lf < start) lf = text.indexOf('\n', start)
    if (cr !== -1 && cr < start) cr = text.indexOf('\r', start)
    const stop = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
    const end = stop === -1 ? n : stop === cr && lf === cr + 1 ? cr + 2 : stop + 1
    const first = text.charCodeAt(start)
    if (first === 70 && text.startsWith('From ', start) && (prevBlank || SEPARATOR.test(text.slice(start, end)))) {
      if (pieces) {
        pieces.push(text.slice(segStart, start))
        out.push(pieces.join(''))
      }
      pieces = []
      segStart = end
      prevBlank = false
      start = end
      continue
    }
    prevBlank = first === 10 || first === 13
    if (pieces && first === 62) {
      let k = start
      while (text.charCodeAt(k) === 62) k++
      if (text.startsWith('From ', k)) {
        // mboxrd: `>From ` (any number of `>`) loses one `>`
        pieces.push(text.slice(segStart, start))
        segStart = start + 1
      }
    }
    start = end
  }
  if (pieces) {
    pieces.push(text.slice(segStart, n))
    out.push(pieces.join(''))
  }
  return out.filter((m) => m.trim().length > 0)
}

/** True when the input starts like an mbox (`From ` separator on its first line). */
export function isMbox(raw: Uint8Array | string): boolean {
  if (typeof raw === 'string') return raw.startsWith('From ')
  return raw.length > 5 && raw[0] === 0x46 && raw[1] === 0x72 && raw[2] === 0x6f && raw[3] === 0x6d && raw[4] === 0x20
}

/**
 * Parse every message of an mbox, in order.
 * @param mbox - the whole file
 * @param options - passed to `parseBounceMessage`
 */
export async function parseMbox(mbox: Uint8Array | string, options: ParseBounceOptions = {}): Promise<BounceReport[]> {
  const messages = splitMbox(mbox)
  const out: BounceReport[] = []
  for (const m of messages) out.push(await parseBounceMessage(typeof mbox === 'string' ? m : Buffer.from(m, 'latin1'), options))
  return out
}
