/**
 * The fast check of address normalisation, apart from `address.ts` so that the guard can use it
 * without it becoming part of the package's exports (`index.ts` re-exports `address.ts` whole).
 */

/** Local-part characters (besides a-z and 0-9) the fast path takes: RFC 5322 atext and dots. */
const LOCAL_OK = new Uint8Array(128)
for (const c of "!#$%&'*+-/=?^_`{|}~.") LOCAL_OK[c.charCodeAt(0)] = 1
for (let c = 97; c <= 122; c++) LOCAL_OK[c] = 1
for (let c = 48; c <= 57; c++) LOCAL_OK[c] = 1

/**
 * True when `a` is already in the form `tryNormalizeAddress` returns and the general path would
 * give it back unchanged: lower-case ASCII `local@domain`, one `@`, a local part of atext and dots,
 * a domain of non-empty labels of a-z, 0-9 and single hyphens (no `--`, so no `xn--` label), no
 * trailing dot, the last label starting with a letter (so never read as an IPv4 number). One scan,
 * no copies; anything else (upper case, white space, brackets, quotes, `mailto:`, IDN) is left to
 * the general path. A test compares the two paths on generated and edge-case addresses.
 */
export function isNormalAscii(a: string): boolean {
  const n = a.length
  if (n > 1000) return false
  const at = a.indexOf('@')
  if (at <= 0 || n - at - 1 > 253) return false
  for (let i = 0; i < at; i++) {
    const c = a.charCodeAt(i)
    if (c >= 128 || LOCAL_OK[c] === 0) return false
  }
  // Domain: labels separated by single dots; `labelStart` is where the current label began.
  let labelStart = at + 1
  if (labelStart >= n) return false
  for (let i = labelStart; i < n; i++) {
    const c = a.charCodeAt(i)
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) continue
    if (c === 45) {
      if (a.charCodeAt(i - 1) === 45) return false // `--` (and so `xn--`)
      continue
    }
    if (c !== 46 || i === labelStart) return false // not a dot, or an empty label
    labelStart = i + 1
  }
  if (labelStart >= n) return false // trailing dot
  const first = a.charCodeAt(labelStart)
  return first >= 97 && first <= 122
}
