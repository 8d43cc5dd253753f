/**
 * Pure helpers shared by store implementations, so every store applies the `recordEvent` counter
 * rules, the `stats` grouping keys and the `listSuppressions` cursor format the same way.
 */
import { BounceGuardError } from './errors.js'
import { PROVIDER_DOMAIN_HINTS } from './rules/hints.js'
import type { StatsQuery } from './store.js'
import type { BounceEvent, RecipientState, Suppression, SuppressionScope } from './types.js'

/** A zero `RecipientState` for a recipient with no recorded event. */
export function emptyRecipientState(recipient: string, domain: string): RecipientState {
  return { recipient, domain, events: 0, deliveries: 0, hardBounces: 0, softBounces: 0, complaints: 0, consecutiveSoftFailures: 0 }
}

/** How an event moves the counters of `RecipientState` (see `BounceStore.recordEvent`). */
export type EventEffect = 'delivery' | 'hard' | 'soft' | 'complaint' | 'other'

/**
 * Which counter an event moves: `delivered` -> delivery; `bounced` with a hard classification ->
 * hard; other `bounced` and every `deferred` -> soft; `complaint` -> complaint; `auto-reply` and
 * `suppressed` -> other (only `events` and `lastEventAt` change).
 */
export function eventEffect(event: Pick<BounceEvent, 'type' | 'classification'>): EventEffect {
  switch (event.type) {
    case 'delivered':
      return 'delivery'
    case 'bounced':
      return event.classification?.hard ? 'hard' : 'soft'
    case 'deferred':
      return 'soft'
    case 'complaint':
      return 'complaint'
    default:
      return 'other'
  }
}

/**
 * True when a soft event extends the recipient's run of consecutive soft failures: only failures
 * whose classification scope is `recipient` or `domain` do. Sender-, message- and network-side
 * failures say nothing about the address, so they neither extend nor reset the run.
 */
export function extendsSoftRun(event: Pick<BounceEvent, 'type' | 'classification'>): boolean {
  const scope = event.classification?.scope
  return eventEffect(event) === 'soft' && (scope === 'recipient' || scope === 'domain')
}

/**
 * The reason an event leaves as a recipient's `lastReason`: its classification's reason, else
 * `delivered` for a delivery; `undefined` (no change) for other unclassified events.
 */
export function lastReasonOf(
  event: Pick<BounceEvent, 'type' | 'classification'>,
  effect = eventEffect(event),
): RecipientState['lastReason'] {
  if (event.classification) return event.classification.reason
  return effect === 'delivery' ? 'delivered' : undefined
}

/** The state after `event`, computed from `prev` (pure; `prev` is not modified). */
export function applyEventToState(prev: RecipientState, event: BounceEvent): RecipientState {
  // Object.assign, not spread: V8 (Node 20) gives every property added to a spread copy a slow
  // map transition (~3 µs for the two or three fields a first event adds); same own keys, same order.
  const s: RecipientState = Object.assign({}, prev)
  const at = new Date(event.at.getTime())
  s.events += 1
  const effect = eventEffect(event)
  if (effect === 'delivery') {
    s.deliveries += 1
    s.consecutiveSoftFailures = 0
    delete s.firstSoftFailureAt
    if (!s.lastDeliveredAt || s.lastDeliveredAt.getTime() < at.getTime()) s.lastDeliveredAt = at
  } else if (effect === 'hard') s.hardBounces += 1
  else if (effect === 'soft') s.softBounces += 1
  else if (effect === 'complaint') s.complaints += 1
  if (extendsSoftRun(event)) {
    s.consecutiveSoftFailures += 1
    if (!s.firstSoftFailureAt || s.firstSoftFailureAt.getTime() > at.getTime()) s.firstSoftFailureAt = at
    if (!s.lastSoftFailureAt || s.lastSoftFailureAt.getTime() < at.getTime()) s.lastSoftFailureAt = at
  }
  if (!s.lastEventAt || s.lastEventAt.getTime() < at.getTime()) s.lastEventAt = at
  const reason = lastReasonOf(event, effect)
  if (reason !== undefined) s.lastReason = reason
  return s
}

/** Well-known mailbox domain -> provider (the first entry of a domain wins), for `statsKeyOf`. */
const MAILBOX_DOMAIN_PROVIDERS = new Map<string, string>()
for (const [d, p] of PROVIDER_DOMAIN_HINTS) if (!MAILBOX_DOMAIN_PROVIDERS.has(d)) MAILBOX_DOMAIN_PROVIDERS.set(d, p)

/**
 * The `stats` grouping key of an event: its domain; its provider (the classification's, else the
 * provider of a well-known mailbox domain such as `gmail.com` -> `gmail`, so deliveries count
 * under their provider; `unknown` when none); or its reason (`delivered` for deliveries without a
 * classification, `undefined` for other events without one).
 */
export function statsKeyOf(event: Pick<BounceEvent, 'type' | 'classification' | 'domain'>, groupBy: StatsQuery['groupBy']): string {
  if (groupBy === 'domain') return event.domain
  if (groupBy === 'provider') return event.classification?.provider ?? MAILBOX_DOMAIN_PROVIDERS.get(event.domain) ?? 'unknown'
  return event.classification?.reason ?? (event.type === 'delivered' ? 'delivered' : 'undefined')
}

/** The position a `listSuppressions` cursor points after: createdAt (ms), key and scope. */
export interface SuppressionCursor {
  t: number
  k: string
  s: SuppressionScope
}

/** Encode the position after `last` as an opaque cursor (base64url JSON). */
export function encodeSuppressionCursor(last: Pick<Suppression, 'createdAt' | 'key' | 'scope'>): string {
  return Buffer.from(JSON.stringify({ t: last.createdAt.getTime(), k: last.key, s: last.scope }), 'utf8').toString('base64url')
}

/** Decode a cursor made by `encodeSuppressionCursor`; throws `EINVALID_OPTION` when malformed. */
export function decodeSuppressionCursor(cursor: string, pkg = '@bounce-guard/core'): SuppressionCursor {
  let v: unknown
  try {
    if (typeof cursor !== 'string' || cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url')
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch (err) {
    throw new BounceGuardError('EINVALID_OPTION', `${pkg}: listSuppressions(): malformed cursor`, { cause: err })
  }
  const c = v as Partial<SuppressionCursor> | null
  if (
    !c ||
    typeof c !== 'object' ||
    typeof c.t !== 'number' ||
    !Number.isFinite(c.t) ||
    typeof c.k !== 'string' ||
    (c.s !== 'address' && c.s !== 'domain')
  ) {
    throw new BounceGuardError('EINVALID_OPTION', `${pkg}: listSuppressions(): malformed cursor`)
  }
  return { t: c.t, k: c.k, s: c.s }
}
