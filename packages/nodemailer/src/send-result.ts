/**
 * Maps what a Nodemailer transport answered (an `info` or an error object) to one outcome per
 * envelope recipient. This is the only place that reads Nodemailer's result fields
 * (`accepted`, `rejected`, `rejectedErrors`, `response`, `responseCode`, `command`, `code`).
 */
import type { BounceClassification, ClassifyContext } from '@bounce-guard/core'
import { classifySesError, isSesError } from './ses-errors.js'

/** An outcome before the guard classified and recorded it. */
export interface RawOutcome {
  /** The recipient as it appeared in the envelope. */
  recipient: string
  type: 'delivered' | 'deferred' | 'bounced'
  reply?: string
  /** Set when the adapter classifies itself (network errors without a reply, SES API errors). */
  classification?: BounceClassification
  context?: ClassifyContext
}

/** The parts of a Nodemailer error object the adapter reads. */
export interface NodemailerErrorLike {
  message?: string
  code?: string
  response?: string
  responseCode?: number
  command?: string
  recipient?: string
  rejected?: unknown
  rejectedErrors?: NodemailerErrorLike[]
  name?: string
}

/** Nodemailer error codes that say nothing about the recipients: nothing is recorded for them. */
const NOT_A_DELIVERY_OUTCOME = new Set([
  'EABORT',
  'ECONFIG',
  'EAUTH',
  'ENOAUTH',
  'EOAUTH2',
  'ESTREAM',
  'EFILEACCESS',
  'EURLACCESS',
  'EMAXRECIPIENTS',
  'EOTP',
  'EFETCH',
])

/** Errors of the path to the server rather than answers from it. */
const NETWORK_CODES: Record<string, { reason: BounceClassification['reason']; ruleId: string }> = {
  ESOCKET: { reason: 'networkerror', ruleId: 'nodemailer.socket' },
  ETIMEDOUT: { reason: 'networkerror', ruleId: 'nodemailer.timeout' },
  EDNS: { reason: 'networkerror', ruleId: 'nodemailer.dns' },
  ECONNECTION: { reason: 'networkerror', ruleId: 'nodemailer.connection' },
  EPROXY: { reason: 'networkerror', ruleId: 'nodemailer.proxy' },
  ETLS: { reason: 'failedstarttls', ruleId: 'nodemailer.tls' },
  EREQUIRETLS: { reason: 'securityerror', ruleId: 'nodemailer.requiretls' },
  EPROTOCOL: { reason: 'systemerror', ruleId: 'nodemailer.protocol' },
}

const LEADING_CODE = /^([2-5])\d\d[ -]/
const ENHANCED = /(?:^|\s)([245])\.\d{1,3}\.\d{1,3}(?=\s|$)/

/** 2 (ok), 4 (transient), 5 (permanent) or undefined, from a reply code or its text. */
export function replyClass(code: number | undefined, reply: string | undefined): 2 | 4 | 5 | undefined {
  if (typeof code === 'number' && code >= 200 && code < 600) {
    if (code === 503) return 4 // bad sequence: a new connection may succeed (Nodemailer agrees)
    const c = Math.floor(code / 100)
    return c === 2 ? 2 : c === 5 ? 5 : c === 4 ? 4 : undefined
  }
  if (typeof reply !== 'string') return undefined
  const head = reply.slice(0, 512)
  const m = LEADING_CODE.exec(head) ?? ENHANCED.exec(head)
  const d = m?.[1]
  return d === '2' ? 2 : d === '4' ? 4 : d === '5' ? 5 : undefined
}

/** Maps Nodemailer's `err.command` to the core's `ClassifyContext['command']`. */
export function commandOf(command: string | undefined): ClassifyContext['command'] | undefined {
  switch (command) {
    case 'RCPT TO':
      return 'RCPT'
    case 'MAIL FROM':
      return 'MAIL'
    case 'DATA':
      return 'DATA'
    case 'CONN':
      return 'CONN'
    case 'EHLO':
    case 'HELO':
    case 'STARTTLS':
      return command
    default:
      return undefined
  }
}

function domainOfRaw(address: string): string | undefined {
  const at = address.lastIndexOf('@')
  return at > 0 ? address.slice(at + 1).toLowerCase() : undefined
}

function contextFor(recipient: string, command: string | undefined): ClassifyContext {
  const ctx: ClassifyContext = {}
  const d = domainOfRaw(recipient)
  if (d) ctx.recipientDomain = d
  const c = commandOf(command)
  if (c) ctx.command = c
  return ctx
}

function typeFor(code: number | undefined, reply: string | undefined): 'deferred' | 'bounced' {
  return replyClass(code, reply) === 5 ? 'bounced' : 'deferred'
}

function addressOf(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry
  if (entry && typeof entry === 'object' && typeof (entry as { address?: unknown }).address === 'string') {
    return (entry as { address: string }).address
  }
  return undefined
}

function sameAddress(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase()
}

/** A classification for a failure that carries no reply (socket, DNS, TLS, timeout). */
function networkClassification(code: string): BounceClassification | undefined {
  const n = NETWORK_CODES[code]
  if (!n) return undefined
  return { reason: n.reason, hard: false, permanent: false, scope: 'network', ruleId: n.ruleId }
}

/** Outcomes for the RCPT rejections listed in `rejectedErrors` (and `rejected` without an entry). */
function rcptRejections(source: NodemailerErrorLike | Record<string, unknown>, envelope: readonly string[]): RawOutcome[] {
  const out: RawOutcome[] = []
  const seen = new Set<string>()
  const errors = Array.isArray((source as NodemailerErrorLike).rejectedErrors)
    ? ((source as NodemailerErrorLike).rejectedErrors as NodemailerErrorLike[])
    : []
  for (const e of errors) {
    if (!e || typeof e !== 'object') continue
    const recipient = typeof e.recipient === 'string' ? e.recipient : undefined
    if (!recipient || seen.has(recipient.toLowerCase())) continue
    seen.add(recipient.toLowerCase())
    const reply = typeof e.response === 'string' ? e.response : undefined
    const code = typeof e.responseCode === 'number' ? e.responseCode : undefined
    const item: RawOutcome = { recipient, type: typeFor(code, reply), context: contextFor(recipient, e.command ?? 'RCPT TO') }
    if (reply !== undefined) item.reply = reply
    else item.classification = networkClassification(e.code ?? '') ?? undefined
    if (item.classification === undefined) delete item.classification
    out.push(item)
  }
  const rejected = Array.isArray((source as NodemailerErrorLike).rejected) ? ((source as NodemailerErrorLike).rejected as unknown[]) : []
  for (const r of rejected) {
    const recipient = addressOf(r)
    if (!recipient || seen.has(recipient.toLowerCase())) continue
    if (!envelope.some((e) => sameAddress(e, recipient))) continue
    seen.add(recipient.toLowerCase())
    // Rejected without its own reply: we know it failed at RCPT, not how.
    out.push({ recipient, type: 'deferred', context: contextFor(recipient, 'RCPT TO'), reply: 'RCPT TO rejected without a reply' })
  }
  return out
}

/**
 * Outcomes of a successful send: `delivered` for `info.accepted` (every envelope recipient when
 * the transport reports no `accepted` list, as SES, stream and JSON transports do), and one
 * outcome per RCPT rejection in `info.rejectedErrors`.
 */
export function outcomesFromInfo(info: unknown, envelope: readonly string[]): RawOutcome[] {
  const i = (info && typeof info === 'object' ? info : {}) as Record<string, unknown>
  // The common case (no RCPT rejection) builds no set and no intermediate lists.
  const anyRejected =
    (Array.isArray(i.rejectedErrors) && i.rejectedErrors.length > 0) || (Array.isArray(i.rejected) && i.rejected.length > 0)
  const rejections = anyRejected ? rcptRejections(i, envelope) : []
  const failed = rejections.length > 0 ? new Set(rejections.map((r) => r.recipient.toLowerCase())) : undefined
  const list: readonly unknown[] = Array.isArray(i.accepted) ? (i.accepted as unknown[]) : envelope
  const reply = typeof i.response === 'string' ? i.response : undefined
  const out: RawOutcome[] = []
  for (const entry of list) {
    const recipient = list === envelope ? (entry as string) : addressOf(entry)
    if ((list !== envelope && !recipient) || (failed && failed.has((recipient as string).toLowerCase()))) continue
    // No classify context: the guard does not classify deliveries.
    const o: RawOutcome = { recipient: recipient as string, type: 'delivered' }
    if (reply !== undefined) o.reply = reply
    out.push(o)
  }
  for (const r of rejections) out.push(r)
  return out
}

/**
 * Outcomes of a failed send. RCPT rejections (`rejectedErrors`) are classified one by one; a
 * failure at MAIL FROM, after DATA or of the connection applies to every envelope recipient.
 * Returns an empty list for errors that say nothing about the recipients (abort, configuration,
 * authentication to the relay, unreadable content).
 */
export function outcomesFromError(err: unknown, envelope: readonly string[]): RawOutcome[] {
  if (!err || typeof err !== 'object') return []
  const e = err as NodemailerErrorLike
  if (isSesError(err)) {
    const ses = classifySesError(err, envelope)
    return ses
  }
  if (typeof e.code === 'string' && NOT_A_DELIVERY_OUTCOME.has(e.code)) return []
  if (Array.isArray(e.rejectedErrors) && e.rejectedErrors.length > 0) {
    return rcptRejections(e, envelope)
  }
  const reply = typeof e.response === 'string' && e.response.length > 0 ? e.response : undefined
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined
  const classification = reply === undefined ? networkClassification(e.code ?? '') : undefined
  if (reply === undefined && classification === undefined) {
    // An error we cannot place (a third-party transport's own error): keep its text as the reply,
    // the classifier decides (usually reason "undefined", transient).
    const text = `${e.code ?? e.name ?? 'Error'}: ${String(e.message ?? '').slice(0, 1000)}`
    return envelope.map((recipient) => ({ recipient, type: 'deferred' as const, reply: text, context: contextFor(recipient, e.command) }))
  }
  return envelope.map((recipient) => {
    const o: RawOutcome = {
      recipient,
      type: reply === undefined ? 'deferred' : typeFor(code, reply),
      context: contextFor(recipient, e.command),
    }
    if (reply !== undefined) o.reply = reply
    if (classification) o.classification = classification
    return o
  })
}
