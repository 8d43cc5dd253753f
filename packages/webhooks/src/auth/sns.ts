/**
 * Amazon SNS message signatures (HTTP/S endpoints).
 * Reference: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 * - The string to sign is `Key\nValue\n` for a fixed list of keys in byte order (below).
 * - SignatureVersion 1 signs with SHA1withRSA, 2 with SHA256withRSA.
 * - The certificate is fetched from `SigningCertURL`, which must be HTTPS on an SNS host;
 *   certificates are cached by URL.
 */
import { X509Certificate, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { obj, str } from '../util.js'

/** The fields of an SNS envelope this package reads. */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation'
  MessageId: string
  TopicArn: string
  Message: string
  Timestamp: string
  SignatureVersion: string
  Signature: string
  SigningCertURL: string
  Subject?: string
  SubscribeURL?: string
  Token?: string
  UnsubscribeURL?: string
}

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const
const CONFIRMATION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const

/** Host names allowed for `SigningCertURL` and `SubscribeURL` (linear-time regex). */
export const SNS_HOST_PATTERN = /^sns\.[a-z0-9-]{1,40}\.amazonaws\.com(?:\.cn)?$/

/** Check and narrow a parsed body to an SNS envelope; `undefined` when fields are missing. */
export function asSnsMessage(body: unknown): SnsMessage | undefined {
  const b = obj(body)
  if (!b) return undefined
  const type = str(b.Type)
  if (type !== 'Notification' && type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation') return undefined
  for (const k of ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL']) {
    if (typeof b[k] !== 'string') return undefined
  }
  if (type !== 'Notification' && (typeof b.SubscribeURL !== 'string' || typeof b.Token !== 'string')) return undefined
  if (b.Subject !== undefined && b.Subject !== null && typeof b.Subject !== 'string') return undefined
  return b as unknown as SnsMessage
}

/** The canonical string SNS signs, per the AWS documentation. */
export function snsStringToSign(m: SnsMessage): string {
  const keys = m.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS
  let s = ''
  for (const k of keys) {
    const value = (m as unknown as Record<string, unknown>)[k]
    if (typeof value !== 'string') continue // Subject is optional (and absent when null)
    s += `${k}\n${value}\n`
  }
  return s
}

/** True when `url` is `https://sns.<region>.amazonaws.com/...` (optionally ending in `.pem`). */
export function isSnsUrl(url: string, requirePem = false): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  if (u.protocol !== 'https:' || u.username || u.password || (u.port && u.port !== '443')) return false
  if (!SNS_HOST_PATTERN.test(u.hostname)) return false
  return !requirePem || u.pathname.endsWith('.pem')
}

/** Options of `createSnsVerifier`. */
export interface SnsVerifierOptions {
  /** `fetch` used to download signing certificates. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Certificates kept in memory, by URL. @default 16 */
  maxCachedCertificates?: number
  /** Certificate download timeout in ms. @default 5000 */
  timeoutMs?: number
  /** Clock for certificate validity. @default () => new Date() */
  now?: () => Date
}

/** Why `verify` said no. */
export type SnsVerifyFailure = 'bad-cert-url' | 'bad-signature-version' | 'cert-unavailable' | 'cert-expired' | 'bad-signature'

/** A verifier with a certificate cache. */
export interface SnsVerifier {
  /** Resolve to `{ ok: true }` when the message is signed by the certificate at its `SigningCertURL`. */
  verify(m: SnsMessage): Promise<{ ok: true } | { ok: false; why: SnsVerifyFailure }>
  /** Certificates currently cached. */
  readonly cachedCertificates: number
}

interface CachedCert {
  key: KeyObject
  validFrom: number
  validTo: number
}

/** Create an SNS signature verifier that caches certificates by URL (in-flight downloads are shared). */
export function createSnsVerifier(options: SnsVerifierOptions = {}): SnsVerifier {
  const doFetch = options.fetch ?? globalThis.fetch
  const max = options.maxCachedCertificates ?? 16
  const timeoutMs = options.timeoutMs ?? 5000
  const now = options.now ?? (() => new Date())
  const cache = new Map<string, Promise<CachedCert>>()

  async function load(url: string): Promise<CachedCert> {
    const res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
    if (!res.ok) throw new Error(`certificate download failed: HTTP ${res.status}`)
    const pem = await res.text()
    if (pem.length > 65536) throw new Error('certificate too large')
    const cert = new X509Certificate(pem)
    return { key: cert.publicKey, validFrom: Date.parse(cert.validFrom), validTo: Date.parse(cert.validTo) }
  }

  function cert(url: string): Promise<CachedCert> {
    let p = cache.get(url)
    if (!p) {
      p = load(url)
      cache.set(url, p)
      p.catch(() => {
        if (cache.get(url) === p) cache.delete(url)
      })
      while (cache.size > max) cache.delete(cache.keys().next().value as string)
    }
    return p
  }

  return {
    get cachedCertificates() {
      return cache.size
    },
    async verify(m) {
      if (!isSnsUrl(m.SigningCertURL, true)) return { ok: false, why: 'bad-cert-url' }
      const alg = m.SignatureVersion === '1' ? 'sha1' : m.SignatureVersion === '2' ? 'sha256' : undefined
      if (!alg) return { ok: false, why: 'bad-signature-version' }
      let c: CachedCert
      try {
        c = await cert(m.SigningCertURL)
      } catch {
        return { ok: false, why: 'cert-unavailable' }
      }
      const t = now().getTime()
      if (!(t >= c.validFrom && t <= c.validTo)) return { ok: false, why: 'cert-expired' }
      let ok = false
      try {
        ok = cryptoVerify(alg, Buffer.from(snsStringToSign(m), 'utf8'), c.key, Buffer.from(m.Signature, 'base64'))
      } catch {
        ok = false
      }
      return ok ? { ok: true } : { ok: false, why: 'bad-signature' }
    },
  }
}
