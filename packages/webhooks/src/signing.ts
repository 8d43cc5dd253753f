/**
 * Signatures of Bounce Guard's outgoing webhooks.
 *
 * Header: `Bounce-Guard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the HMAC key is the
 * shared secret and the signed text is `${t}.${rawBody}`. A receiver recomputes the HMAC over the
 * raw body bytes it received, compares in constant time, and rejects a `t` too far from its clock.
 * Several `v1=` entries may appear (one per secret during a rotation); one match is enough.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** Name of the signature header. */
export const SIGNATURE_HEADER = 'bounce-guard-signature'

/** Compute the `Bounce-Guard-Signature` header value for a body at a Unix time (seconds). */
export function signWebhookPayload(payload: string | Buffer, secret: string, timestamp: number): string {
  const t = Math.floor(timestamp)
  const mac = createHmac('sha256', secret).update(`${t}.`).update(payload).digest('hex')
  return `t=${t},v1=${mac}`
}

/** Input of `verifyWebhookSignature`. */
export interface VerifyWebhookSignatureOptions {
  /** The raw body exactly as received. */
  payload: string | Buffer
  /** The `Bounce-Guard-Signature` header value. */
  header: string | undefined
  /** The shared secret, or several during a rotation. */
  secret: string | readonly string[]
  /** Largest accepted distance between `t` and `now`, in seconds. @default 300 */
  toleranceSeconds?: number
  /** @default new Date() */
  now?: Date
}

/** True when the header carries a valid signature of `payload` made within the tolerance. Never throws. */
export function verifyWebhookSignature(options: VerifyWebhookSignatureOptions): boolean {
  const { payload, header } = options
  if (typeof header !== 'string' || header.length > 4096) return false
  let t: number | undefined
  const sigs: Buffer[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const k = part.slice(0, eq).trim()
    const v = part.slice(eq + 1).trim()
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v)
    else if (k === 'v1' && /^[0-9a-f]{64}$/i.test(v)) sigs.push(Buffer.from(v, 'hex'))
  }
  if (t === undefined || sigs.length === 0) return false
  const nowS = (options.now ?? new Date()).getTime() / 1000
  if (Math.abs(nowS - t) > (options.toleranceSeconds ?? 300)) return false
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(`${t}.`).update(payload).digest()
    for (const s of sigs) if (timingSafeEqual(expected, s)) return true
  }
  return false
}
