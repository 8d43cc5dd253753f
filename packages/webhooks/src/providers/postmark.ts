/**
 * Postmark webhooks: one JSON object per request, `RecordType` = Bounce | SpamComplaint | Delivery | ...
 * Reference: https://postmarkapp.com/developer/webhooks/bounce-webhook,
 * https://postmarkapp.com/developer/webhooks/spam-complaint-webhook,
 * https://postmarkapp.com/developer/webhooks/delivery-webhook, and the bounce type table of
 * https://postmarkapp.com/developer/api/bounce-api
 */
import type { ClassifyContext, DeliveryOutcome, EventType } from '@bounce-guard/core'
import { classifyWithFallback, complaintClassification, replyText, type ProviderVerdict } from '../classify-remote.js'
import type { NormalizedWebhook } from '../types.js'
import { date, idPart, obj, parseJson, payloadError, recipientOf, str } from '../util.js'

/** A Postmark bounce type: the event type it becomes, and the verdict when `Details` does not decide. */
export interface PostmarkTypeMapping {
  type: EventType
  verdict: ProviderVerdict
}

const v = (
  reason: ProviderVerdict['reason'],
  permanent: boolean,
  scope: ProviderVerdict['scope'],
  name: string,
  force = false,
): ProviderVerdict => ({ reason, permanent, scope, ruleId: `postmark.${name}`, force })

/** Postmark bounce `Type` -> mapping. Types not listed (Subscribe, Unsubscribe, OpenRelayTest, InboundError, ...) are ignored. */
export const POSTMARK_TYPES: Readonly<Record<string, PostmarkTypeMapping>> = {
  HardBounce: { type: 'bounced', verdict: v('userunknown', true, 'recipient', 'hardbounce') },
  Transient: { type: 'deferred', verdict: v('onhold', false, 'recipient', 'transient') },
  AutoResponder: { type: 'auto-reply', verdict: v('vacation', false, 'recipient', 'autoresponder', true) },
  AddressChange: { type: 'auto-reply', verdict: v('hasmoved', false, 'recipient', 'addresschange', true) },
  DnsError: { type: 'bounced', verdict: v('networkerror', false, 'network', 'dnserror') },
  SpamNotification: { type: 'bounced', verdict: v('spamdetected', true, 'message', 'spamnotification') },
  Unknown: { type: 'bounced', verdict: v('onhold', false, 'recipient', 'unknown') },
  SoftBounce: { type: 'bounced', verdict: v('mailboxfull', false, 'recipient', 'softbounce') },
  VirusNotification: { type: 'bounced', verdict: v('virusdetected', true, 'message', 'virusnotification') },
  ChallengeVerification: { type: 'auto-reply', verdict: v('onhold', false, 'recipient', 'challengeverification', true) },
  BadEmailAddress: { type: 'bounced', verdict: v('userunknown', true, 'recipient', 'bademailaddress', true) },
  SpamComplaint: { type: 'complaint', verdict: v('feedback', true, 'recipient', 'spamcomplaint', true) },
  ManuallyDeactivated: { type: 'bounced', verdict: v('suppressed', true, 'recipient', 'manuallydeactivated', true) },
  Blocked: { type: 'bounced', verdict: v('blocked', true, 'sender', 'blocked') },
  SMTPApiError: { type: 'bounced', verdict: v('syntaxerror', true, 'message', 'smtpapierror') },
  DMARCPolicy: { type: 'bounced', verdict: v('authfailure', true, 'sender', 'dmarcpolicy') },
  TemplateRenderingFailed: { type: 'bounced', verdict: v('contenterror', true, 'message', 'templaterenderingfailed', true) },
}

/**
 * Normalise one Postmark webhook body (parsed JSON). Throws `EWEBHOOK_PAYLOAD` when it is not an
 * object with a `RecordType`.
 */
export function normalizePostmark(body: unknown): NormalizedWebhook {
  const b = obj(body)
  const recordType = str(b?.RecordType)
  if (!b || !recordType) throw payloadError('postmark', 'the body is not an object with a RecordType')
  const out: NormalizedWebhook = { provider: 'postmark', outcomes: [], ignored: [] }
  const id = str(b.ID)
  const ignore = (why: string, event = recordType) => {
    out.ignored.push({ event, ...(id ? { id } : {}), why })
    return out
  }
  if (!['Bounce', 'SpamComplaint', 'Delivery'].includes(recordType)) return ignore('record type carries no delivery outcome')
  const rcpt = recipientOf(recordType === 'Delivery' ? b.Recipient : b.Email)
  if (!rcpt) return ignore('recipient is missing or not an address')
  const base: Partial<DeliveryOutcome> = { source: 'webhook', recipient: rcpt }
  const messageId = str(b.MessageID)
  if (messageId) base.queueId = messageId
  const tag = str(b.Tag)
  if (tag) base.tag = tag
  const from = str(b.From)
  if (from) base.sender = from
  const details = str(b.Details)
  if (recordType === 'Delivery') {
    const at = date(b.DeliveredAt)
    out.outcomes.push({
      ...base,
      type: 'delivered',
      ...(at ? { at } : {}),
      ...(details ? { reply: details } : {}),
      eventId: `postmark:delivery:${messageId ?? 'unknown'}:${idPart(rcpt)}`,
    } as DeliveryOutcome)
    return out
  }
  const at = date(b.BouncedAt)
  if (at) base.at = at
  if (recordType === 'SpamComplaint') {
    out.outcomes.push({
      ...base,
      type: 'complaint',
      classification: complaintClassification('postmark'),
      eventId: `postmark:complaint:${id ?? messageId ?? 'unknown'}:${idPart(rcpt)}`,
    } as DeliveryOutcome)
    return out
  }
  const type = str(b.Type) ?? 'Unknown'
  const mapping = POSTMARK_TYPES[type]
  if (!mapping) return ignore(`bounce type ${type} is not about delivery to this recipient`, `Bounce/${type}`)
  const reply = replyText(details)
  const context: ClassifyContext = { recipientDomain: rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase() }
  let classification = classifyWithFallback(reply, mapping.verdict, context)
  if (mapping.type === 'deferred') classification = { ...classification, permanent: false, hard: false }
  out.outcomes.push({
    ...base,
    type: mapping.type,
    classification,
    context,
    ...(reply ? { reply } : {}),
    eventId: `postmark:${mapping.type === 'complaint' ? 'complaint' : 'bounce'}:${id ?? messageId ?? 'unknown'}:${idPart(rcpt)}`,
  } as DeliveryOutcome)
  return out
}

/**
 * Parse a Postmark body, keeping a 64-bit `ID` exact: Postmark's bounce ids can exceed 2^53, and
 * `JSON.parse` would round them, so two bounces could share an event id. Long numeric `ID`
 * values are turned into strings before parsing. Throws `EWEBHOOK_PAYLOAD` on bad JSON.
 */
export function parsePostmarkJson(text: string): unknown {
  return parseJson('postmark', text.replace(/"ID"(\s*):(\s*)(-?\d{16,24})(?=\s*[,}])/g, '"ID"$1:$2"$3"'))
}
