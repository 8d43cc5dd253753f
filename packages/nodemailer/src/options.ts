/**
 * Options and result shapes of the Nodemailer adapter.
 */
import type { BounceClassification, BounceDecision, BounceGuard, BounceGuardLogger, BounceStore, Shaper } from '@bounce-guard/core'
import type { SuppressionSnapshotOptions } from './suppression-snapshot.js'

/** What to do with suppressed recipients at send time. */
export type OnSuppressed = 'drop' | 'reject'

/** What a send does when the store cannot be reached. */
export type OnStoreError = 'fail-open' | 'fail-closed'

/** Options of `withBounceGuard`. Give either `guard` or `store`. */
export interface WithBounceGuardOptions {
  /** The guard to use (from `createBounceGuard`). Wins over `store`. */
  guard?: BounceGuard
  /** A store; a guard is created over it with `createBounceGuard({ store, logger })`. */
  store?: BounceStore
  /**
   * `drop`: remove suppressed recipients from the SMTP envelope and send to the rest.
   * `reject`: fail the whole send with `BounceGuardError` `ESUPPRESSED` when any is suppressed.
   * When every recipient is suppressed, both fail with `ESUPPRESSED` and no connection is made.
   * @default "drop"
   */
  onSuppressed?: OnSuppressed
  /**
   * With `onSuppressed: "drop"`, also remove the suppressed recipients from the visible To, Cc
   * and Bcc headers. Otherwise only the envelope changes.
   * @default false
   */
  rewriteHeaders?: boolean
  /**
   * `fail-open`: when the store cannot be reached, sends proceed unchecked and their outcomes are
   * buffered in memory (see `maxBufferedOutcomes`) and written when the store is back.
   * `fail-closed`: a send fails with `BounceGuardError` `ESTORE_UNAVAILABLE` when the suppression
   * check cannot be made. Outcomes of mail already sent are buffered in both modes.
   * @default "fail-open"
   */
  onStoreError?: OnStoreError
  /**
   * How many outcomes (one per recipient) may wait in memory for the store to come back. Beyond
   * it the oldest are dropped and logged at error level.
   * @default 10000
   */
  maxBufferedOutcomes?: number
  /**
   * How often to retry writing buffered outcomes while the store is down, in milliseconds.
   * @default 5000
   */
  flushIntervalMs?: number
  /**
   * Keep what is needed to re-send a message whose recipients were deferred: `raw` stores the
   * raw MIME and the envelope in the retry job; `none` records the deferral but schedules nothing.
   * @default "raw"
   */
  retryPayload?: 'raw' | 'none'
  /**
   * Largest raw message stored for a retry, in bytes. A larger message is not scheduled:
   * `BounceGuardError` `EPAYLOAD_TOO_LARGE` is logged and set on `bounceGuard.retry.error`.
   * @default 10485760 (10 MiB)
   */
  maxRetryPayloadBytes?: number
  /**
   * Record recipients refused at call time as `suppressed` events (source `call-time`).
   * @default true
   */
  recordRefusals?: boolean
  /**
   * Record a `delivered` event for every accepted recipient. Each costs one store write (about
   * 0.5 ms with the TypeORM store on SQLite, see the bench); turning it off leaves only failures
   * and refusals in the store, at the price of bounce-rate stats without a denominator and soft
   * failure runs that a later delivery no longer resets.
   * @default true
   */
  recordDeliveries?: boolean
  /**
   * Write deliveries and call-time refusals behind the send: they go to the guard's write-behind
   * queue (`guard.enqueue`), which writes them in batches (`store.recordEvents`, one transaction
   * per batch) and retries them itself while the store is down, so a send does not wait for a
   * store write. Their decision is always `none`, so nothing immediate depends on the write;
   * `bounceGuard.outcomes[i].recorded` says `"queued"`. Bounces and deferrals are still written
   * before the send resolves (their decision is needed). Needs a guard from `createBounceGuard`
   * (another guard without `enqueue` records everything directly). `false` writes every outcome
   * before the send resolves.
   * @default true
   */
  writeBehind?: boolean
  /**
   * Traffic shaping (`createShaper()`, or `createSharedShaper({ store })` so every app server sees
   * the same pause). Consulted at call time once per recipient domain: recipients of a *paused*
   * destination are not sent now but queued as a retry job due when the pause ends (no connection
   * is made when every recipient is paused); a *paced* (capped) destination waits for its next
   * slot, up to `maxPaceMs` per send, and is queued like a pause when the wait would be longer.
   * With a shared shaper whose store implements `takeShapingSlots` (the memory and TypeORM
   * stores), a cap of N per minute holds for all app servers together: each send takes a slot of
   * the destination's minute window from the store (`SharedShaper.acquire`); when the store fails,
   * each process paces on its own and the failure goes to the shaper's `onError`. Such recipients are listed in `bounceGuard.deferredByShaping` and are not recorded as events.
   * The shaper observes every outcome the wrapper records. @default none (no shaping)
   */
  shaper?: Shaper
  /**
   * Longest time one send waits for a paced destination's slot, in milliseconds; a longer wait
   * queues its recipients as a retry job instead. `0` never waits.
   * @default 5000
   */
  maxPaceMs?: number
  /**
   * Answer send-time lookups from an in-process copy of the suppressed keys, refreshed from the
   * store in the background, instead of one store query per batch of sends. A recipient the copy
   * does not list is sent without a query; any other one is looked up in the store as usual (the
   * store decides). What it gives up: a suppression written by *another* process (app server,
   * Haraka, CLI) takes effect here up to `maxStalenessMs` later (2 s by default; enforced: an
   * older copy is not used). Suppressions this guard makes take effect at once. `true` uses the
   * defaults; see `SuppressionSnapshotOptions`. @default false (every lookup asks the store)
   */
  suppressionSnapshot?: boolean | SuppressionSnapshotOptions
  /** A pino-compatible logger (`logger.warn(obj, msg)`). @default no logging */
  logger?: BounceGuardLogger
}

/** Recipients of one destination held back by traffic shaping (see `WithBounceGuardOptions.shaper`). */
export interface ShapedRecipients {
  /** The recipient domain. */
  domain: string
  /** As given in the envelope. */
  recipients: string[]
  /** `pause`: the destination is paused; `pace`: its next slot is later than `maxPaceMs`. */
  action: 'pause' | 'pace'
  /** The shaping rule and destination key (`provider:yahoo`, `domain:example.com`). */
  ruleId: string
  key: string
  /** When they will be tried: the retry job's due time. */
  dueAt: Date
  /** The retry job holding them; absent when none could be scheduled (see `error`). */
  jobId?: string
  /** Why no job was scheduled (`retryPayload: "none"`, payload too large, store error). */
  error?: Error
}

/** One recipient's outcome, as attached to `info.bounceGuard` / `err.bounceGuard`. */
export interface RecipientOutcome {
  recipient: string
  type: 'delivered' | 'deferred' | 'bounced' | 'suppressed'
  /** The reply text that decided it, when there was one. */
  reply?: string
  classification?: BounceClassification
  /** The policy's decision; absent while the outcome waits in the buffer (store down). */
  decision?: BounceDecision
  /** True when the store was unreachable and the outcome waits in memory. */
  buffered?: boolean
  /**
   * Where the outcome is: `written` (stored, `decision` from the stored state), `queued` (in the
   * guard's write-behind queue, see `writeBehind`), `buffered` (the store was unreachable; it
   * waits in the wrapper's buffer), `dropped` (the store refused it; logged), `skipped` (not
   * recorded: `recordDeliveries` or `recordRefusals` is false).
   */
  recorded?: 'written' | 'queued' | 'buffered' | 'dropped' | 'skipped'
}

/** Details the wrapper adds to Nodemailer's `info` and error objects. */
export interface BounceGuardSendDetails {
  /** Recipients refused at call time (as given in the envelope). */
  suppressed: string[]
  /** One entry per recipient that was sent to (or refused). */
  outcomes: RecipientOutcome[]
  /** The retry job scheduled for the deferred recipients, if any. */
  retry?: { jobId?: string; recipients: string[]; dueAt?: Date; error?: Error }
  /** True when the suppression check was skipped because the store was unreachable (fail-open). */
  unchecked?: boolean
  /** Recipients not sent now because their destination is paused or paced (see the `shaper` option). */
  deferredByShaping?: ShapedRecipients[]
}

/** Options of `createRetryWorker`. */
export interface RetryWorkerOptions {
  /** The guard whose store holds the retry jobs. */
  guard: BounceGuard
  /**
   * A Nodemailer transporter (`createTransport(...)`) to re-send with: the wrapped one or a plain
   * one. The worker checks, classifies and records itself.
   */
  transport: { sendMail(data: Record<string, unknown>): Promise<unknown> }
  /** Time between polls, in milliseconds. @default 30000 */
  intervalMs?: number
  /** Jobs sent at the same time. @default 4 */
  concurrency?: number
  /** How long a claimed job stays leased to this worker, in milliseconds. @default 300000 */
  leaseMs?: number
  /** Jobs claimed per poll. @default concurrency * 4 */
  batchSize?: number
  /**
   * Traffic shaping (the same shaper as the wrapper's): recipients of a destination that is paused
   * or capped when their job comes due are not sent; they are moved to a job of their own due when
   * the destination opens (attempts unchanged). The shaper observes the worker's outcomes.
   * @default none (no shaping)
   */
  shaper?: Shaper
  /** The clock. @default the guard's clock */
  now?: () => Date
  /** A pino-compatible logger. @default no logging */
  logger?: BounceGuardLogger
}
