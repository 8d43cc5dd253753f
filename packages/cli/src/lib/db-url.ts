/**
 * Understanding `--db <url>`: `sqlite:<path>` (relative paths are resolved against the working
 * folder), `postgres://user:pass@host:port/db`, `mysql://...` / `mariadb://...`. A bad URL is a
 * `BounceGuardError` with code `EDATABASE_URL`, which the CLI turns into exit code 3.
 */
import { isAbsolute, resolve } from 'node:path'
import { BounceGuardError } from '@bounce-guard/core'

/** The SQLite file used when `--db` is not given: `./bounce-guard.sqlite` in the working folder. */
export const DEFAULT_DB_FILE = 'bounce-guard.sqlite'

/** A database URL the CLI understands. */
export type DatabaseTarget =
  | { kind: 'sqlite' /** Absolute path, or `:memory:`. */; path: string; url: string }
  | {
      kind: 'postgres' | 'mysql'
      host: string
      port: number
      database: string
      url: string /** The URL with the password masked, for messages. */
      display: string
    }

/** The `--db` default: a SQLite file in the working folder. */
export function defaultDatabaseUrl(cwd: string = process.cwd()): string {
  return `sqlite:${resolve(cwd, DEFAULT_DB_FILE)}`
}

function bad(url: string, why: string): BounceGuardError {
  return new BounceGuardError(
    'EDATABASE_URL',
    `@bounce-guard/cli: cannot use --db ${JSON.stringify(maskPassword(url))}: ${why}. ` +
      'Expected sqlite:<path>, postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db.',
  )
}

/** Replace the password of a URL by `***` (for error messages and logs). */
export function maskPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]{0,30}:\/\/[^:@/\s]{0,200}:)[^@/\s]{0,500}@/i, '$1***@')
}

/**
 * Parse and check a `--db` URL without connecting.
 * @throws BounceGuardError `EDATABASE_URL` when the URL cannot be understood
 */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseTarget {
  const raw = url.trim()
  if (raw === '') throw bad(url, 'it is empty')
  const scheme = /^([a-z][a-z0-9+.-]{0,30}):/i.exec(raw)?.[1]?.toLowerCase()
  if (!scheme) throw bad(url, 'it has no scheme')
  if (scheme === 'sqlite' || scheme === 'file') {
    let path = raw.slice(scheme.length + 1)
    // sqlite:///abs/path and sqlite://./rel are accepted too.
    if (path.startsWith('//')) path = path.slice(2)
    if (path === '') throw bad(url, 'the SQLite file path is missing')
    if (path === ':memory:') return { kind: 'sqlite', path, url: 'sqlite::memory:' }
    const abs = isAbsolute(path) ? path : resolve(cwd, path)
    return { kind: 'sqlite', path: abs, url: `sqlite:${abs}` }
  }
  const kind =
    scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : scheme === 'mysql' || scheme === 'mariadb' ? 'mysql' : undefined
  if (!kind) throw bad(url, `unknown scheme "${scheme}:"`)
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw bad(url, 'it is not a valid URL')
  }
  if (!u.hostname) throw bad(url, 'the host name is missing')
  const port = u.port === '' ? (kind === 'postgres' ? 5432 : 3306) : Number(u.port)
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''))
  if (database === '' || database.includes('/')) throw bad(url, 'the database name is missing (…/<database>)')
  return { kind, host: u.hostname, port, database, url: raw, display: maskPassword(raw) }
}
