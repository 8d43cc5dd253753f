/**
 * Request authentication for SendGrid (ECDSA), Mailgun (HMAC) and basic auth / shared secrets
 * (Postmark, SparkPost). Every comparison of secrets is constant-time.
 */
import { createHash, createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto'

/** Constant-time string equality (compares SHA-256 digests, so lengths may differ). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest()
  const hb = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(ha, hb)
}

/**
 * A SendGrid verification key: the base64 DER (SPKI) string SendGrid's settings page shows, or a PEM.
 * Throws on a key that cannot be read.
 */
export function sendGridPublicKey(key: string | KeyObject): KeyObject {
  if (typeof key !== 'string') return key
  const k = key.trim()
  if (k.startsWith('-----BEGIN')) return createPublicKey(k)
  return createPublicKey({ key: Buffer.from(k, 'base64'), format: 'der', type: 'spki' })
}

/**
 * Verify SendGrid's signed event webhook: an ECDSA P-256 / SHA-256 signature (base64 DER) over
 * the timestamp header followed by the raw body.
 */
export function verifySendGridSignature(publicKey: KeyObject, rawBody: Buffer, signature: string, timestamp: string): boolean {
  if (!signature || !timestamp) return false
  try {
    return cryptoVerify('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]), publicKey, Buffer.from(signature, 'base64'))
  } catch {
    return false
  }
}

/** Verify Mailgun's webhook signature: hex HMAC-SHA256 of `timestamp + token` with the signing key. */
export function verifyMailgunSignature(signingKey: string, timestamp: string, token: string, signature: string): boolean {
  if (!timestamp || !token || !/^[0-9a-f]{64}$/i.test(signature)) return false
  const expected = createHmac('sha256', signingKey)
    .update(timestamp + token)
    .digest()
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'))
}

/** Check an `Authorization: Basic ...` header against a user name and password. */
export function checkBasicAuth(header: string | undefined, expected: { username: string; password: string }): boolean {
  if (!header) return false
  const m = /^basic\s+([a-z0-9+/=]{1,1024})$/i.exec(header.trim())
  if (!m) return false
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  // Evaluate both halves so the time does not reveal which one failed.
  const u = safeEqual(decoded.slice(0, Math.max(0, decoded.indexOf(':'))), expected.username)
  const p = safeEqual(decoded.slice(decoded.indexOf(':') + 1), expected.password)
  return decoded.includes(':') && u && p
}

/**
 * A bounded set of recently seen values with expiry (Mailgun tokens): `add` returns false when the
 * value was already seen and has not expired.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>()
  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  /** Remember `value` until `now + ttl`; false when it is already remembered. */
  add(value: string, now: number): boolean {
    const until = this.seen.get(value)
    if (until !== undefined && until > now) return false
    this.seen.delete(value)
    this.seen.set(value, now + this.ttlMs)
    if (this.seen.size > this.max) this.prune(now)
    return true
  }

  /** Forget a value (after a failed processing, so the provider's retry is accepted). */
  delete(value: string): void {
    this.seen.delete(value)
  }

  get size(): number {
    return this.seen.size
  }

  private prune(now: number): void {
    for (const [k, until] of this.seen) {
      if (until > now) break // insertion order is expiry order (one ttl)
      this.seen.delete(k)
    }
    while (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value as string)
  }
}
