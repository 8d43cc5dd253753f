/**
 * `@bounce-guard/nodemailer`: wrap any Nodemailer transport with Bounce Guard.
 */
export { withBounceGuard, GuardedTransport, RETRY_MARKER, DEFAULT_MAX_RETRY_PAYLOAD_BYTES } from './guarded-transport.js'
export type { GuardedInfo } from './guarded-transport.js'
export { createRetryWorker } from './retry-worker.js'
export { SuppressionSnapshot } from './suppression-snapshot.js'
export type { SuppressionSnapshotOptions } from './suppression-snapshot.js'
export type { RetryWorker, RetryRunResult } from './retry-worker.js'
export { classifySesErrorOnce as classifySesError, isSesError } from './ses-errors.js'
export { outcomesFromError, outcomesFromInfo } from './send-result.js'
export type { RawOutcome } from './send-result.js'
export { encodeRetryPayload, decodeRetryPayload } from './retry-payload.js'
export type { RetryPayload } from './retry-payload.js'
export type {
  WithBounceGuardOptions,
  RetryWorkerOptions,
  OnSuppressed,
  OnStoreError,
  RecipientOutcome,
  BounceGuardSendDetails,
} from './options.js'
