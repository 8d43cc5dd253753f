/**
 * The one error class of Bounce Guard. Thrown for programmer, configuration and store failures;
 * an unrecognised reply is data (`reason: "undefined"`), never an exception.
 */

/** Every error code with a one-line description. A test checks each code used is listed here. */
export const ERROR_CODES = {
  EINVALID_ADDRESS: 'An e-mail address could not be parsed or normalised.',
  EINVALID_OPTION: 'An option passed to a Bounce Guard function is missing or has the wrong type.',
  EINVALID_RULE: 'A user-supplied classification rule is malformed or its pattern is not linear-time safe.',
  EINVALID_VERP: 'A VERP return path could not be decoded with the given prefix and separator.',
  ESTORE: 'The store failed to read or write; the driver error is the cause.',
  ESTORE_UNAVAILABLE: 'The store could not be reached.',
  ESTORE_CLOSED: 'The store was used after close().',
  ESUPPRESSED: 'Every recipient (or, with onSuppressed "reject", at least one) is suppressed; nothing was sent.',
  ESHAPED: "Every recipient's destination is paused or paced by traffic shaping and no retry job could be scheduled; nothing was sent.",
  EPAYLOAD_TOO_LARGE: 'The message is larger than the configured limit for storing it for a retry.',
  ENOT_FOUND: 'The requested record does not exist.',
  ECONFIG: 'A configuration file or value is invalid.',
  EDATABASE_URL: 'A database URL could not be understood.',
  EWEBHOOK_PAYLOAD: 'A provider webhook body is malformed or not in the shape the provider documents.',
} as const

export type BounceGuardErrorCode = keyof typeof ERROR_CODES

export interface BounceGuardErrorOptions {
  cause?: unknown
  /** Extra machine-readable details, e.g. the suppressed recipients. */
  details?: Record<string, unknown>
}

export class BounceGuardError extends Error {
  override readonly name = 'BounceGuardError'
  readonly code: BounceGuardErrorCode
  readonly details?: Record<string, unknown>

  /**
   * @param code - a code from `ERROR_CODES`
   * @param message - prefixed with the package name, e.g. `@bounce-guard/typeorm (postgres): ...`
   */
  constructor(code: BounceGuardErrorCode, message: string, options: BounceGuardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    if (options.details) this.details = options.details
  }
}

/** True when `err` is a `BounceGuardError` (works across duplicated package copies). */
export function isBounceGuardError(err: unknown): err is BounceGuardError {
  return err instanceof Error && err.name === 'BounceGuardError' && typeof (err as { code?: unknown }).code === 'string'
}
