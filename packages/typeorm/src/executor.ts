/**
 * Runs the store's statements on the user's DataSource.
 *
 * Every store operation is written once as a *plan*: a generator that yields SQL steps and receives
 * their results. On PostgreSQL and MySQL/MariaDB the plan runs asynchronously on one QueryRunner
 * (inside a transaction when asked, retried on deadlock). On SQLite it runs **synchronously** on the
 * better-sqlite3 handle inside `BEGIN IMMEDIATE`: no `await` can slip in between the statements, so
 * concurrent callers in one process never interleave, and other processes wait on the file lock.
 */
import { createHash } from 'node:crypto'
import type { DataSource, QueryRunner } from 'typeorm'
import { BounceGuardError } from '@bounce-guard/core'
import { isRetryable } from './errors.js'
import type { SqlDialect } from './schema.js'

/** A database row as the driver returns it. */
export type Row = Record<string, unknown>

/** One SQL statement with positional parameters. */
export interface Step {
  sql: string
  params: unknown[]
}

/** What a step returns: its rows (SELECT / RETURNING) and the affected row count. */
export interface StepResult {
  rows: Row[]
  affected: number
}

/** A store operation: yields steps, receives their results, returns the answer. */
export type Plan<T> = Generator<Step, T, StepResult>

/** Runs plans on one DataSource. */
export interface Executor {
  /**
   * Run a plan. `transaction`: false = autocommit statements; true = one transaction at the
   * default isolation level; `"READ COMMITTED"` = one transaction at that level (MySQL/MariaDB
   * then keep row locks only on the rows a locking read returns).
   */
  run<T>(plan: () => Plan<T>, transaction: boolean | 'READ COMMITTED'): Promise<T>
}

/** The part of a better-sqlite3 statement the store uses. An array argument binds its items in order. */
export interface SqliteStatement {
  reader: boolean
  all(...params: unknown[]): Row[]
  get(...params: unknown[]): Row | undefined
  run(...params: unknown[]): { changes: number }
}

/** The part of a better-sqlite3 `Database` the store uses. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  transaction<F extends (...args: never[]) => unknown>(fn: F): F & { immediate: F }
  open?: boolean
}

const MAX_TX_ATTEMPTS = 6

/** A value as better-sqlite3 binds it: `undefined` as NULL, booleans as 1/0. */
export function sqliteValue(v: unknown): unknown {
  if (v === undefined) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  return v
}

/**
 * Executor for better-sqlite3: synchronous plans on the raw handle. The store's hot paths
 * (`findSuppressions`, `recordEvent(s)`) also call `statement` and `immediate` directly, without
 * a plan: statements prepared once per handle, bound from arrays.
 */
export class SqliteExecutor implements Executor {
  readonly #ds: DataSource
  #db: SqliteDatabase | undefined
  readonly #cache = new Map<string, SqliteStatement>()
  /** `fn => fn()` as a better-sqlite3 transaction function, made once per handle (making one costs). */
  #tx: ((fn: () => unknown) => unknown) | undefined

  constructor(ds: DataSource) {
    this.#ds = ds
  }

  /**
   * The open better-sqlite3 handle (a new one, after the DataSource was re-initialised, drops the
   * prepared statements of the old one).
   * @throws BounceGuardError `ESTORE_UNAVAILABLE` when the database is not open
   */
  handle(): SqliteDatabase {
    const db = (this.#ds.driver as unknown as { databaseConnection?: SqliteDatabase }).databaseConnection
    if (!db || db.open === false) {
      throw new BounceGuardError(
        'ESTORE_UNAVAILABLE',
        `@bounce-guard/typeorm (${String(this.#ds.options.type)}): the SQLite database is not open`,
      )
    }
    if (db !== this.#db) {
      this.#db = db
      this.#cache.clear()
      this.#tx = undefined
    }
    return db
  }

  /** The prepared statement for `sql` on `db` (the handle `handle()` returned), prepared on first use. */
  statement(db: SqliteDatabase, sql: string): SqliteStatement {
    let stmt = this.#cache.get(sql)
    if (!stmt) {
      stmt = db.prepare(sql)
      this.#cache.set(sql, stmt)
      if (this.#cache.size > 200) this.#cache.delete(this.#cache.keys().next().value as string)
    }
    return stmt
  }

  /** Run `fn` inside `BEGIN IMMEDIATE` ... `COMMIT` on `db` (rolled back when it throws). */
  immediate<T>(db: SqliteDatabase, fn: () => T): T {
    if (!this.#tx) this.#tx = db.transaction((f: () => unknown) => f()).immediate
    return this.#tx(fn) as T
  }

  #exec(db: SqliteDatabase, step: Step): StepResult {
    const stmt = this.statement(db, step.sql)
    const params = step.params.map(sqliteValue)
    if (stmt.reader) {
      const rows = stmt.all(...params)
      return { rows, affected: rows.length }
    }
    return { rows: [], affected: stmt.run(...params).changes }
  }

  async run<T>(plan: () => Plan<T>, transaction: boolean | 'READ COMMITTED'): Promise<T> {
    const db = this.handle()
    const drive = (): T => {
      const gen = plan()
      let next = gen.next()
      while (!next.done) {
        let result: StepResult
        try {
          result = this.#exec(db, next.value)
        } catch (err) {
          next = gen.throw(err)
          continue
        }
        next = gen.next(result)
      }
      return next.value
    }
    return transaction !== false ? this.immediate(db, drive) : drive()
  }
}

interface PgPool {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[]; rowCount: number | null }>
}

/** Executor for PostgreSQL and MySQL/MariaDB through TypeORM QueryRunners. */
class PooledExecutor implements Executor {
  readonly #ds: DataSource
  readonly #names = new Map<string, string>()

  constructor(ds: DataSource) {
    this.#ds = ds
  }

  /**
   * PostgreSQL, outside a transaction: run on the DataSource's own pg pool as a named prepared
   * statement, so the server parses and plans each statement once per connection (the hot paths:
   * `findSuppressions`, the one-statement `recordEvent`).
   */
  #pgPool(): PgPool | undefined {
    if (this.#ds.options.type !== 'postgres') return undefined
    const pool = (this.#ds.driver as unknown as { master?: PgPool }).master
    return pool && typeof pool.query === 'function' ? pool : undefined
  }

  #statementName(sql: string): string {
    let name = this.#names.get(sql)
    if (!name) {
      name = `bg_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`
      this.#names.set(sql, name)
      if (this.#names.size > 500) this.#names.delete(this.#names.keys().next().value as string)
    }
    return name
  }

  async run<T>(plan: () => Plan<T>, tx: boolean | 'READ COMMITTED'): Promise<T> {
    const transaction = tx !== false
    const pool = transaction ? undefined : this.#pgPool()
    if (pool) {
      const gen = plan()
      let next = gen.next()
      while (!next.done) {
        let result: StepResult
        try {
          const r = await pool.query({ name: this.#statementName(next.value.sql), text: next.value.sql, values: next.value.params })
          result = { rows: r.rows ?? [], affected: r.rowCount ?? 0 }
        } catch (err) {
          next = gen.throw(err)
          continue
        }
        next = gen.next(result)
      }
      return next.value
    }
    for (let attempt = 1; ; attempt++) {
      const qr: QueryRunner = this.#ds.createQueryRunner()
      try {
        if (transaction) await qr.startTransaction(tx === true ? undefined : tx)
        const gen = plan()
        let next = gen.next()
        while (!next.done) {
          let result: StepResult
          try {
            const r = await qr.query(next.value.sql, next.value.params, true)
            result = { rows: Array.isArray(r.records) ? (r.records as Row[]) : [], affected: r.affected ?? 0 }
          } catch (err) {
            next = gen.throw(err)
            continue
          }
          next = gen.next(result)
        }
        if (transaction) await qr.commitTransaction()
        return next.value
      } catch (err) {
        if (transaction && qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined)
        if (transaction && attempt < MAX_TX_ATTEMPTS && isRetryable(err)) continue
        throw err
      } finally {
        await qr.release().catch(() => undefined)
      }
    }
  }
}

/** The executor for a DataSource's dialect. */
export function createExecutor(ds: DataSource, dialect: SqlDialect): Executor {
  return dialect === 'sqlite' ? new SqliteExecutor(ds) : new PooledExecutor(ds)
}
