/**
 * `createWebhookHandler`: one HTTP endpoint (or one per provider) that authenticates a provider's
 * webhook request, normalises its events and records them through a `BounceGuard`.
 *
 * Status codes: 200 processed (also for events it ignores), 400 malformed body, 401 failed
 * authentication (nothing recorded), 404 provider not configured, 405 not POST, 413 body over
 * `maxBodyBytes`, 500 the store failed (the provider retries; `eventId`s make the retry safe).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { KeyObject } from 'node:crypto'
import { BounceGuardError, isBounceGuardError } from '@bounce-guard/core'
import type { BounceGuard, BounceGuardLogger, RecordResult } from '@bounce-guard/core'
import { asSnsMessage, createSnsVerifier, isSnsUrl, type SnsMessage, type SnsVerifier } from './auth/sns.js'
import {
  checkBasicAuth,
  ReplayCache,
  safeEqual,
  sendGridPublicKey,
  verifyMailgunSignature,
  verifySendGridSignature,
} from './auth/signatures.js'
import { normalizeMailgun } from './providers/mailgun.js'
import { normalizePostmark, parsePostmarkJson } from './providers/postmark.js'
import { normalizeSendGrid } from './providers/sendgrid.js'
import { normalizeSes } from './providers/ses.js'
import { normalizeSparkPost } from './providers/sparkpost.js'
import { WEBHOOK_PROVIDERS, type IgnoredEvent, type NormalizedWebhook, type WebhookProvider } from './types.js'
import { obj, parseJson, str } from './util.js'

const PKG = '@bounce-guard/webhooks'

/** A user name and password for HTTP basic auth. */
export interface BasicAuthCredentials {
  username: string
  password: string
}

/** Amazon SES notifications delivered by Amazon SNS. */
export interface SesProviderOptions {
  /**
   * Accept only notifications from these SNS topic ARNs. Strongly recommended: anyone can sign an
   * SNS message with a real AWS certificate by publishing to a topic of their own.
   * @default undefined (any topic)
   */
  topicArns?: readonly string[]
  /** Confirm a `SubscriptionConfirmation` by fetching its `SubscribeURL` (HTTPS, SNS host only). @default false */
  autoConfirm?: boolean
  /** Signing certificates kept in memory. @default 16 */
  maxCachedCertificates?: number
  /** Timeout of a certificate download or subscription confirmation, in ms. @default 5000 */
  timeoutMs?: number
}

/** SendGrid's signed Event Webhook. */
export interface SendGridProviderOptions {
  /** The verification key from SendGrid's Mail Settings (base64 DER), a PEM, or a `KeyObject`. */
  publicKey: string | KeyObject
  /** Reject a signature whose timestamp is older than this many seconds (0 = no check). @default 0 */
  maxAgeSeconds?: number
}

/** Mailgun's HMAC-signed webhooks (JSON). */
export interface MailgunProviderOptions {
  /** The "HTTP webhook signing key" of the Mailgun account. */
  signingKey: string
  /** Accept signatures whose timestamp is within this many seconds of now (either way). @default 300 */
  maxAgeSeconds?: number
  /** Tokens remembered for replay protection. @default 10000 */
  maxTokens?: number
}

/** Postmark: basic auth in the webhook URL, or a shared secret in a custom header (or both). */
export interface PostmarkProviderOptions {
  basicAuth?: BasicAuthCredentials
  /** A shared secret Postmark sends in the custom header `secretHeader`. */
  secret?: string
  /** @default "x-webhook-secret" */
  secretHeader?: string
}

/** SparkPost: basic auth set on the webhook. */
export interface SparkPostProviderOptions {
  basicAuth: BasicAuthCredentials
}

/** Options of `createWebhookHandler`. */
export interface WebhookHandlerOptions {
  /** The guard that records every outcome. */
  guard: BounceGuard
  /** The providers to accept; a provider not listed gets 404. */
  providers: {
    ses?: SesProviderOptions
    sendgrid?: SendGridProviderOptions
    mailgun?: MailgunProviderOptions
    postmark?: PostmarkProviderOptions
    sparkpost?: SparkPostProviderOptions
  }
  /** Largest accepted body in bytes; larger bodies get 413. @default 2097152 (2 MiB) */
  maxBodyBytes?: number
  /**
   * Serve a single provider at any path. When absent, the provider is the last path segment of the
   * request URL (`/webhooks/ses`, `/hooks/sendgrid?x=1`).
   * @default undefined
   */
  provider?: WebhookProvider
  /** `fetch` for SNS certificates and subscription confirmations. @default globalThis.fetch */
  fetch?: typeof fetch
  /** @default guard's clock (`guard.now()`) */
  now?: () => Date
  /** Receives warnings (rejected requests) and errors (store failures). @default none */
  logger?: BounceGuardLogger
}

/** A request in framework-neutral form (for `handler.process`). */
export interface WebhookRequest {
  /** @default "POST" */
  method?: string
  /** Used to pick the provider from its last path segment when `provider` is not given. */
  url?: string
  provider?: WebhookProvider
  /** Header names in any case. */
  headers: Record<string, string | string[] | undefined>
  /** The raw body exactly as received: signatures are computed over these bytes. */
  body: Buffer | string
}

/** What was done with a request. */
export interface WebhookResult {
  provider: WebhookProvider
  /** Outcomes recorded now. */
  recorded: number
  /** Outcomes whose `eventId` had been recorded before (nothing changed). */
  duplicates: number
  ignored: IgnoredEvent[]
  results: RecordResult[]
  /** For SNS: the subscription was confirmed by this request. */
  subscriptionConfirmed?: boolean
}

/** The answer to send back. */
export interface WebhookResponse {
  status: number
  headers: Record<string, string>
  /** A small JSON document. */
  body: string
  /** Present when the request was processed (status 200). */
  result?: WebhookResult
  /** Why it was refused (status >= 400), also in `body`. */
  error?: string
}

/** A `(req, res)` handler for node:http and Express, plus `process` for other frameworks. */
export interface WebhookHandler {
  /**
   * node:http / Express handler. Reads the body itself, or uses `req.rawBody` / `req.body` when a
   * body parser already read it as a Buffer or string. Always answers; never calls `next`.
   */
  (req: IncomingMessage & { body?: unknown; rawBody?: unknown }, res: ServerResponse, next?: (err?: unknown) => void): Promise<void>
  /** Framework-neutral core: authenticate, normalise, record; resolves to the response to send. */
  process(request: WebhookRequest): Promise<WebhookResponse>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  let v = headers[name]
  if (v === undefined) {
    const lower = name.toLowerCase()
    for (const k of Object.keys(headers))
      if (k.toLowerCase() === lower) {
        v = headers[k]
        break
      }
  }
  return Array.isArray(v) ? v[0] : v
}

function providerFromUrl(url: string | undefined): string | undefined {
  if (!url) return undefined
  const path = url.split('?')[0]!.split('#')[0]!
  const parts = path.split('/').filter((p) => p.length > 0)
  return parts[parts.length - 1]?.toLowerCase()
}

function respond(status: number, payload: Record<string, unknown>, extra: Record<string, string> = {}): WebhookResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...extra }, body: JSON.stringify(payload) }
}

/**
 * Create the webhook endpoint. Throws `BounceGuardError` `EINVALID_OPTION` when a provider is
 * configured without the secret that authenticates it.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const { guard, providers } = options
  if (!guard || typeof guard.record !== 'function') throw new BounceGuardError('EINVALID_OPTION', `${PKG}: "guard" is required`)
  if (!providers || typeof providers !== 'object') throw new BounceGuardError('EINVALID_OPTION', `${PKG}: "providers" is required`)
  const maxBodyBytes = options.maxBodyBytes ?? 2 * 1024 * 1024
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0)
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: "maxBodyBytes" must be a positive integer`)
  const now = options.now ?? (() => guard.now())
  const doFetch = options.fetch ?? globalThis.fetch
  const log = options.logger

  let sns: SnsVerifier | undefined
  if (providers.ses) {
    sns = createSnsVerifier({
      fetch: doFetch,
      now,
      ...(providers.ses.maxCachedCertificates ? { maxCachedCertificates: providers.ses.maxCachedCertificates } : {}),
      ...(providers.ses.timeoutMs ? { timeoutMs: providers.ses.timeoutMs } : {}),
    })
  }
  let sgKey: KeyObject | undefined
  if (providers.sendgrid) {
    try {
      sgKey = sendGridPublicKey(providers.sendgrid.publicKey)
    } catch (err) {
      throw new BounceGuardError('EINVALID_OPTION', `${PKG} (sendgrid): "publicKey" is not a readable public key`, { cause: err })
    }
  }
  let mgTokens: ReplayCache | undefined
  if (providers.mailgun) {
    if (typeof providers.mailgun.signingKey !== 'string' || providers.mailgun.signingKey.length === 0) {
      throw new BounceGuardError('EINVALID_OPTION', `${PKG} (mailgun): "signingKey" is required`)
    }
    mgTokens = new ReplayCache(2 * (providers.mailgun.maxAgeSeconds ?? 300) * 1000 + 60_000, providers.mailgun.maxTokens ?? 10_000)
  }
  if (providers.postmark && !providers.postmark.basicAuth && !providers.postmark.secret) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG} (postmark): give "basicAuth" or "secret"`)
  }
  if (providers.sparkpost && !providers.sparkpost.basicAuth) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG} (sparkpost): "basicAuth" is required`)
  }

  async function record(n: NormalizedWebhook, extra: Partial<WebhookResult> = {}): Promise<WebhookResult> {
    const result: WebhookResult = { provider: n.provider, recorded: 0, duplicates: 0, ignored: n.ignored, results: [], ...extra }
    for (const outcome of n.outcomes) {
      const r = await guard.record(outcome)
      result.results.push(r)
      if (r.duplicate) result.duplicates++
      else result.recorded++
    }
    return result
  }

  async function handleSes(body: Buffer, headers: WebhookRequest['headers']): Promise<WebhookResult> {
    const cfg = providers.ses!
    const parsed = obj(parseJson('ses', body.toString('utf8')))
    if (!parsed || typeof parsed.Type !== 'string') throw new HttpError(400, 'not an SNS message')
    if (typeof parsed.Signature !== 'string' || typeof parsed.SigningCertURL !== 'string' || typeof parsed.SignatureVersion !== 'string') {
      throw new HttpError(401, 'SNS message is not signed')
    }
    const m: SnsMessage | undefined = asSnsMessage(parsed)
    if (!m) throw new HttpError(400, 'SNS message lacks required fields')
    const typeHeader = header(headers, 'x-amz-sns-message-type')
    if (typeHeader !== undefined && typeHeader !== m.Type) throw new HttpError(400, 'x-amz-sns-message-type does not match the body')
    if (cfg.topicArns && !cfg.topicArns.includes(m.TopicArn)) throw new HttpError(401, 'SNS topic not allowed')
    const v = await sns!.verify(m)
    if (!v.ok) throw new HttpError(401, `SNS signature rejected (${v.why})`)
    if (m.Type === 'SubscriptionConfirmation') {
      if (!cfg.autoConfirm) {
        log?.info(
          { topicArn: m.TopicArn, subscribeUrl: m.SubscribeURL },
          `${PKG} (ses): SNS subscription confirmation received; autoConfirm is off`,
        )
        return {
          provider: 'ses',
          recorded: 0,
          duplicates: 0,
          ignored: [{ event: m.Type, id: m.MessageId, why: 'autoConfirm is off' }],
          results: [],
          subscriptionConfirmed: false,
        }
      }
      if (!m.SubscribeURL || !isSnsUrl(m.SubscribeURL)) throw new HttpError(400, 'SubscribeURL is not an HTTPS SNS URL')
      let res: Response
      try {
        res = await doFetch(m.SubscribeURL, { signal: AbortSignal.timeout(cfg.timeoutMs ?? 5000), redirect: 'error' })
      } catch (err) {
        throw new HttpError(502, `subscription confirmation failed: ${(err as Error).message}`)
      }
      await res.arrayBuffer().catch(() => undefined)
      if (!res.ok) throw new HttpError(502, `subscription confirmation failed: HTTP ${res.status}`)
      log?.info({ topicArn: m.TopicArn }, `${PKG} (ses): SNS subscription confirmed`)
      return { provider: 'ses', recorded: 0, duplicates: 0, ignored: [], results: [], subscriptionConfirmed: true }
    }
    if (m.Type === 'UnsubscribeConfirmation') {
      return {
        provider: 'ses',
        recorded: 0,
        duplicates: 0,
        ignored: [{ event: m.Type, id: m.MessageId, why: 'unsubscribe confirmation' }],
        results: [],
      }
    }
    const inner = parseJson('ses', m.Message)
    return record(normalizeSes(inner, { snsMessageId: m.MessageId }))
  }

  function handleSendGrid(body: Buffer, headers: WebhookRequest['headers']): NormalizedWebhook {
    const sig = header(headers, 'x-twilio-email-event-webhook-signature') ?? ''
    const ts = header(headers, 'x-twilio-email-event-webhook-timestamp') ?? ''
    if (!verifySendGridSignature(sgKey!, body, sig, ts)) throw new HttpError(401, 'SendGrid signature rejected')
    const maxAge = providers.sendgrid!.maxAgeSeconds ?? 0
    if (maxAge > 0) {
      const t = Number(ts)
      if (!Number.isFinite(t) || Math.abs(now().getTime() / 1000 - t) > maxAge) throw new HttpError(401, 'SendGrid signature too old')
    }
    return normalizeSendGrid(parseJson('sendgrid', body.toString('utf8')))
  }

  function authMailgun(parsed: unknown): string {
    const cfg = providers.mailgun!
    const s = obj(obj(parsed)?.signature)
    const timestamp = str(s?.timestamp)
    const token = str(s?.token)
    const signature = str(s?.signature)
    if (!timestamp || !token || !signature) throw new HttpError(401, 'Mailgun signature missing')
    if (!verifyMailgunSignature(cfg.signingKey, timestamp, token, signature)) throw new HttpError(401, 'Mailgun signature rejected')
    const t = Number(timestamp)
    const nowMs = now().getTime()
    if (!Number.isFinite(t) || Math.abs(nowMs / 1000 - t) > (cfg.maxAgeSeconds ?? 300))
      throw new HttpError(401, 'Mailgun timestamp outside the window')
    if (!mgTokens!.add(token, nowMs)) throw new HttpError(401, 'Mailgun token replayed')
    return token
  }

  function authPostmark(headers: WebhookRequest['headers']): void {
    const cfg = providers.postmark!
    if (cfg.basicAuth && !checkBasicAuth(header(headers, 'authorization'), cfg.basicAuth))
      throw new HttpError(401, 'Postmark basic auth rejected')
    if (cfg.secret !== undefined) {
      const got = header(headers, cfg.secretHeader ?? 'x-webhook-secret')
      if (got === undefined || !safeEqual(got, cfg.secret)) throw new HttpError(401, 'Postmark secret rejected')
    }
  }

  async function process(request: WebhookRequest): Promise<WebhookResponse> {
    const method = (request.method ?? 'POST').toUpperCase()
    if (method !== 'POST') return { ...respond(405, { error: 'method not allowed' }, { allow: 'POST' }), error: 'method not allowed' }
    const name = request.provider ?? options.provider ?? providerFromUrl(request.url)
    const provider = WEBHOOK_PROVIDERS.find((p) => p === name)
    if (!provider || !providers[provider]) return { ...respond(404, { error: 'unknown provider' }), error: 'unknown provider' }
    const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body
    if (!Buffer.isBuffer(body)) return { ...respond(500, { error: 'raw body unavailable' }), error: 'raw body unavailable' }
    if (body.length > maxBodyBytes) return { ...respond(413, { error: 'body too large' }), error: 'body too large' }
    let mailgunToken: string | undefined
    try {
      let result: WebhookResult
      switch (provider) {
        case 'ses':
          result = await handleSes(body, request.headers)
          break
        case 'sendgrid':
          result = await record(handleSendGrid(body, request.headers))
          break
        case 'mailgun': {
          const parsed = parseJson('mailgun', body.toString('utf8'))
          mailgunToken = authMailgun(parsed)
          result = await record(normalizeMailgun(parsed))
          break
        }
        case 'postmark':
          authPostmark(request.headers)
          result = await record(normalizePostmark(parsePostmarkJson(body.toString('utf8'))))
          break
        case 'sparkpost':
          if (!checkBasicAuth(header(request.headers, 'authorization'), providers.sparkpost!.basicAuth))
            throw new HttpError(401, 'SparkPost basic auth rejected')
          result = await record(normalizeSparkPost(parseJson('sparkpost', body.toString('utf8'))))
          break
      }
      return {
        ...respond(200, {
          ok: true,
          recorded: result.recorded,
          duplicates: result.duplicates,
          ignored: result.ignored.length,
          ...(result.subscriptionConfirmed !== undefined ? { subscriptionConfirmed: result.subscriptionConfirmed } : {}),
        }),
        result,
      }
    } catch (err) {
      let status = 500
      let message = 'internal error'
      if (err instanceof HttpError) {
        status = err.status
        message = err.message
      } else if (isBounceGuardError(err) && err.code === 'EWEBHOOK_PAYLOAD') {
        status = 400
        message = err.message
      }
      if (status >= 500) {
        if (mailgunToken) mgTokens!.delete(mailgunToken) // let Mailgun's retry through
        log?.error({ err, provider }, `${PKG} (${provider}): could not record the webhook`)
      } else {
        log?.warn({ provider, status, why: message }, `${PKG} (${provider}): request refused`)
      }
      return { ...respond(status, { error: message }), error: message }
    }
  }

  const handler = (async (req, res) => {
    let response: WebhookResponse
    const pre =
      Buffer.isBuffer(req.rawBody) || typeof req.rawBody === 'string'
        ? req.rawBody
        : Buffer.isBuffer(req.body) || typeof req.body === 'string'
          ? req.body
          : undefined
    try {
      if (pre !== undefined) {
        response = await process({ method: req.method ?? 'POST', url: req.url ?? '', headers: req.headers, body: pre })
      } else if (req.body !== undefined || req.readableEnded) {
        response = {
          ...respond(500, { error: 'raw body unavailable: mount a raw body parser (e.g. express.raw({ type: "*/*" }))' }),
          error: 'raw body unavailable',
        }
        log?.error({}, `${PKG}: the request body was parsed before the webhook handler; signatures need the raw bytes`)
      } else if ((req.method ?? 'POST').toUpperCase() !== 'POST') {
        req.resume()
        response = await process({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers, body: Buffer.alloc(0) })
      } else {
        const read = await readBody(req, maxBodyBytes)
        response =
          read === 'too-large'
            ? { ...respond(413, { error: 'body too large' }, { connection: 'close' }), error: 'body too large' }
            : await process({ method: req.method ?? 'POST', url: req.url ?? '', headers: req.headers, body: read })
      }
    } catch (err) {
      log?.error({ err }, `${PKG}: failed to read the request`)
      if (!res.headersSent) res.destroy()
      return
    }
    if (res.headersSent) return
    res.writeHead(response.status, response.headers)
    res.end(response.body)
  }) as WebhookHandler
  handler.process = process
  return handler
}

/** Read a request body up to `max` bytes; on overflow stop keeping it and drain (bounded) the rest. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    const overflow = () => {
      over = true
      chunks.length = 0
      resolve('too-large')
    }
    if (Number.isFinite(declared) && declared > max) overflow()
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (over) {
        if (size > max * 8 + 1_048_576) req.destroy() // do not drain forever
        return
      }
      if (size > max) {
        overflow()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size))
    })
    req.on('error', (err) => {
      if (!over) reject(err)
    })
    req.on('aborted', () => {
      if (!over) reject(new Error('request aborted'))
    })
  })
}
