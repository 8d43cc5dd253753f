/**
 * The vocabulary shared by every Bounce Guard package: what a reply said (`SmtpReply`), what it
 * means (`BounceClassification`), what happened to a recipient (`BounceEvent`), and what to do
 * about it (`BounceDecision`). Adapters map their host's fields into these types once, at the edge.
 */

/**
 * Why a delivery failed (or did not), in Sisimai's vocabulary so results compare with the most
 * widely used bounce parser. Meanings: see the core README's reason table.
 */
export type BounceReason =
  | 'userunknown'
  | 'hostunknown'
  | 'hasmoved'
  | 'notaccept'
  | 'suspend'
  | 'mailboxfull'
  | 'exceedlimit'
  | 'mesgtoobig'
  | 'filtered'
  | 'rejected'
  | 'blocked'
  | 'badreputation'
  | 'requireptr'
  | 'notcompliantrfc'
  | 'authfailure'
  | 'spamdetected'
  | 'virusdetected'
  | 'policyviolation'
  | 'contenterror'
  | 'ratelimited'
  | 'toomanyconn'
  | 'speeding'
  | 'systemerror'
  | 'systemfull'
  | 'networkerror'
  | 'expired'
  | 'norelaying'
  | 'securityerror'
  | 'failedstarttls'
  | 'syntaxerror'
  | 'mailererror'
  | 'onhold'
  | 'suppressed'
  | 'vacation'
  | 'feedback'
  | 'delivered'
  | 'undefined'

/** Every reason, in a stable order (useful for tables and validation). */
export const BOUNCE_REASONS: readonly BounceReason[] = [
  'userunknown',
  'hostunknown',
  'hasmoved',
  'notaccept',
  'suspend',
  'mailboxfull',
  'exceedlimit',
  'mesgtoobig',
  'filtered',
  'rejected',
  'blocked',
  'badreputation',
  'requireptr',
  'notcompliantrfc',
  'authfailure',
  'spamdetected',
  'virusdetected',
  'policyviolation',
  'contenterror',
  'ratelimited',
  'toomanyconn',
  'speeding',
  'systemerror',
  'systemfull',
  'networkerror',
  'expired',
  'norelaying',
  'securityerror',
  'failedstarttls',
  'syntaxerror',
  'mailererror',
  'onhold',
  'suppressed',
  'vacation',
  'feedback',
  'delivered',
  'undefined',
]

/**
 * Who must act on a failure:
 * - `recipient`: this address (unknown user, full mailbox, disabled account);
 * - `domain`: the recipient's whole domain (no such domain, null MX, domain-wide outage);
 * - `sender`: us (reputation, blocklists, authentication, PTR, rate, relaying);
 * - `message`: this message (size, content, virus, RFC compliance);
 * - `network`: the path between us (DNS, timeouts, TLS, expired in queue).
 */
export type BounceScope = 'recipient' | 'domain' | 'sender' | 'message' | 'network'

/** A parsed SMTP reply. Fields are absent when the input did not carry them. */
export interface SmtpReply {
  /** RFC 5321 reply code, e.g. `550`. */
  code?: number
  /** RFC 3463 enhanced status code, e.g. `"5.1.1"` or `"4.7.650"`. */
  enhancedStatus?: string
  /** The human-readable text, continuation lines joined with a single space, codes removed. */
  text: string
  /** The input as given. */
  raw: string
}

/** What the caller knows about where a reply came from; helps attribute the provider. */
export interface ClassifyContext {
  /** The recipient's domain, e.g. `gmail.com`. */
  recipientDomain?: string
  /** The remote MX host name that answered, e.g. `gmail-smtp-in.l.google.com`. */
  remoteMta?: string
  /** The SMTP command the reply answered, when known. */
  command?: 'CONN' | 'EHLO' | 'HELO' | 'STARTTLS' | 'MAIL' | 'RCPT' | 'DATA' | 'BDAT' | '.'
}

/** What a reply means. Produced by `classifyReply`; never thrown for unrecognised text. */
export interface BounceClassification {
  /** The fine-grained reason; `undefined` (the string) when nothing matched. */
  reason: BounceReason
  /**
   * The address itself is permanently undeliverable. True only for `userunknown`, `hostunknown`,
   * `hasmoved`, and `notaccept` when permanent. Never true for sender- or message-side failures.
   */
  hard: boolean
  /** The server said the failure is permanent (5xx or 5.x.x), as opposed to 4xx / 4.x.x. */
  permanent: boolean
  /** Who must act. */
  scope: BounceScope
  /** The SMTP reply code, when known. */
  code?: number
  /** The RFC 3463 enhanced status, when known. */
  enhancedStatus?: string
  /** The mailbox provider or filter that answered, e.g. `gmail`, `microsoft`, `yahoo`. */
  provider?: string
  /** The id of the rule that decided, e.g. `gmail.user-unknown` or `rfc3463.5.1.1`. */
  ruleId: string
  /** Seconds to wait before retrying, when the reply says so. */
  retryAfter?: number
  /** The blocklist named in the reply, e.g. `spamhaus`. */
  blocklist?: string
}

/** How an outcome reached us. */
export type EventSource = 'smtp' | 'dsn' | 'webhook' | 'feedback-loop' | 'manual' | 'call-time'

/** The kind of outcome of one delivery attempt to one recipient. */
export type EventType = 'delivered' | 'deferred' | 'bounced' | 'complaint' | 'auto-reply' | 'suppressed'

/** One outcome for one recipient, as recorded in the store. */
export interface BounceEvent {
  /** Normalised recipient address (see `normalizeAddress`). */
  recipient: string
  /** Lower-case ASCII domain of the recipient. */
  domain: string
  type: EventType
  /** The classification of the reply, absent for plain deliveries. */
  classification?: BounceClassification
  /** When it happened. */
  at: Date
  source: EventSource
  /** The raw reply or diagnostic text, for audit. */
  reply?: string
  /** Message-ID of the original message, when known. */
  messageId?: string
  /** Queue or transport id, e.g. Haraka's uuid. */
  queueId?: string
  /** Sender address (MAIL FROM), when known. */
  sender?: string
  /** Free-form tag, e.g. a campaign name. */
  tag?: string
  /**
   * A key that makes recording idempotent: an event with an `eventId` already stored is ignored.
   * Webhooks and DSNs set it; inline replies may leave it out.
   */
  eventId?: string
}

/** What the store remembers about one recipient, updated atomically by `recordEvent`. */
export interface RecipientState {
  recipient: string
  domain: string
  /** Number of events recorded for this recipient, of any type. */
  events: number
  deliveries: number
  hardBounces: number
  softBounces: number
  complaints: number
  /** Soft failures since the last delivery (reset to 0 by a delivery). */
  consecutiveSoftFailures: number
  /** First soft failure of the current run of consecutive soft failures. */
  firstSoftFailureAt?: Date
  lastSoftFailureAt?: Date
  lastDeliveredAt?: Date
  lastEventAt?: Date
  lastReason?: BounceReason
}

/** Whether a suppression covers one address or a whole domain. */
export type SuppressionScope = 'address' | 'domain'

/** Why an address or domain is suppressed: a bounce reason, or one of the non-bounce causes. */
export type SuppressionReason = BounceReason | 'complaint' | 'manual' | 'unsubscribe'

/** An entry on the suppression list. */
export interface Suppression {
  /** The normalised address, or the lower-case ASCII domain when `scope` is `domain`. */
  key: string
  scope: SuppressionScope
  reason: SuppressionReason
  source: EventSource
  /** When it was first suppressed. */
  createdAt: Date
  /** When it was last (re)confirmed. */
  updatedAt: Date
  /** When the suppression lapses; absent = permanent until removed. */
  expiresAt?: Date
  /** Escalated from a soft history rather than decided by one reply. */
  escalated?: boolean
  /** The rule id and reply that caused it, for audit. */
  ruleId?: string
  detail?: string
}

/** A unit of work for the retry worker. */
export interface RetryJob {
  /** Unique id chosen by the caller (the guard uses a random UUID). */
  id: string
  /** Normalised recipient addresses still pending. */
  recipients: string[]
  /** When the job becomes due. */
  dueAt: Date
  /** Attempts made so far (the original send counts as 1). */
  attempts: number
  /** Opaque payload needed to re-send (the nodemailer adapter stores the raw MIME and envelope). */
  payload: string
  /** Free-form origin, e.g. `nodemailer`. */
  origin?: string
  /** First failure time, so the policy can give up after its window. */
  firstFailedAt: Date
  lastError?: string
}

/** Who to alert about what: a destination that refuses us because of our own problem. */
export interface BounceAlert {
  /** The destination: a recipient domain, or a provider name when known. */
  destination: string
  provider?: string
  reason: BounceReason
  ruleId: string
  blocklist?: string
  /** A sample reply. */
  reply?: string
  at: Date
  /** Suggested seconds before sending to this destination again. */
  retryAfter?: number
}

/** What to do after an event. Pure output of `decide`. */
export type BounceDecision =
  | { action: 'none'; reason?: string; alert?: BounceAlert }
  | {
      action: 'suppress'
      scope: SuppressionScope
      /** The normalised address or domain to suppress. */
      key: string
      reason: SuppressionReason
      expiresAt?: Date
      /** True when soft history turned into a hard verdict. */
      escalated: boolean
      alert?: BounceAlert
    }
  | { action: 'retry'; at: Date; attempt: number; alert?: BounceAlert }
  | { action: 'giveUp'; reason: string; alert?: BounceAlert }
