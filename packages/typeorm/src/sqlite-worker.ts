/**
 * SQLite files: the store's batched event writes (`recordEvents`, what the guard's write-behind
 * queue calls) run on a worker thread that owns a second better-sqlite3 connection to the same
 * file, so the thread that runs the application's event loop (SMTP, HTTP) does none of that SQLite
 * work.
 *
 * What the calling thread still does: build the values each statement binds (the same ones the
 * in-thread path binds), post them (structured clone), and turn the returned state rows into
 * `RecipientState`s. The worker runs the same SQL as the in-thread path, prepared once, a batch
 * in one `BEGIN IMMEDIATE` transaction (written whole or not at all), batches in the order they
 * were posted.
 *
 * Lookups (`findSuppressions`) stay on the DataSource's connection: a round trip to the worker
 * cost the calling thread as much CPU as the lookup itself (measured: 23-37 µs against 17-33 µs
 * per lookup of five addresses), and added the wait behind a write.
 *
 * Correctness:
 * - Both connections use the same WAL file. SQLite lets one writer in at a time; the other waits
 *   on the file lock (`busy_timeout`: TypeORM's `timeout`, 5 s by default), as two processes
 *   sharing the file do. Every write is atomic, so neither loses an update of the other.
 * - Freshness: a lookup reads what was committed when the worker runs it, after every write this
 *   process made before the call (the DataSource's connection commits synchronously; earlier
 *   worker batches were handled first). It is as fresh as the in-thread lookup.
 * - Durability: a batch is durable when its call resolves (the worker committed it, with the
 *   DataSource's `PRAGMA synchronous`). Before that it is only in memory, as it was in the
 *   caller's queue: a process crash loses it either way; a failed write rejects the call and the
 *   caller keeps the events.
 * - The worker is `unref()`ed while idle (it never keeps a process alive) and `ref()`ed while a
 *   call is in flight (a process awaiting a write does not exit under it). It closes its
 *   connection and ends after `IDLE_MS` without work and on `close()`; when it fails, the calls in
 *   flight reject with `ESTORE_UNAVAILABLE` and the next call starts a new one.
 */
import { createRequire } from 'node:module'
import { resolve as resolvePath } from 'node:path'
import { Worker } from 'node:worker_threads'
import { BounceGuardError } from '@bounce-guard/core'
import type { Row } from './executor.js'

/** The statements of one event write, as the in-thread path runs them. */
export interface WorkerSql {
  insert: string
  upsert: string
  /** Reads the recipient's state row (bound to the recipient alone). */
  select: string
  /** Pairs `[insert index, upsert index]` of values both statements bind (recipient, domain). */
  shared: Array<[number, number]>
  /** Index of the recipient among the insert's values. */
  recipient: number
}

/**
 * One event to write: the insert's values and the upsert's values, except those the upsert
 * shares with the insert (`WorkerSql.shared`: left `null`, copied over by the worker, so each
 * string crosses the thread boundary once).
 */
export type WorkerRow = [insert: unknown[], upsert: unknown[]]

/** The result of one event: `[1, row]` when its eventId was stored before, `[0, row]` after the upsert. */
export type WorkerResult = [duplicate: 0 | 1, row: Row | undefined]

/** How long a worker without work keeps its connection before it ends, in milliseconds. */
export const IDLE_MS = 10_000

/** What the worker needs to open its connection. */
export interface SqliteWorkerConfig {
  modulePath: string
  file: string
  timeout: number
  synchronous: number
  foreignKeys: number
  nativeBinding?: string
  sql: WorkerSql
}

// The worker's code, evaluated as a CommonJS script (`eval: true`), so the same source serves the
// ESM and CommonJS builds and the TypeScript sources (tests) without a separate file to locate.
// Messages: { id, rows } writes events, { close } ends it.
const WORKER_SOURCE = `'use strict'
;(() => {
const { parentPort, workerData: c } = require('node:worker_threads')
const fail = (id, e) => parentPort.postMessage({ id, error: { message: String(e && e.message), code: e && e.code } })
let db
try {
  const Database = require(c.modulePath)
  const opts = { timeout: c.timeout }
  if (c.nativeBinding) opts.nativeBinding = c.nativeBinding
  db = new Database(c.file, opts)
  db.pragma('synchronous = ' + c.synchronous)
  db.pragma('foreign_keys = ' + c.foreignKeys)
} catch (e) {
  fail(0, e)
  parentPort.close()
  return
}
// State rows come back as value lists (raw mode), with the column names once per reply: cheaper
// to build, to clone and to read than one object per row.
let stmts
let columns
const write = db.transaction((rows) => {
  if (!stmts) {
    stmts = [db.prepare(c.sql.insert), db.prepare(c.sql.upsert).raw(true), db.prepare(c.sql.select).raw(true)]
    columns = [stmts[1].columns().map((x) => x.name), stmts[2].columns().map((x) => x.name)]
  }
  const [insert, upsert, select] = stmts
  const out = []
  for (const [values, state] of rows) {
    for (const [from, to] of c.sql.shared) state[to] = values[from]
    const who = [values[c.sql.recipient]]
    if (insert.run(values).changes === 0) out.push([1, select.get(who), 1])
    else {
      const row = upsert.get(state)
      out.push(row ? [0, row, 0] : [0, select.get(who), 1])
    }
  }
  return out
})
parentPort.on('message', (m) => {
  if (m.close) {
    db.close()
    parentPort.close()
    return
  }
  try {
    const results = write.immediate(m.rows)
    parentPort.postMessage({ id: m.id, results, columns })
  } catch (e) {
    fail(m.id, e)
  }
})
})()
`

interface Pending {
  resolve(results: WorkerResult[]): void
  reject(err: unknown): void
}

/** One event's answer as posted: the row's values in the order of `columns[statement]` (0 upsert, 1 select). */
type RawResult = [duplicate: 0 | 1, values: unknown[] | undefined, statement: 0 | 1]

interface Reply {
  id: number
  results?: RawResult[]
  /** Column names of the upsert's `RETURNING` and of the select, in their values' order. */
  columns?: [string[], string[]]
  error?: { message: string; code?: string }
}

/** The answers with each row's values turned back into a row object (as the in-thread statements give it). */
function rowsOf(reply: Reply): WorkerResult[] {
  const results = reply.results ?? []
  const columns = reply.columns
  return results.map(([duplicate, values, statement]) => {
    if (!values || !columns) return [duplicate, undefined]
    const names = columns[statement]
    const row: Row = {}
    for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i]
    return [duplicate, row]
  })
}

/**
 * The worker thread could not be started or could not open the database (the calls sent to it
 * never ran): the store writes on its own thread instead.
 */
export class SqliteWorkerUnavailable extends Error {
  constructor(cause: unknown) {
    super(`the SQLite worker thread could not start: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'SqliteWorkerUnavailable'
  }
}

/** A driver error rebuilt from the worker's answer (its `code`, e.g. `SQLITE_BUSY`, kept). */
function driverError(e: { message: string; code?: string }): Error {
  const err = new Error(e.message) as Error & { code?: string }
  if (typeof e.code === 'string') err.code = e.code
  return err
}

/** The better-sqlite3 handle as far as the worker's configuration reads it. */
export interface OpenSqliteHandle {
  name?: unknown
  pragma(source: string, options: { simple: true }): unknown
}

/**
 * Where better-sqlite3 is: resolved as TypeORM resolves it (from TypeORM's package), else from
 * this package; undefined when neither finds it.
 */
function betterSqlite3Path(): string | undefined {
  const here = typeof __filename === 'string' ? __filename : import.meta.url
  const req = createRequire(here)
  try {
    return createRequire(req.resolve('typeorm')).resolve('better-sqlite3')
  } catch {
    try {
      return req.resolve('better-sqlite3')
    } catch {
      return undefined
    }
  }
}

/** `PRAGMA synchronous` as read (0 OFF .. 3 EXTRA); FULL (2) when it cannot be read, never the least durable. */
function syncLevel(v: unknown): number {
  const n = Number(v)
  return Number.isInteger(n) && n >= 0 && n <= 3 ? n : 2
}

/**
 * The configuration of a worker for the DataSource's open handle, or undefined when the hot paths
 * must stay on the calling thread: an in-memory, temporary or URI-named database (a second
 * connection would not open the same one), a read-only one, one opened with a driver module
 * TypeORM was handed (`driver`) or an encryption `key`, or better-sqlite3 not found.
 */
export function sqliteWorkerConfig(
  options: Record<string, unknown>,
  handle: OpenSqliteHandle,
  sql: WorkerSql,
): SqliteWorkerConfig | undefined {
  const name = handle.name
  if (typeof name !== 'string' || name === '' || name === ':memory:' || name.startsWith('file:')) return undefined
  if (options.readonly === true || options.driver !== undefined || options.key !== undefined) return undefined
  const binding = options.nativeBinding
  if (binding !== undefined && binding !== null && typeof binding !== 'string') return undefined
  const modulePath = betterSqlite3Path()
  if (!modulePath) return undefined
  const config: SqliteWorkerConfig = {
    modulePath,
    file: resolvePath(name),
    timeout: typeof options.timeout === 'number' && options.timeout >= 0 ? options.timeout : 5000,
    synchronous: syncLevel(handle.pragma('synchronous', { simple: true })),
    foreignKeys: Number(handle.pragma('foreign_keys', { simple: true })) || 0,
    sql,
  }
  if (typeof binding === 'string') config.nativeBinding = binding
  return config
}

/** See the module comment. One per store and open handle. */
export class SqliteWorker {
  #worker: Worker | undefined
  readonly #pending = new Map<number, Pending>()
  #next = 1
  #idle: NodeJS.Timeout | undefined
  /** Called when no call is in flight any more (`close` waits for it). */
  #drained: Array<() => void> = []

  constructor(
    private readonly config: SqliteWorkerConfig,
    private readonly label: string,
  ) {}

  /** Calls handed to the worker and not answered yet. */
  get inFlight(): number {
    return this.#pending.size
  }

  /**
   * Write the events in one transaction; resolves with one result per row, in order. Rejects with
   * `SqliteWorkerUnavailable` when the thread could not start or open the database (nothing of
   * the call ran), else with the driver's error (the batch was rolled back).
   */
  write(rows: WorkerRow[]): Promise<WorkerResult[]> {
    let worker: Worker
    try {
      worker = this.#worker ?? this.#start()
    } catch (err) {
      return Promise.reject(new SqliteWorkerUnavailable(err))
    }
    const id = this.#next++
    if (this.#pending.size === 0) worker.ref()
    if (this.#idle) {
      clearTimeout(this.#idle)
      this.#idle = undefined
    }
    return new Promise<WorkerResult[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      try {
        worker.postMessage({ id, rows })
      } catch (err) {
        // A value the structured clone refuses (a function, a symbol): this call fails alone.
        this.#pending.delete(id)
        if (this.#pending.size === 0) this.#rest()
        reject(err)
      }
    })
  }

  /** Wait for the calls in flight, then close the worker's connection and end the thread. */
  async close(): Promise<void> {
    if (this.#pending.size > 0) await new Promise<void>((r) => this.#drained.push(r))
    this.#stop()
  }

  #start(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.config })
    this.#worker = worker
    worker.unref()
    worker.on('message', (m: Reply) => this.#onReply(worker, m))
    worker.on('error', (err) => this.#onExit(worker, err))
    // A reply that cannot be decoded cannot be matched to its call: end this worker and fail every
    // call in flight (none may wait forever); the next call starts a new worker.
    worker.on('messageerror', (err) => {
      this.#onExit(worker, err)
      void worker.terminate()
    })
    worker.on('exit', (code) => this.#onExit(worker, new Error(`the SQLite worker thread exited (code ${code})`)))
    return worker
  }

  #onReply(worker: Worker, m: Reply): void {
    if (m.id === 0) {
      // The worker could not open the database: none of the calls sent to it ran. It is ending:
      // the next call starts a new one (and learns the same) instead of being posted to it and
      // failed by its exit.
      if (this.#worker === worker) this.#worker = undefined
      worker.unref()
      this.#failAll(new SqliteWorkerUnavailable(driverError(m.error ?? { message: 'no reason given' })))
      return
    }
    const p = this.#pending.get(m.id)
    if (!p) return
    this.#pending.delete(m.id)
    if (m.error) p.reject(driverError(m.error))
    else p.resolve(rowsOf(m))
    if (this.#pending.size === 0) this.#rest()
  }

  /** Nothing in flight: let the process exit, and end the worker after `IDLE_MS` without work. */
  #rest(): void {
    for (const done of this.#drained.splice(0)) done()
    const worker = this.#worker
    if (!worker) return
    worker.unref()
    if (this.#idle) clearTimeout(this.#idle)
    this.#idle = setTimeout(() => {
      this.#idle = undefined
      if (this.#pending.size === 0 && this.#worker === worker) this.#stop()
    }, IDLE_MS)
    this.#idle.unref()
  }

  /** End the worker: it handles what was posted before, closes its connection and exits. */
  #stop(): void {
    if (this.#idle) clearTimeout(this.#idle)
    this.#idle = undefined
    const worker = this.#worker
    this.#worker = undefined
    if (worker) worker.postMessage({ close: true })
  }

  /**
   * The worker failed or ended: every call in flight fails; the next call starts a new worker.
   * Calls in flight always belong to the current worker (one is stopped only when none is in
   * flight, and one that fails takes its calls with it), so the end of a former one (the `exit`
   * after its `error`, or a stopped idle one) fails nothing: its calls were settled already and
   * those in flight now are the new worker's.
   */
  #onExit(worker: Worker, err: unknown): void {
    if (this.#worker !== worker) return
    this.#worker = undefined
    if (this.#pending.size === 0) return
    const why = err instanceof Error ? err.message : String(err)
    this.#failAll(new BounceGuardError('ESTORE_UNAVAILABLE', `${this.label}: the SQLite worker thread failed: ${why}`, { cause: err }))
  }

  #failAll(err: unknown): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(err)
    this.#rest()
  }
}
