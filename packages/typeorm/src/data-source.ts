/**
 * `createBounceGuardDataSource(url)`: a ready-made DataSource for tools that only get a URL (the
 * CLI). Applications that already have a DataSource add `bounceGuardEntities()` and
 * `bounceGuardMigrations()` to it instead.
 */
import { DataSource, type DataSourceOptions } from 'typeorm'
import { BounceGuardError } from '@bounce-guard/core'
import { bounceGuardEntities } from './schema.js'
import { bounceGuardMigrations } from './migrations.js'
import type { BounceGuardSchemaOptions } from './options.js'

/** Options of `createBounceGuardDataSource`. */
export interface BounceGuardDataSourceOptions extends BounceGuardSchemaOptions {
  /** Log every SQL statement (TypeORM's `logging`). @default false */
  logging?: boolean
  /** Connections in the pool (PostgreSQL, MySQL/MariaDB). @default 10 */
  poolSize?: number
  /** Name of TypeORM's migrations table. @default "bg_migrations" */
  migrationsTableName?: string
  /**
   * SQLite files only: `PRAGMA synchronous`. In WAL mode `NORMAL` cannot corrupt the database and
   * loses nothing when the process crashes; only an operating-system crash or power loss may roll
   * back the last transactions. `FULL` also syncs the WAL on every commit, at several times the
   * cost of a write. SQLite's own recommendation for WAL is `NORMAL`.
   * @default "NORMAL"
   */
  sqliteSynchronous?: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'
}

/** What a database URL means, without credentials resolved. */
export interface ParsedDatabaseUrl {
  type: 'better-sqlite3' | 'postgres' | 'mysql' | 'mariadb'
  /** SQLite: the file path or `:memory:`. */
  database?: string
  /** Server databases: the URL as given. */
  url?: string
}

function badUrl(reason: string): BounceGuardError {
  return new BounceGuardError('EDATABASE_URL', `@bounce-guard/typeorm: ${reason}`)
}

/** Show a URL without its password. */
function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')
}

/**
 * Understand `sqlite::memory:`, `sqlite:path/to/file.db`, `sqlite:///abs/path.db`,
 * `postgres://` / `postgresql://`, `mysql://` and `mariadb://` URLs.
 * @throws BounceGuardError `EDATABASE_URL` for anything else
 */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  if (typeof url !== 'string' || url.trim() === '') throw badUrl('the database URL is empty')
  const text = url.trim()
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase()
  if (scheme === 'sqlite' || scheme === 'file') {
    let rest = text.slice(scheme.length + 1)
    if (rest.startsWith('//')) rest = rest.slice(2)
    if (rest === '') throw badUrl(`no file in SQLite URL ${JSON.stringify(text)} (use sqlite:path/to/file.db or sqlite::memory:)`)
    if (rest.includes('\0')) throw badUrl('the SQLite path contains a NUL byte')
    return { type: 'better-sqlite3', database: rest === ':memory:' || rest === 'memory' ? ':memory:' : rest }
  }
  const types: Record<string, ParsedDatabaseUrl['type']> = {
    postgres: 'postgres',
    postgresql: 'postgres',
    mysql: 'mysql',
    mariadb: 'mariadb',
  }
  const type = scheme ? types[scheme] : undefined
  if (!type) throw badUrl(`unsupported database URL ${JSON.stringify(redact(text))} (use sqlite:, postgres://, mysql:// or mariadb://)`)
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch (err) {
    throw new BounceGuardError('EDATABASE_URL', `@bounce-guard/typeorm: malformed database URL ${JSON.stringify(redact(text))}`, {
      cause: err,
    })
  }
  if (!parsed.hostname) throw badUrl(`no host in database URL ${JSON.stringify(redact(text))}`)
  if (parsed.pathname.length <= 1) throw badUrl(`no database name in URL ${JSON.stringify(redact(text))}`)
  // TypeORM's MySQL driver reads the URL itself; it only needs a scheme it knows.
  const normalised = type === 'mariadb' ? text.replace(/^mariadb:/i, 'mysql:') : text
  return { type, url: normalised }
}

/**
 * Create (but do not initialise) a DataSource for a database URL, with Bounce Guard's entities and
 * migrations registered. SQLite files get WAL journaling. Call `await ds.initialize()` and
 * `await runMigrations(ds)` next.
 * @throws BounceGuardError `EDATABASE_URL` for a URL it cannot understand
 */
export function createBounceGuardDataSource(url: string, options: BounceGuardDataSourceOptions = {}): DataSource {
  const parsed = parseDatabaseUrl(url)
  const common = {
    entities: bounceGuardEntities(options),
    migrations: bounceGuardMigrations(options),
    migrationsTableName: options.migrationsTableName ?? 'bg_migrations',
    logging: options.logging ?? false,
  }
  let ds: DataSourceOptions
  if (parsed.type === 'better-sqlite3') {
    const database = parsed.database as string
    const synchronous = options.sqliteSynchronous ?? 'NORMAL'
    if (!['OFF', 'NORMAL', 'FULL', 'EXTRA'].includes(synchronous)) {
      throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/typeorm: sqliteSynchronous must be OFF, NORMAL, FULL or EXTRA`)
    }
    ds = {
      type: 'better-sqlite3',
      database,
      enableWAL: database !== ':memory:',
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        db.pragma(`synchronous = ${synchronous}`)
      },
      ...common,
    }
  } else if (parsed.type === 'postgres') {
    ds = { type: 'postgres', url: parsed.url as string, poolSize: options.poolSize ?? 10, ...common }
  } else {
    ds = { type: parsed.type, url: parsed.url as string, poolSize: options.poolSize ?? 10, charset: 'utf8mb4', ...common }
  }
  return new DataSource(ds)
}
