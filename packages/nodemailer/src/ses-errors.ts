/**
 * Amazon SES answers an API call, not SMTP: a refusal is an AWS SDK error with a `name`
 * (`MessageRejected`, `TooManyRequestsException`, ...), a `message` and `$metadata.httpStatusCode`.
 * This module maps those errors to the core's `BounceClassification` so they are recorded like
 * SMTP replies. The table (also in the README):
 *
 * | SES error | reason | scope | permanent | hard |
 * | --- | --- | --- | --- | --- |
 * | `Throttling`, `ThrottlingException`, `TooManyRequestsException`, `LimitExceededException`, "Maximum sending rate exceeded", "Daily message quota exceeded" | `speeding` | sender | no | no |
 * | `MessageRejected` "Address blacklisted" / "suppression list" / "suppressed" | `suppressed` | recipient | yes | yes (mirrors SES's own suppression) |
 * | `MessageRejected` "not verified" | `authfailure` | sender | yes | no |
 * | `MessageRejected` "virus" | `virusdetected` | message | yes | no |
 * | `MessageRejected` "Illegal address" / "Invalid address" | `syntaxerror` | recipient | yes | no |
 * | `MessageRejected` (other) | `policyviolation` | message | yes | no |
 * | `AccountSuspendedException`, `SendingPausedException` | `policyviolation` | sender | yes | no |
 * | `MailFromDomainNotVerifiedException` | `authfailure` | sender | yes | no |
 * | HTTP 5xx (`InternalFailure`, `ServiceUnavailable`) | `systemerror` | network | no | no |
 * | no HTTP status (socket, DNS, timeout) | `networkerror` | network | no | no |
 * | anything else | `undefined` | message | HTTP 4xx | no |
 *
 * The synthetic reply recorded with each event reads `SES <name>: <message>`; it carries no SMTP code.
 * SES refuses a whole API call: the outcome applies to every envelope recipient, unless the
 * message names some of them, then only to those.
 */
import type { BounceClassification, BounceReason, BounceScope } from '@bounce-guard/core'
import type { RawOutcome } from './send-result.js'

/** The fields of an AWS SDK v3 error the mapping reads. */
interface SesErrorLike {
  name?: string
  code?: string
  Code?: string
  message?: string
  $fault?: string
  $metadata?: { httpStatusCode?: number }
}

/** True when `err` came from the AWS SDK (SES transport): Nodemailer tags those `ESES`. */
export function isSesError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false
  const e = err as SesErrorLike
  return e.code === 'ESES' || (typeof e.$metadata === 'object' && e.$metadata !== null) || e.$fault === 'client' || e.$fault === 'server'
}

const THROTTLE_NAMES = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'LimitExceededException'])
const THROTTLE_TEXT = /maximum sending rate exceeded|daily message quota exceeded|rate exceeded|throttl/i
const SUPPRESSED_TEXT = /address blacklisted|address blocklisted|suppression list|suppressed destination|is suppressed/i
const NOT_VERIFIED_TEXT = /not verified/i
const VIRUS_TEXT = /virus/i
const BAD_ADDRESS_TEXT = /illegal address|invalid address|bad address/i

function cls(reason: BounceReason, scope: BounceScope, permanent: boolean, ruleId: string, hard = false): BounceClassification {
  return { reason, scope, permanent, hard, ruleId, provider: 'ses' }
}

/** Classification of one SES SDK error (see the module table). */
export function classifySesErrorOnce(err: unknown): { classification: BounceClassification; reply: string } {
  const e = (err && typeof err === 'object' ? err : {}) as SesErrorLike
  const name = String(e.name && e.name !== 'Error' ? e.name : (e.Code ?? e.code ?? 'Error'))
  const message = String(e.message ?? '').slice(0, 1000)
  const status = e.$metadata?.httpStatusCode
  const reply = `SES ${name}: ${message}`
  let c: BounceClassification
  if (THROTTLE_NAMES.has(name) || THROTTLE_TEXT.test(message)) c = cls('speeding', 'sender', false, 'ses.throttling')
  else if (name === 'MessageRejected' && SUPPRESSED_TEXT.test(message)) c = cls('suppressed', 'recipient', true, 'ses.suppressed', true)
  else if (name === 'MessageRejected' && NOT_VERIFIED_TEXT.test(message)) c = cls('authfailure', 'sender', true, 'ses.not-verified')
  else if (name === 'MessageRejected' && VIRUS_TEXT.test(message)) c = cls('virusdetected', 'message', true, 'ses.virus')
  else if (name === 'MessageRejected' && BAD_ADDRESS_TEXT.test(message)) c = cls('syntaxerror', 'recipient', true, 'ses.bad-address')
  else if (name === 'MessageRejected') c = cls('policyviolation', 'message', true, 'ses.message-rejected')
  else if (name === 'AccountSuspendedException' || name === 'SendingPausedException')
    c = cls('policyviolation', 'sender', true, 'ses.account-paused')
  else if (name === 'MailFromDomainNotVerifiedException') c = cls('authfailure', 'sender', true, 'ses.mail-from-not-verified')
  else if (typeof status === 'number' && status >= 500) c = cls('systemerror', 'network', false, 'ses.server-error')
  else if (typeof status !== 'number') c = cls('networkerror', 'network', false, 'ses.network')
  else c = cls('undefined', 'message', status >= 400 && status < 500, 'ses.unknown')
  return { classification: c, reply }
}

/** Outcomes of an SES error for the envelope recipients (see the module comment). */
export function classifySesError(err: unknown, envelope: readonly string[]): RawOutcome[] {
  const { classification, reply } = classifySesErrorOnce(err)
  const text = reply.toLowerCase()
  const named = envelope.filter((r) => r.length > 0 && text.includes(r.toLowerCase()))
  const targets = named.length > 0 ? named : envelope
  return targets.map((recipient) => ({
    recipient,
    type: classification.permanent ? 'bounced' : 'deferred',
    reply,
    classification: { ...classification },
  }))
}
