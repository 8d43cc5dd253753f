/**
 * The guard: the one object adapters talk to. It normalises addresses, asks the store at call
 * time, classifies replies, records outcomes, runs the policy and emits events. Adapters
 * (Nodemailer, Haraka, webhooks) are thin layers over it. Implementation: `create-guard.ts`.
 */
import type { BounceStore } from './store.js'
import type {
  BounceAlert,
  BounceClassification,
  BounceDecision,
  BounceEvent,
  ClassifyContext,
  EventSource,
  EventType,
  RecipientState,
  SmtpReply,
  Suppression,
} from './types.js'

/** One outcome an adapter reports. */
export interface DeliveryOutcome {
  /** The recipient as the host gave it; the guard normalises it. */
  recipient: string
  type: EventType
  /** The SMTP reply (raw text or parsed); classified unless `classification` is given. */
  reply?: string | SmtpReply
  /** A classification made elsewhere (e.g. by `parseBounceMessage`); wins over `reply`. */
  classification?: BounceClassification
  /** Helps the classifier attribute the provider. */
  context?: ClassifyContext
  source: EventSource
  /** @default guard's clock */
  at?: Date
  messageId?: string
  queueId?: string
  sender?: string
  tag?: string
  eventId?: string
  /** Attempts so far for this message and recipient (the first send is 1). */
  attempt?: number
  /**
   * When this message first failed for this recipient (a retry job's `firstFailedAt`); starts the
   * policy's retry window. @default the event time
   */
  firstFailedAt?: Date
}

/** Result of `record`. */
export interface RecordResult {
  event: BounceEvent
  state: RecipientState
  decision: BounceDecision
  /** True when the event's `eventId` had been recorded before (nothing changed). */
  duplicate: boolean
}

/** Result of `check`. */
export interface CheckResult {
  /** Recipients that may be mailed, as given by the caller (not normalised), in input order. */
  allowed: string[]
  /** Recipients that must not be mailed, with the entry that suppresses them. */
  suppressed: Array<{ recipient: string; normalized: string; suppression: Suppression }>
  /** Inputs that are not e-mail addresses (they are neither allowed nor suppressed). */
  invalid: string[]
}

/** Events a guard emits. */
export interface BounceGuardEvents {
  /** A send was refused at call time, or an address/domain was newly suppressed. */
  suppressed: [info: { recipient?: string; suppression: Suppression; atCallTime: boolean }]
  bounce: [result: RecordResult]
  deferred: [result: RecordResult]
  delivered: [result: RecordResult]
  complaint: [result: RecordResult]
  alert: [alert: BounceAlert]
  /**
   * A store call failed. Emitted only when someone listens (so an unhandled `error` event never
   * crashes the host); the failing `check`/`record`/`scheduleRetry` also rejects with the error.
   */
  error: [err: Error]
}

/** Minimal logger, compatible with pino and console. */
export interface BounceGuardLogger {
  debug?(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
}

export interface BounceGuard {
  readonly store: BounceStore
  /** Which of these recipients may be mailed now. One store round trip. */
  check(recipients: readonly string[]): Promise<CheckResult>
  /** Classify (if needed), record, decide and apply the decision (suppress, alert). */
  record(outcome: DeliveryOutcome): Promise<RecordResult>
  /** Current time of the guard's clock (injected for tests). */
  now(): Date
  on<K extends keyof BounceGuardEvents>(event: K, listener: (...args: BounceGuardEvents[K]) => void): this
  off<K extends keyof BounceGuardEvents>(event: K, listener: (...args: BounceGuardEvents[K]) => void): this
  once<K extends keyof BounceGuardEvents>(event: K, listener: (...args: BounceGuardEvents[K]) => void): this
  /** Closes the store. */
  close(): Promise<void>
}
