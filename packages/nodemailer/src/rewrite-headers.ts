/**
 * `rewriteHeaders: true`: remove suppressed recipients from the visible To, Cc and Bcc headers of
 * the compiled message. Call after the envelope was set explicitly, so the envelope no longer
 * derives from these headers.
 */
import { tryNormalizeAddress } from '@bounce-guard/core'

interface ParsedAddress {
  name?: string
  address?: string
  group?: ParsedAddress[]
}

/** The internal parts of Nodemailer's `MimeNode` this module uses (stable since Nodemailer 6). */
export interface MimeNodeInternals {
  _headers?: Array<{ key: string; value: unknown }>
  _parseAddresses?(value: unknown): ParsedAddress[]
}

function keep(list: ParsedAddress[], suppressed: ReadonlySet<string>): ParsedAddress[] {
  const out: ParsedAddress[] = []
  for (const a of list) {
    if (Array.isArray(a.group)) {
      const group = keep(a.group, suppressed)
      out.push({ ...a, group })
      continue
    }
    const n = typeof a.address === 'string' ? tryNormalizeAddress(a.address) : undefined
    if (n !== undefined && suppressed.has(n)) continue
    out.push(a)
  }
  return out
}

/**
 * Drop the normalised addresses in `suppressed` from To/Cc/Bcc. A header left empty is removed
 * (a group keeps its name with no members). Returns false when the message's internals are not
 * what this version expects (nothing is changed then).
 */
export function rewriteAddressHeaders(message: unknown, suppressed: ReadonlySet<string>): boolean {
  const m = message as MimeNodeInternals
  if (!Array.isArray(m._headers) || typeof m._parseAddresses !== 'function') return false
  const next: Array<{ key: string; value: unknown }> = []
  for (const h of m._headers) {
    if (h.key === 'To' || h.key === 'Cc' || h.key === 'Bcc') {
      const list = keep(m._parseAddresses(h.value), suppressed)
      if (list.length === 0) continue
      next.push({ key: h.key, value: list })
    } else {
      next.push(h)
    }
  }
  m._headers.splice(0, m._headers.length, ...next)
  return true
}
