/**
 * `withBounceGuard(transportOrOptions, options)`: a Nodemailer transport that asks the guard
 * before sending, drops or rejects suppressed recipients, classifies and records every answer,
 * and schedules retries for deferred recipients. It obeys Nodemailer's transport contract
 * (`name`, `version`, `send`, optional `verify`/`close`/`isIdle`, the `log`/`error`/`idle`/`clear`
 * events, `mailer` and `getSocket` handed down, `supportsAbortSignal`).
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import nodemailer from 'nodemailer'
import type { MailMessage, SentMessageInfo, Transport } from 'nodemailer'
import { BounceGuardError, createBounceGuard, domainOf, tryNormalizeAddress } from '@bounce-guard/core'
import type {
  BounceEvent,
  BounceGuard,
  BounceGuardLogger,
  BounceStore,
  CheckResult,
  RetryJob,
  Shaper,
  ShapingDecision,
  SharedShaper,
} from '@bounce-guard/core'
import type {
  BounceGuardSendDetails,
  OnStoreError,
  OnSuppressed,
  RecipientOutcome,
  ShapedRecipients,
  WithBounceGuardOptions,
} from './options.js'
import { CheckBatcher } from './check-batcher.js'
import { SuppressionSnapshot } from './suppression-snapshot.js'
import { recorderFor } from './outcome-recorder.js'
import type { ItemState, OutcomeRecorder, RetryCarrier } from './outcome-recorder.js'
import { RawCapture, buildRaw, encodeRetryPayload, payloadTooLarge } from './retry-payload.js'
import { rewriteAddressHeaders } from './rewrite-headers.js'
import { outcomesFromError, outcomesFromInfo } from './send-result.js'
import type { RawOutcome } from './send-result.js'

/** Key in `sendMail` data that marks a re-send by the retry worker (the wrapper passes it through). */
export const RETRY_MARKER = 'bounceGuardRetry'

/** Longest wait of one send for paced destinations. @default 5000 */
export const DEFAULT_MAX_PACE_MS = 5000

/** @default 10 MiB */
export const DEFAULT_MAX_RETRY_PAYLOAD_BYTES = 10 * 1024 * 1024

const NOOP_LOGGER: BounceGuardLogger = { debug() {}, info() {}, warn() {}, error() {} }

type AnyTransport = Transport<any, any>
type Callback = (err: Error | null, info?: any) => void
interface MimeMessage {
  getEnvelope(): { from: string | false; to: string[]; [k: string]: unknown }
  setEnvelope(env: Record<string, unknown>): unknown
  messageId(): string
  processFunc(fn: (input: NodeJS.ReadableStream) => NodeJS.ReadableStream): void
  build(cb: (err: Error | null, buf: Buffer) => void): void
}

/** Resolve a guard from the options (a `guard`, or a `store` wrapped with `createBounceGuard`). */
export function resolveGuard(
  options: { guard?: BounceGuard; store?: BounceStore; logger?: BounceGuardLogger },
  pkg = '@bounce-guard/nodemailer',
): BounceGuard {
  if (options.guard) return options.guard
  if (options.store) {
    const o: { store: BounceStore; logger?: BounceGuardLogger } = { store: options.store }
    if (options.logger) o.logger = options.logger
    return createBounceGuard(o)
  }
  throw new BounceGuardError('EINVALID_OPTION', `${pkg}: pass a guard (createBounceGuard) or a store`)
}

function isTransport(x: unknown): x is AnyTransport {
  return !!x && typeof x === 'object' && typeof (x as { send?: unknown }).send === 'function'
}

/** Build a bundled transport from options the way `nodemailer.createTransport` does. */
function buildInner(options: unknown): { inner: AnyTransport; mailOptions: Record<string, unknown>; dkim: unknown } {
  const tmp = nodemailer.createTransport(options as any) as unknown as {
    transporter: AnyTransport
    options: Record<string, unknown>
    dkim: unknown
  }
  const inner = tmp.transporter
  // The throwaway Mail subscribed to the inner transport's events; the real Mail subscribes to ours.
  const em = inner as unknown as EventEmitter
  if (typeof em.removeAllListeners === 'function') for (const ev of ['log', 'error', 'idle', 'clear']) em.removeAllListeners(ev)
  return { inner, mailOptions: tmp.options, dkim: tmp.dkim }
}

function abortError(signal: AbortSignal): Error {
  const err = new Error('Message sending aborted', { cause: signal.reason }) as Error & { code: string }
  err.name = 'AbortError'
  err.code = 'EABORT'
  return err
}

/** What the inner transport's answer needs of one send (see `onInnerResult`). */
interface InnerSend<T> {
  call: SendCall
  mail: MailMessage<T>
  message: MimeMessage
  env: ReturnType<MimeMessage['getEnvelope']>
  toSend: string[]
  capture: RawCapture | undefined
  details: BounceGuardSendDetails
  held: ShapedRecipients[]
  answered: boolean
}

/** One `send()` call: its callback, called once, and its abort listener. */
class SendCall {
  /** True once the callback was called. */
  settled = false
  private signal: AbortSignal | undefined
  private onAbort: (() => void) | undefined

  constructor(private readonly callback: Callback) {}

  /** Call the callback unless it was already called. */
  finish(err: Error | null, info?: unknown): void {
    if (this.settled) return
    this.settled = true
    this.callback(err, info)
  }

  /** Fail the send when `signal` aborts, until `release()`. */
  listen(signal: AbortSignal, onAbort: () => void): void {
    this.signal = signal
    this.onAbort = onAbort
    signal.addEventListener('abort', onAbort, { once: true })
  }

  /** Stop listening for the abort (the inner transport takes over, or the send is over). */
  release(): void {
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort)
  }
}

/** The wrapper transport returned by `withBounceGuard`. */
export class GuardedTransport<T = SentMessageInfo> extends EventEmitter implements Transport<T> {
  /** `BounceGuard(<inner name>)`, shown in Nodemailer's logs. */
  readonly name: string
  /** The inner transport's version. */
  readonly version: string
  /** The wrapped transport. */
  readonly inner: AnyTransport
  /** The guard this transport reports to. */
  readonly guard: BounceGuard
  /** Present when the inner transport has it; forwarded as is. */
  verify?: (...args: any[]) => any
  /** Present when the inner transport has it; forwarded as is. */
  close?: (...args: any[]) => any
  /** Present when the inner transport has it; forwarded as is. */
  isIdle?: (...args: any[]) => any

  private readonly onSuppressed: OnSuppressed
  private readonly onStoreError: OnStoreError
  private readonly rewriteHeaders: boolean
  private readonly retryPayload: 'raw' | 'none'
  private readonly maxPayload: number
  private readonly recordRefusals: boolean
  private readonly recordDeliveries: boolean
  private readonly writeBehind: boolean
  private readonly logger: BounceGuardLogger
  private readonly recorder: OutcomeRecorder
  private readonly checks: CheckBatcher
  /** The in-process suppression snapshot, when `suppressionSnapshot` is on. */
  readonly snapshot?: SuppressionSnapshot
  private readonly shaper?: Shaper
  private readonly maxPaceMs: number
  private readonly built?: { mailOptions: Record<string, unknown>; dkim: unknown }
  private mailerRef: any

  constructor(transportOrOptions: AnyTransport | Record<string, unknown> | string, options: WithBounceGuardOptions) {
    super()
    if (!options || typeof options !== 'object')
      throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/nodemailer: options are required')
    const onSuppressed = options.onSuppressed ?? 'drop'
    if (onSuppressed !== 'drop' && onSuppressed !== 'reject') {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        `@bounce-guard/nodemailer: onSuppressed must be "drop" or "reject", got ${JSON.stringify(onSuppressed)}`,
      )
    }
    const onStoreError = options.onStoreError ?? 'fail-open'
    if (onStoreError !== 'fail-open' && onStoreError !== 'fail-closed') {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        `@bounce-guard/nodemailer: onStoreError must be "fail-open" or "fail-closed", got ${JSON.stringify(onStoreError)}`,
      )
    }
    const maxPayload = options.maxRetryPayloadBytes ?? DEFAULT_MAX_RETRY_PAYLOAD_BYTES
    if (!Number.isFinite(maxPayload) || maxPayload < 0) {
      throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/nodemailer: maxRetryPayloadBytes must be a non-negative number')
    }
    const maxPaceMs = options.maxPaceMs ?? DEFAULT_MAX_PACE_MS
    if (typeof maxPaceMs !== 'number' || !Number.isFinite(maxPaceMs) || maxPaceMs < 0) {
      throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/nodemailer: maxPaceMs must be a non-negative number')
    }
    const shaper = options.shaper
    if (shaper !== undefined && !(shaper && typeof shaper.check === 'function' && typeof shaper.observe === 'function')) {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        '@bounce-guard/nodemailer: shaper must come from createShaper() or createSharedShaper()',
      )
    }
    if (shaper) this.shaper = shaper
    this.maxPaceMs = maxPaceMs
    this.logger = options.logger ?? NOOP_LOGGER
    this.guard = resolveGuard(options)
    this.onSuppressed = onSuppressed
    this.onStoreError = onStoreError
    this.rewriteHeaders = options.rewriteHeaders === true
    this.retryPayload = options.retryPayload === 'none' ? 'none' : 'raw'
    this.maxPayload = maxPayload
    this.recordRefusals = options.recordRefusals !== false
    this.recordDeliveries = options.recordDeliveries !== false
    this.writeBehind = options.writeBehind !== false
    const ro: { logger: BounceGuardLogger; maxBuffered?: number; flushIntervalMs?: number } = { logger: this.logger }
    if (options.maxBufferedOutcomes !== undefined) ro.maxBuffered = options.maxBufferedOutcomes
    if (options.flushIntervalMs !== undefined) ro.flushIntervalMs = options.flushIntervalMs
    this.recorder = recorderFor(this.guard, ro)
    const snap = options.suppressionSnapshot
    if (snap !== undefined && snap !== false && snap !== true && (typeof snap !== 'object' || snap === null)) {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        '@bounce-guard/nodemailer: suppressionSnapshot must be true, false or an options object',
      )
    }
    if (snap) {
      const o = snap === true ? {} : snap
      for (const k of ['maxStalenessMs', 'skewMarginMs', 'fullReloadMs', 'maxEntries'] as const) {
        const v = o[k]
        if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0))
          throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/nodemailer: suppressionSnapshot.${k} must be a positive number`)
      }
      this.snapshot = new SuppressionSnapshot(this.guard, this.logger, o)
      this.snapshot.start()
    }
    this.checks = new CheckBatcher(this.guard, this.snapshot)

    if (isTransport(transportOrOptions)) {
      this.inner = transportOrOptions
    } else if (transportOrOptions && (typeof transportOrOptions === 'object' || typeof transportOrOptions === 'string')) {
      const b = buildInner(transportOrOptions)
      this.inner = b.inner
      this.built = { mailOptions: b.mailOptions, dkim: b.dkim }
    } else {
      throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/nodemailer: pass a Nodemailer transport or transport options')
    }
    this.name = `BounceGuard(${String(this.inner.name)})`
    this.version = String(this.inner.version)

    const inner = this.inner as any
    if (typeof inner.verify === 'function') this.verify = (...args: any[]) => inner.verify(...args)
    if (typeof inner.isIdle === 'function') this.isIdle = (...args: any[]) => inner.isIdle(...args)
    if (typeof inner.close === 'function') {
      this.close = (...args: any[]) => {
        this.snapshot?.stop()
        void this.flush()
        return inner.close(...args)
      }
    }
    if (typeof inner.on === 'function') {
      for (const ev of ['log', 'error', 'idle', 'clear']) {
        inner.on(ev, (...args: unknown[]) => {
          if (ev === 'error' && this.listenerCount('error') === 0) {
            this.logger.error({ err: args[0] }, '@bounce-guard/nodemailer: inner transport error')
            return
          }
          this.emit(ev, ...args)
        })
      }
    }
  }

  /** Forwarded from the inner transport: it cancels its own work on `mail.data.signal`. */
  get supportsAbortSignal(): boolean | undefined {
    return (this.inner as { supportsAbortSignal?: boolean }).supportsAbortSignal
  }

  /** The Mail object; Nodemailer assigns it and the setter hands it to the inner transport (OAuth2). */
  get mailer(): any {
    return this.mailerRef
  }
  set mailer(m: any) {
    this.mailerRef = m
    ;(this.inner as { mailer?: unknown }).mailer = m
    // Built from options: make the Mail behave as if created with them (logger, DKIM, proxy).
    if (this.built && m && typeof m === 'object' && m.options && Object.keys(m.options).length === 0) {
      m.options = this.built.mailOptions
      if (!m.dkim && this.built.dkim) m.dkim = this.built.dkim
    }
  }

  /** The proxy socket handler; Nodemailer assigns it and the setter hands it to the inner transport. */
  get getSocket(): any {
    return (this.inner as { getSocket?: unknown }).getSocket
  }
  set getSocket(fn: any) {
    ;(this.inner as { getSocket?: unknown }).getSocket = fn
  }

  /** Outcomes waiting in memory for the store: the wrapper's buffer (fail-open) plus the guard's write-behind queue. */
  get bufferedOutcomes(): number {
    return this.recorder.pending + ((this.guard as { pendingWrites?: number }).pendingWrites ?? 0)
  }

  /**
   * Try to write buffered outcomes now: the wrapper's buffer, then the guard's write-behind
   * queue. Resolves when both are empty or the store failed again (see `bufferedOutcomes`).
   */
  async flush(): Promise<void> {
    await this.recorder.flush()
    const g = this.guard as { flush?: () => Promise<void> }
    if (typeof g.flush === 'function') {
      try {
        await g.flush()
      } catch (err) {
        this.logger.warn({ err }, '@bounce-guard/nodemailer: write-behind queue not written yet (store unavailable); the guard retries it')
      }
    }
  }

  /** Nodemailer calls this with the compiled message. */
  send(mail: MailMessage<T>, callback: (err: Error | null, info: T) => void): void {
    const call = new SendCall(callback as Callback)
    const data = (mail.data ?? {}) as Record<string, unknown>
    const message = mail.message as unknown as MimeMessage
    if (data[RETRY_MARKER] || !message || typeof message.getEnvelope !== 'function') {
      this.inner.send(mail as any, ((e: Error | null, i: unknown) => call.finish(e, i)) as any)
      return
    }
    let env: ReturnType<MimeMessage['getEnvelope']>
    try {
      env = message.getEnvelope()
    } catch {
      this.inner.send(mail as any, ((e: Error | null, i: unknown) => call.finish(e, i)) as any)
      return
    }
    const recipients = Array.isArray(env.to) ? env.to.slice() : []
    // Without a set envelope, MimeNode parses every address header again on each getEnvelope();
    // the inner transport would repeat the parse we just did. Hand it the result (a copy: the SMTP
    // connection adds its own bookkeeping to the object it gets), as if `envelope` had been given.
    const cache = message as unknown as { _envelope?: unknown }
    if (cache._envelope === false && recipients.length > 0) cache._envelope = { from: env.from, to: recipients.slice() }
    if (recipients.length === 0) {
      this.inner.send(mail as any, ((e: Error | null, i: unknown) => call.finish(e, i)) as any)
      return
    }
    const signal = data.signal as AbortSignal | undefined
    if (signal && typeof signal.addEventListener === 'function') {
      const onAbort = () => call.finish(abortError(signal))
      if (signal.aborted) return void setImmediate(onAbort)
      call.listen(signal, onAbort)
    }
    this.run(mail, message, env, recipients, call).catch((err: unknown) => {
      // A bug of ours must never swallow the send's own result: report it and fail the send.
      call.release()
      this.internalError(call, err)
    })
  }

  private async run(
    mail: MailMessage<T>,
    message: MimeMessage,
    env: ReturnType<MimeMessage['getEnvelope']>,
    recipients: string[],
    call: SendCall,
  ): Promise<void> {
    const details: BounceGuardSendDetails = { suppressed: [], outcomes: [] }
    let suppressed: CheckResult['suppressed'] = []
    try {
      suppressed = await this.checks.suppressed(recipients)
    } catch (err) {
      if (this.onStoreError === 'fail-closed') {
        call.release()
        const e = new BounceGuardError(
          'ESTORE_UNAVAILABLE',
          '@bounce-guard/nodemailer: the suppression store cannot be reached and onStoreError is "fail-closed"; nothing was sent',
          {
            cause: err,
            details: { recipients },
          },
        )
        ;(e as unknown as { bounceGuard: BounceGuardSendDetails }).bounceGuard = details
        return call.finish(e)
      }
      this.logger.warn({ err }, '@bounce-guard/nodemailer: store unavailable, sending unchecked (fail-open)')
      details.unchecked = true
    }
    if (call.settled) return

    // The common case (nobody suppressed) builds no sets and copies no lists.
    let allowed = recipients
    if (suppressed.length > 0) {
      const refusedRaw = new Set(suppressed.map((s) => s.recipient))
      const refusedNorm = new Set(suppressed.map((s) => s.normalized))
      details.suppressed = recipients.filter((r) => refusedRaw.has(r))
      allowed = recipients.filter((r) => !refusedRaw.has(r))
      const items: ItemState[] = suppressed.map((s) => ({
        outcome: {
          recipient: s.recipient,
          type: 'suppressed',
          source: 'call-time',
          at: this.guard.now(),
          reply: `suppressed: ${s.suppression.reason}`,
          ...this.messageFields(message, env),
        },
        buffered: false,
      }))
      if (this.recordRefusals) await (this.writeBehind ? this.recorder.queue(items) : this.recorder.record(items))
      for (const s of suppressed) {
        const o: RecipientOutcome = { recipient: s.recipient, type: 'suppressed' }
        const item = items.find((i) => i.outcome.recipient === s.recipient)
        describeRecording(o, item, this.recordRefusals)
        details.outcomes.push(o)
      }
      if (this.onSuppressed === 'reject' || allowed.length === 0) {
        call.release()
        const all = allowed.length === 0
        const e = new BounceGuardError(
          'ESUPPRESSED',
          all
            ? `@bounce-guard/nodemailer: every recipient is suppressed (${details.suppressed.join(', ')}); nothing was sent`
            : `@bounce-guard/nodemailer: suppressed recipients (${details.suppressed.join(', ')}) and onSuppressed is "reject"; nothing was sent`,
          { details: { suppressed: details.suppressed, allSuppressed: all } },
        )
        ;(e as unknown as { bounceGuard: BounceGuardSendDetails }).bounceGuard = details
        return call.finish(e)
      }
      message.setEnvelope({ ...env, to: allowed })
      if (this.rewriteHeaders && !rewriteAddressHeaders(message, refusedNorm)) {
        this.logger.warn({}, '@bounce-guard/nodemailer: rewriteHeaders: message internals not recognised, headers unchanged')
      }
    }
    if (call.settled) return

    let toSend = allowed
    let held: ShapedRecipients[] = []
    if (this.shaper) {
      const s = await this.shape(allowed, call)
      if (call.settled) return
      held = s.held
      if (held.length > 0) {
        toSend = s.send
        details.deferredByShaping = held
        if (toSend.length === 0) {
          // Every destination is paused: no connection; the whole message waits in retry jobs.
          call.release()
          let payload: string | undefined
          let payloadError: Error | undefined
          if (this.retryPayload === 'raw') {
            try {
              const buf = await buildRaw(message)
              if (buf.length > this.maxPayload) payloadError = payloadTooLarge(buf.length, this.maxPayload)
              else payload = this.payloadOf(mail, env, buf, this.messageFields(message, env).messageId)
            } catch (e) {
              payloadError = new BounceGuardError('EINVALID_OPTION', '@bounce-guard/nodemailer: the message cannot be built for a retry', {
                cause: e,
              })
            }
          }
          await this.scheduleShaped(held, payload, payloadError)
          const pending = held.flatMap((g) => g.recipients)
          if (held.every((g) => g.error)) {
            const e = new BounceGuardError(
              'ESHAPED',
              `@bounce-guard/nodemailer: every destination is paused by traffic shaping (${held.map((g) => `${g.domain}: ${g.ruleId}`).join(', ')}) and no retry job could be scheduled; nothing was sent`,
              { cause: held[0]?.error, details: { recipients: pending } },
            )
            ;(e as unknown as { bounceGuard: BounceGuardSendDetails }).bounceGuard = details
            return call.finish(e)
          }
          let messageId: string | undefined
          try {
            messageId = message.messageId()
          } catch {
            /* none */
          }
          return call.finish(null, {
            envelope: { from: env.from, to: [] },
            messageId,
            accepted: [],
            rejected: [],
            pending,
            response: `bounce-guard: not sent now, destination paused by traffic shaping; queued for ${held.map((g) => `${g.domain} at ${g.dueAt.toISOString()}`).join(', ')}`,
            bounceGuard: details,
          })
        }
        message.setEnvelope({ ...env, to: toSend })
      }
    }

    const capture = this.retryPayload === 'raw' ? new RawCapture(this.maxPayload) : undefined
    if (capture) message.processFunc(capture.processFunc as any)
    call.release()
    // The inner send's answer goes straight to recording and to the caller, without a promise
    // around the inner send. Recipients held back by shaping get their retry jobs first.
    const sent: InnerSend<T> = { call, mail, message, env, toSend, capture, details, held, answered: false }
    // A bound method, not a closure: one allocation, no per-send function of our own.
    const onResult = this.onInnerResult.bind(this, sent) as (err: Error | null, info: any) => void
    try {
      this.inner.send(mail as any, onResult as any)
    } catch (e) {
      onResult(e instanceof Error ? e : new Error(String(e)), undefined)
    }
  }

  /** The inner transport's answer (its callback, called once; later calls are ignored). */
  private onInnerResult(sent: InnerSend<T>, err: Error | null, info: any): void {
    if (sent.answered) return
    sent.answered = true
    const { call, mail, message, env, held, capture, details } = sent
    const scheduleHeld = held.length === 0 ? undefined : () => this.scheduleHeldAfterSend(mail, message, env, held, capture)
    let recorded: Promise<void> | undefined
    try {
      recorded = this.recordResult(mail, message, env, sent.toSend, err, info, capture, details)
    } catch (e) {
      recorded = Promise.reject(e)
    }
    // Recorded at once (the usual delivery): straight to the caller.
    if (recorded === undefined) {
      this.answer(call, err, info, details, scheduleHeld)
      return
    }
    // One promise step from the recording to the caller: `answer` catches its own failures.
    recorded.then(
      () => this.answer(call, err, info, details, scheduleHeld),
      (e: unknown) => {
        try {
          this.logger.error({ err: e }, '@bounce-guard/nodemailer: could not record the outcome')
        } catch (thrown) {
          return this.internalError(call, thrown)
        }
        this.answer(call, err, info, details, scheduleHeld)
      },
    )
  }

  /**
   * Hand the inner transport's answer to the caller once the outcomes are recorded (after the
   * retry jobs of the recipients held by shaping, when there are some). A failure here (a
   * throwing callback included) is reported as an internal error and fails the send if it is
   * still open.
   */
  private answer(
    call: SendCall,
    err: Error | null,
    info: any,
    details: BounceGuardSendDetails,
    scheduleHeld: (() => Promise<void>) | undefined,
  ): void {
    if (scheduleHeld) {
      scheduleHeld()
        .then(() => finishSent(call, err, info, details))
        .catch((e: unknown) => this.internalError(call, e))
      return
    }
    try {
      finishSent(call, err, info, details)
    } catch (e) {
      this.internalError(call, e)
    }
  }

  private internalError(call: SendCall, e: unknown): void {
    this.logger.error({ err: e }, '@bounce-guard/nodemailer: internal error')
    call.finish(e instanceof Error ? e : new Error(String(e)))
  }

  /** Part of the envelope was sent: the recipients held by shaping get the same bytes later. */
  private async scheduleHeldAfterSend(
    mail: MailMessage<T>,
    message: MimeMessage,
    env: ReturnType<MimeMessage['getEnvelope']>,
    held: ShapedRecipients[],
    capture: RawCapture | undefined,
  ): Promise<void> {
    const r = capture ? await this.capturedPayload(mail, message, env, capture, this.messageFields(message, env).messageId) : {}
    await this.scheduleShaped(held, r.payload, r.payloadError)
  }

  /** Ask the shaper about each recipient domain; wait for paced ones up to `maxPaceMs` in all. */
  private async shape(allowed: string[], call: SendCall): Promise<{ send: string[]; held: ShapedRecipients[] }> {
    const shaper = this.shaper as Shaper
    const byDomain = new Map<string, string[]>()
    for (const r of allowed) {
      const n = tryNormalizeAddress(r)
      const d = n ? domainOf(n) : r.slice(r.lastIndexOf('@') + 1).toLowerCase()
      const list = byDomain.get(d)
      if (list) list.push(r)
      else byDomain.set(d, [r])
    }
    const heldSet = new Set<string>()
    const held: ShapedRecipients[] = []
    let waited = 0
    const ask = shapingQuestion(shaper)
    for (const [domain, rs] of byDomain) {
      let d: ShapingDecision
      try {
        d = await ask(domain)
        while (d.action === 'pace' && waited + d.delayMs <= this.maxPaceMs) {
          const ms = d.delayMs
          await new Promise((r) => setTimeout(r, ms))
          waited += ms
          if (call.settled) return { send: [], held: [] }
          d = await ask(domain)
        }
      } catch (err) {
        this.logger.warn({ err, domain }, '@bounce-guard/nodemailer: shaper.check failed; sending unshaped')
        continue
      }
      if (d.action === 'send') continue
      for (const r of rs) heldSet.add(r)
      held.push({
        domain,
        recipients: rs,
        action: d.action,
        ruleId: d.ruleId,
        key: d.key,
        dueAt: d.action === 'pause' ? d.until : new Date(this.guard.now().getTime() + d.delayMs),
      })
    }
    return { send: allowed.filter((r) => !heldSet.has(r)), held }
  }

  /** The retry payload of a built message. */
  private payloadOf(mail: MailMessage<T>, env: ReturnType<MimeMessage['getEnvelope']>, buf: Buffer, messageId: string | undefined): string {
    const extras: Record<string, unknown> = {}
    for (const k of Object.keys(env)) if (k !== 'from' && k !== 'to') extras[k] = env[k]
    const p: Parameters<typeof encodeRetryPayload>[0] = { from: env.from, raw: buf, envelopeExtras: extras }
    if (messageId) p.messageId = messageId
    const signed = this.mailerSignatures(mail)
    if (signed > 0) p.mailerDkimSignatures = signed
    return encodeRetryPayload(p)
  }

  /**
   * The retry payload of what the transport streamed (built again when the capture holds no full
   * copy), or why there is none.
   */
  private async capturedPayload(
    mail: MailMessage<T>,
    message: MimeMessage,
    env: ReturnType<MimeMessage['getEnvelope']>,
    capture: RawCapture,
    messageId: string | undefined,
  ): Promise<{ payload?: string; payloadError?: BounceGuardError }> {
    let buf = capture.take()
    if (!buf && !capture.oversize) {
      try {
        buf = await buildRaw(message)
      } catch (e) {
        return {
          payloadError: new BounceGuardError(
            'EINVALID_OPTION',
            '@bounce-guard/nodemailer: the message cannot be rebuilt for a retry (stream content already read)',
            { cause: e },
          ),
        }
      }
    }
    if (capture.oversize || (buf && buf.length > this.maxPayload))
      return { payloadError: payloadTooLarge(Math.max(capture.size, buf?.length ?? 0), this.maxPayload) }
    return buf ? { payload: this.payloadOf(mail, env, buf, messageId) } : {}
  }

  /**
   * How many DKIM-Signature fields the Mail's own `dkim` option puts on top of this message (one
   * per key; 0 when the message brings its own `dkim` or the Mail has none). The retry worker
   * removes them before a re-send through a Mail that signs again, so the retried message carries
   * one fresh signature per key instead of two.
   */
  private mailerSignatures(mail: MailMessage<T>): number {
    const data = mail.data as { dkim?: unknown } | undefined
    if (data?.dkim) return 0
    const dkim = ((mail as { mailer?: { dkim?: unknown } }).mailer ?? this.mailerRef)?.dkim as { keys?: unknown[] } | undefined
    if (!dkim) return 0
    return Array.isArray(dkim.keys) ? dkim.keys.length : 1
  }

  /** One retry job per held destination, due when its pause ends. Errors land on the group. */
  private async scheduleShaped(held: ShapedRecipients[], payload: string | undefined, payloadError: Error | undefined): Promise<void> {
    const now = this.guard.now()
    for (const g of held) {
      if (payload === undefined) {
        g.error =
          payloadError ??
          new BounceGuardError(
            'ESHAPED',
            '@bounce-guard/nodemailer: retryPayload is "none", so recipients held by traffic shaping are not queued',
          )
        continue
      }
      const job: RetryJob = {
        id: randomUUID(),
        recipients: g.recipients,
        dueAt: g.dueAt,
        attempts: 0,
        payload,
        origin: 'nodemailer:shaping',
        firstFailedAt: now,
        lastError: `held by traffic shaping: ${g.action} ${g.key} (${g.ruleId}) until ${g.dueAt.toISOString()}`,
      }
      try {
        await this.guard.store.scheduleRetry(job)
        g.jobId = job.id
      } catch (err) {
        g.error = err instanceof Error ? err : new Error(String(err))
        this.logger.error(
          { err, recipients: g.recipients },
          '@bounce-guard/nodemailer: retry job for recipients held by traffic shaping not scheduled',
        )
      }
    }
  }

  /** Feed recorded outcomes to the shaper. Never throws. */
  private observeOutcomes(items: ItemState[]): void {
    const shaper = this.shaper
    if (!shaper) return
    for (const item of items) {
      try {
        if (item.result) {
          shaper.observe(item.result)
          continue
        }
        const o = item.outcome
        const n = tryNormalizeAddress(o.recipient)
        if (!n) continue
        const e: BounceEvent = { recipient: n, domain: domainOf(n), type: o.type, at: o.at ?? this.guard.now(), source: 'smtp' }
        const reply = typeof o.reply === 'string' ? o.reply : (o.reply as { raw?: string } | undefined)?.raw
        if (typeof reply === 'string') e.reply = reply
        if (o.classification) e.classification = o.classification
        shaper.observe(e)
      } catch (err) {
        this.logger.warn({ err }, '@bounce-guard/nodemailer: shaper.observe failed')
      }
    }
  }

  private messageFields(message: MimeMessage, env: { from: string | false }): { messageId?: string; sender?: string } {
    const o: { messageId?: string; sender?: string } = {}
    try {
      o.messageId = message.messageId()
    } catch {
      /* no Message-ID */
    }
    if (typeof env.from === 'string' && env.from) o.sender = env.from
    return o
  }

  /**
   * Record the outcomes of a send and fill `details`. Not an async function: the usual send (no
   * failure, so no retry payload to build) goes from the inner callback to the recorder without
   * a promise step, and returns `undefined` when its outcomes were queued at once (`details` is
   * filled then).
   */
  private recordResult(
    mail: MailMessage<T>,
    message: MimeMessage,
    env: ReturnType<MimeMessage['getEnvelope']>,
    sent: string[],
    err: Error | null,
    info: any,
    capture: RawCapture | undefined,
    details: BounceGuardSendDetails,
  ): Promise<void> | undefined {
    const raw = err ? outcomesFromError(err, sent) : outcomesFromInfo(info, sent)
    if (raw.length === 0) return RESOLVED
    const at = this.guard.now()
    // Nodemailer's info carries the Message-ID: ask the message only when it does not.
    let fields: { messageId?: string; sender?: string }
    if (info && typeof info.messageId === 'string') {
      fields = { messageId: info.messageId }
      if (typeof env.from === 'string' && env.from) fields.sender = env.from
    } else fields = this.messageFields(message, env)
    let failed = 0
    for (const o of raw) if (o.type !== 'delivered') failed++
    if (!capture || failed === 0) return this.recordItems(raw, at, fields, undefined, details)
    const carrier: RetryCarrier = { attempt: 1, at, remaining: 0, items: [] }
    return this.capturedPayload(mail, message, env, capture, fields.messageId).then((r) => {
      if (r.payload !== undefined) carrier.payload = r.payload
      if (r.payloadError) {
        carrier.payloadError = r.payloadError
        if (r.payloadError.code === 'EPAYLOAD_TOO_LARGE')
          this.logger.error({ err: r.payloadError, messageId: fields.messageId }, r.payloadError.message)
      }
      return this.recordItems(raw, at, fields, carrier, details) ?? RESOLVED
    })
  }

  /**
   * `recordResult` once the retry carrier (if any) is ready: write or queue each outcome, then
   * describe them in `details`. Returns `undefined` when that is done already (every outcome was
   * queued at once).
   */
  private recordItems(
    raw: RawOutcome[],
    at: Date,
    fields: { messageId?: string; sender?: string },
    carrier: RetryCarrier | undefined,
    details: BounceGuardSendDetails,
  ): Promise<void> | undefined {
    const items: ItemState[] = new Array(raw.length)
    // Deliveries change nothing immediate (decision `none`): with writeBehind they are queued in
    // the guard and written in batches; failures are written now, their decision is needed.
    let deliveries: ItemState[] | undefined
    let failures: ItemState[] | undefined
    const writeBehind = this.writeBehind
    for (let k = 0; k < raw.length; k++) {
      const o = raw[k] as RawOutcome
      const outcome: ItemState['outcome'] = { recipient: o.recipient, type: o.type, source: 'smtp', at, attempt: 1 }
      if (fields.messageId !== undefined) outcome.messageId = fields.messageId
      if (fields.sender !== undefined) outcome.sender = fields.sender
      if (o.reply !== undefined) outcome.reply = o.reply
      if (o.classification) outcome.classification = o.classification
      if (o.context) outcome.context = o.context
      const item: ItemState = { outcome, buffered: false }
      const delivered = o.type === 'delivered'
      // Queued deliveries carry no retry carrier.
      if (carrier && !(delivered && writeBehind && this.recordDeliveries)) item.carrier = carrier
      items[k] = item
      if (delivered && !this.recordDeliveries) continue
      // Without writeBehind everything is written in order (one list).
      if (delivered && writeBehind) (deliveries ??= []).push(item)
      else (failures ??= []).push(item)
    }
    // The usual send (deliveries only, room in the queue): queued synchronously, no promise step.
    if (deliveries) {
      deliveries = this.recorder.queueNow(deliveries)
      if (deliveries.length === 0) deliveries = undefined
      if (!deliveries && !failures) {
        this.describeItems(items, carrier, details)
        return undefined
      }
    }
    let written: Promise<void>
    if (deliveries && failures) written = Promise.all([this.recorder.queue(deliveries), this.recorder.record(failures)]).then(noop)
    else if (deliveries) written = this.recorder.queue(deliveries)
    else if (failures) written = this.recorder.record(failures)
    else written = RESOLVED
    return written.then(() => this.describeItems(items, carrier, details))
  }

  /** Fill `details.outcomes` (and `details.retry`) from the recorded items; feed the shaper. */
  private describeItems(items: ItemState[], carrier: RetryCarrier | undefined, details: BounceGuardSendDetails): void {
    this.observeOutcomes(items)
    for (const item of items) {
      const o: RecipientOutcome = { recipient: item.outcome.recipient, type: item.outcome.type as RecipientOutcome['type'] }
      if (typeof item.outcome.reply === 'string') o.reply = item.outcome.reply
      const c = item.result?.event.classification ?? item.outcome.classification
      if (c) o.classification = c
      describeRecording(o, item, item.outcome.type !== 'delivered' || this.recordDeliveries)
      details.outcomes.push(o)
    }
    if (carrier && (carrier.recipients || carrier.error || carrier.payloadError)) {
      const r: NonNullable<BounceGuardSendDetails['retry']> = { recipients: carrier.recipients ?? [] }
      if (carrier.jobId) r.jobId = carrier.jobId
      if (carrier.dueAt) r.dueAt = carrier.dueAt
      const e = carrier.error ?? (carrier.recipients ? carrier.payloadError : undefined)
      if (e) r.error = e
      if (r.recipients.length > 0 || r.error) details.retry = r
    }
  }
}

const RESOLVED: Promise<void> = Promise.resolve()
function noop(): void {}

/**
 * How to ask `shaper` about a destination: a shared shaper's `acquire` also takes the slot of a
 * shared cap from the store, so the cap holds across app servers (it falls back to the local
 * answer by itself when the store fails); any other shaper answers with `check`.
 */
export function shapingQuestion(shaper: Shaper): (destination: string) => ShapingDecision | Promise<ShapingDecision> {
  const acquire = (shaper as Partial<SharedShaper>).acquire
  return typeof acquire === 'function' ? (d) => acquire.call(shaper, d) : (d) => shaper.check(d)
}

/** Hand the inner transport's answer to the caller, with `bounceGuard` added to the info or error. */
function finishSent(call: SendCall, err: Error | null, info: any, details: BounceGuardSendDetails): void {
  const target = err ?? info
  if (target && typeof target === 'object') (target as { bounceGuard?: BounceGuardSendDetails }).bounceGuard = details
  call.finish(err, info)
}

/** Fill an outcome's `decision`, `buffered` and `recorded` from its item. */
function describeRecording(o: RecipientOutcome, item: ItemState | undefined, recorded: boolean): void {
  if (!recorded || !item) {
    o.recorded = 'skipped'
    return
  }
  if (item.result) {
    o.decision = item.result.decision
    o.recorded = 'written'
  } else if (item.queued) {
    o.decision = item.queued.decision
    o.recorded = 'queued'
  } else if (item.buffered) {
    o.buffered = true
    o.recorded = 'buffered'
  } else if (item.dropped) o.recorded = 'dropped'
}

/**
 * Wrap a Nodemailer transport (SMTP, pool, SES, stream, JSON, a third-party one) or transport
 * options with Bounce Guard. Pass the result to `nodemailer.createTransport(...)`.
 *
 * @example
 * const transporter = nodemailer.createTransport(withBounceGuard({ host, port, pool: true }, { guard }))
 */
export function withBounceGuard<T = SentMessageInfo>(
  transportOrOptions: Transport<T, any> | Record<string, unknown> | string,
  options: WithBounceGuardOptions,
): GuardedTransport<T & GuardedInfo> {
  return new GuardedTransport<T & GuardedInfo>(transportOrOptions as AnyTransport, options)
}

/** What the wrapper adds to Nodemailer's `info` (and to its error objects). */
export interface GuardedInfo {
  bounceGuard: BounceGuardSendDetails
}

/** Normalised form of an address, or the input when it is not one (for comparisons). */
export function normalizeOrSelf(a: string): string {
  return tryNormalizeAddress(a) ?? a
}
