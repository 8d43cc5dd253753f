/**
 * `createRetryWorker`: re-sends the messages whose recipients were deferred. It claims due jobs
 * from the store (leased, so several workers can share one store), drops recipients suppressed
 * since, sends the stored raw MIME to the recipients still pending through a Nodemailer
 * transporter, records each outcome through the guard, and reschedules or completes the job.
 */
import { randomUUID } from 'node:crypto'
import { domainOf, isBounceGuardError, tryNormalizeAddress } from '@bounce-guard/core'
import type { BounceGuardLogger, RetryJob } from '@bounce-guard/core'
import { RETRY_MARKER, shapingQuestion } from './guarded-transport.js'
import type { RetryWorkerOptions } from './options.js'
import { recorderFor } from './outcome-recorder.js'
import type { ItemState } from './outcome-recorder.js'
import { decodeRetryPayload, stripLeadingDkimSignatures } from './retry-payload.js'
import type { RetryPayload } from './retry-payload.js'
import { outcomesFromError, outcomesFromInfo } from './send-result.js'

const NOOP_LOGGER: BounceGuardLogger = { debug() {}, info() {}, warn() {}, error() {} }

/** What one `runOnce()` did. */
export interface RetryRunResult {
  /** Jobs claimed. */
  claimed: number
  /** Recipients delivered in this run. */
  delivered: string[]
  /** Recipients that failed for good (suppressed, given up) in this run. */
  failed: string[]
  /** Recipients rescheduled for a later attempt. */
  rescheduled: string[]
  /** Jobs completed (removed). */
  completed: number
  /** Errors that stopped a job (bad payload, store write), logged as well. */
  errors: Error[]
  /** Recipients not sent because traffic shaping holds their destination (moved to a later job). */
  heldByShaping: string[]
}

/** The worker returned by `createRetryWorker`. */
export interface RetryWorker {
  /** Poll every `intervalMs` until `stop()`. Idempotent. */
  start(): void
  /** Stop polling and wait for the jobs in flight to finish. */
  stop(): Promise<void>
  /** Claim and process the due jobs once (for tests, demos and cron-style use). */
  runOnce(): Promise<RetryRunResult>
  /** True between `start()` and `stop()`. */
  readonly running: boolean
}

/** Create a retry worker. See `RetryWorkerOptions` for the defaults. */
export function createRetryWorker(options: RetryWorkerOptions): RetryWorker {
  const { guard, transport } = options
  const intervalMs = Math.max(10, options.intervalMs ?? 30_000)
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4))
  const leaseMs = Math.max(1000, options.leaseMs ?? 300_000)
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? concurrency * 4))
  const now = options.now ?? (() => guard.now())
  const logger = options.logger ?? NOOP_LOGGER
  const shaper = options.shaper
  const recorder = recorderFor(guard, { logger })
  let running = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<RetryRunResult> | undefined

  async function processJob(job: RetryJob, out: RetryRunResult): Promise<void> {
    let payload: RetryPayload
    try {
      payload = decodeRetryPayload(job.payload)
    } catch (err) {
      logger.error({ err, jobId: job.id }, '@bounce-guard/nodemailer: retry job has an unreadable payload, dropped')
      out.errors.push(err as Error)
      await guard.store.completeRetry(job.id)
      out.completed++
      return
    }
    const check = await guard.check(job.recipients)
    const suppressed = check.suppressed.map((s) => s.recipient)
    out.failed.push(...suppressed)
    let pending = check.allowed
    if (pending.length === 0) {
      await guard.store.completeRetry(job.id)
      out.completed++
      return
    }
    if (shaper) {
      // Destinations paused or capped right now: their recipients wait in a job of their own.
      // A shared shaper also takes a shared cap's slot from the store (see `shapingQuestion`).
      const ask = shapingQuestion(shaper)
      const held = new Map<number, string[]>()
      // One question per destination domain, as the wrapper asks at call time: the message goes
      // to each domain once, so a shared cap gives up one slot per domain, not per recipient.
      const byDomain = new Map<string, ReturnType<typeof shaper.check> | undefined>()
      for (const r of pending) {
        const n = tryNormalizeAddress(r)
        const domain = n ? domainOf(n) : r.slice(r.lastIndexOf('@') + 1)
        let d = byDomain.get(domain)
        if (!byDomain.has(domain)) {
          try {
            d = await ask(domain)
          } catch (err) {
            logger.warn({ err, recipient: r }, '@bounce-guard/nodemailer: shaper.check failed; sending unshaped')
          }
          byDomain.set(domain, d)
        }
        if (d === undefined) continue
        if (d.action === 'send') continue
        const due = d.action === 'pause' ? d.until.getTime() : now().getTime() + d.delayMs
        const list = held.get(due)
        if (list) list.push(r)
        else held.set(due, [r])
      }
      if (held.size > 0) {
        const heldAll = new Set([...held.values()].flat())
        pending = pending.filter((r) => !heldAll.has(r))
        const groups = [...held.entries()].sort((a, b) => a[0] - b[0])
        // Every recipient held: the job itself moves to the earliest time (same id, attempts kept,
        // lease cleared) and other times get jobs of their own; else every group gets its own job.
        const moveJob = pending.length === 0
        for (const [i, [due, rs]] of groups.entries()) {
          if (moveJob && i === 0) continue
          await guard.store.scheduleRetry({ ...job, id: randomUUID(), recipients: rs, dueAt: new Date(due) })
        }
        out.heldByShaping.push(...heldAll)
        if (moveJob) {
          const [due, rs] = groups[0] as [number, string[]]
          await guard.store.scheduleRetry({ ...job, recipients: rs, dueAt: new Date(due) })
          return
        }
      }
    }
    const attempt = job.attempts + 1
    let err: Error | null = null
    let info: unknown
    try {
      // The Mail signs the re-send with its own DKIM option: drop the signatures it put on the
      // first send, or the message would carry two per key (the old one stays when it does not).
      const resigns = !!payload.mailerDkimSignatures && !!(transport as { dkim?: unknown }).dkim
      info = await transport.sendMail({
        envelope: { ...(payload.envelopeExtras ?? {}), from: payload.from, to: pending },
        raw: resigns ? stripLeadingDkimSignatures(payload.raw, payload.mailerDkimSignatures as number) : payload.raw,
        [RETRY_MARKER]: { jobId: job.id, attempt },
      })
    } catch (e) {
      err = e instanceof Error ? e : new Error(String(e))
    }
    const raw = err ? outcomesFromError(err, pending) : outcomesFromInfo(info, pending)
    const at = now()
    const items: ItemState[] = raw.map((o) => {
      const outcome: ItemState['outcome'] = {
        recipient: o.recipient,
        type: o.type,
        source: 'smtp',
        at,
        attempt,
        queueId: job.id,
        firstFailedAt: job.firstFailedAt,
      }
      if (payload.messageId) outcome.messageId = payload.messageId
      if (typeof payload.from === 'string' && payload.from) outcome.sender = payload.from
      if (o.reply !== undefined) outcome.reply = o.reply
      if (o.classification) outcome.classification = o.classification
      if (o.context) outcome.context = o.context
      return { outcome, buffered: false }
    })
    await recorder.record(items)
    if (shaper) {
      for (const i of items) {
        try {
          if (i.result) shaper.observe(i.result)
        } catch (err) {
          logger.warn({ err }, '@bounce-guard/nodemailer: shaper.observe failed')
        }
      }
    }
    const still: string[] = []
    let dueAt: Date | undefined
    const covered = new Set(raw.map((o) => o.recipient))
    for (const item of items) {
      const d = item.result?.decision
      const r = item.outcome.recipient
      if (item.outcome.type === 'delivered') out.delivered.push(r)
      else if (d?.action === 'retry') {
        still.push(r)
        if (!dueAt || d.at < dueAt) dueAt = d.at
      } else if (!d && item.outcome.type === 'deferred') {
        // The decision is not known yet (store down): keep the recipient for a later attempt.
        still.push(r)
      } else out.failed.push(r)
    }
    // Recipients the transport said nothing about (an abort, a configuration error): try again later.
    for (const r of pending) if (!covered.has(r)) still.push(r)
    if (still.length === 0) {
      await guard.store.completeRetry(job.id)
      out.completed++
      return
    }
    const next = dueAt ?? new Date(at.getTime() + Math.max(intervalMs, 60_000))
    const update: { dueAt: Date; recipients: string[]; error?: string } = { dueAt: next, recipients: still }
    const reply = items.find((i) => i.outcome.type !== 'delivered')?.outcome.reply ?? err?.message
    if (typeof reply === 'string') update.error = reply.slice(0, 1000)
    await guard.store.failRetry(job.id, update)
    out.rescheduled.push(...still)
  }

  async function runOnce(): Promise<RetryRunResult> {
    const out: RetryRunResult = { claimed: 0, delivered: [], failed: [], rescheduled: [], completed: 0, errors: [], heldByShaping: [] }
    let jobs: RetryJob[]
    try {
      jobs = await guard.store.claimDueRetries(now(), batchSize, leaseMs)
    } catch (err) {
      logger.warn({ err }, '@bounce-guard/nodemailer: cannot claim retry jobs (store unavailable?)')
      out.errors.push(err as Error)
      return out
    }
    out.claimed = jobs.length
    let next = 0
    const lane = async () => {
      while (next < jobs.length) {
        const job = jobs[next++] as RetryJob
        try {
          await processJob(job, out)
        } catch (err) {
          // The lease runs out and the job becomes claimable again: nothing is lost.
          const e = err instanceof Error ? err : new Error(String(err))
          out.errors.push(e)
          logger.error(
            { err: e, jobId: job.id, storeError: isBounceGuardError(e) },
            '@bounce-guard/nodemailer: retry job failed, it will be claimed again after its lease',
          )
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane))
    return out
  }

  function runGuarded(): Promise<RetryRunResult> {
    if (!inFlight) {
      inFlight = runOnce().finally(() => {
        inFlight = undefined
      })
    }
    return inFlight
  }

  function schedule(): void {
    if (!running) return
    timer = setTimeout(() => {
      void runGuarded().finally(schedule)
    }, intervalMs)
  }

  return {
    start() {
      if (running) return
      running = true
      schedule()
    },
    async stop() {
      running = false
      if (timer) clearTimeout(timer)
      timer = undefined
      if (inFlight) await inFlight.catch(() => undefined)
    },
    runOnce: runGuarded,
    get running() {
      return running
    },
  }
}
