/**
 * Address normalisation, in one place. A suppression cannot be dodged by changing case or Unicode
 * form: `Alice@Example.COM`, `alice@example.com` and `ALICE@EXAMPLE.COM.` are one address.
 */
import { domainToASCII } from 'node:url'
import { isNormalAscii } from './address-fast.js'
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
