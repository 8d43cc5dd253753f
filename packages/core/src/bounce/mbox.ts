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
  // Only two kinds of line matter: one starting `From ` (a separator when it follows an empty line
  // or is a complete separator line) and one starting `>...>From ` (mboxrd quoting). Both are found
  // natively with indexOf, not line by line; each message is kept as slices of the text.
  const n = text.length
  let pieces: string[] = []
  // the first line is a separator (the text starts with `From `)
  let segStart = lineEnd(text, 0)
  let from = text.indexOf('From ', segStart)
  let quoted = text.indexOf('>From ', segStart)
  while (from !== -1 || quoted !== -1) {
    if (quoted !== -1 && (from === -1 || quoted < from)) {
      // the run of '>' before `From `, at the start of a line: one '>' removed
      let s = quoted
      while (s > segStart && text.charCodeAt(s - 1) === 62) s--
      if (atLineStart(text, s)) {
        pieces.push(text.slice(segStart, s))
        segStart = s + 1
      }
      quoted = text.indexOf('>From ', quoted + 6)
      continue
    }
    const at = from
    from = text.indexOf('From ', at + 5)
    if (!atLineStart(text, at)) continue
    const end = lineEnd(text, at)
    if (afterEmptyLine(text, at) || SEPARATOR.test(text.slice(at, end))) {
      pieces.push(text.slice(segStart, at))
      out.push(pieces.join(''))
      pieces = []
      segStart = end
      if (from !== -1 && from < end) from = text.indexOf('From ', end)
      if (quoted !== -1 && quoted < end) quoted = text.indexOf('>From ', end)
    }
  }
  pieces.push(text.slice(segStart, n))
  out.push(pieces.join(''))
  return out.filter((m) => m.trim().length > 0)
}

/** Whether a line starts at `i` (after LF, CR or CRLF; `i` > 0). */
function atLineStart(text: string, i: number): boolean {
  const c = text.charCodeAt(i - 1)
  return c === 10 || c === 13
}

/** Where the line starting at `i` ends, its line end (LF, CRLF or a bare CR) included. */
function lineEnd(text: string, i: number): number {
  const lf = text.indexOf('\n', i)
  const cr = text.indexOf('\r', i)
  const stop = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
  if (stop === -1) return text.length
  return stop === cr && lf === cr + 1 ? cr + 2 : stop + 1
}

/** Whether the line before the one starting at `i` (> 0) is empty. */
function afterEmptyLine(text: string, i: number): boolean {
  // where that line's end starts: CRLF is one line end
  const t = text.charCodeAt(i - 1) === 10 && i >= 2 && text.charCodeAt(i - 2) === 13 ? i - 2 : i - 1
  if (t === 0) return true
  const c = text.charCodeAt(t - 1)
  return c === 10 || c === 13
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
