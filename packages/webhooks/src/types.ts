/**
 * Shapes shared by the provider normalisers and the HTTP handler.
 */
import type { DeliveryOutcome } from '@bounce-guard/core'

/** The providers this package understands. */
export type WebhookProvider = 'ses' | 'sendgrid' | 'mailgun' | 'postmark' | 'sparkpost'

/** Every provider name, in a stable order. */
export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = ['ses', 'sendgrid', 'mailgun', 'postmark', 'sparkpost']

/** A provider event that produced no outcome, and why (kept for logs and tests). */
export interface IgnoredEvent {
  /** The provider's event name, when it had one (e.g. `open`, `Send`). */
  event?: string
  /** The provider's id of the event, when it had one. */
  id?: string
  /** Why it was skipped, one short sentence. */
  why: string
}

/** What a normaliser returns: the outcomes to record and the events it skipped. */
export interface NormalizedWebhook {
  provider: WebhookProvider
  /** One outcome per recipient and event, each with `source: "webhook"` and an `eventId`. */
  outcomes: DeliveryOutcome[]
  ignored: IgnoredEvent[]
}
