/**
 * The policy: what to do after an event. `decide` is pure: the clock and randomness come in
 * through `env`, so the same inputs always give the same decision.
 *
 * The guiding rule (DESIGN.md, industry evidence): suppressing a good recipient because of *our*
 * problem is the costliest mistake. Only recipient-level permanent failures suppress at once;
 * sender-side refusals never suppress anyone and raise an alert for the destination instead;
 * recipient-side soft failures suppress only when they persist over time *and* attempts.
 *
 * ## Per-domain memory for `hostunknown`
 * "No such domain" is retried once, and the whole domain is suppressed when it is seen again. The
 * guard remembers observations per domain in the store as a *domain summary*: a `RecipientState`
 * whose recipient is `@<domain>` (e.g. `@example.com`), fed by a `deferred` event carrying the
 * `hostunknown` classification (scope `domain`), so the store's run counters
 * (`consecutiveSoftFailures`, `firstSoftFailureAt`, `lastSoftFailureAt`) count the observations.
 * `stats` ignores summaries. The guard passes the summary as it was *before* the current event in
 * `env.domainState`.
 */
import type { BounceAlert, BounceDecision, BounceEvent, BounceReason, EventType, RecipientState, SuppressionReason } from './types.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Exponential backoff with jitter: delay(n) = min(maxDelayMs, initialDelayMs * factor^(n-1)) * (1 - jitter * random). */
export interface BackoffPolicy {
  /** Delay after the first failed attempt. @default 300000 (5 minutes) */
  initialDelayMs: number
  /** Growth factor per attempt. @default 2 */
  factor: number
  /** Cap on the delay, before jitter (jitter only shortens). @default 14400000 (4 hours) */
  maxDelayMs: number
  /** Fraction of the delay removed at random (0 = none, 1 = full jitter). @default 0.25 */
  jitter: number
}

/** How `decide` treats each kind of failure. Every field has a default in `DEFAULT_POLICY`. */
export interface BouncePolicy {
  /** Backoff of every retry. */
  backoff: BackoffPolicy
  /**
   * How long after a message's first failure it is still retried; the last retry is clamped to the
   * window's end, after it the message is given up. @default 259200000 (72 hours)
   */
  retryWindowMs: number
  /** Permanent recipient-level failures (`classification.hard`: userunknown, hasmoved, notaccept). */
  hard: {
    /** Suppress the address at once. @default true */
    suppress: boolean
    /** Expiry of that suppression; `undefined` = permanent until removed. @default undefined */
    suppressionTtlMs?: number | undefined
  }
  /** Failures of the recipient's mailbox that may clear up (full, disabled, own filter). */
  recipientSoft: {
    /** Reasons treated this way. @default ['mailboxfull', 'suspend', 'exceedlimit', 'systemfull', 'filtered'] */
    reasons: readonly BounceReason[]
    /** Escalate to a suppression when the recipient's run of soft failures is at least this old... @default 259200000 (72 hours) */
    escalateAfterMs: number
    /** ...and at least this long. @default 3 */
    escalateMinFailures: number
    /** Expiry of an escalated suppression (the condition may clear up); `undefined` = permanent. @default 2592000000 (30 days) */
    suppressionTtlMs?: number | undefined
  }
  /** `hostunknown`: the recipient's domain does not resolve. */
  hostUnknown: {
    /** Delay of the one retry after the first observation. @default 3600000 (1 hour) */
    retryAfterMs: number
    /** A later observation suppresses the domain only when the first one is at least this old (one DNS blip seen by a burst of sends is not "seen again"). @default 1800000 (30 minutes) */
    confirmAfterMs: number
    /** An observation older than this is forgotten: the next one counts as a first. @default 604800000 (7 days) */
    forgetAfterMs: number
    /** Suppress the whole domain when confirmed (otherwise give up on the message only). @default true */
    suppressDomain: boolean
    /** Expiry of the domain suppression; `undefined` = permanent. @default 2592000000 (30 days) */
    suppressionTtlMs?: number | undefined
  }
  /** Refusals caused by us (reputation, blocklist, authentication, rate, TLS, relaying). Never suppress the recipient. */
  senderSide: {
    /** Reasons treated this way, besides any classification with scope `sender`. @default ['blocked', 'badreputation', 'authfailure', 'requireptr', 'ratelimited', 'speeding', 'toomanyconn', 'spamdetected', 'policyviolation', 'norelaying', 'securityerror', 'failedstarttls', 'rejected'] */
    reasons: readonly BounceReason[]
    /** Attach a `BounceAlert` for the destination (provider, else domain). @default true */
    alert: boolean
    /** Suggested pause for the destination when the reply names none, in seconds. @default 3600 */
    defaultPauseSeconds: number
  }
  /** Refusals of this message (size, content, virus, RFC compliance): give up on it, suppress nothing. */
  messageSide: {
    /** Reasons treated this way, besides any classification with scope `message`. @default ['mesgtoobig', 'contenterror', 'virusdetected', 'notcompliantrfc'] */
    reasons: readonly BounceReason[]
  }
  /** Feedback-loop complaints. */
  complaint: {
    /** Suppress the address with reason `complaint`. @default true */
    suppress: boolean
  }
  /**
   * The sending service refused the address because it is on *its* suppression list (reason
   * `suppressed`, e.g. Amazon SES's account-level or global list). Sending again only fails again,
   * so mirror it locally; SES's global list forgets an address after at most 14 days, hence the TTL.
   */
  providerSuppressed: {
    /** Mirror the provider's suppression locally. @default true */
    suppress: boolean
    /** How long the local mirror lasts; `undefined` = permanent. @default 14 days */
    suppressionTtlMs: number | undefined
  }
}

/** A policy override: every group and field optional, merged over `DEFAULT_POLICY` by `resolvePolicy`. */
export type BouncePolicyInput = {
  [K in keyof BouncePolicy]?: BouncePolicy[K] extends readonly unknown[] | number ? BouncePolicy[K] : Partial<BouncePolicy[K]>
}

/** The defaults, from how real mailbox providers and ESPs behave (see `docs/policy-store.md`). */
export const DEFAULT_POLICY: Readonly<BouncePolicy> = Object.freeze({
  backoff: Object.freeze({ initialDelayMs: 5 * MINUTE, factor: 2, maxDelayMs: 4 * HOUR, jitter: 0.25 }),
  retryWindowMs: 72 * HOUR,
  hard: Object.freeze({ suppress: true, suppressionTtlMs: undefined }),
  recipientSoft: Object.freeze({
    reasons: Object.freeze(['mailboxfull', 'suspend', 'exceedlimit', 'systemfull', 'filtered'] as BounceReason[]),
    escalateAfterMs: 72 * HOUR,
    escalateMinFailures: 3,
    suppressionTtlMs: 30 * DAY,
  }),
  hostUnknown: Object.freeze({
    retryAfterMs: HOUR,
    confirmAfterMs: 30 * MINUTE,
    forgetAfterMs: 7 * DAY,
    suppressDomain: true,
    suppressionTtlMs: 30 * DAY,
  }),
  senderSide: Object.freeze({
    reasons: Object.freeze([
      'blocked',
      'badreputation',
      'authfailure',
      'requireptr',
      'ratelimited',
      'speeding',
      'toomanyconn',
      'spamdetected',
      'policyviolation',
      'norelaying',
      'securityerror',
      'failedstarttls',
      'rejected',
    ] as BounceReason[]),
    alert: true,
    defaultPauseSeconds: 3600,
  }),
  messageSide: Object.freeze({
    reasons: Object.freeze(['mesgtoobig', 'contenterror', 'virusdetected', 'notcompliantrfc'] as BounceReason[]),
  }),
  complaint: Object.freeze({ suppress: true }),
  providerSuppressed: Object.freeze({ suppress: true, suppressionTtlMs: 14 * DAY }),
}) as Readonly<BouncePolicy>

/** Merge an override over `DEFAULT_POLICY` (one level deep: groups are merged field by field). */
export function resolvePolicy(input: BouncePolicyInput = {}): BouncePolicy {
  const d = DEFAULT_POLICY
  return {
    backoff: { ...d.backoff, ...input.backoff },
    retryWindowMs: input.retryWindowMs ?? d.retryWindowMs,
    hard: { ...d.hard, ...input.hard },
    recipientSoft: { ...d.recipientSoft, ...input.recipientSoft },
    hostUnknown: { ...d.hostUnknown, ...input.hostUnknown },
    senderSide: { ...d.senderSide, ...input.senderSide },
    messageSide: { ...d.messageSide, ...input.messageSide },
    complaint: { ...d.complaint, ...input.complaint },
    providerSuppressed: { ...d.providerSuppressed, ...input.providerSuppressed },
  }
}

/** What `decide` needs besides the event: injected time and randomness, and history. */
export interface DecideEnv {
  /** The current time. */
  now: Date
  /** A number in [0, 1); `Math.random` in production, a constant in tests. */
  random: () => number
  /** The send attempt that produced this event (the first send is 1). @default 1 */
  attempt?: number
  /** When this message first failed (a retry job's `firstFailedAt`); starts the retry window. @default event.at (or, for recipient soft failures, the recipient's `firstSoftFailureAt`) */
  firstFailedAt?: Date
  /** The domain summary (`@<domain>`) as it was before this event; see the module comment. */
  domainState?: RecipientState
}

/** The delay before retry number `attempt + 1`, after attempt `attempt` failed. Pure. */
export function backoffDelayMs(attempt: number, backoff: BackoffPolicy, random: () => number): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1
  const base = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * backoff.factor ** (n - 1))
  const r = Math.min(1, Math.max(0, Number(random()) || 0))
  const jitter = Math.min(1, Math.max(0, backoff.jitter))
  return Math.round(base * (1 - jitter * r))
}

function alertFor(event: BounceEvent, policy: BouncePolicy): BounceAlert | undefined {
  const c = event.classification
  if (!c || !policy.senderSide.alert) return undefined
  const alert: BounceAlert = {
    destination: c.provider ?? event.domain,
    reason: c.reason,
    ruleId: c.ruleId,
    at: new Date(event.at.getTime()),
    retryAfter: c.retryAfter ?? policy.senderSide.defaultPauseSeconds,
  }
  if (c.provider) alert.provider = c.provider
  if (c.blocklist) alert.blocklist = c.blocklist
  if (event.reply) alert.reply = event.reply
  return alert
}

/** Retry within the window (clamped to its end), or give up once it is over. */
function retryOrGiveUp(
  now: Date,
  attempt: number,
  windowStart: Date,
  policy: BouncePolicy,
  random: () => number,
  minDelayMs: number,
  why: string,
  alert?: BounceAlert,
): BounceDecision {
  const windowEnd = windowStart.getTime() + policy.retryWindowMs
  if (now.getTime() >= windowEnd) {
    const d: BounceDecision = { action: 'giveUp', reason: `${why}: retry window of ${Math.round(policy.retryWindowMs / HOUR)} h is over` }
    if (alert) d.alert = alert
    return d
  }
  const delay = Math.max(backoffDelayMs(attempt, policy.backoff, random), minDelayMs)
  const at = new Date(Math.min(now.getTime() + delay, windowEnd))
  const d: BounceDecision = { action: 'retry', at, attempt: attempt + 1 }
  if (alert) d.alert = alert
  return d
}

function suppressAddress(
  event: BounceEvent,
  reason: SuppressionReason,
  now: Date,
  ttlMs: number | undefined,
  escalated: boolean,
): BounceDecision {
  const d: BounceDecision = { action: 'suppress', scope: 'address', key: event.recipient, reason, escalated }
  if (ttlMs !== undefined) d.expiresAt = new Date(now.getTime() + ttlMs)
  return d
}

/**
 * Decide what to do after `event`.
 * @param event the recorded event (normalised recipient, classification when a failure)
 * @param state the recipient's state *after* the event was recorded (`undefined` when unknown)
 * @param policy a full policy (`resolvePolicy(...)` or `DEFAULT_POLICY`)
 * @param env time, randomness and history; see `DecideEnv`
 */
/** Event types that never call for an action, whatever the policy and the recipient's history. */
export const NO_ACTION_TYPES: ReadonlySet<EventType> = new Set<EventType>(['delivered', 'auto-reply', 'suppressed'])

/**
 * What `decide()` answers for an event of `type` when the type alone settles it (`delivered`,
 * `auto-reply`, `suppressed`: nothing to do), else `undefined`. A write-behind queue can take the
 * decision from here without a clock read or the recipient's state.
 */
export function noActionDecision(type: EventType): BounceDecision | undefined {
  return NO_ACTION_TYPES.has(type) ? { action: 'none', reason: type } : undefined
}

export function decide(event: BounceEvent, state: RecipientState | undefined, policy: BouncePolicy, env: DecideEnv): BounceDecision {
  const now = env.now
  const attempt = env.attempt !== undefined && Number.isFinite(env.attempt) ? Math.max(1, Math.floor(env.attempt)) : 1
  const c = event.classification

  const byType = noActionDecision(event.type)
  if (byType) return byType
  if (event.type === 'complaint') {
    return policy.complaint.suppress
      ? suppressAddress(event, 'complaint', now, undefined, false)
      : { action: 'none', reason: 'complaint (suppression disabled)' }
  }
  // A feedback report recorded as anything but a complaint (e.g. an ARF `not-spam` or `auth-failure`
  // report, which names whoever received a message forged in our name): nothing to do.
  if (c?.reason === 'feedback') return { action: 'none', reason: 'feedback report that is no complaint' }
  if (c?.reason === 'vacation' || c?.reason === 'delivered') return { action: 'none', reason: c.reason }
  if (c?.reason === 'suppressed' && event.type === 'bounced') {
    return policy.providerSuppressed.suppress
      ? suppressAddress(event, 'suppressed', now, policy.providerSuppressed.suppressionTtlMs, false)
      : { action: 'giveUp', reason: "on the sending provider's suppression list" }
  }

  const windowStart = env.firstFailedAt ?? event.at
  if (!c) {
    // A failure nobody classified: never a reason to suppress.
    if (event.type === 'bounced') return { action: 'giveUp', reason: 'unclassified permanent failure' }
    return retryOrGiveUp(now, attempt, windowStart, policy, env.random, 0, 'unclassified failure')
  }

  // 1. Our problem: never suppress the recipient. Checked first, whatever `hard` says.
  if (c.scope === 'sender' || policy.senderSide.reasons.includes(c.reason)) {
    const alert = alertFor(event, policy)
    const retryAfterMs = c.retryAfter !== undefined && c.retryAfter >= 0 ? c.retryAfter * 1000 : undefined
    if (!c.permanent || retryAfterMs !== undefined) {
      return retryOrGiveUp(now, attempt, windowStart, policy, env.random, retryAfterMs ?? 0, `sender-side refusal (${c.reason})`, alert)
    }
    const d: BounceDecision = { action: 'giveUp', reason: `sender-side refusal (${c.reason}); the recipient is not suppressed` }
    if (alert) d.alert = alert
    return d
  }

  // 2. This message's problem (an explicit recipient-soft reason, e.g. `exceedlimit`, wins over the scope).
  if (policy.messageSide.reasons.includes(c.reason) || (c.scope === 'message' && !policy.recipientSoft.reasons.includes(c.reason))) {
    return { action: 'giveUp', reason: `message refused (${c.reason}); the recipient is not suppressed` }
  }

  // 3. No such domain, said permanently: retry once, then suppress the whole domain. A temporary
  //    "domain not found" (4xx, often our own resolver failing) is only retried (step 6).
  if (c.reason === 'hostunknown' && (c.hard || c.permanent)) {
    const h = policy.hostUnknown
    const d = env.domainState
    const t = now.getTime()
    const live =
      d !== undefined &&
      d.consecutiveSoftFailures > 0 &&
      d.firstSoftFailureAt !== undefined &&
      d.lastSoftFailureAt !== undefined &&
      t - d.lastSoftFailureAt.getTime() <= h.forgetAfterMs
    const confirmedByDomain = live && t - d!.firstSoftFailureAt!.getTime() >= h.confirmAfterMs
    const confirmedByMessage = attempt >= 2 && t - windowStart.getTime() >= h.confirmAfterMs
    if (confirmedByDomain || confirmedByMessage) {
      if (!h.suppressDomain) return { action: 'giveUp', reason: 'hostunknown confirmed (domain suppression disabled)' }
      const s: BounceDecision = { action: 'suppress', scope: 'domain', key: event.domain, reason: 'hostunknown', escalated: false }
      if (h.suppressionTtlMs !== undefined) s.expiresAt = new Date(t + h.suppressionTtlMs)
      return s
    }
    if (attempt >= 2) return { action: 'giveUp', reason: 'hostunknown again on a retry, too soon to confirm for the domain' }
    return { action: 'retry', at: new Date(t + h.retryAfterMs), attempt: attempt + 1 }
  }

  // 4. The address is permanently undeliverable.
  if (c.hard) {
    return policy.hard.suppress
      ? suppressAddress(event, c.reason, now, policy.hard.suppressionTtlMs, false)
      : { action: 'giveUp', reason: `${c.reason} (suppression disabled)` }
  }

  // 5. The mailbox has a problem that may clear up: retry, escalate when it persists. (Escalation
  //    reads the store's run, which only recipient- and domain-scope failures extend: an
  //    `exceedlimit` the classifier scopes as `message`, a size limit, is retried but never escalates.)
  if (policy.recipientSoft.reasons.includes(c.reason)) {
    const rs = policy.recipientSoft
    const first = state?.firstSoftFailureAt
    if (
      state &&
      first &&
      state.consecutiveSoftFailures >= rs.escalateMinFailures &&
      now.getTime() - first.getTime() >= rs.escalateAfterMs
    ) {
      return suppressAddress(event, c.reason, now, rs.suppressionTtlMs, true)
    }
    return retryOrGiveUp(now, attempt, env.firstFailedAt ?? first ?? event.at, policy, env.random, 0, `${c.reason} persists`)
  }

  // 6. Network, expiry, remote system errors, unknown replies: retry while it is temporary.
  if (c.permanent && event.type === 'bounced') return { action: 'giveUp', reason: `permanent ${c.reason}; the recipient is not suppressed` }
  const retryAfterMs = c.retryAfter !== undefined && c.retryAfter >= 0 ? c.retryAfter * 1000 : 0
  return retryOrGiveUp(now, attempt, windowStart, policy, env.random, retryAfterMs, c.reason)
}
