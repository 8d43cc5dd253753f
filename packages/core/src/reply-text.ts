/**
 * String helpers of the reply parser (internal): white space as `\s` sees it, squashing runs of it,
 * and removing the codes a flattened multi-line reply repeats. Shared by the general parser
 * (smtp-reply.ts), its byte-level fast path (reply-bytes.ts) and, for `isSpace`, the bounce
 * parser's field reader (bounce/fields.ts).
 */

/** White space as `\s` and `trim` see it. */
export function isSpace(c: number): boolean {
  if (c === 32 || (c >= 9 && c <= 13)) return true
  if (c < 0xa0) return false
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  )
}

/**
 * Inside a text, anything `squash` would change: white space other than a plain space (the
 * characters of `\s` listed out: irregexp scans an explicit class about twice as fast as `[^\S ]`),
 * two spaces.
 */
const NEEDS_SQUASH = /[\t-\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]| {2}/

/** A run squashing rewrites: white space other than a space (and what follows it), or a space and more. */
const RUN = /[\t-\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]\s*| \s+/g

/** Collapse white-space runs to one space and trim; returns the input itself when already clean. */
export function squash(input: string): string {
  // Same result as `input.replace(/\s+/g, ' ').trim()`: edges trimmed natively, then, only when
  // something inside needs it, each run that is not a single space replaced natively (a loop over
  // character codes is slower, the more so on the concatenated strings this often gets).
  const last = input.length - 1
  const s = last >= 0 && (input.charCodeAt(0) === 32 || input.charCodeAt(last) === 32) ? input.trim() : input
  if (!NEEDS_SQUASH.test(s)) return s
  return s.replace(RUN, ' ').trim()
}

const CODE_STRINGS: string[] = []
for (let c = 0; c < 1000; c++) CODE_STRINGS.push(String(c))

/** The decimal form of a reply code (from a table: no conversion per reply). */
function codeString(code: number): string {
  return code >= 0 && code < 1000 && Number.isInteger(code) ? (CODE_STRINGS[code] as string) : String(code)
}

/** Remove the code (and status) that a flattened multi-line reply repeats mid-text. */
export function dropRepeats(text: string, code: number | undefined, status: string | undefined): string {
  if (code === undefined || !text.includes(codeString(code))) return text
  if (status !== undefined ? !text.includes(status) : !text.includes(`${code}-`)) return text // no token can occur
  const spaced = ` ${text}`
  let out = spaced
  const tokens = status === undefined ? [` ${code}-`] : [` ${code}-${status} `, ` ${code} ${status} `, ` ${code}-${status}`]
  for (const tok of tokens) out = out.replaceAll(tok, ' ')
  return out === spaced ? text : out
}
