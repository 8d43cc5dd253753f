/**
 * Turning what a bounce says about one recipient into a `BounceClassification`: build the
 * `SmtpReply` from the diagnostic text and the DSN status, ask `classifyReply`, then apply the
 * reasons only the message's structure can tell (`delivered`, `expired`, `feedback`, `vacation`,
 * `onhold`/`undefined`).
 */
import { classifyReply } from '../classify.js'
import { parseSmtpReply } from '../smtp-reply.js'
import type { BounceClassification, BounceReason, ClassifyContext, SmtpReply } from '../types.js'
import { statusOf } from './fields.js'

/** What the parser knows about one recipient before classification. */
export interface RecipientFacts {
  recipient: string
  action?: string
  status?: string
  diagnostic?: string
  remoteMta?: string
}

/** A classification the parser decides by itself (no reply text involved). */
export function fixedClassification(reason: BounceReason, ruleId: string, extra: Partial<BounceClassification> = {}): BounceClassification {
  const scope = reason === 'feedback' || reason === 'vacation' || reason === 'delivered' ? 'recipient' : reason === 'expired' ? 'network' : 'recipient'
  return { reason, hard: false, permanent: false, scope, ruleId, ...extra }
}

/** Strip the `smtp;` / `X-Postfix;` type from a Diagnostic-Code value. */
function diagnosticText(d: string): string {
  const m = /^[ \t]*(?:smtp|x-[a-z0-9-]{1,40}|unix|mailbox|x400|x-unix)[ \t]*;[ \t]*/i.exec(d)
  return m ? d.slice(m[0].length) : d
}

/** True when a status is a generic one (`x.0.0`) that says little. */
function generic(status: string | undefined): boolean {
  return status === undefined || /^[245]\.0\.0$/.test(status)
}

/**
 * Classify one recipient of a bounce.
 * @param facts - recipient, action, status, diagnostic text, remote MTA
 */
export function classifyRecipient(facts: RecipientFacts): BounceClassification {
  const action = facts.action?.toLowerCase()
  const status = statusOf(facts.status)
  if (action === 'delivered' || action === 'relayed' || action === 'expanded' || (status?.startsWith('2.') && action !== 'failed')) {
    const c = fixedClassification('delivered', 'bounce.delivered', { permanent: false })
    if (status) c.enhancedStatus = status
    return c
  }
  const diag = facts.diagnostic ? diagnosticText(facts.diagnostic) : ''
  const parsed: SmtpReply = diag ? parseSmtpReply(diag) : { text: '', raw: '' }
  const reply: SmtpReply = { ...parsed }
  if (status && (generic(reply.enhancedStatus) || !reply.enhancedStatus)) {
    // The DSN's Status is more specific than (or the only) status in the text.
    if (!generic(status) || !reply.enhancedStatus) reply.enhancedStatus = status
  }
  if (!reply.raw) reply.raw = facts.status ?? ''
  const context: ClassifyContext = {}
  const at = facts.recipient.lastIndexOf('@')
  if (at > 0) context.recipientDomain = facts.recipient.slice(at + 1).toLowerCase()
  if (facts.remoteMta) context.remoteMta = facts.remoteMta
  let c: BounceClassification
  try {
    c = classifyReply(reply, context)
  } catch {
    c = fixedClassification('undefined', 'bounce.classifier-error')
  }
  if (action === 'delayed' && (c.reason === 'undefined' || c.reason === 'onhold')) {
    c = { ...c, reason: 'expired', hard: false, scope: 'network', ruleId: 'bounce.delayed' }
  }
  if (c.reason === 'undefined' && (reply.text.trim().length > 0 || reply.enhancedStatus || reply.code)) {
    c = { ...c, reason: 'onhold', hard: false, ruleId: c.ruleId || 'bounce.onhold' }
  }
  return c
}
