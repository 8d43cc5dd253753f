/**
 * How a provider event becomes a `BounceClassification`: the remote server's reply, when the
 * payload carries it, is classified by the core (it is more precise than any provider's coarse
 * type); the provider's own type is the fallback, and wins only where it knows something the reply
 * cannot say (e.g. "on the provider's suppression list").
 */
import { classifyReply, parseSmtpReply } from '@bounce-guard/core'
import type { BounceClassification, BounceReason, BounceScope, ClassifyContext } from '@bounce-guard/core'

const HARD_REASONS = new Set<BounceReason>(['userunknown', 'hostunknown', 'hasmoved', 'notaccept'])

/** A classification decided by a provider's type rather than by a reply. */
export interface ProviderVerdict {
  reason: BounceReason
  permanent: boolean
  scope: BounceScope
  /** e.g. `ses.permanent.noemail` (prefixed with `webhook.` in the result). */
  ruleId: string
  /** The provider's type is authoritative: a reply does not override it. @default false */
  force?: boolean
}

/** Build a classification from a provider verdict; `hard` follows the core's rule. */
export function fromVerdict(v: ProviderVerdict, from?: BounceClassification): BounceClassification {
  const c: BounceClassification = {
    reason: v.reason,
    hard: v.permanent && HARD_REASONS.has(v.reason),
    permanent: v.permanent,
    scope: v.scope,
    ruleId: `webhook.${v.ruleId}`,
  }
  if (from?.code !== undefined) c.code = from.code
  if (from?.enhancedStatus !== undefined) c.enhancedStatus = from.enhancedStatus
  if (from?.provider !== undefined) c.provider = from.provider
  return c
}

/** Strip a DSN `Diagnostic-Code` type prefix such as `smtp;` (linear-time regex). */
export function stripDiagnosticType(text: string): string {
  return text.replace(/^\s*(?:diagnostic-code:\s*)?(?:smtp|x-postfix|x-unix|x-local)\s*;\s*/i, '')
}

/**
 * Join a status (`5.1.1`) and a diagnostic text into one reply string, unless the text already
 * carries a code. Returns `undefined` when there is neither.
 */
export function replyText(text: string | undefined, status?: string, code?: number): string | undefined {
  const t = text === undefined ? '' : stripDiagnosticType(text).trim()
  const hasCode = /^[245]\d\d[\s-]/.test(t) || /^[245]\d\d$/.test(t)
  const prefix: string[] = []
  if (!hasCode && code !== undefined && code >= 200 && code <= 599) prefix.push(String(code))
  if (status !== undefined && /^[245]\.\d{1,3}\.\d{1,3}$/.test(status) && !t.includes(status)) prefix.push(status)
  const all = [...prefix, t].filter((s) => s.length > 0).join(' ')
  return all.length > 0 ? all : undefined
}

/**
 * Classify a remote reply when there is one, fall back to (or be overridden by) the provider's
 * verdict. A reply the core cannot recognise (`undefined`) never beats a provider's type.
 */
export function classifyWithFallback(reply: string | undefined, verdict: ProviderVerdict, context?: ClassifyContext): BounceClassification {
  let fromReply: BounceClassification | undefined
  if (reply !== undefined && reply.length > 0) {
    try {
      fromReply = classifyReply(parseSmtpReply(reply.slice(0, 8192)), context)
    } catch {
      fromReply = undefined // the core never throws on data; belt and braces
    }
  }
  if (verdict.force || fromReply === undefined || fromReply.reason === 'undefined' || fromReply.reason === 'onhold') {
    return fromVerdict(verdict, fromReply)
  }
  // A delivered-looking reply inside a failure event says nothing about the failure.
  if (fromReply.reason === 'delivered') return fromVerdict(verdict, fromReply)
  return fromReply
}

/** The classification of a complaint (ARF feedback); `feedbackType` goes into the rule id. */
export function complaintClassification(provider: string, feedbackType?: string): BounceClassification {
  const ft =
    (feedbackType ?? 'abuse')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '')
      .slice(0, 40) || 'abuse'
  return { reason: 'feedback', hard: false, permanent: true, scope: 'recipient', ruleId: `webhook.${provider}.complaint.${ft}` }
}
