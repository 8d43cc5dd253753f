/**
 * Writes outcomes through the guard, and keeps them in memory while the store is unreachable.
 *
 * While the buffer is empty, outcomes are recorded directly (concurrently). When a write fails
 * because the store is down, the outcome joins the buffer; from then on new outcomes queue behind
 * it, so each recipient's outcomes reach the store in the order they happened. The buffer is
 * flushed in order by a timer (`flushIntervalMs`) and by every new outcome. It holds at most
 * `maxBuffered` entries; beyond that the oldest is dropped and logged at error level.
 *
 * Retry jobs: the outcomes of one send share a `RetryCarrier`. When all of them are recorded, the
 * recipients whose decision is `retry` become one job (`store.scheduleRetry`); a job that cannot
 * be written waits in the same buffer.
 */
import { randomUUID } from 'node:crypto'
import { isBounceGuardError } from '@bounce-guard/core'
import type {
  BounceDecision,
  BounceGuard,
  BounceGuardLogger,
  DeliveryOutcome,
  EnqueueResult,
  RecordResult,
  RetryJob,
} from '@bounce-guard/core'

/** Everything needed to turn the deferred recipients of one send into a retry job. */
export interface RetryCarrier {
  /** The serialised payload (see `retry-payload.ts`), or why there is none. */
  payload?: string
  payloadError?: Error
  /** Attempts made so far including this one (the original send is 1). */
  attempt: number
  at: Date
  /** Items of this send not yet recorded. */
  remaining: number
  items: ItemState[]
  /** Filled in when the job is scheduled (or could not be). */
  jobId?: string
  recipients?: string[]
  dueAt?: Date
  error?: Error
  /** Resolves when the carrier's job question is settled (scheduled, buffered or none). */
  done?: Promise<void>
}

/** One outcome on its way to the store. */
export interface ItemState {
  outcome: DeliveryOutcome
  carrier?: RetryCarrier
  result?: RecordResult
  buffered: boolean
  dropped?: boolean
  error?: unknown
  /** Set when the outcome went to the guard's write-behind queue (its decision is known: `none`). */
  queued?: { decision: BounceDecision }
}

type Entry = { kind: 'record'; item: ItemState } | { kind: 'job'; job: RetryJob }

/** Options of the recorder (from `withBounceGuard`). */
export interface RecorderOptions {
  logger: BounceGuardLogger
  /** @default 10000 */
  maxBuffered?: number
  /** @default 5000 */
  flushIntervalMs?: number
}

/** True when `err` means "the store cannot be reached now" (worth buffering and retrying). */
export function isStoreOutage(err: unknown): boolean {
  if (isBounceGuardError(err)) return err.code === 'ESTORE' || err.code === 'ESTORE_UNAVAILABLE'
  return err instanceof Error || (typeof err === 'object' && err !== null)
}

const NONE: ItemState[] = []

const recorders = new WeakMap<BounceGuard, OutcomeRecorder>()

/** The recorder shared by every wrapper and worker of this guard (one buffer per guard). */
export function recorderFor(guard: BounceGuard, options: RecorderOptions): OutcomeRecorder {
  let r = recorders.get(guard)
  if (!r) {
    r = new OutcomeRecorder(guard, options)
    recorders.set(guard, r)
  }
  return r
}

/** See the module comment. */
export class OutcomeRecorder {
  private readonly buffer: Entry[] = []
  private flushing: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly maxBuffered: number
  private readonly flushIntervalMs: number
  /** Outcomes dropped because the buffer was full. */
  dropped = 0

  constructor(
    readonly guard: BounceGuard,
    private readonly options: RecorderOptions,
  ) {
    this.maxBuffered = Math.max(1, options.maxBuffered ?? 10_000)
    this.flushIntervalMs = Math.max(10, options.flushIntervalMs ?? 5000)
  }

  /** Entries waiting for the store. */
  get pending(): number {
    return this.buffer.length
  }

  /** Record these outcomes (buffering them if the store is down); never throws. */
  async record(items: ItemState[]): Promise<void> {
    for (const i of items) if (i.carrier) i.carrier.remaining++
    for (const i of items) if (i.carrier && !i.carrier.items.includes(i)) i.carrier.items.push(i)
    if (this.buffer.length > 0) {
      for (const i of items) this.enqueue({ kind: 'record', item: i })
      await this.flush()
      return
    }
    await Promise.all(
      items.map(async (item) => {
        try {
          item.result = await this.guard.record(item.outcome)
          await this.settled(item)
        } catch (err) {
          await this.failed(item, err)
        }
      }),
    )
  }

  /**
   * Hand these outcomes to the guard's write-behind queue (`guard.enqueue`), which writes and
   * retries them itself. Resolves once they are queued (the queue applies backpressure when
   * full). Without `enqueue` on the guard, or when it refuses one, the outcome is recorded here
   * (`record`). Never throws. Items must not carry a retry carrier.
   */
  queue(items: ItemState[]): Promise<void> {
    const enqueue = (this.guard as { enqueue?: (o: DeliveryOutcome) => Promise<EnqueueResult> }).enqueue
    if (typeof enqueue !== 'function') return this.record(items)
    // One outcome (the usual send): no async function around the one enqueue.
    if (items.length === 1) {
      const item = items[0] as ItemState
      let queued: Promise<EnqueueResult>
      try {
        queued = enqueue.call(this.guard, item.outcome)
      } catch (err) {
        queued = Promise.reject(err)
      }
      return queued.then(
        (r) => {
          if (r.queued) item.queued = { decision: r.decision }
          else if (r.result) item.result = r.result
        },
        (err: unknown) => {
          this.refused(item, err)
          return this.record(items)
        },
      )
    }
    return this.queueEach(enqueue, items)
  }

  /**
   * `queue` done at once where it can be: each outcome the guard queues synchronously
   * (`tryEnqueue`) is marked `queued`. Returns the items left for `queue` (none: all queued, no
   * promise needed). Never throws: an outcome the guard refuses is left for `queue`, which
   * reports it as before.
   */
  queueNow(items: ItemState[]): ItemState[] {
    const tryEnqueue = (this.guard as { tryEnqueue?: (o: DeliveryOutcome) => EnqueueResult | undefined }).tryEnqueue
    if (typeof tryEnqueue !== 'function') return items
    let left: ItemState[] | undefined
    for (const item of items) {
      let r: EnqueueResult | undefined
      try {
        r = tryEnqueue.call(this.guard, item.outcome)
      } catch {
        r = undefined
      }
      if (r?.queued) item.queued = { decision: r.decision }
      else (left ??= []).push(item)
    }
    return left ?? NONE
  }

  /** `queue` of several outcomes, one after the other (each waits for room in turn). */
  private async queueEach(enqueue: (o: DeliveryOutcome) => Promise<EnqueueResult>, items: ItemState[]): Promise<void> {
    const direct: ItemState[] = []
    for (const item of items) {
      try {
        const r = await enqueue.call(this.guard, item.outcome)
        if (r.queued) item.queued = { decision: r.decision }
        else if (r.result) item.result = r.result
      } catch (err) {
        this.refused(item, err)
        direct.push(item)
      }
    }
    if (direct.length > 0) await this.record(direct)
  }

  private refused(item: ItemState, err: unknown): void {
    this.options.logger.warn(
      { err, recipient: item.outcome.recipient },
      '@bounce-guard/nodemailer: write-behind refused an outcome, recording it directly',
    )
  }

  /** Write the buffer now, in order. Resolves when it is empty or the store failed again. */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.drain().finally(() => {
        this.flushing = undefined
      })
    }
    return this.flushing
  }

  /** Stop the flush timer (the buffer is kept; call `flush()` to try once more). */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const e = this.buffer[0] as Entry
      try {
        if (e.kind === 'record') {
          e.item.result = await this.guard.record(e.item.outcome)
          e.item.buffered = false
        } else {
          await this.guard.store.scheduleRetry(e.job)
        }
      } catch (err) {
        if (isStoreOutage(err)) {
          this.arm()
          return
        }
        this.options.logger.error({ err, entry: describe(e) }, '@bounce-guard/nodemailer: dropping an outcome the store refused')
        if (e.kind === 'record') {
          e.item.dropped = true
          e.item.error = err
        }
      }
      this.buffer.shift()
      if (e.kind === 'record') await this.settled(e.item)
    }
    this.stop()
    this.options.logger.info({}, '@bounce-guard/nodemailer: store reachable again, buffered outcomes written')
  }

  private async failed(item: ItemState, err: unknown): Promise<void> {
    if (isStoreOutage(err)) {
      this.options.logger.warn({ err, recipient: item.outcome.recipient }, '@bounce-guard/nodemailer: store unavailable, outcome buffered')
      this.enqueue({ kind: 'record', item })
      return
    }
    item.error = err
    item.dropped = true
    this.options.logger.error({ err, recipient: item.outcome.recipient }, '@bounce-guard/nodemailer: outcome not recorded')
    await this.settled(item)
  }

  private enqueue(e: Entry): void {
    if (e.kind === 'record') e.item.buffered = true
    this.buffer.push(e)
    while (this.buffer.length > this.maxBuffered) {
      const old = this.buffer.shift() as Entry
      this.dropped++
      if (old.kind === 'record') {
        old.item.dropped = true
        old.item.buffered = false
      }
      this.options.logger.error(
        { dropped: this.dropped, limit: this.maxBuffered, entry: describe(old) },
        '@bounce-guard/nodemailer: outcome buffer full, oldest outcome dropped',
      )
    }
    this.arm()
  }

  private arm(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs)
    this.timer.unref()
  }

  /** An item is final (recorded or dropped): when its send's items are all final, schedule. */
  private async settled(item: ItemState): Promise<void> {
    const c = item.carrier
    if (!c) return
    c.remaining--
    if (c.remaining > 0) return
    const retry = c.items.filter((i) => i.result?.decision.action === 'retry')
    if (retry.length === 0) return
    c.recipients = retry.map((i) => i.result?.event.recipient as string)
    if (c.payload === undefined) {
      c.error = c.payloadError
      return
    }
    let dueAt: Date | undefined
    for (const i of retry) {
      const d = i.result?.decision
      if (d?.action === 'retry' && (!dueAt || d.at < dueAt)) dueAt = d.at
    }
    const first = retry[0]?.outcome
    const reply = typeof first?.reply === 'string' ? first.reply : first?.reply?.raw
    const job: RetryJob = {
      id: randomUUID(),
      recipients: c.recipients,
      dueAt: dueAt ?? c.at,
      attempts: c.attempt,
      payload: c.payload,
      origin: 'nodemailer',
      firstFailedAt: c.at,
    }
    if (reply) job.lastError = reply.slice(0, 1000)
    c.jobId = job.id
    c.dueAt = job.dueAt
    try {
      await this.guard.store.scheduleRetry(job)
    } catch (err) {
      if (isStoreOutage(err)) {
        this.options.logger.warn({ err, jobId: job.id }, '@bounce-guard/nodemailer: store unavailable, retry job buffered')
        this.enqueue({ kind: 'job', job })
      } else {
        c.error = err instanceof Error ? err : new Error(String(err))
        this.options.logger.error({ err, jobId: job.id }, '@bounce-guard/nodemailer: retry job not scheduled')
      }
    }
  }
}

function describe(e: Entry): Record<string, unknown> {
  return e.kind === 'record'
    ? { kind: 'outcome', recipient: e.item.outcome.recipient, type: e.item.outcome.type }
    : { kind: 'retry-job', id: e.job.id, recipients: e.job.recipients }
}
