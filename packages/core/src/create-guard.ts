/**
 * `createBounceGuard`: the one object adapters talk to. It normalises addresses (only through
 * `address.ts`), asks the store at call time, classifies replies, records outcomes, runs the
 * policy, applies its decision and emits events.
 *
 * Retries: the guard decides *when* (`decision.action === 'retry'`), but only the adapter has the
 * message to re-send, so the adapter creates the job. `guard.scheduleRetry(...)` is a helper that
 * normalises the recipients, picks a UUID and stores the job (`store.scheduleRetry`).
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { isNormalAscii } from './address-fast.js'
import { domainOf, tryNormalizeAddress } from './address.js'
import type { NormalizeOptions } from './address.js'
import { BounceGuardError, isBounceGuardError } from './errors.js'
import type { BounceGuard, BounceGuardEvents, BounceGuardLogger, CheckResult, DeliveryOutcome, RecordResult } from './guard.js'
import { classifyReply } from './classify.js'
import { decide, NO_ACTION_TYPES, noActionDecision, resolvePolicy } from './policy.js'
import type { BouncePolicy, BouncePolicyInput } from './policy.js'
import type { BounceStore } from './store.js'
import type {
  BounceClassification,
  BounceDecision,
  BounceEvent,
  ClassifyContext,
  EventType,
  RecipientState,
  RetryJob,
  SmtpReply,
  Suppression,
} from './types.js'

const PKG = '@bounce-guard/core (guard)'
const EVENT_TYPES: ReadonlySet<string> = new Set<EventType>(['delivered', 'deferred', 'bounced', 'complaint', 'auto-reply', 'suppressed'])
/** Outcome types `enqueue` queues: `decide()` answers `none` for them whatever the history. */
const WRITE_BEHIND_TYPES = NO_ACTION_TYPES
/** Outcome fields copied as they are onto the stored event (one list, not one per outcome). */
const COPIED_FIELDS = ['messageId', 'queueId', 'sender', 'tag', 'eventId'] as const
/** Failures in a row after which one event that fails alone (not for unavailability) is dropped. */
const POISON_ATTEMPTS = 5
/** Entries of the per-guard address normalisation cache (cleared when full). */
const NORMALIZE_CACHE_SIZE = 4096
const RETRY_MAX_MS = 30_000

/** An outcome validated, normalised and classified (`#prepare`). */
interface PreparedOutcome {
  event: BounceEvent
  classification: BounceClassification | undefined
  useDomainMemory: boolean
}

interface QueuedEvent {
  event: BounceEvent
  decision: BounceDecision
  /** `performance.now()` when it was queued (the write-behind delay counts from it). */
  queuedAt: number
}

/** Longest reply text stored with an event; longer replies are cut. */
export const MAX_STORED_REPLY = 2000

/** A reply classifier: `classifyReply` from core, or your own. Must not throw for unknown text. */
export type ReplyClassifier = (reply: string | SmtpReply, context?: ClassifyContext) => BounceClassification

/** Options of `createBounceGuard`. */
export interface CreateBounceGuardOptions {
  /** Where suppressions, events and retry jobs live. */
  store: BounceStore
  /** Overrides merged over `DEFAULT_POLICY` (see `resolvePolicy`). @default DEFAULT_POLICY */
  policy?: BouncePolicyInput | BouncePolicy
  /** The clock. @default () => new Date() */
  now?: () => Date
  /** Randomness for backoff jitter, in [0, 1). @default Math.random */
  random?: () => number
  /** Where the guard logs (pino- and console-compatible). @default a logger that drops everything */
  logger?: BounceGuardLogger
  /**
   * Classifies replies of outcomes that carry no classification.
   * @default core's `classifyReply` with the built-in rules
   */
  classify?: ReplyClassifier
  /** Address normalisation options. @default { caseInsensitiveLocalPart: true } */
  normalize?: NormalizeOptions
  /**
   * Remember `hostunknown` per domain in the store (a `@<domain>` summary; see `policy.ts`), so a
   * second observation on any address of the domain suppresses the domain. Costs two extra store
   * calls per `hostunknown` event only. @default true
   */
  domainMemory?: boolean
  /** Tuning of the write-behind queue that `enqueue()` feeds. @default see `WriteBehindOptions` */
  writeBehind?: WriteBehindOptions
}

/**
 * The write-behind queue behind `guard.enqueue()`: outcomes whose policy decision is always
 * `none` (deliveries, call-time refusals, auto-replies) are queued and written in batches with
 * `store.recordEvents` (one transaction per batch), instead of one store write per outcome.
 */
export interface WriteBehindOptions {
  /** Most events in one store write. @default 500 */
  maxBatch?: number
  /**
   * Most events waiting to be written. When full, `enqueue()` waits for room (backpressure):
   * nothing is dropped for lack of space. @default 10000
   */
  maxQueued?: number
  /**
   * How long the first queued event waits for others before a write starts, in milliseconds.
   * `0` writes on the next turn of the event loop. Events that arrive while a write runs go
   * together in a later write, which starts when the oldest of them has waited `delayMs` (at
   * once when they fill a batch, on `flush()` and `close()`), so a store that answers fast (the
   * TypeORM store on a SQLite file, which writes on a worker thread) still gets batches of
   * `delayMs` worth of events. Larger batches are cheaper per event (SQLite file store: about
   * 75 µs CPU per event in batches of 5, 30 µs in batches of 30, 170 µs alone). In `pnpm bench
   * nodemailer` (about 2,000 deliveries a second) 5 ms gave batches of ~12 and 20 ms batches of
   * ~44, 25-30 µs less CPU per message; longer waits saved nothing more. A queued event is in
   * the store at most this long (plus one write) after it was queued, or at once on
   * `flush()`/`close()`. @default 20
   */
  delayMs?: number
  /** Pause after a failed write, doubled on each further failure up to 30 s. @default 1000 */
  retryDelayMs?: number
}

/** Result of `enqueue`. */
export interface EnqueueResult {
  /** The event as it will be stored (normalised recipient, classification, time). */
  event: BounceEvent
  /** The policy's decision; always `none` for the queued types (they change nothing at once). */
  decision: BounceDecision
  /**
   * True when the event waits in the write-behind queue; false when it was recorded at once
   * (an outcome type that is not queued; see `enqueue`), then `result` holds the record.
   */
  queued: boolean
  result?: RecordResult
}

/** Input of `scheduleRetry`. */
export interface ScheduleRetryInput {
  /** Recipients to retry, as given by the host (normalised by the guard; invalid ones dropped). */
  recipients: readonly string[]
  /** When: a `retry` decision's `at`. */
  dueAt: Date
  /** Opaque data to re-send the message. */
  payload: string
  /** Attempts made so far (the first send is 1). @default 1 */
  attempts?: number
  /** @default dueAt's decision time (the guard's clock) */
  firstFailedAt?: Date
  origin?: string
  lastError?: string
  /** @default a random UUID */
  id?: string
}

/** The guard returned by `createBounceGuard`: `BounceGuard` plus helpers. */
export interface CoreBounceGuard extends BounceGuard {
  /** The resolved policy in use. */
  readonly policy: Readonly<BouncePolicy>
  /** Store a retry job for a `retry` decision; returns the job. Throws `ESTORE` on store failure. */
  scheduleRetry(input: ScheduleRetryInput): Promise<RetryJob>
  /**
   * Record an outcome *later*, in a batch: for callers that do not need the stored state now
   * (a delivery's decision is always `none`). `delivered`, `suppressed` and `auto-reply` outcomes
   * are validated and normalised at once (bad input throws as in `record`), then queued; the
   * promise resolves as soon as the event is in the queue (at once unless the queue is full). The
   * queue is written with `store.recordEvents` when the store has it (else event by event), in
   * order; the `delivered` event is emitted after the write. A failed write emits `error`, keeps
   * the events and is retried with backoff; only an event that fails on its own five times in a
   * row for a reason other than `ESTORE_UNAVAILABLE`, or the whole queue when the store was
   * closed under the guard, is dropped, each time with an `error` event. `record()` of a
   * recipient with queued events writes the queue first, so each recipient's events keep their
   * order. Other outcome types are recorded at once (`queued: false`, `result` set).
   */
  enqueue(outcome: DeliveryOutcome): Promise<EnqueueResult>
  /**
   * `enqueue` without a promise, for a caller's hot path: when the outcome is of a queued type
   * and the queue has room, it is queued at once and its result returned; otherwise nothing is
   * done and `undefined` is returned (then call `enqueue`, which records it or waits for room).
   * Bad input throws as `enqueue` rejects.
   */
  tryEnqueue(outcome: DeliveryOutcome): EnqueueResult | undefined
  /** Write the write-behind queue now. Rejects with the store's error when a write fails (the events stay queued). */
  flush(): Promise<void>
  /** Events waiting in the write-behind queue. */
  readonly pendingWrites: number
  /**
   * The address as this guard stores and looks it up (its `normalize` options), or `undefined`
   * when it is not an address. Cached: the `check()`, `record()` and `enqueue()` of the same
   * address after it reuse the answer.
   */
  normalize(address: string): string | undefined
}

/** The classifier used when none is injected. */
const DEFAULT_CLASSIFIER: ReplyClassifier = (reply, context) => classifyReply(reply, context)

const NOOP_LOGGER: BounceGuardLogger = { info() {}, warn() {}, error() {} }

/**
 * A code-only classifier: permanence from the reply code, never a reason (`undefined`, which never
 * suppresses). Pass it as `classify` to record outcomes without rule matching.
 */
export function basicClassify(reply: string | SmtpReply): BounceClassification {
  const text = (typeof reply === 'string' ? reply : (reply.raw ?? reply.text ?? '')).slice(0, 1000)
  const code =
    typeof reply === 'object' && reply.code !== undefined ? reply.code : Number(/^\s*([2-5]\d\d)(?![0-9])/.exec(text)?.[1] ?? NaN)
  const enhanced =
    typeof reply === 'object' && reply.enhancedStatus !== undefined ? reply.enhancedStatus : /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1]
  const cls = Number.isFinite(code) ? Math.floor(code / 100) : enhanced ? Number(enhanced[0]) : undefined
  const c: BounceClassification = {
    reason: cls === 2 ? 'delivered' : 'undefined',
    hard: false,
    permanent: cls === 5,
    scope: 'recipient',
    ruleId: 'basic.code',
  }
  if (Number.isFinite(code)) c.code = code
  if (enhanced !== undefined) c.enhancedStatus = enhanced
  return c
}

function storeError(err: unknown, what: string): BounceGuardError {
  if (isBounceGuardError(err)) return err
  return new BounceGuardError('ESTORE', `${PKG}: ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}

function validDate(d: unknown): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime())
}

/** True when an existing suppression already covers at least as long as a new one would. */
function coversAtLeast(existing: Suppression, newExpiresAt: Date | undefined): boolean {
  if (existing.expiresAt === undefined) return newExpiresAt !== undefined
  return newExpiresAt !== undefined && existing.expiresAt.getTime() >= newExpiresAt.getTime()
}

class Guard extends EventEmitter implements CoreBounceGuard {
  readonly store: BounceStore
  readonly policy: Readonly<BouncePolicy>
  readonly #now: () => Date
  readonly #random: () => number
  readonly #logger: BounceGuardLogger
  readonly #classify: ReplyClassifier | undefined
  readonly #normalize: NormalizeOptions
  readonly #domainMemory: boolean
  readonly #wbMaxBatch: number
  readonly #wbMaxQueued: number
  readonly #wbDelayMs: number
  readonly #wbRetryMs: number
  readonly #wb: QueuedEvent[] = []
  #wbDraining: Promise<void> | undefined
  #wbScheduled = false
  #wbTimer: NodeJS.Timeout | undefined
  #wbFailures = 0
  /** Events still to write one by one after a batch failed for a reason other than unavailability. */
  #wbIsolate = 0
  #wbRoom: Array<() => void> = []
  /** `flush()` calls running: while > 0 the drain writes batch after batch without waiting. */
  #wbUrgent = 0
  #closed = false
  /** Recently normalised addresses: `check()` and the `record()`/`enqueue()` after a send see the same ones. */
  readonly #normCache = new Map<string, string | undefined>()

  constructor(o: CreateBounceGuardOptions) {
    super()
    this.store = o.store
    this.policy = Object.freeze(resolvePolicy(o.policy))
    this.#now = o.now ?? (() => new Date())
    this.#random = o.random ?? Math.random
    this.#logger = o.logger ?? NOOP_LOGGER
    this.#classify = o.classify
    this.#normalize = o.normalize ?? {}
    this.#domainMemory = o.domainMemory ?? true
    const wb = o.writeBehind ?? {}
    const int = (v: unknown, def: number, min: number, name: string): number => {
      if (v === undefined) return def
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
        throw new BounceGuardError('EINVALID_OPTION', `${PKG}: writeBehind.${name} must be a number >= ${min}`)
      return Math.floor(v)
    }
    this.#wbMaxBatch = int(wb.maxBatch, 500, 1, 'maxBatch')
    this.#wbMaxQueued = int(wb.maxQueued, 10_000, 1, 'maxQueued')
    this.#wbDelayMs = int(wb.delayMs, 20, 0, 'delayMs')
    this.#wbRetryMs = int(wb.retryDelayMs, 1000, 1, 'retryDelayMs')
  }

  now(): Date {
    return this.#now()
  }

  normalize(address: string): string | undefined {
    return this.#normalizeAddress(address)
  }

  /** `tryNormalizeAddress` with this guard's options, through a small cache (the function is pure). */
  #normalizeAddress(address: unknown): string | undefined {
    if (typeof address !== 'string') return undefined
    // Already normal (the usual case): one scan is cheaper than the cache's lookup and insert.
    if (isNormalAscii(address)) return address
    const hit = this.#normCache.get(address)
    if (hit !== undefined || this.#normCache.has(address)) return hit
    const n = tryNormalizeAddress(address, this.#normalize)
    if (this.#normCache.size >= NORMALIZE_CACHE_SIZE) this.#normCache.clear()
    this.#normCache.set(address, n)
    return n
  }

  /** Emit without letting a throwing listener break the guard's own work. */
  #emit<K extends keyof BounceGuardEvents>(event: K, ...args: BounceGuardEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return
    try {
      ;(this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args)
    } catch (err) {
      this.#logger.error({ err, event }, `${PKG}: a "${event}" listener threw`)
    }
  }

  #fail(err: unknown, what: string): BounceGuardError {
    const e = storeError(err, what)
    this.#logger.error({ err: e }, e.message)
    this.#emit('error', e)
    return e
  }

  async check(recipients: readonly string[]): Promise<CheckResult> {
    if (!Array.isArray(recipients)) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: check() expects an array of addresses`)
    const result: CheckResult = { allowed: [], suppressed: [], invalid: [] }
    const n = recipients.length
    const normalized: Array<string | undefined> = new Array(n)
    // Unique keys in first-seen order; a short list is searched instead of building a set.
    const keys: string[] = []
    const seen = n > 16 ? new Set<string>() : undefined
    for (let i = 0; i < n; i++) {
      const k = this.#normalizeAddress(recipients[i])
      normalized[i] = k
      if (k === undefined) continue
      if (seen) {
        if (seen.has(k)) continue
        seen.add(k)
      } else if (keys.includes(k)) continue
      keys.push(k)
    }
    let found: Map<string, Suppression> | undefined
    if (keys.length > 0) {
      try {
        found = await this.store.findSuppressions(keys, this.#now())
      } catch (err) {
        throw this.#fail(err, 'findSuppressions')
      }
    }
    for (let i = 0; i < n; i++) {
      const r = recipients[i] as string
      const k = normalized[i]
      if (k === undefined) result.invalid.push(String(r))
      else {
        const s = found?.get(k)
        if (s) result.suppressed.push({ recipient: r, normalized: k, suppression: s })
        else result.allowed.push(r)
      }
    }
    if (result.suppressed.length > 0 && this.listenerCount('suppressed') > 0) {
      for (const s of result.suppressed) this.#emit('suppressed', { recipient: s.recipient, suppression: s.suppression, atCallTime: true })
    }
    return result
  }

  #classifyOutcome(outcome: DeliveryOutcome, domain: string): BounceClassification | undefined {
    if (outcome.classification) return outcome.classification
    if (outcome.reply === undefined || outcome.type === 'delivered' || outcome.type === 'suppressed') return undefined
    const classify = this.#classify ?? DEFAULT_CLASSIFIER
    try {
      return classify(outcome.reply, { recipientDomain: domain, ...outcome.context })
    } catch (err) {
      this.#logger.warn({ err }, `${PKG}: the classifier threw; the outcome is recorded unclassified`)
      return undefined
    }
  }

  /** Validate, normalise and classify an outcome into the event to store. Throws on bad input. */
  #prepare(outcome: DeliveryOutcome): PreparedOutcome {
    if (!outcome || typeof outcome !== 'object') throw new BounceGuardError('EINVALID_OPTION', `${PKG}: record() expects an outcome object`)
    if (!EVENT_TYPES.has(outcome.type))
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: unknown outcome type ${JSON.stringify(String(outcome.type))}`)
    if (outcome.at !== undefined && !validDate(outcome.at))
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: outcome.at must be a valid Date`)
    const recipient = this.#normalizeAddress(outcome.recipient)
    if (recipient === undefined) {
      throw new BounceGuardError(
        'EINVALID_ADDRESS',
        `${PKG}: not an e-mail address: ${JSON.stringify(String(outcome.recipient).slice(0, 200))}`,
      )
    }
    const domain = domainOf(recipient)
    const classification = this.#classifyOutcome(outcome, domain)
    const event: BounceEvent = { recipient, domain, type: outcome.type, at: outcome.at ?? this.#now(), source: outcome.source ?? 'smtp' }
    if (classification) event.classification = classification
    if (outcome.reply !== undefined) {
      const text = typeof outcome.reply === 'string' ? outcome.reply : outcome.reply.raw
      if (typeof text === 'string') event.reply = text.slice(0, MAX_STORED_REPLY)
    }
    for (const k of COPIED_FIELDS) {
      const v = outcome[k]
      if (typeof v === 'string') event[k] = v
    }
    // One form for Message-IDs whatever the source (headers keep the brackets, DSNs often drop them).
    if (event.messageId !== undefined) event.messageId = normalizeMessageId(event.messageId)

    const useDomainMemory =
      this.#domainMemory &&
      classification?.reason === 'hostunknown' &&
      (classification.hard || classification.permanent) &&
      event.type !== 'delivered'
    return { event, classification, useDomainMemory }
  }

  async record(outcome: DeliveryOutcome): Promise<RecordResult> {
    return this.#recordPrepared(outcome, this.#prepare(outcome))
  }

  /** `record` of an outcome `#prepare` already turned into its event (classified once). */
  async #recordPrepared(outcome: DeliveryOutcome, prepared: PreparedOutcome): Promise<RecordResult> {
    const { event, classification, useDomainMemory } = prepared
    // Keep each recipient's events in order: write what the queue holds for it first.
    if (this.#queuedFor(event.recipient)) await this.flush()
    const domain = event.domain
    const domainKey = `@${domain}`
    let domainState: RecipientState | undefined
    let state: RecipientState
    let duplicate: boolean
    try {
      if (useDomainMemory) domainState = await this.store.getRecipientState(domainKey)
      ;({ state, duplicate } = await this.store.recordEvent(event))
    } catch (err) {
      throw this.#fail(err, 'recordEvent')
    }
    if (duplicate) return { event, state, decision: { action: 'none', reason: 'duplicate event' }, duplicate }

    const now = this.#now()
    const env: Parameters<typeof decide>[3] = { now, random: this.#random }
    if (outcome.attempt !== undefined) env.attempt = outcome.attempt
    if (outcome.firstFailedAt !== undefined && validDate(outcome.firstFailedAt)) env.firstFailedAt = outcome.firstFailedAt
    if (domainState) env.domainState = domainState
    const decision = decide(event, state, this.policy, env)

    try {
      if (useDomainMemory) {
        const summary: BounceEvent = { ...event, recipient: domainKey, type: 'deferred' }
        if (classification) summary.classification = { ...classification, scope: 'domain' }
        if (event.eventId !== undefined) summary.eventId = `${event.eventId}#domain`
        await this.store.recordEvent(summary)
      }
      if (decision.action === 'suppress') await this.#applySuppression(decision, event, outcome.recipient, now)
    } catch (err) {
      throw this.#fail(err, decision.action === 'suppress' ? 'suppress' : 'recordEvent (domain summary)')
    }

    const result: RecordResult = { event, state, decision, duplicate: false }
    if (decision.alert) this.#emit('alert', decision.alert)
    if (event.type === 'bounced') this.#emit('bounce', result)
    else if (event.type === 'deferred') this.#emit('deferred', result)
    else if (event.type === 'delivered') this.#emit('delivered', result)
    else if (event.type === 'complaint') this.#emit('complaint', result)
    return result
  }

  async #applySuppression(
    decision: Extract<BounceDecision, { action: 'suppress' }>,
    event: BounceEvent,
    given: string,
    now: Date,
  ): Promise<void> {
    // Never weaken an entry: a permanent suppression is not turned into an expiring one.
    let existing: Suppression | undefined
    if (decision.scope === 'address') {
      const hit = (await this.store.findSuppressions([decision.key], now)).get(decision.key)
      if (hit?.scope === 'address') existing = hit
    } else {
      existing = (await this.store.listSuppressions({ scope: 'domain', domain: decision.key, now }, { limit: 1 })).items.find(
        (s) => s.key === decision.key,
      )
    }
    if (existing && coversAtLeast(existing, decision.expiresAt)) return
    const input: Parameters<BounceStore['suppress']>[0] = {
      key: decision.key,
      scope: decision.scope,
      reason: decision.reason,
      source: event.source,
      at: now,
      escalated: decision.escalated,
    }
    if (decision.expiresAt) input.expiresAt = decision.expiresAt
    if (event.classification) input.ruleId = event.classification.ruleId
    if (event.reply) input.detail = event.reply.slice(0, 500)
    const { created, suppression } = await this.store.suppress(input)
    if (created) this.#emit('suppressed', { recipient: given, suppression, atCallTime: false })
  }

  async scheduleRetry(input: ScheduleRetryInput): Promise<RetryJob> {
    if (!input || !Array.isArray(input.recipients))
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: scheduleRetry() expects { recipients: string[], dueAt, payload }`)
    if (!validDate(input.dueAt)) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: scheduleRetry(): dueAt must be a valid Date`)
    if (typeof input.payload !== 'string')
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: scheduleRetry(): payload must be a string`)
    const recipients = [
      ...new Set(input.recipients.map((r) => tryNormalizeAddress(r, this.#normalize)).filter((r): r is string => r !== undefined)),
    ]
    if (recipients.length === 0) throw new BounceGuardError('EINVALID_ADDRESS', `${PKG}: scheduleRetry(): no valid recipient`)
    const job: RetryJob = {
      id: input.id ?? randomUUID(),
      recipients,
      dueAt: input.dueAt,
      attempts: input.attempts ?? 1,
      payload: input.payload,
      firstFailedAt: input.firstFailedAt ?? this.#now(),
    }
    if (input.origin !== undefined) job.origin = input.origin
    if (input.lastError !== undefined) job.lastError = input.lastError.slice(0, MAX_STORED_REPLY)
    try {
      await this.store.scheduleRetry(job)
    } catch (err) {
      throw this.#fail(err, 'scheduleRetry')
    }
    return job
  }

  get pendingWrites(): number {
    return this.#wb.length
  }

  enqueue(outcome: DeliveryOutcome): Promise<EnqueueResult> {
    let prepared: PreparedOutcome
    try {
      prepared = this.#prepare(outcome)
    } catch (err) {
      return Promise.reject(err)
    }
    const event = prepared.event
    if (!WRITE_BEHIND_TYPES.has(event.type) || prepared.useDomainMemory) {
      return this.#recordPrepared(outcome, prepared).then((result) => ({
        event: result.event,
        decision: result.decision,
        queued: false,
        result,
      }))
    }
    if (this.#closed) return Promise.reject(new BounceGuardError('ESTORE_CLOSED', `${PKG}: enqueue() after close()`))
    // Room in the queue (the usual case): queued at once, without an async function's extra steps.
    if (this.#wb.length < this.#wbMaxQueued) return Promise.resolve(this.#push(event))
    return this.#pushWhenRoom(event)
  }

  tryEnqueue(outcome: DeliveryOutcome): EnqueueResult | undefined {
    // Only the cases `enqueue` queues at once; the others are left to it (nothing done here).
    if (this.#closed || this.#wb.length >= this.#wbMaxQueued || !outcome || !WRITE_BEHIND_TYPES.has(outcome.type)) return undefined
    const prepared = this.#prepare(outcome)
    if (prepared.useDomainMemory) return undefined
    return this.#push(prepared.event)
  }

  /** Wait until the write-behind queue has room (backpressure), then queue the event. */
  async #pushWhenRoom(event: BounceEvent): Promise<EnqueueResult> {
    while (this.#wb.length >= this.#wbMaxQueued) {
      this.#scheduleDrain()
      await new Promise<void>((resolve) => this.#wbRoom.push(resolve))
    }
    return this.#push(event)
  }

  /** Put an event of a write-behind type on the queue and start a write soon. */
  #push(event: BounceEvent): EnqueueResult {
    // the queued types are settled by their type alone (no clock read, no history)
    const decision = noActionDecision(event.type) ?? decide(event, undefined, this.policy, { now: this.#now(), random: this.#random })
    this.#wb.push({ event, decision, queuedAt: performance.now() })
    this.#scheduleDrain()
    return { event, decision, queued: true }
  }

  async flush(): Promise<void> {
    this.#wbUrgent++
    try {
      while (this.#wb.length > 0) {
        if (this.#wbTimer) {
          clearTimeout(this.#wbTimer)
          this.#wbTimer = undefined
        }
        await this.#drain()
      }
    } finally {
      this.#wbUrgent--
    }
  }

  /** Start a write in `delayMs` (or `after` ms), unless one runs, is scheduled, or waits out a failure. */
  #scheduleDrain(after = this.#wbDelayMs): void {
    if (this.#wbDraining || this.#wbScheduled || this.#wbTimer || this.#wb.length === 0) return
    this.#wbScheduled = true
    const go = (): void => {
      this.#wbScheduled = false
      this.#drain().catch(() => undefined) // reported through the error event; retried by the timer
    }
    if (after > 0) setTimeout(go, after)
    else setImmediate(go)
  }

  #drain(): Promise<void> {
    if (!this.#wbDraining) {
      this.#wbDraining = this.#drainLoop().finally(() => {
        this.#wbDraining = undefined
        // The loop left events that had not waited `delayMs` yet: write them when they have.
        const first = this.#wb[0]
        if (first) this.#scheduleDrain(Math.ceil(this.#wbDelayMs - (performance.now() - first.queuedAt)))
      })
    }
    return this.#wbDraining
  }

  /**
   * After a write: true when the events queued meanwhile should wait before the next one (no
   * `flush()` running, less than a batch, nobody waiting for room, the oldest younger than `delayMs`).
   */
  #shouldWait(): boolean {
    const first = this.#wb[0]
    return (
      first !== undefined &&
      this.#wbUrgent === 0 &&
      this.#wb.length < this.#wbMaxBatch &&
      this.#wbRoom.length === 0 &&
      performance.now() - first.queuedAt < this.#wbDelayMs - 1
    )
  }

  async #drainLoop(): Promise<void> {
    while (this.#wb.length > 0) {
      const batched = typeof this.store.recordEvents === 'function' && this.#wbIsolate === 0
      const batch = this.#wb.slice(0, batched ? this.#wbMaxBatch : 1)
      const events = batch.map((q) => q.event)
      let results: Array<{ state: RecipientState; duplicate: boolean }>
      try {
        results = batched
          ? await (this.store.recordEvents as NonNullable<BounceStore['recordEvents']>)(events)
          : [await this.store.recordEvent(events[0] as BounceEvent)]
      } catch (err) {
        if (this.#writeFailed(err, batch)) continue
        throw storeError(err, 'recordEvents (write-behind)')
      }
      this.#wbFailures = 0
      if (this.#wbIsolate > 0) this.#wbIsolate = Math.max(0, this.#wbIsolate - batch.length)
      this.#dequeue(batch.length)
      // The `delivered` results are built only for listeners (nobody may be listening).
      if (this.listenerCount('delivered') > 0) {
        batch.forEach((q, i) => {
          const r = results[i]
          if (!r || r.duplicate || q.event.type !== 'delivered') return
          this.#emit('delivered', { event: q.event, state: r.state, decision: q.decision, duplicate: false })
        })
      }
      if (this.#shouldWait()) return
    }
  }

  /** Handle a failed write; true = go on at once (the failing events were split or dropped). */
  #writeFailed(err: unknown, batch: QueuedEvent[]): boolean {
    const e = storeError(err, 'recordEvents (write-behind)')
    this.#wbFailures++
    if (e.code === 'ESTORE_CLOSED') {
      const n = this.#wb.length
      this.#dequeue(n)
      this.#fail(
        new BounceGuardError('ESTORE_CLOSED', `${PKG}: the store was closed; ${n} queued outcome(s) could not be written and are dropped`, {
          cause: e,
          details: { dropped: n },
        }),
        'recordEvents (write-behind)',
      )
      return true
    }
    if (e.code !== 'ESTORE_UNAVAILABLE') {
      if (batch.length > 1) {
        // All or nothing: nothing of the batch was written. Find the event that fails, one by one.
        this.#wbIsolate = batch.length
        this.#fail(e, `recordEvents (write-behind, ${batch.length} events, retried one by one)`)
        return true
      }
      if (this.#wbFailures >= POISON_ATTEMPTS) {
        const q = batch[0] as QueuedEvent
        this.#dequeue(1)
        this.#wbFailures = 0
        if (this.#wbIsolate > 0) this.#wbIsolate--
        this.#fail(
          new BounceGuardError('ESTORE', `${PKG}: an outcome failed ${POISON_ATTEMPTS} writes in a row and is dropped: ${e.message}`, {
            cause: e,
            details: { event: q.event },
          }),
          'recordEvents (write-behind)',
        )
        return true
      }
    }
    const delay = Math.min(RETRY_MAX_MS, this.#wbRetryMs * 2 ** Math.min(20, this.#wbFailures - 1))
    this.#fail(e, `recordEvents (write-behind; ${this.#wb.length} outcome(s) kept, retry in ${delay} ms)`)
    if (!this.#wbTimer) {
      this.#wbTimer = setTimeout(() => {
        this.#wbTimer = undefined
        this.#drain().catch(() => undefined)
      }, delay)
      // A store that stays down must not keep the process alive forever: flush() or close() the
      // guard before exiting (what is still queued then is reported by their rejection).
      this.#wbTimer.unref()
    }
    return false
  }

  /**
   * Whether the queue holds an event of `recipient` (being written included: events leave the
   * queue once written). A scan, on the `record()` path only: the queue usually holds one
   * `delayMs` worth of deliveries, and no per-event bookkeeping is kept on the delivery path.
   */
  #queuedFor(recipient: string): boolean {
    const wb = this.#wb
    for (let i = 0; i < wb.length; i++) if ((wb[i] as QueuedEvent).event.recipient === recipient) return true
    return false
  }

  #dequeue(n: number): void {
    this.#wb.splice(0, n)
    const waiting = this.#wbRoom.splice(0, this.#wbRoom.length)
    for (const wake of waiting) wake()
  }

  /** Writes the write-behind queue, then closes the store. If the queue cannot be written, rejects and closes nothing. */
  async close(): Promise<void> {
    try {
      await this.flush()
    } catch (err) {
      // Already reported through the error event by the failed write; the queue is kept.
      throw storeError(err, 'close')
    }
    this.#closed = true
    try {
      await this.store.close()
    } catch (err) {
      throw this.#fail(err, 'close')
    }
  }
}

/**
 * Create a guard over a store.
 * @example
 * const guard = createBounceGuard({ store: new MemoryBounceStore() })
 * const { allowed } = await guard.check(['Alice@Example.com'])
 */
export function createBounceGuard(options: CreateBounceGuardOptions): CoreBounceGuard {
  const store = options?.store as Partial<BounceStore> | undefined
  if (
    !store ||
    typeof store.findSuppressions !== 'function' ||
    typeof store.recordEvent !== 'function' ||
    typeof store.suppress !== 'function'
  ) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: createBounceGuard() needs a store implementing BounceStore`)
  }
  for (const k of ['now', 'random', 'classify'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function')
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: option ${k} must be a function`)
  }
  return new Guard(options)
}

/** Printable ASCII other than space: never removed by `trim()`. */
function printable(c: number): boolean {
  return c > 32 && c < 127
}

/** A Message-ID without surrounding white space and angle brackets, e.g. `abc@example.com`. */
export function normalizeMessageId(id: string): string {
  // The usual form, `<local@domain>` with nothing around it, without the trims' copies.
  const last = id.length - 1
  if (
    last > 1 &&
    id.charCodeAt(0) === 60 &&
    id.charCodeAt(last) === 62 &&
    printable(id.charCodeAt(1)) &&
    printable(id.charCodeAt(last - 1))
  )
    return id.slice(1, last)
  let v = id.trim()
  if (v.startsWith('<')) v = v.slice(1)
  if (v.endsWith('>')) v = v.slice(0, -1)
  return v.trim()
}
