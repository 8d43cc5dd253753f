/**
 * SendGrid (Twilio) Event Webhook: a JSON array of events.
 * Reference: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 */
import type { ClassifyContext, DeliveryOutcome } from '@bounce-guard/core'
import { classifyWithFallback, complaintClassification, fromVerdict, replyText, type ProviderVerdict } from '../classify-remote.js'
import type { NormalizedWebhook } from '../types.js'
import { date, idPart, num, obj, payloadError, recipientOf, str } from '../util.js'

/** SendGrid `bounce_classification` -> verdict used when the reason text does not decide. */
export const SENDGRID_BOUNCE_VERDICTS: Readonly<Record<string, ProviderVerdict>> = {
  'Invalid Address': { reason: 'userunknown', permanent: true, scope: 'recipient', ruleId: 'sendgrid.invalid-address' },
  'Mailbox Unavailable': { reason: 'suspend', permanent: false, scope: 'recipient', ruleId: 'sendgrid.mailbox-unavailable' },
  'Technical Failure': { reason: 'systemerror', permanent: false, scope: 'domain', ruleId: 'sendgrid.technical-failure' },
  Reputation: { reason: 'badreputation', permanent: true, scope: 'sender', ruleId: 'sendgrid.reputation' },
  Content: { reason: 'spamdetected', permanent: true, scope: 'message', ruleId: 'sendgrid.content' },
  'Frequency or Volume Too High': { reason: 'ratelimited', permanent: false, scope: 'sender', ruleId: 'sendgrid.frequency' },
  Unclassified: { reason: 'onhold', permanent: true, scope: 'recipient', ruleId: 'sendgrid.unclassified' },
}

/** SendGrid `dropped` reasons -> verdict (SendGrid did not attempt delivery). */
export const SENDGRID_DROP_VERDICTS: Readonly<Record<string, ProviderVerdict>> = {
  'Bounced Address': { reason: 'suppressed', permanent: true, scope: 'recipient', ruleId: 'sendgrid.dropped.bounced-address', force: true },
  'Unsubscribed Address': {
    reason: 'suppressed',
    permanent: true,
    scope: 'recipient',
    ruleId: 'sendgrid.dropped.unsubscribed-address',
    force: true,
  },
  'Spam Reporting Address': {
    reason: 'suppressed',
    permanent: true,
    scope: 'recipient',
    ruleId: 'sendgrid.dropped.spam-reporting-address',
    force: true,
  },
  'Invalid Address': { reason: 'suppressed', permanent: true, scope: 'recipient', ruleId: 'sendgrid.dropped.invalid-address', force: true },
  Invalid: { reason: 'userunknown', permanent: true, scope: 'recipient', ruleId: 'sendgrid.dropped.invalid', force: true },
  'Invalid SMTPAPI header': {
    reason: 'contenterror',
    permanent: true,
    scope: 'message',
    ruleId: 'sendgrid.dropped.invalid-smtpapi',
    force: true,
  },
  'Spam Content (if spam checker app enabled)': {
    reason: 'spamdetected',
    permanent: true,
    scope: 'message',
    ruleId: 'sendgrid.dropped.spam-content',
    force: true,
  },
}

const BLOCKED: ProviderVerdict = { reason: 'blocked', permanent: true, scope: 'sender', ruleId: 'sendgrid.blocked' }
const BOUNCE: ProviderVerdict = { reason: 'onhold', permanent: true, scope: 'recipient', ruleId: 'sendgrid.bounce' }
const DEFERRED: ProviderVerdict = { reason: 'onhold', permanent: false, scope: 'recipient', ruleId: 'sendgrid.deferred' }
const DROPPED: ProviderVerdict = { reason: 'onhold', permanent: false, scope: 'message', ruleId: 'sendgrid.dropped.other', force: true }

/**
 * Normalise a SendGrid Event Webhook body (the parsed JSON array). Throws `EWEBHOOK_PAYLOAD` when
 * the body is not an array; an odd element is listed in `ignored`, not fatal.
 */
export function normalizeSendGrid(body: unknown): NormalizedWebhook {
  if (!Array.isArray(body)) throw payloadError('sendgrid', 'the body is not a JSON array of events')
  const out: NormalizedWebhook = { provider: 'sendgrid', outcomes: [], ignored: [] }
  for (const item of body) {
    const e = obj(item)
    const event = str(e?.event)
    if (!e || !event) {
      out.ignored.push({ why: 'element is not an event object' })
      continue
    }
    const sgId = str(e.sg_event_id)
    const rcpt = recipientOf(e.email)
    if (!['bounce', 'blocked', 'dropped', 'deferred', 'spamreport', 'delivered'].includes(event)) {
      out.ignored.push({ event, ...(sgId ? { id: sgId } : {}), why: 'event type carries no delivery outcome' })
      continue
    }
    if (!rcpt) {
      out.ignored.push({ event, ...(sgId ? { id: sgId } : {}), why: 'email is missing or not an address' })
      continue
    }
    const at = date(e.timestamp)
    const base: Partial<DeliveryOutcome> = { source: 'webhook', recipient: rcpt }
    if (at) base.at = at
    const smtpId = str(e['smtp-id'])
    if (smtpId) base.messageId = smtpId
    const sgMsg = str(e.sg_message_id)
    if (sgMsg) base.queueId = sgMsg
    const category = Array.isArray(e.category) ? str(e.category[0]) : str(e.category)
    if (category) base.tag = category
    base.eventId = `sendgrid:${sgId ?? `${sgMsg ?? 'unknown'}:${event}:${str(e.timestamp) ?? ''}:${idPart(rcpt)}`}`
    const context: ClassifyContext = { recipientDomain: rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase() }
    const status = str(e.status)
    switch (event) {
      case 'delivered': {
        const reply = str(e.response)
        out.outcomes.push({ ...base, type: 'delivered', ...(reply ? { reply } : {}) } as DeliveryOutcome)
        break
      }
      case 'deferred': {
        const reply = replyText(str(e.response), status)
        const attempt = num(e.attempt)
        const c = classifyWithFallback(reply, DEFERRED, context)
        out.outcomes.push({
          ...base,
          type: 'deferred',
          classification: { ...c, permanent: false, hard: false },
          context,
          ...(reply ? { reply } : {}),
          ...(attempt !== undefined ? { attempt } : {}),
        } as DeliveryOutcome)
        break
      }
      case 'bounce':
      case 'blocked': {
        const blocked = event === 'blocked' || str(e.type) === 'blocked'
        const cls = str(e.bounce_classification)
        const verdict = (cls ? SENDGRID_BOUNCE_VERDICTS[cls] : undefined) ?? (blocked ? BLOCKED : BOUNCE)
        const reply = replyText(str(e.reason), status)
        out.outcomes.push({
          ...base,
          type: 'bounced',
          classification: classifyWithFallback(reply, verdict, context),
          context,
          ...(reply ? { reply } : {}),
        } as DeliveryOutcome)
        break
      }
      case 'dropped': {
        const why = str(e.reason) ?? ''
        const verdict = SENDGRID_DROP_VERDICTS[why] ?? DROPPED
        out.outcomes.push({
          ...base,
          type: 'bounced',
          classification: fromVerdict(verdict),
          ...(why ? { reply: why } : {}),
        } as DeliveryOutcome)
        break
      }
      case 'spamreport':
        out.outcomes.push({ ...base, type: 'complaint', classification: complaintClassification('sendgrid') } as DeliveryOutcome)
        break
    }
  }
  return out
}
