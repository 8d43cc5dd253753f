/**
 * From an error to a message and an exit code (the codes are documented in `program.ts`):
 * 2 bad usage, 3 database (bad URL, unreachable, store failure), 4 bad input, 1 anything else.
 */
import { isBounceGuardError } from '@bounce-guard/core'

/** An error the CLI reports with a chosen exit code and no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError'
  /**
   * @param message - printed after `bounce-guard: `
   * @param exitCode - the process exit code
   */
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

const DB_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'PROTOCOL_CONNECTION_LOST',
  '28P01',
  '28000',
  '3D000',
  '57P03', // pg: auth failed, no such database, cannot connect now
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
])

function codeOf(err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const c = (e as { code?: unknown }).code
    if (typeof c === 'string' && DB_ERROR_CODES.has(c)) return c
    const errors = (e as { errors?: unknown }).errors // AggregateError from net (IPv4 + IPv6 attempts)
    if (Array.isArray(errors) && errors.length > 0) e = errors[0]
    else e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** The exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode
  if (isBounceGuardError(err)) {
    switch (err.code) {
      case 'EDATABASE_URL':
      case 'ESTORE':
      case 'ESTORE_UNAVAILABLE':
      case 'ESTORE_CLOSED':
        return 3
      case 'EINVALID_OPTION':
      case 'EINVALID_ADDRESS':
        return 2
      default:
        return 1
    }
  }
  return codeOf(err) ? 3 : 1
}

/** A one-paragraph message for an error, with the driver's code and message when it has one. */
export function messageFor(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  let msg = err.message || err.name
  const code = codeOf(err)
  if (code && !msg.includes(code)) msg += ` (${code})`
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof Error && cause.message && !msg.includes(cause.message)) msg += `: ${cause.message}`
  return msg
}

/**
 * Wrap a command action: errors are printed as `bounce-guard: <message>` on stderr and become the
 * exit code, instead of a stack trace.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: actions that return nothing are the common case
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args)
      if (typeof code === 'number' && code !== 0) process.exitCode = code
    } catch (err) {
      process.stderr.write(`bounce-guard: ${messageFor(err)}\n`)
      process.exitCode = exitCodeFor(err)
    }
  }
}
