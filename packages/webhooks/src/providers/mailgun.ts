/**
 * Mailgun webhooks (the JSON format: `{ signature, "event-data" }`).
 * Reference: https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/ and
 * https://documentation.mailgun.com/docs/mailgun/user-manual/events/
 */
import type { ClassifyContext, DeliveryOutcome } from '@bounce-guard/core'
import { classifyWithFallback, complaintClassification, replyText, type ProviderVerdict } from '../classify-remote.js'
import type { NormalizedWebhook } from '../types.js'
import { date, idPart, num, obj, payloadError, recipientOf, str } from '../util.js'

/** Mailgun `failed` verdicts by `reason` (for suppressions) and by `severity` (fallback). */
export const MAILGUN_VERDICTS: Readonly<Record<string, ProviderVerdict>> = {
  'suppress-bounce': { reason: 'suppressed', permanent: true, scope: 'recipient', ruleId: 'mailgun.suppress-bounce', force: true },
  'suppress-unsubscribe': {
    reason: 'suppressed',
    permanent: true,
    scope: 'recipient',
    ruleId: 'mailgun.suppress-unsubscribe',
    force: true,
  },
  'suppress-complaint': { reason: 'suppressed', permanent: true, scope: 'recipient', ruleId: 'mailgun.suppress-complaint', force: true },
  old: { reason: 'expired', permanent: true, scope: 'network', ruleId: 'mailgun.old', force: true },
  permanent: { reason: 'onhold', permanent: true, scope: 'recipient', ruleId: 'mailgun.permanent' },
  temporary: { reason: 'onhold', permanent: false, scope: 'recipient', ruleId: 'mailgun.temporary' },
}

/**
 * Normalise one Mailgun webhook body (parsed JSON). The signature block is not checked here (see
 * `verifyMailgunSignature`). Throws `EWEBHOOK_PAYLOAD` without an `event-data` object.
 */
export function normalizeMailgun(body: unknown): NormalizedWebhook {
  const b = obj(body)
  const e = obj(b?.['event-data'])
  if (!e) throw payloadError('mailgun', 'the body has no "event-data" object')
  const out: NormalizedWebhook = { provider: 'mailgun', outcomes: [], ignored: [] }
  const event = str(e.event) ?? ''
  const id = str(e.id)
  if (!['failed', 'complained', 'delivered'].includes(event)) {
    out.ignored.push({ event, ...(id ? { id } : {}), why: 'event type carries no delivery outcome' })
    return out
  }
  const rcpt = recipientOf(e.recipient)
  if (!rcpt) {
    out.ignored.push({ event, ...(id ? { id } : {}), why: 'recipient is missing or not an address' })
    return out
  }
  const base: Partial<DeliveryOutcome> = { source: 'webhook', recipient: rcpt }
  const at = date(e.timestamp)
  if (at) base.at = at
  const msg = obj(obj(e.message)?.headers)
  const messageId = str(msg?.['message-id'])
  if (messageId) base.messageId = messageId.startsWith('<') ? messageId : `<${messageId}>`
  const storageKey = str(obj(e.storage)?.key)
  if (storageKey) base.queueId = storageKey
  const sender = str(obj(e.envelope)?.sender)
  if (sender) base.sender = sender
  const tag = Array.isArray(e.tags) ? str(e.tags[0]) : undefined
  if (tag) base.tag = tag
  base.eventId = `mailgun:${id ?? `${messageId ?? 'unknown'}:${event}:${str(e.timestamp) ?? ''}:${idPart(rcpt)}`}`
  const ds = obj(e['delivery-status'])
  const code = num(ds?.code)
  const text = str(ds?.message) || str(ds?.description)
  const attempt = num(ds?.['attempt-no'])
  if (attempt !== undefined) base.attempt = attempt
  const mx = str(ds?.['mx-host'])
  const context: ClassifyContext = {
    recipientDomain: rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase(),
    ...(mx ? { remoteMta: mx } : {}),
  }
  switch (event) {
    case 'delivered': {
      const reply = replyText(text, undefined, code)
      out.outcomes.push({ ...base, type: 'delivered', ...(reply ? { reply } : {}) } as DeliveryOutcome)
      break
    }
    case 'complained':
      out.outcomes.push({ ...base, type: 'complaint', classification: complaintClassification('mailgun') } as DeliveryOutcome)
      break
    case 'failed': {
      const temporary = str(e.severity) === 'temporary'
      const why = str(e.reason) ?? ''
      const verdict = MAILGUN_VERDICTS[why] ?? (temporary ? MAILGUN_VERDICTS.temporary! : MAILGUN_VERDICTS.permanent!)
      // Mailgun's own codes (605 "previously bounced", 607 "too old") are not SMTP codes.
      const reply = replyText(text, str(ds?.['enhanced-code']), code !== undefined && code < 600 ? code : undefined)
      let c = classifyWithFallback(reply, verdict, context)
      if (temporary) c = { ...c, permanent: false, hard: false }
      out.outcomes.push({
        ...base,
        type: temporary ? 'deferred' : 'bounced',
        classification: c,
        context,
        ...(reply ? { reply } : {}),
      } as DeliveryOutcome)
      break
    }
  }
  return out
}
