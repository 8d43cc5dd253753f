/**
 * SparkPost (Bird) webhooks: a JSON array of `{ msys: { message_event: {...} } }` batches.
 * Reference: https://developers.sparkpost.com/api/webhooks/ (event samples) and
 * https://support.sparkpost.com/docs/deliverability/bounce-classification-codes
 */
import type { ClassifyContext, DeliveryOutcome, EventType } from '@bounce-guard/core'
import { classifyWithFallback, complaintClassification, replyText, type ProviderVerdict } from '../classify-remote.js'
import type { NormalizedWebhook } from '../types.js'
import { date, idPart, num, obj, payloadError, recipientOf, str } from '../util.js'

const v = (
  reason: ProviderVerdict['reason'],
  permanent: boolean,
  scope: ProviderVerdict['scope'],
  code: number,
  force = false,
): ProviderVerdict => ({ reason, permanent, scope, ruleId: `sparkpost.class-${code}`, force })

/** SparkPost `bounce_class` -> verdict used when `raw_reason` does not decide. */
export const SPARKPOST_BOUNCE_CLASSES: Readonly<Record<number, ProviderVerdict & { type?: EventType }>> = {
  1: v('onhold', false, 'recipient', 1),
  10: v('userunknown', true, 'recipient', 10),
  20: v('onhold', false, 'recipient', 20),
  21: v('networkerror', false, 'domain', 21),
  22: v('mailboxfull', false, 'recipient', 22),
  23: v('mesgtoobig', false, 'message', 23),
  24: v('networkerror', false, 'network', 24),
  25: v('suppressed', true, 'recipient', 25, true),
  30: v('onhold', true, 'recipient', 30),
  40: v('onhold', false, 'recipient', 40),
  50: v('blocked', true, 'sender', 50),
  51: v('blocked', true, 'sender', 51),
  52: v('spamdetected', true, 'message', 52),
  53: v('policyviolation', true, 'message', 53),
  54: v('norelaying', true, 'sender', 54),
  60: { ...v('vacation', false, 'recipient', 60, true), type: 'auto-reply' },
  70: v('onhold', false, 'recipient', 70),
  90: v('suppressed', true, 'recipient', 90, true),
  100: { ...v('onhold', false, 'recipient', 100, true), type: 'auto-reply' },
}

const UNKNOWN_CLASS = v('onhold', false, 'recipient', 0)

/**
 * Normalise a SparkPost webhook batch (parsed JSON array). Throws `EWEBHOOK_PAYLOAD` when the body
 * is not an array. SparkPost's "ping" batch (`[{"msys":{}}]`) yields nothing.
 */
export function normalizeSparkPost(body: unknown): NormalizedWebhook {
  if (!Array.isArray(body)) throw payloadError('sparkpost', 'the body is not a JSON array')
  const out: NormalizedWebhook = { provider: 'sparkpost', outcomes: [], ignored: [] }
  for (const item of body) {
    const msys = obj(obj(item)?.msys)
    if (!msys) {
      out.ignored.push({ why: 'element has no msys object' })
      continue
    }
    const e = obj(msys.message_event)
    if (!e) {
      const other = Object.keys(msys)[0]
      out.ignored.push({ ...(other ? { event: other } : {}), why: 'not a message event' })
      continue
    }
    const event = str(e.type) ?? ''
    const id = str(e.event_id)
    if (!['bounce', 'out_of_band', 'spam_complaint', 'delay', 'delivery'].includes(event)) {
      out.ignored.push({ event, ...(id ? { id } : {}), why: 'event type carries no delivery outcome' })
      continue
    }
    const rcpt = recipientOf(e.rcpt_to) ?? recipientOf(e.raw_rcpt_to)
    if (!rcpt) {
      out.ignored.push({ event, ...(id ? { id } : {}), why: 'rcpt_to is missing or not an address' })
      continue
    }
    const base: Partial<DeliveryOutcome> = { source: 'webhook', recipient: rcpt }
    const at = date(e.timestamp)
    if (at) base.at = at
    const msgId = str(e.message_id)
    if (msgId) base.queueId = msgId
    const sender = str(e.msg_from) ?? str(e.friendly_from)
    if (sender) base.sender = sender
    const tag = str(e.campaign_id)
    if (tag) base.tag = tag
    base.eventId = `sparkpost:${id ?? `${msgId ?? 'unknown'}:${event}:${str(e.timestamp) ?? ''}:${idPart(rcpt)}`}`
    const attempt = num(e.num_retries)
    const context: ClassifyContext = { recipientDomain: rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase() }
    switch (event) {
      case 'delivery': {
        const reply = str(e.raw_reason)
        out.outcomes.push({ ...base, type: 'delivered', ...(reply ? { reply } : {}) } as DeliveryOutcome)
        break
      }
      case 'spam_complaint':
        out.outcomes.push({
          ...base,
          type: 'complaint',
          classification: complaintClassification('sparkpost', str(e.fbtype)),
        } as DeliveryOutcome)
        break
      default: {
        const cls = num(e.bounce_class)
        const verdict = (cls !== undefined ? SPARKPOST_BOUNCE_CLASSES[cls] : undefined) ?? UNKNOWN_CLASS
        const reply = replyText(str(e.raw_reason) ?? str(e.reason), undefined, num(e.error_code))
        let c = classifyWithFallback(reply, verdict, context)
        const isDelay = event === 'delay'
        if (isDelay) c = { ...c, permanent: false, hard: false }
        const type: EventType = isDelay ? 'deferred' : (SPARKPOST_BOUNCE_CLASSES[cls ?? -1]?.type ?? 'bounced')
        out.outcomes.push({
          ...base,
          type,
          classification: c,
          context,
          ...(reply ? { reply } : {}),
          ...(isDelay && attempt !== undefined ? { attempt: attempt + 1 } : {}),
        } as DeliveryOutcome)
      }
    }
  }
  return out
}
