/**
 * Amazon SES notifications (the `Message` inside an SNS envelope), both formats:
 * - notification format (identity feedback): `notificationType` = Bounce | Complaint | Delivery;
 * - event publishing (configuration sets): `eventType` = Bounce | Complaint | Delivery | DeliveryDelay | ...
 * Reference: https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html and
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 */
import type { ClassifyContext, DeliveryOutcome } from '@bounce-guard/core'
import { classifyWithFallback, complaintClassification, fromVerdict, replyText, type ProviderVerdict } from '../classify-remote.js'
import type { IgnoredEvent, NormalizedWebhook } from '../types.js'
import { date, idPart, obj, payloadError, recipientOf, str } from '../util.js'

/** SES bounce type/subtype -> verdict used when the diagnostic code does not decide. */
export const SES_BOUNCE_VERDICTS: Readonly<Record<string, ProviderVerdict>> = {
  'Permanent/General': { reason: 'onhold', permanent: true, scope: 'recipient', ruleId: 'ses.permanent.general' },
  'Permanent/NoEmail': { reason: 'userunknown', permanent: true, scope: 'recipient', ruleId: 'ses.permanent.noemail', force: true },
  'Permanent/Suppressed': { reason: 'suppressed', permanent: true, scope: 'recipient', ruleId: 'ses.permanent.suppressed', force: true },
  'Permanent/OnAccountSuppressionList': {
    reason: 'suppressed',
    permanent: true,
    scope: 'recipient',
    ruleId: 'ses.permanent.onaccountsuppressionlist',
    force: true,
  },
  'Transient/General': { reason: 'onhold', permanent: false, scope: 'recipient', ruleId: 'ses.transient.general' },
  'Transient/MailboxFull': { reason: 'mailboxfull', permanent: false, scope: 'recipient', ruleId: 'ses.transient.mailboxfull' },
  'Transient/MessageTooLarge': { reason: 'mesgtoobig', permanent: false, scope: 'message', ruleId: 'ses.transient.messagetoolarge' },
  'Transient/ContentRejected': { reason: 'spamdetected', permanent: false, scope: 'message', ruleId: 'ses.transient.contentrejected' },
  'Transient/AttachmentRejected': {
    reason: 'policyviolation',
    permanent: false,
    scope: 'message',
    ruleId: 'ses.transient.attachmentrejected',
  },
  'Undetermined/Undetermined': { reason: 'onhold', permanent: false, scope: 'recipient', ruleId: 'ses.undetermined' },
}

/** SES `deliveryDelay.delayType` -> verdict used when the diagnostic code does not decide. */
export const SES_DELAY_VERDICTS: Readonly<Record<string, ProviderVerdict>> = {
  InternalFailure: { reason: 'systemerror', permanent: false, scope: 'network', ruleId: 'ses.delay.internalfailure' },
  General: { reason: 'onhold', permanent: false, scope: 'recipient', ruleId: 'ses.delay.general' },
  MailboxFull: { reason: 'mailboxfull', permanent: false, scope: 'recipient', ruleId: 'ses.delay.mailboxfull' },
  SpamDetected: { reason: 'spamdetected', permanent: false, scope: 'message', ruleId: 'ses.delay.spamdetected' },
  RecipientServerError: { reason: 'systemerror', permanent: false, scope: 'domain', ruleId: 'ses.delay.recipientservererror' },
  IPFailure: { reason: 'blocked', permanent: false, scope: 'sender', ruleId: 'ses.delay.ipfailure' },
  TransientCommunicationFailure: {
    reason: 'networkerror',
    permanent: false,
    scope: 'network',
    ruleId: 'ses.delay.transientcommunicationfailure',
  },
  BYOIPHostNameLookupUnavailable: {
    reason: 'networkerror',
    permanent: false,
    scope: 'network',
    ruleId: 'ses.delay.byoiphostnamelookupunavailable',
  },
  Undetermined: { reason: 'onhold', permanent: false, scope: 'recipient', ruleId: 'ses.delay.undetermined' },
  SendingDeferral: { reason: 'ratelimited', permanent: false, scope: 'sender', ruleId: 'ses.delay.sendingdeferral' },
}

const UNKNOWN_BOUNCE: ProviderVerdict = { reason: 'onhold', permanent: false, scope: 'recipient', ruleId: 'ses.unknown' }

/** Options of `normalizeSes`. */
export interface NormalizeSesOptions {
  /** The SNS `MessageId`, used in event ids when SES gives no `feedbackId`. @default undefined */
  snsMessageId?: string
}

/**
 * Normalise one SES notification (the parsed `Message` of an SNS notification) into outcomes.
 * Throws `BounceGuardError` `EWEBHOOK_PAYLOAD` when it is not an SES notification at all; events
 * SES documents but that carry no delivery outcome (Send, Open, Click, ...) are listed in `ignored`.
 */
export function normalizeSes(message: unknown, options: NormalizeSesOptions = {}): NormalizedWebhook {
  const m = obj(message)
  if (!m) throw payloadError('ses', 'the notification is not a JSON object')
  const kind = str(m.notificationType) ?? str(m.eventType)
  if (kind === undefined) throw payloadError('ses', 'neither notificationType nor eventType is present')
  const out: NormalizedWebhook = { provider: 'ses', outcomes: [], ignored: [] }
  const mail = obj(m.mail) ?? {}
  const sesId = str(mail.messageId)
  const headers = obj(mail.commonHeaders)
  const base: Partial<DeliveryOutcome> = { source: 'webhook' }
  const rfcMessageId = str(headers?.messageId)
  if (rfcMessageId) base.messageId = rfcMessageId
  if (sesId) base.queueId = sesId
  const sender = str(mail.source)
  if (sender) base.sender = sender
  const tags = obj(mail.tags)
  const campaign = Array.isArray(tags?.campaign) ? str(tags.campaign[0]) : undefined
  if (campaign) base.tag = campaign
  const idBase = (kindKey: string, section: Record<string, unknown>) =>
    `ses:${kindKey}:${str(section.feedbackId) ?? sesId ?? options.snsMessageId ?? 'unknown'}`

  const push = (o: DeliveryOutcome) => out.outcomes.push(o)
  const skip = (why: string, event = kind) => out.ignored.push({ event, why, ...(sesId ? { id: sesId } : {}) } as IgnoredEvent)

  switch (kind) {
    case 'Bounce': {
      const b = obj(m.bounce)
      if (!b || !Array.isArray(b.bouncedRecipients)) throw payloadError('ses', 'Bounce without bounce.bouncedRecipients')
      const type = str(b.bounceType) ?? 'Undetermined'
      const sub = str(b.bounceSubType) ?? 'Undetermined'
      const verdict = SES_BOUNCE_VERDICTS[`${type}/${sub}`] ?? {
        ...UNKNOWN_BOUNCE,
        permanent: type === 'Permanent',
        ruleId: `ses.${type.toLowerCase()}.other`,
      }
      const at = date(b.timestamp)
      for (const r of b.bouncedRecipients) {
        const one = classifySesRecipient(r, verdict)
        if (!one) {
          skip('bounced recipient without a valid emailAddress')
          continue
        }
        const { rcpt, reply, context, classification } = one
        push({
          ...base,
          recipient: rcpt,
          type: 'bounced',
          classification,
          context,
          ...(reply ? { reply } : {}),
          ...(at ? { at } : {}),
          eventId: `${idBase('bounce', b)}:${idPart(rcpt)}`,
        } as DeliveryOutcome)
      }
      break
    }
    case 'Complaint': {
      const c = obj(m.complaint)
      if (!c || !Array.isArray(c.complainedRecipients)) throw payloadError('ses', 'Complaint without complaint.complainedRecipients')
      const fbType = str(c.complaintFeedbackType)
      const at = date(c.timestamp)
      if (fbType === 'not-spam') {
        skip('complaintFeedbackType not-spam is the opposite of a complaint')
        break
      }
      if (fbType === 'auth-failure') {
        skip('complaintFeedbackType auth-failure reports our authentication, not the recipient')
        break
      }
      const suppressedSub = str(c.complaintSubType) === 'OnAccountSuppressionList'
      for (const r of c.complainedRecipients) {
        const rcpt = recipientOf(obj(r)?.emailAddress)
        if (!rcpt) {
          skip('complained recipient without a valid emailAddress')
          continue
        }
        push({
          ...base,
          recipient: rcpt,
          type: suppressedSub ? 'bounced' : 'complaint',
          classification: suppressedSub
            ? fromVerdict({ reason: 'suppressed', permanent: true, scope: 'recipient', ruleId: 'ses.complaint.onaccountsuppressionlist' })
            : complaintClassification('ses', fbType),
          ...(at ? { at } : {}),
          eventId: `${idBase('complaint', c)}:${idPart(rcpt)}`,
        } as DeliveryOutcome)
      }
      break
    }
    case 'Delivery': {
      const d = obj(m.delivery)
      if (!d || !Array.isArray(d.recipients)) throw payloadError('ses', 'Delivery without delivery.recipients')
      const at = date(d.timestamp)
      const reply = str(d.smtpResponse)
      for (const r of d.recipients) {
        const rcpt = recipientOf(r)
        if (!rcpt) {
          skip('delivery recipient is not an address')
          continue
        }
        push({
          ...base,
          recipient: rcpt,
          type: 'delivered',
          ...(reply ? { reply } : {}),
          ...(at ? { at } : {}),
          eventId: `ses:delivery:${sesId ?? options.snsMessageId ?? 'unknown'}:${idPart(rcpt)}`,
        } as DeliveryOutcome)
      }
      break
    }
    case 'DeliveryDelay': {
      const d = obj(m.deliveryDelay)
      if (!d || !Array.isArray(d.delayedRecipients)) throw payloadError('ses', 'DeliveryDelay without deliveryDelay.delayedRecipients')
      const delayType = str(d.delayType) ?? 'Undetermined'
      const verdict = SES_DELAY_VERDICTS[delayType] ?? { ...UNKNOWN_BOUNCE, ruleId: 'ses.delay.other' }
      const at = date(d.timestamp)
      const stamp = at ? at.getTime() : (str(d.timestamp) ?? 'unknown')
      for (const r of d.delayedRecipients) {
        const one = classifySesRecipient(r, verdict)
        if (!one) {
          skip('delayed recipient without a valid emailAddress')
          continue
        }
        const { rcpt, reply, context, classification } = one
        // SES gives up later with a Bounce; a delay is never permanent whatever the text says.
        push({
          ...base,
          recipient: rcpt,
          type: 'deferred',
          classification: { ...classification, permanent: false, hard: false },
          context,
          ...(reply ? { reply } : {}),
          ...(at ? { at } : {}),
          eventId: `ses:delay:${sesId ?? options.snsMessageId ?? 'unknown'}:${stamp}:${idPart(rcpt)}`,
        } as DeliveryOutcome)
      }
      break
    }
    case 'AmazonSnsSubscriptionSucceeded':
      skip('SES test notification sent when the topic is attached')
      break
    default:
      skip('event type carries no delivery outcome')
  }
  return out
}

/** One `bouncedRecipients` / `delayedRecipients` entry: its address, reply and classification. */
function classifySesRecipient(r: unknown, verdict: ProviderVerdict) {
  const rr = obj(r)
  const rcpt = recipientOf(rr?.emailAddress)
  if (!rr || !rcpt) return undefined
  const reply = replyText(str(rr.diagnosticCode), str(rr.status))
  const context: ClassifyContext = { recipientDomain: rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase() }
  return { rcpt, reply, context, classification: classifyWithFallback(reply, verdict, context) }
}
