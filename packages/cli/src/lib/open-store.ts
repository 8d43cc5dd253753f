/**
 * From `--db <url>` to an open `BounceStore` on TypeORM. SQLite files are created and migrated on
 * first use, so `bounce-guard suppressions list` works in an empty folder; on PostgreSQL and MySQL
 * the schema is the operator's business (`bounce-guard migrate`), and a missing schema is reported.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { BounceGuardError, type BounceStore } from '@bounce-guard/core'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations } from '@bounce-guard/typeorm'
import { parseDatabaseUrl, type DatabaseTarget } from './db-url.js'

/** An open store and what is needed to close it. */
export interface OpenedStore {
  store: BounceStore
  target: DatabaseTarget
  /** Closes the store and its connections. Idempotent. */
  close(): Promise<void>
}

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /**
   * Run pending migrations before returning: `true`, `false`, or `'sqlite'` (only for SQLite files).
   * @default 'sqlite'
   */
  migrate?: boolean | 'sqlite'
  /** Give up connecting after this many milliseconds. @default 10000 */
  connectTimeoutMs?: number
}

type DataSourceLike = ReturnType<typeof createBounceGuardDataSource>

function unavailable(target: DatabaseTarget, err: unknown): BounceGuardError {
  const where =
    target.kind === 'sqlite'
      ? `SQLite file ${target.path}`
      : `${target.kind} server ${target.host}:${target.port} (database ${target.database})`
  const why = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err)
  return new BounceGuardError('ESTORE_UNAVAILABLE', `@bounce-guard/cli: cannot open the ${where}: ${why}`, { cause: err })
}

async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Open (and initialise) the TypeORM data source for a URL. */
async function openDataSource(target: DatabaseTarget, timeoutMs: number): Promise<DataSourceLike> {
  if (target.kind === 'sqlite' && target.path !== ':memory:') {
    try {
      mkdirSync(dirname(target.path), { recursive: true })
    } catch (err) {
      throw unavailable(target, err)
    }
  }
  let ds: DataSourceLike
  try {
    ds = createBounceGuardDataSource(target.url)
  } catch (err) {
    if (err instanceof BounceGuardError && err.code !== 'ESTORE') throw err
    throw unavailable(target, err)
  }
  if (!ds.isInitialized) {
    try {
      await withTimeout(ds.initialize(), timeoutMs, () => new Error(`no answer after ${timeoutMs} ms`))
    } catch (err) {
      ds.destroy().catch(() => {})
      throw unavailable(target, err)
    }
  }
  return ds
}

/** Open the store behind `--db`. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const target = parseDatabaseUrl(url)
  const ds = await openDataSource(target, options.connectTimeoutMs ?? 10_000)
  const migrate = options.migrate ?? 'sqlite'
  try {
    if (migrate === true || (migrate === 'sqlite' && target.kind === 'sqlite')) {
      await runMigrations(ds)
    } else if (await ds.showMigrations()) {
      throw new BounceGuardError(
        'ESTORE',
        `@bounce-guard/cli: the database schema is missing or out of date: run \`bounce-guard migrate --db ${target.kind === 'sqlite' ? target.url : target.display}\` first`,
      )
    }
  } catch (err) {
    await ds.destroy().catch(() => {})
    throw err
  }
  const store: BounceStore = createTypeOrmBounceStore(ds)
  let closed = false
  return {
    store,
    target,
    async close() {
      if (closed) return
      closed = true
      await store.close().catch(() => {})
      if (ds.isInitialized) await ds.destroy().catch(() => {})
    },
  }
}

/** Run the store's pending migrations for a URL; returns the names of the migrations applied. */
export async function migrateDatabase(
  url: string,
  options: Pick<OpenStoreOptions, 'connectTimeoutMs'> = {},
): Promise<{ target: DatabaseTarget; applied: string[]; pendingBefore: boolean }> {
  const target = parseDatabaseUrl(url)
  const ds = await openDataSource(target, options.connectTimeoutMs ?? 10_000)
  try {
    const pendingBefore = await ds.showMigrations()
    const applied = await runMigrations(ds)
    return { target, applied, pendingBefore }
  } finally {
    await ds.destroy().catch(() => {})
  }
}
