/**
 * # The BounceStore contract
 *
 * A store keeps three kinds of state: the **suppression list** (addresses and whole domains that
 * must not be mailed), the **event log** with a per-recipient summary (`RecipientState`), and the
 * **retry queue**. Several app servers and MTAs may share one store (PostgreSQL, MySQL), so every
 * member below states what is atomic and what is idempotent.
 *
 * ## Implementing a store
 * 1. Keys arrive normalised: the guard calls `normalizeAddress` / `normalizeDomain` before any
 *    store call, so a store compares keys byte for byte. Do not re-normalise.
 * 2. Dates are `Date` objects in and out, millisecond precision at least.
 * 3. "Not found" is never an error: it is `undefined`, an empty map or an empty page, as each
 *    member says. Throw `BounceGuardError` with code `ESTORE` (driver error as `cause`) for real
 *    failures, `ESTORE_UNAVAILABLE` when the backend cannot be reached, `ESTORE_CLOSED` after `close()`.
 * 4. Optional members (`recordEvents`) may be left out; callers fall back to the required ones.
 *    Implement `recordEvents` when the backend can write many events in one transaction: it is
 *    what makes write-behind delivery recording cheap (see `CreateBounceGuardOptions.batchDeliveries`).
 * 5. Run `runStoreConformance` from `@bounce-guard/store-conformance` in your store's tests. It
 *    reads stored rows back through a second path you provide (plain SQL, a raw client), so a store
 *    that only round-trips through a cache is caught.
 */
import type { ShapingEntry } from './shaping.js'
import type { BounceEvent, BounceReason, RecipientState, RetryJob, Suppression, SuppressionReason, SuppressionScope } from './types.js'

/** Input of `suppress`. `createdAt` and `updatedAt` are set by the store from `at`. */
export interface SuppressionInput {
  key: string
  scope: SuppressionScope
  reason: SuppressionReason
  source: Suppression['source']
  /** When the decision was made. */
  at: Date
  expiresAt?: Date
  escalated?: boolean
  ruleId?: string
  detail?: string
}

/** Filter of `listSuppressions`. Every field narrows; none = all. */
export interface SuppressionFilter {
  scope?: SuppressionScope
  reason?: SuppressionReason
  /** Only keys of this domain (address entries whose domain matches, and the domain entry itself). */
  domain?: string
  /** Only entries created at or after this time. */
  since?: Date
  /** Only entries created before this time. */
  until?: Date
  /** Include entries whose `expiresAt` has passed (as of `now`). @default false */
  includeExpired?: boolean
  /** The time that decides expiry. @default new Date() */
  now?: Date
}

/** One page of `listSuppressions`. */
export interface SuppressionPage {
  items: Suppression[]
  /** Pass back as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string
}

/** Result of `suppress`. */
export interface SuppressResult {
  /** True when the key was not suppressed before (or its old entry had expired). */
  created: boolean
  suppression: Suppression
}

/** Input of `stats`. */
export interface StatsQuery {
  /** Count events at or after this time. */
  since: Date
  /** Count events before this time. @default now */
  until?: Date
  groupBy: 'domain' | 'provider' | 'reason'
}

/** Outcome counters shared by `stats`, the monitor, the SQL time series and the report. */
export interface OutcomeCounts {
  delivered: number
  hardBounces: number
  softBounces: number
  deferred: number
  complaints: number
  /** Bounces (and deferrals) whose scope was `sender` (we are being refused). */
  senderRejections: number
}

/** One row of `stats`. */
export interface StatsRow extends OutcomeCounts {
  /** The domain, provider (see `stats`; `unknown` when none) or reason (`delivered` for deliveries). */
  key: string
  /** Events of any type, excluding call-time refusals of our own suppression list. */
  sent: number
  /** hardBounces / (delivered + hardBounces + softBounces); 0 when nothing was sent. */
  bounceRate: number
}

/** What `recordEvent` (and each entry of `recordEvents`) returns. */
export interface RecordEventResult {
  /** The recipient's state after the event (its current state when `duplicate`). */
  state: RecipientState
  /** True when the event's `eventId` was recorded before: nothing changed. */
  duplicate: boolean
}

/** The storage contract. See the module comment for how to implement it. */
export interface BounceStore {
  /**
   * Look up many addresses in one round trip: the hot path at send time.
   * Returns a map from each *suppressed* input address to the entry that suppresses it: its own
   * address entry, else its domain's entry (key = the part after the last `@`). Unsuppressed
   * addresses are absent; an entry with `expiresAt <= now` counts as absent. Empty input = empty map.
   * @param addresses normalised addresses; duplicates allowed
   * @param now decides expiry @default new Date()
   */
  findSuppressions(addresses: readonly string[], now?: Date): Promise<Map<string, Suppression>>

  /**
   * Idempotent upsert keyed by (`key`, `scope`). A new key is created; an existing key keeps its
   * `createdAt` and gets the new reason, source, expiry (absent = permanent), escalated, rule id,
   * detail and `updatedAt` (= `at`). An entry whose `expiresAt <= at` is replaced as new
   * (`created: true`, `createdAt` = `at`).
   */
  suppress(entry: SuppressionInput): Promise<SuppressResult>

  /**
   * Remove the entry for this key (address or domain). Returns true when one existed.
   * Idempotent: a second call returns false.
   */
  unsuppress(key: string, scope?: SuppressionScope): Promise<boolean>

  /**
   * Page through the suppression list, ordered by `createdAt` then `key` ascending. Cursor
   * pagination: entries added while paging after the cursor position appear in later pages; none
   * is returned twice. An unknown or malformed cursor throws `EINVALID_OPTION`.
   * @param limit page size @default 100
   */
  listSuppressions(filter?: SuppressionFilter, page?: { cursor?: string; limit?: number }): Promise<SuppressionPage>

  /**
   * Atomically append the event and update the recipient's `RecipientState`; no lost update under
   * concurrent writers (8 writers x 500 events end with exact counts). The rules, also available as
   * the pure `applyEventToState` in core, which a store may reuse:
   * - `events` +1 always; `lastEventAt` = the latest `at` seen (events may arrive out of order).
   * - `delivered`: `deliveries` +1, `consecutiveSoftFailures` = 0, `firstSoftFailureAt` cleared,
   *   `lastDeliveredAt` = latest. `bounced` with `classification.hard`: `hardBounces` +1. Any other
   *   `bounced`, and every `deferred`: `softBounces` +1. `complaint`: `complaints` +1.
   *   `auto-reply` and `suppressed`: no counter but `events`.
   * - A soft event whose classification scope is `recipient` or `domain` extends the run:
   *   `consecutiveSoftFailures` +1, `firstSoftFailureAt` = earliest of the run, `lastSoftFailureAt` =
   *   latest. Sender-, message- and network-side failures neither extend nor reset it.
   * - `lastReason` = the classification's reason; `delivered` for a delivery without one.
   * An event whose `eventId` was recorded before (for any recipient) is ignored: nothing changes,
   * and the recipient's current state (zero counters when it has none) comes back with
   * `duplicate: true`. Returns the state after the update.
   *
   * Recipients starting with `@` (e.g. `@example.com`) are *domain summaries* the guard keeps to
   * remember `hostunknown` per domain; they are stored like any recipient but `stats` ignores them.
   */
  recordEvent(event: BounceEvent): Promise<{ state: RecipientState; duplicate: boolean }>

  /**
   * Optional batched form of `recordEvent`, for write-behind callers (the guard's delivery
   * batching, bulk imports). Same result as calling `recordEvent` for each event in array order:
   * every event is applied atomically with the `recordEvent` rules, a later event of the same
   * recipient sees the earlier ones, and of several events with one `eventId` (in the batch or
   * already stored) only the first is recorded, the others come back with `duplicate: true`.
   * Returns one result per input, in input order; an empty array resolves to `[]`.
   *
   * All or nothing: the batch is written in one transaction (one round trip or one commit where
   * the backend allows), so when the promise rejects no event of the batch was recorded and the
   * caller may retry the whole batch. Events are validated before anything is written
   * (`EINVALID_OPTION` for a bad `at` or recipient). Stores without it are used event by event.
   */
  recordEvents?(events: readonly BounceEvent[]): Promise<RecordEventResult[]>

  /** The recipient's state, or `undefined` when no event was ever recorded for it. A copy: mutating it changes nothing stored. */
  getRecipientState(recipient: string): Promise<RecipientState | undefined>

  /**
   * Events for one recipient, newest `at` first; events with the same `at` newest recorded first.
   * Unknown recipient = empty array.
   * @param limit @default 100
   */
  listEvents(recipient: string, limit?: number): Promise<BounceEvent[]>

  /** Insert a retry job, or replace the job with the same `id` (idempotent; a lease is cleared). */
  scheduleRetry(job: RetryJob): Promise<void>

  /**
   * Claim up to `limit` jobs with `dueAt <= now` that are not leased (or whose lease expired),
   * oldest `dueAt` first, and lease them until `now + leaseMs`. Safe with several workers: no job is
   * claimed by two callers while its lease runs (row locks with SKIP LOCKED where available).
   * A worker that dies simply lets the lease run out; the job is then claimable again.
   */
  claimDueRetries(now: Date, limit: number, leaseMs: number): Promise<RetryJob[]>

  /** Remove a job after success or final give-up. Idempotent; unknown ids are ignored. */
  completeRetry(id: string): Promise<void>

  /**
   * Release a claimed job after a failed attempt: set its next `dueAt`, attempts + 1, remaining
   * recipients and last error; clear the lease. Unknown ids are ignored.
   */
  failRetry(id: string, update: { dueAt: Date; recipients?: string[]; error?: string }): Promise<void>

  /**
   * Count events with `since <= at < until`, grouped by domain, provider (the classification's,
   * else that of a well-known mailbox domain in `PROVIDER_DOMAIN_HINTS` matched exactly, so a
   * delivery to gmail.com counts under `gmail`; `unknown` when none) or reason (`statsKeyOf` in
   * core), rows ordered by key ascending; no events = empty array.
   * Events of type `suppressed` (call-time refusals) and domain summaries (recipient starting with
   * `@`) are not counted. `softBounces` counts soft `bounced` events only (deferrals are `deferred`);
   * `senderRejections` counts `bounced` and `deferred` events whose classification scope is `sender`.
   */
  stats(query: StatsQuery): Promise<StatsRow[]>

  /**
   * Optional shared traffic-shaping state (`createSharedShaper` in core), so every app server and
   * MTA sees the same pause. Idempotent upsert of active shaping actions keyed by (`key`,
   * `ruleId`): a new pair is inserted; an existing pair is replaced by the new values (action,
   * perMinute, since, until, reply) only when the new `until` is later than the stored one, so a
   * pause is never shortened by a slower writer. Atomic per entry (one statement). Entries whose
   * `until <= now` are not written. `updated_at` (where kept) = `now`. Empty input resolves.
   * Implement all three shaping members or none.
   * @param now decides expiry @default new Date()
   */
  putShapingEntries?(entries: readonly ShapingEntry[], now?: Date): Promise<void>

  /**
   * Optional: the active shaping actions (`until > now`), ordered by `since`, then `key`, then
   * `ruleId`; copies. Nothing active = empty array.
   * @param now decides expiry @default new Date()
   */
  listShapingEntries?(now?: Date): Promise<ShapingEntry[]>

  /**
   * Optional: remove the shaping actions on one destination key (`provider:yahoo`,
   * `domain:example.com`), or all when `key` is absent, expired ones included. Returns how many rows
   * were removed. Idempotent.
   */
  liftShapingEntries?(key?: string): Promise<number>

  /**
   * Optional: take up to `n` send slots of a capped destination `key` in the minute window that
   * starts at `windowStart` (the caller aligns it, e.g. to a whole minute; the store uses it as the
   * window's identity), never granting more than `limit` in that window in total, whoever asks:
   * several app servers and MTAs on one database share one budget (`createSharedShaper`'s
   * `acquire`). Returns how many were granted: `min(n, limit - already granted)`, at least 0.
   * Atomic under concurrent callers (one locked row per key and window). Windows starting more than
   * `SHAPING_SLOT_RETENTION_MS` before `windowStart` may be deleted by any call (of any key).
   * Throws `EINVALID_OPTION` for an empty key or one longer than 320 characters, an invalid date, a
   * `limit` that is not a non-negative integer or an `n` that is not a positive integer.
   */
  takeShapingSlots?(key: string, windowStart: Date, limit: number, n: number): Promise<number>

  /**
   * Release connections. Every later call of any other member rejects with `ESTORE_CLOSED`.
   * Idempotent: a second `close()` resolves. A store built on a connection the user owns (a
   * TypeORM `DataSource`) does not destroy that connection.
   */
  close(): Promise<void>
}

/** Reasons that count as sender-side refusals in `stats` (scope `sender`). */
export type SenderSideReason = Extract<
  BounceReason,
  | 'blocked'
  | 'badreputation'
  | 'authfailure'
  | 'requireptr'
  | 'ratelimited'
  | 'toomanyconn'
  | 'speeding'
  | 'spamdetected'
  | 'policyviolation'
  | 'norelaying'
  | 'rejected'
  | 'securityerror'
>
