/**
 * Small helpers for reading untrusted JSON: every accessor returns `undefined` instead of
 * throwing, so one odd field never crashes a batch.
 */
import { BounceGuardError, tryNormalizeAddress } from '@bounce-guard/core'
import type { WebhookProvider } from './types.js'

/** A plain JSON object, or `undefined`. */
export function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

/** A non-empty string (numbers are turned into strings), or `undefined`. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v : undefined
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  return undefined
}

/** A finite number (numeric strings are parsed), or `undefined`. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string' && /^\s*-?\d+(?:\.\d+)?\s*$/.test(v)) return Number(v)
  return undefined
}

/** An ISO date string or a Unix time in seconds, as a `Date`; `undefined` when invalid. */
export function date(v: unknown): Date | undefined {
  const n = num(v)
  if (n !== undefined) {
    const d = new Date(n * 1000)
    return Number.isNaN(d.getTime()) ? undefined : d
  }
  if (typeof v === 'string' && v.length <= 64) {
    const d = new Date(v)
    return Number.isNaN(d.getTime()) ? undefined : d
  }
  return undefined
}

/** The recipient as given when it looks like an address, else `undefined`. */
export function recipientOf(v: unknown): string | undefined {
  const s = str(v)
  return s !== undefined && tryNormalizeAddress(s) !== undefined ? s.trim() : undefined
}

/** Lower-cased key fragment for event ids. */
export function idPart(s: string): string {
  return s.trim().toLowerCase()
}

/** The typed error for a body that is not in the documented shape. */
export function payloadError(provider: WebhookProvider, message: string): BounceGuardError {
  return new BounceGuardError('EWEBHOOK_PAYLOAD', `@bounce-guard/webhooks (${provider}): ${message}`)
}

/** Parse JSON text; throws `EWEBHOOK_PAYLOAD` on bad JSON. */
export function parseJson(provider: WebhookProvider, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new BounceGuardError('EWEBHOOK_PAYLOAD', `@bounce-guard/webhooks (${provider}): body is not JSON`, { cause: err })
  }
}
