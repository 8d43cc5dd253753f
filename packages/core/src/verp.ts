/**
 * VERP (variable envelope return path): the recipient of a message encoded into its return path,
 * so a bounce that names no recipient (or the wrong one) still says who it was for.
 * `bounces+alice=example.com@sender.example` <-> `alice@example.com`.
 *
 * The `@` of the recipient is written as `=`. Characters that would be ambiguous inside the encoded
 * local part (`=`, `+` when it is the separator, `%`, and anything outside RFC 5321's atext) are
 * written `%XX` (hex), so every address round-trips: `decodeVerp(encodeVerp(a)) === a`.
 */
import { BounceGuardError } from './errors.js'

/** Options of `decodeVerp`. */
export interface DecodeVerpOptions {
  /**
   * The local-part prefix before the separator, e.g. `bounces`. When empty, any prefix is accepted.
   * @default "bounces"
   */
  prefix?: string
  /**
   * The character between the prefix and the encoded recipient.
   * @default "+"
   */
  separator?: string
  /**
   * What to do with a return path that is not VERP with this prefix: `undefined` returns undefined,
   * `throw` throws a `BounceGuardError` with code `EINVALID_VERP`.
   * @default "undefined"
   */
  onInvalid?: 'undefined' | 'throw'
}

/** Options of `encodeVerp`. */
export interface EncodeVerpOptions {
  /**
   * The local-part prefix, e.g. `bounces`.
   * @default "bounces"
   */
  prefix?: string
  /**
   * The character between the prefix and the encoded recipient.
   * @default "+"
   */
  separator?: string
  /** The domain of the return path (the sender's bounce domain), e.g. `sender.example`. Required. */
  domain: string
}

const ATEXT_SAFE = /^[A-Za-z0-9!#$&'*\-/?^_`{|}~.]$/

function encodeLocal(s: string, separator: string): string {
  let out = ''
  for (const ch of s) {
    if (ch !== separator && ch !== '=' && ch !== '%' && ATEXT_SAFE.test(ch)) {
      out += ch
      continue
    }
    for (const b of new TextEncoder().encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function decodeLocal(s: string): string | undefined {
  if (!s.includes('%')) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

function fail(onInvalid: 'undefined' | 'throw' | undefined, message: string): undefined {
  if (onInvalid === 'throw') throw new BounceGuardError('EINVALID_VERP', `@bounce-guard/core: ${message}`)
  return undefined
}

/**
 * Encode a recipient into a VERP return path.
 * @param recipient - `local@domain`
 * @param options - prefix (default `bounces`), separator (default `+`), domain (required)
 * @throws BounceGuardError `EINVALID_VERP` when the recipient has no `@`, or `EINVALID_OPTION` for bad options
 */
export function encodeVerp(recipient: string, options: EncodeVerpOptions): string {
  const prefix = options.prefix ?? 'bounces'
  const separator = options.separator ?? '+'
  if (typeof options.domain !== 'string' || !options.domain || options.domain.includes('@')) {
    throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/core: encodeVerp needs options.domain, a domain name')
  }
  if (separator.length !== 1 || separator === '=' || separator === '@' || separator === '%') {
    throw new BounceGuardError(
      'EINVALID_OPTION',
      '@bounce-guard/core: encodeVerp separator must be one character other than "=", "@" and "%"',
    )
  }
  const at = typeof recipient === 'string' ? recipient.lastIndexOf('@') : -1
  if (at <= 0 || at === recipient.length - 1) {
    throw new BounceGuardError('EINVALID_VERP', `@bounce-guard/core: cannot encode "${String(recipient)}": not an address`)
  }
  const local = recipient.slice(0, at)
  const domain = recipient.slice(at + 1)
  return `${prefix}${separator}${encodeLocal(local, separator)}=${encodeLocal(domain, separator)}@${options.domain}`
}

/**
 * Recover the recipient from a VERP return path. Angle brackets and a `Return-Path:` value are
 * accepted (`<bounces+alice=example.com@sender.example>`).
 * @param returnPath - the bounce's envelope recipient or Return-Path / To address
 * @param options - prefix (default `bounces`; `""` accepts any), separator (default `+`), onInvalid (default `undefined`)
 * @returns the recipient, or `undefined` when the address is not VERP with that prefix (unless `onInvalid: "throw"`)
 */
export function decodeVerp(returnPath: string, options: DecodeVerpOptions = {}): string | undefined {
  const prefix = options.prefix ?? 'bounces'
  const separator = options.separator ?? '+'
  if (typeof returnPath !== 'string') return fail(options.onInvalid, 'return path is not a string')
  let s = returnPath.trim()
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim()
  const at = s.lastIndexOf('@')
  if (at <= 0) return fail(options.onInvalid, `"${returnPath}" is not an address`)
  const local = s.slice(0, at)
  let rest: string
  if (prefix) {
    if (
      local.length <= prefix.length + separator.length ||
      local.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase() ||
      local.slice(prefix.length, prefix.length + separator.length) !== separator
    ) {
      return fail(options.onInvalid, `"${returnPath}" does not start with ${prefix}${separator}`)
    }
    rest = local.slice(prefix.length + separator.length)
  } else {
    const sep = local.indexOf(separator)
    if (sep < 0) return fail(options.onInvalid, `"${returnPath}" has no "${separator}"`)
    rest = local.slice(sep + separator.length)
  }
  const eq = rest.lastIndexOf('=')
  if (eq <= 0 || eq === rest.length - 1) return fail(options.onInvalid, `"${returnPath}" has no encoded recipient`)
  const rl = decodeLocal(rest.slice(0, eq))
  const rd = decodeLocal(rest.slice(eq + 1))
  if (rl === undefined || rd === undefined || (!rd.includes('.') && rd.toLowerCase() !== 'localhost')) {
    return fail(options.onInvalid, `"${returnPath}" has a malformed encoded recipient`)
  }
  return `${rl}@${rd}`
}
