/**
 * Turns whatever a driver throws into a `BounceGuardError` (`ESTORE`, or `ESTORE_UNAVAILABLE` when
 * the database cannot be reached), with the driver's own error as `cause`.
 */
import { BounceGuardError, isBounceGuardError } from '@bounce-guard/core'

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
])

/** The error the driver threw: TypeORM wraps it in `QueryFailedError.driverError`. */
export function driverErrorOf(err: unknown): unknown {
  const inner = (err as { driverError?: unknown } | null)?.driverError
  return inner ?? err
}

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code
  return typeof c === 'string' ? c : undefined
}

/** True for errors that mean "the server is not reachable", not "the statement failed". */
export function isUnavailable(err: unknown): boolean {
  const e = driverErrorOf(err)
  const code = codeOf(e)
  if (code && NETWORK_CODES.has(code)) return true
  // PostgreSQL SQLSTATE class 08 (connection exception) and 57P0x (server shutting down).
  if (code && (/^08...$/.test(code) || /^57P0[1-3]$/.test(code))) return true
  const message = e instanceof Error ? e.message : String(e)
  return /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Can't add new command when connection is in closed state|Pool is closed|Cannot use a pool after calling end/i.test(
    message,
  )
}

/** True when a transaction should simply be run again (deadlock, serialization failure). */
export function isRetryable(err: unknown): boolean {
  const e = driverErrorOf(err) as { code?: unknown; errno?: unknown } | null
  const code = codeOf(e)
  // PostgreSQL: serialization_failure, deadlock_detected. MySQL/MariaDB: ER_LOCK_DEADLOCK.
  return code === '40001' || code === '40P01' || code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213
}

/** True for MySQL/MariaDB duplicate-key errors. */
export function isDuplicateKey(err: unknown): boolean {
  const e = driverErrorOf(err) as { code?: unknown; errno?: unknown } | null
  return codeOf(e) === 'ER_DUP_ENTRY' || e?.errno === 1062
}

/** Wrap any error for the caller; a `BounceGuardError` passes through unchanged. */
export function toStoreError(err: unknown, driver: string, action: string): BounceGuardError {
  if (isBounceGuardError(err)) return err
  const cause = driverErrorOf(err)
  const text = cause instanceof Error ? cause.message : String(cause)
  const unavailable = isUnavailable(err)
  return new BounceGuardError(
    unavailable ? 'ESTORE_UNAVAILABLE' : 'ESTORE',
    `@bounce-guard/typeorm (${driver}): ${action} failed: ${unavailable ? 'database unreachable: ' : ''}${text}`,
    { cause },
  )
}
