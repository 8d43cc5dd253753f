/**
 * Address normalisation, in one place. A suppression cannot be dodged by changing case or Unicode
 * form: `Alice@Example.COM`, `alice@example.com` and `ALICE@EXAMPLE.COM.` are one address.
 */
import { domainToASCII } from 'node:url'
import { BounceGuardError } from './errors.js'

export interface NormalizeOptions {
  /**
   * Fold the local part to lower case. RFC 5321 allows case-sensitive local parts, but no
   * mainstream mailbox provider uses them, and a case change must not dodge a suppression.
   * @default true
   */
  caseInsensitiveLocalPart?: boolean
}

/** Entries of the domain -> ASCII form cache (cleared when full). */
const DOMAIN_CACHE_SIZE = 1024
/**
 * Recent results of `normalizeDomain` (IDNA costs ~5 µs a call, and mail goes to few domains).
 * The function is pure, so a hit returns what the call would. Bounded: cleared when full.
 */
const domainCache = new Map<string, string | undefined>()

/** Lower-case ASCII (IDNA / punycode) form of a domain, without a trailing dot; `undefined` if invalid. */
export function normalizeDomain(domain: string): string | undefined {
  const hit = domainCache.get(domain)
  if (hit !== undefined || domainCache.has(domain)) return hit
  const n = computeNormalizedDomain(domain)
  if (domainCache.size >= DOMAIN_CACHE_SIZE) domainCache.clear()
  // Very long inputs are not worth keeping (the result is `undefined` for them anyway).
  if (domain.length <= 300) domainCache.set(domain, n)
  return n
}

function computeNormalizedDomain(domain: string): string | undefined {
  let d = domain.trim().normalize('NFC')
  if (d.startsWith('[') && d.endsWith(']')) return d.toLowerCase() // address literal
  d = d.replace(/\.+$/, '')
  if (d.length === 0 || d.length > 253) return undefined
  const ascii = domainToASCII(d.toLowerCase())
  return ascii === '' ? undefined : ascii
}

/**
 * Normalise an address: strip angle brackets, a `mailto:` prefix and white space; NFC the local
 * part; lower-case and IDNA-encode the domain; lower-case the local part by default.
 * Returns `undefined` for something that is not an address.
 */
export function tryNormalizeAddress(address: string, options: NormalizeOptions = {}): string | undefined {
  if (typeof address !== 'string') return undefined
  if (isNormalAscii(address)) return address
  let a = address.trim()
  if (a.length > 1000) return undefined
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1).trim()
  if (/^mailto:/i.test(a)) a = a.slice(7)
  const at = a.lastIndexOf('@')
  if (at <= 0 || at === a.length - 1) return undefined
  let local = a.slice(0, at).normalize('NFC')
  if (/\s/.test(local) && !(local.startsWith('"') && local.endsWith('"'))) return undefined
  const domain = normalizeDomain(a.slice(at + 1))
  if (!domain) return undefined
  if (options.caseInsensitiveLocalPart !== false) local = local.toLowerCase()
  return `${local}@${domain}`
}

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
function isNormalAscii(a: string): boolean {
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

/** Like `tryNormalizeAddress`, but throws `BounceGuardError` (`EINVALID_ADDRESS`) on bad input. */
export function normalizeAddress(address: string, options: NormalizeOptions = {}): string {
  const n = tryNormalizeAddress(address, options)
  if (n === undefined) {
    throw new BounceGuardError(
      'EINVALID_ADDRESS',
      `@bounce-guard/core: not an e-mail address: ${JSON.stringify(String(address).slice(0, 200))}`,
    )
  }
  return n
}

/** The domain of a normalised address. */
export function domainOf(normalizedAddress: string): string {
  return normalizedAddress.slice(normalizedAddress.lastIndexOf('@') + 1)
}
