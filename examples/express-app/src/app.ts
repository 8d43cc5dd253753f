/**
 * An HTTP endpoint that sends mail through Bounce Guard (plain `node:http`, no framework):
 * `POST /send` with JSON `{ "to": "...", "subject": "...", "text": "..." }` answers
 * - 202 when the message was accepted (or a temporary failure was queued for retry),
 * - 422 when the address is suppressed (refused before any SMTP connection) or just bounced hard,
 * - 400 for a malformed request, 503 when the mail server or the store cannot be reached.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isBounceGuardError, type BounceGuard } from '@bounce-guard/core'
import type { BounceGuardSendDetails } from '@bounce-guard/nodemailer'

/** The part of a Nodemailer transporter the app uses. */
export interface Mailer {
  sendMail(mail: {
    from: string
    to: string
    subject: string
    text: string
  }): Promise<{ messageId?: string; bounceGuard?: BounceGuardSendDetails }>
}

/** Options of `createApp`. */
export interface AppOptions {
  transporter: Mailer
  guard: BounceGuard
  /** The From of every message. @default 'app@example.org' */
  from?: string
  /** Largest request body in bytes. @default 65536 */
  maxBodyBytes?: number
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > max) throw Object.assign(new Error('request body too large'), { status: 413 })
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw Object.assign(new Error('the body is not JSON'), { status: 400 })
  }
}

/** Handle `POST /send`. */
async function send(req: IncomingMessage, res: ServerResponse, options: AppOptions): Promise<void> {
  const body = (await readJson(req, options.maxBodyBytes ?? 65_536)) as { to?: unknown; subject?: unknown; text?: unknown }
  if (typeof body?.to !== 'string' || typeof body.subject !== 'string' || typeof body.text !== 'string') {
    return reply(res, 400, { error: 'bad_request', message: 'expected JSON { to, subject, text } (strings)' })
  }
  // Answer early and cheaply: one indexed lookup, no SMTP connection.
  const check = await options.guard.check([body.to])
  if (check.invalid.length) return reply(res, 400, { error: 'bad_address', message: `${body.to} is not an e-mail address` })
  const hit = check.suppressed[0]
  if (hit) {
    return reply(res, 422, {
      error: 'suppressed',
      recipient: hit.normalized,
      reason: hit.suppression.reason,
      since: hit.suppression.createdAt,
    })
  }
  try {
    const info = await options.transporter.sendMail({
      from: options.from ?? 'app@example.org',
      to: body.to,
      subject: body.subject,
      text: body.text,
    })
    const outcome = info.bounceGuard?.outcomes[0]
    return reply(res, 202, { status: outcome?.type ?? 'sent', messageId: info.messageId, retryAt: info.bounceGuard?.retry?.dueAt })
  } catch (err) {
    const details = (err as { bounceGuard?: BounceGuardSendDetails }).bounceGuard
    const outcome = details?.outcomes[0]
    if (isBounceGuardError(err) && err.code === 'ESUPPRESSED') {
      return reply(res, 422, { error: 'suppressed', recipient: body.to })
    }
    if (outcome?.type === 'deferred') {
      return reply(res, 202, { status: 'deferred', retryAt: details?.retry?.dueAt, reason: outcome.classification?.reason })
    }
    if (outcome?.type === 'bounced') {
      const c = outcome.classification
      // A hard bounce is about the address: the caller should fix it. Anything else is ours to fix.
      return reply(res, c?.hard ? 422 : 502, {
        error: c?.hard ? 'undeliverable' : 'refused',
        recipient: outcome.recipient,
        reason: c?.reason,
        scope: c?.scope,
      })
    }
    return reply(res, 503, { error: 'unavailable', message: (err as Error).message })
  }
}

/** The HTTP server (not listening yet). */
export function createApp(options: AppOptions): Server {
  return createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/send') return reply(res, 404, { error: 'not_found' })
    send(req, res, options).catch((err: { status?: number; message?: string }) => {
      if (!res.headersSent) reply(res, err.status ?? 500, { error: 'error', message: err.message ?? String(err) })
    })
  })
}
