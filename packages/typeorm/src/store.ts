/**
 * `createTypeOrmBounceStore`: the `BounceStore` contract on a user-owned TypeORM `DataSource`
 * (SQLite via better-sqlite3, PostgreSQL via pg, MySQL/MariaDB via mysql2).
 *
 * Atomicity, per operation:
 * - `recordEvent`: the event insert (ignored when its `eventId` exists) and a single-statement
 *   upsert of the recipient's row with counter arithmetic run in one transaction (one statement
 *   with a data-modifying CTE on PostgreSQL). Concurrent writers never lose an update.
 * - `claimDueRetries`: `SELECT ... FOR UPDATE SKIP LOCKED` then the lease update in one
 *   transaction (PostgreSQL, MySQL 8, MariaDB 10.6+); one `UPDATE ... RETURNING` under
 *   `BEGIN IMMEDIATE` on SQLite.
 * - `suppress`: read-then-write under a row lock in one transaction.
 *
 * Hot paths on SQLite (`findSuppressions`, `recordEvent`, `recordEvents`): run synchronously on the
 * better-sqlite3 handle with statements prepared once per handle and bound from arrays, without
 * the plan machinery the other members use (same SQL, same results and errors).
 */
import type { DataSource } from 'typeorm'
import {
  BounceGuardError,
  applyEventToState,
  assertShapingEntry,
  assertShapingSlotRequest,
  SHAPING_SLOT_RETENTION_MS,
  decodeSuppressionCursor,
  domainOf,
  emptyRecipientState,
  encodeSuppressionCursor,
  eventEffect,
  extendsSoftRun,
  lastReasonOf,
  type BounceEvent,
  type BounceReason,
  type BounceStore,
  type EventSource,
  type EventType,
  type RecipientState,
  type RetryJob,
  type ShapingEntry,
  type StatsQuery,
  type StatsRow,
  type SuppressResult,
  type Suppression,
  type SuppressionFilter,
  type SuppressionInput,
  type SuppressionPage,
  type SuppressionReason,
  type SuppressionScope,
} from '@bounce-guard/core'
import {
  SqliteExecutor,
  createExecutor,
  sqliteValue,
  type Executor,
  type Plan,
  type Row,
  type SqliteDatabase,
  type Step,
  type StepResult,
} from './executor.js'
import { dialectOf } from './migrations.js'
import { tableNames, type BounceGuardSchemaOptions, type BounceGuardTableNames } from './options.js'
import { toStoreError, isDuplicateKey } from './errors.js'
import { SqliteWorker, SqliteWorkerUnavailable, sqliteWorkerConfig, type WorkerRow } from './sqlite-worker.js'
import { Dialect } from './sql.js'
import { domainProviderTable } from './timeseries.js'

/** Options of `createTypeOrmBounceStore`. */
export interface TypeOrmBounceStoreOptions extends BounceGuardSchemaOptions {
  /**
   * Destroy the DataSource in `close()`. Leave it false when your application owns the
   * DataSource; `createBounceGuardDataSource` users (the CLI) set it to true.
   * @default false
   */
  destroyDataSourceOnClose?: boolean
  /**
   * PostgreSQL: `recordEvent` calls that arrive while an earlier one is being written are written
   * together when it completes: one statement (one round trip, one commit, one WAL flush) for
   * events of distinct recipients, a repeated recipient or eventId starting the next batch. Each
   * caller still gets its own state; a failing batch is retried event by event, so one bad event
   * only fails its own call. A lone event is written at once as before. With 8 concurrent writers
   * on the shared 2-CPU machine: about 7,000 events/s instead of about 2,000 (`pnpm bench store`).
   * Ignored on SQLite and MySQL/MariaDB.
   * @default true
   */
  groupCommit?: boolean
  /**
   * SQLite files: run `recordEvents` (the batched writes of the guard's write-behind queue) on a
   * worker thread with its own better-sqlite3 connection to the same file, so the event loop that
   * drives SMTP or HTTP does none of that SQLite work (see `sqlite-worker.ts`: the same SQL, each
   * batch one transaction, durable when its call resolves). `false`, an in-memory database, a
   * read-only one, or a DataSource given its own `driver` module: written on the calling thread.
   * Ignored on PostgreSQL and MySQL/MariaDB.
   * @default true
   */
  sqliteWorker?: boolean
}

interface PendingEvent {
  event: BounceEvent
  resolve(r: { state: RecipientState; duplicate: boolean }): void
  reject(err: unknown): void
}

const GROUP_COMMIT_MAX = 500
const EVENT_PG_TYPES: Record<(typeof EVENT_COLUMNS)[number], string> = {
  event_id: 'varchar',
  recipient: 'varchar',
  domain: 'varchar',
  type: 'varchar',
  at: 'bigint',
  source: 'varchar',
  reason: 'varchar',
  hard: 'boolean',
  permanent: 'boolean',
  scope: 'varchar',
  code: 'integer',
  enhanced_status: 'text',
  provider: 'varchar',
  rule_id: 'text',
  retry_after: 'integer',
  blocklist: 'text',
  reply: 'text',
  message_id: 'text',
  queue_id: 'text',
  sender: 'text',
  tag: 'text',
}

/**
 * SQLite lookups: how many placeholders a list of `n` keys gets: `n` up to 8, then the next power
 * of two up to 512 (padded by repeating a key, which changes no answer), so a few statements
 * serve every batch size; `n` itself above 512.
 */
function paddedSize(n: number): number {
  if (n <= 8 || n > 512) return n
  return 2 ** Math.ceil(Math.log2(n))
}

/** The answer for an event whose eventId was already stored: the recipient's current row, if any. */
function duplicateResult(event: BounceEvent, current: Row | undefined): { state: RecipientState; duplicate: boolean } {
  return { state: current ? rowToState(current) : emptyRecipientState(event.recipient, event.domain), duplicate: true }
}

/** The answer for a newly stored event: the recipient's row after the upsert (which must exist). */
function recordedResult(row: Row | undefined): { state: RecipientState; duplicate: boolean } {
  if (!row) throw new Error('recipient state missing after upsert')
  return { state: rowToState(row), duplicate: false }
}

/** Length of the longest prefix of `events` with distinct recipients and distinct eventIds (at least 1). */
function uniqueRun(events: readonly BounceEvent[]): number {
  const recipients = new Set<string>()
  const ids = new Set<string>()
  let n = 0
  for (const e of events) {
    if (recipients.has(e.recipient) || (e.eventId !== undefined && ids.has(e.eventId))) break
    recipients.add(e.recipient)
    if (e.eventId !== undefined) ids.add(e.eventId)
    n++
  }
  return Math.max(1, Math.min(n, events.length))
}

/** A `BounceStore` backed by TypeORM, plus what it runs on. */
export interface TypeOrmBounceStore extends BounceStore {
  /** The DataSource the store uses (owned by the caller). */
  readonly dataSource: DataSource
  /** The table names in use. */
  readonly tables: BounceGuardTableNames
  /** The SQL family: `sqlite`, `postgres` or `mysql` (MySQL and MariaDB). */
  readonly dialect: 'sqlite' | 'postgres' | 'mysql'
  /** Implemented (`<prefix>shaping`); see `BounceStore.putShapingEntries`. */
  putShapingEntries(entries: readonly ShapingEntry[], now?: Date): Promise<void>
  /** Implemented; see `BounceStore.listShapingEntries`. */
  listShapingEntries(now?: Date): Promise<ShapingEntry[]>
  /** Implemented; see `BounceStore.liftShapingEntries`. */
  liftShapingEntries(key?: string): Promise<number>
  /** Implemented (`<prefix>shaping_slots`, fourth migration); see `BounceStore.takeShapingSlots`. */
  takeShapingSlots(key: string, windowStart: Date, limit: number, n: number): Promise<number>
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v))
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : num(v))
const optDate = (v: unknown): Date | undefined => (v === null || v === undefined ? undefined : new Date(num(v)))
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v))
const toBool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't' || v === 'true'

function assertDate(d: unknown, driver: string, what: string): asserts d is Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/typeorm (${driver}): ${what} must be a valid Date`)
  }
}

function assertString(v: unknown, driver: string, what: string): asserts v is string {
  if (typeof v !== 'string' || v === '') {
    throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/typeorm (${driver}): ${what} must be a non-empty string`)
  }
}

function rowToSuppression(r: Row): Suppression {
  const s: Suppression = {
    key: String(r.target),
    scope: String(r.scope) as SuppressionScope,
    reason: String(r.reason) as SuppressionReason,
    source: String(r.source) as EventSource,
    createdAt: new Date(num(r.created_at)),
    updatedAt: new Date(num(r.updated_at)),
  }
  const expiresAt = optDate(r.expires_at)
  if (expiresAt) s.expiresAt = expiresAt
  if (r.escalated !== null && r.escalated !== undefined) s.escalated = toBool(r.escalated)
  const ruleId = optStr(r.rule_id)
  if (ruleId !== undefined) s.ruleId = ruleId
  const detail = optStr(r.detail)
  if (detail !== undefined) s.detail = detail
  return s
}

function rowToState(r: Row): RecipientState {
  const s: RecipientState = {
    recipient: String(r.recipient),
    domain: String(r.domain),
    events: num(r.events),
    deliveries: num(r.deliveries),
    hardBounces: num(r.hard_bounces),
    softBounces: num(r.soft_bounces),
    complaints: num(r.complaints),
    consecutiveSoftFailures: num(r.consecutive_soft_failures),
  }
  // In this order (the keys' order on the object is part of what callers compare).
  const first = optDate(r.first_soft_failure_at)
  if (first) s.firstSoftFailureAt = first
  const lastSoft = optDate(r.last_soft_failure_at)
  if (lastSoft) s.lastSoftFailureAt = lastSoft
  const delivered = optDate(r.last_delivered_at)
  if (delivered) s.lastDeliveredAt = delivered
  const last = optDate(r.last_event_at)
  if (last) s.lastEventAt = last
  const lastReason = optStr(r.last_reason)
  if (lastReason !== undefined) s.lastReason = lastReason as BounceReason
  return s
}

function rowToEvent(r: Row): BounceEvent {
  const e: BounceEvent = {
    recipient: String(r.recipient),
    domain: String(r.domain),
    type: String(r.type) as EventType,
    at: new Date(num(r.at)),
    source: String(r.source) as EventSource,
  }
  if (r.reason !== null && r.reason !== undefined) {
    const c: NonNullable<BounceEvent['classification']> = {
      reason: String(r.reason) as BounceReason,
      hard: toBool(r.hard),
      permanent: toBool(r.permanent),
      scope: String(r.scope) as NonNullable<BounceEvent['classification']>['scope'],
      ruleId: String(r.rule_id ?? ''),
    }
    const code = optNum(r.code)
    if (code !== undefined) c.code = code
    const enhancedStatus = optStr(r.enhanced_status)
    if (enhancedStatus !== undefined) c.enhancedStatus = enhancedStatus
    const provider = optStr(r.provider)
    if (provider !== undefined) c.provider = provider
    const retryAfter = optNum(r.retry_after)
    if (retryAfter !== undefined) c.retryAfter = retryAfter
    const blocklist = optStr(r.blocklist)
    if (blocklist !== undefined) c.blocklist = blocklist
    e.classification = c
  }
  const optional = [
    ['reply', r.reply],
    ['messageId', r.message_id],
    ['queueId', r.queue_id],
    ['sender', r.sender],
    ['tag', r.tag],
    ['eventId', r.event_id],
  ] as const
  for (const [k, v] of optional) {
    const s = optStr(v)
    if (s !== undefined) e[k] = s
  }
  return e
}

function rowToJob(r: Row): RetryJob {
  const job: RetryJob = {
    id: String(r.id),
    recipients: JSON.parse(String(r.recipients)) as string[],
    dueAt: new Date(num(r.due_at)),
    attempts: num(r.attempts),
    payload: String(r.payload),
    firstFailedAt: new Date(num(r.first_failed_at)),
  }
  const origin = optStr(r.origin)
  if (origin !== undefined) job.origin = origin
  const lastError = optStr(r.last_error)
  if (lastError !== undefined) job.lastError = lastError
  return job
}

const STATE_COLUMNS = [
  'recipient',
  'domain',
  'events',
  'deliveries',
  'hard_bounces',
  'soft_bounces',
  'complaints',
  'consecutive_soft_failures',
  'first_soft_failure_at',
  'last_soft_failure_at',
  'last_delivered_at',
  'last_event_at',
  'last_reason',
] as const

const EVENT_COLUMNS = [
  'event_id',
  'recipient',
  'domain',
  'type',
  'at',
  'source',
  'reason',
  'hard',
  'permanent',
  'scope',
  'code',
  'enhanced_status',
  'provider',
  'rule_id',
  'retry_after',
  'blocklist',
  'reply',
  'message_id',
  'queue_id',
  'sender',
  'tag',
] as const

/**
 * SQLite: the insert's values of an event, in `EVENT_COLUMNS` order, as `#eventRow` mapped
 * through `sqliteValue` gives them (built directly, without the intermediate object: the worker
 * path's hand-off). A test compares the rows both paths store.
 */
function sqliteEventValues(e: BounceEvent): unknown[] {
  const c = e.classification
  return [
    e.eventId ?? null,
    e.recipient,
    e.domain,
    e.type,
    e.at.getTime(),
    e.source,
    c?.reason ?? null,
    c ? sqliteBool(c.hard) : null,
    c ? sqliteBool(c.permanent) : null,
    c?.scope ?? null,
    c?.code ?? null,
    c?.enhancedStatus ?? null,
    c?.provider ?? null,
    c?.ruleId ?? null,
    c?.retryAfter ?? null,
    c?.blocklist ?? null,
    e.reply ?? null,
    e.messageId ?? null,
    e.queueId ?? null,
    e.sender ?? null,
    e.tag ?? null,
  ]
}

/**
 * SQLite worker: the upsert's values of a recipient's first event, in `STATE_COLUMNS` order, as
 * `#freshStateRow` gives them, except the values shared with the insert (`WORKER_SHARED`:
 * recipient, domain), left `null` for the worker to copy. A test compares the states both paths
 * answer.
 */
function sqliteFreshStateValues(e: BounceEvent): unknown[] {
  const effect = eventEffect(e)
  const softRun = extendsSoftRun(e)
  const at = e.at.getTime()
  return [
    null,
    null,
    1,
    effect === 'delivery' ? 1 : 0,
    effect === 'hard' ? 1 : 0,
    effect === 'soft' ? 1 : 0,
    effect === 'complaint' ? 1 : 0,
    softRun ? 1 : 0,
    softRun ? at : null,
    softRun ? at : null,
    effect === 'delivery' ? at : null,
    at,
    lastReasonOf(e, effect) ?? null,
  ]
}

/** A boolean as SQLite binds it (`Dialect.bool` on SQLite). */
function sqliteBool(v: boolean | undefined): number | null {
  return v === undefined ? null : v ? 1 : 0
}

/** True when `assertDate(e.at)` and `assertString(e.recipient)` would both pass. */
function validEventShape(e: BounceEvent | undefined): boolean {
  return !!e && e.at instanceof Date && !Number.isNaN(e.at.getTime()) && typeof e.recipient === 'string' && e.recipient !== ''
}

/** Values the state upsert shares with the event insert, as `[event index, state index]` (see `WorkerSql.shared`). */
const WORKER_SHARED: Array<[number, number]> = (['recipient', 'domain'] as const).map((c) => [
  EVENT_COLUMNS.indexOf(c),
  STATE_COLUMNS.indexOf(c),
])

const JOB_COLUMNS = ['id', 'recipients', 'due_at', 'attempts', 'payload', 'origin', 'first_failed_at', 'last_error', 'lease_until'] as const

type PgType = 'varchar' | 'bigint' | 'integer' | 'boolean' | 'text'
const STATE_PG_TYPES: Record<(typeof STATE_COLUMNS)[number], PgType> = {
  recipient: 'varchar',
  domain: 'varchar',
  events: 'integer',
  deliveries: 'integer',
  hard_bounces: 'integer',
  soft_bounces: 'integer',
  complaints: 'integer',
  consecutive_soft_failures: 'integer',
  first_soft_failure_at: 'bigint',
  last_soft_failure_at: 'bigint',
  last_delivered_at: 'bigint',
  last_event_at: 'bigint',
  last_reason: 'varchar',
}

/** A state as column values (epoch ms for times). */
function stateRow(s: RecipientState): Record<(typeof STATE_COLUMNS)[number], unknown> {
  return {
    recipient: s.recipient,
    domain: s.domain,
    events: s.events,
    deliveries: s.deliveries,
    hard_bounces: s.hardBounces,
    soft_bounces: s.softBounces,
    complaints: s.complaints,
    consecutive_soft_failures: s.consecutiveSoftFailures,
    first_soft_failure_at: s.firstSoftFailureAt?.getTime() ?? null,
    last_soft_failure_at: s.lastSoftFailureAt?.getTime() ?? null,
    last_delivered_at: s.lastDeliveredAt?.getTime() ?? null,
    last_event_at: s.lastEventAt?.getTime() ?? null,
    last_reason: s.lastReason ?? null,
  }
}

/** The `BounceStore` implementation. Create it with `createTypeOrmBounceStore`. */
class TypeOrmStore implements TypeOrmBounceStore {
  readonly dataSource: DataSource
  readonly tables: BounceGuardTableNames
  readonly dialect: 'sqlite' | 'postgres' | 'mysql'
  readonly #d: Dialect
  readonly #exec: Executor
  /** The SQLite executor (its handle, prepared statements, transactions) for the hot paths. */
  readonly #sqlite: SqliteExecutor | undefined
  readonly #driver: string
  readonly #destroyOnClose: boolean
  readonly #groupCommit: boolean
  #queue: PendingEvent[] = []
  #draining = false
  #closed = false
  /** Whether the hot paths may run on a worker thread (SQLite files; see `sqliteWorker`). */
  readonly #useWorker: boolean
  /** The worker thread of the handle it was made for (`worker: null`: that database cannot have one). */
  #worker: { handle: SqliteDatabase; worker: SqliteWorker | null } | undefined
  // Quoted table names.
  readonly #sup: string
  readonly #ev: string
  readonly #st: string
  readonly #rj: string
  readonly #sh: string
  readonly #ss: string
  /** Window start (ms) up to which old slot rows were last pruned by this store. */
  #slotsPrunedAt = 0

  constructor(dataSource: DataSource, options: TypeOrmBounceStoreOptions) {
    this.dataSource = dataSource
    this.#driver = String(dataSource.options.type)
    const dialect = dialectOf(this.#driver)
    if (!dialect) {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        `@bounce-guard/typeorm (${this.#driver}): unsupported database type; use better-sqlite3, postgres, mysql or mariadb`,
      )
    }
    this.dialect = dialect
    this.tables = tableNames(options)
    this.#d = new Dialect(dialect)
    this.#exec = createExecutor(dataSource, dialect)
    this.#sqlite = this.#exec instanceof SqliteExecutor ? this.#exec : undefined
    this.#destroyOnClose = options.destroyDataSourceOnClose === true
    this.#groupCommit = dialect === 'postgres' && options.groupCommit !== false
    this.#useWorker = this.#sqlite !== undefined && options.sqliteWorker !== false
    this.#sup = this.#d.id(this.tables.suppressions)
    this.#ev = this.#d.id(this.tables.events)
    this.#st = this.#d.id(this.tables.recipientState)
    this.#rj = this.#d.id(this.tables.retryJobs)
    this.#sh = this.#d.id(this.tables.shaping)
    this.#ss = this.#d.id(this.tables.shapingSlots)
  }

  /** Run a plan with the closed/initialised checks and error wrapping every member shares. */
  async #run<T>(action: string, transaction: boolean | 'READ COMMITTED', plan: () => Plan<T>): Promise<T> {
    this.#checkUsable(action)
    try {
      return await this.#exec.run(plan, transaction)
    } catch (err) {
      throw toStoreError(err, this.#driver, action)
    }
  }

  /**
   * SQLite hot paths: run `fn` on the open handle at once, with the checks and the error wrapping
   * of `#run` (a closed store, an uninitialised DataSource, a driver error).
   */
  #sqliteRun<T>(action: string, sqlite: SqliteExecutor, fn: (db: SqliteDatabase) => T): T {
    this.#checkUsable(action)
    try {
      return fn(sqlite.handle())
    } catch (err) {
      throw toStoreError(err, this.#driver, action)
    }
  }

  #lookupSql = new Map<number, string>()
  /**
   * SQLite: the `findSuppressions` statement for `a` address and `m` domain placeholders (lists
   * are padded to these sizes by repeating their last key, so few shapes are ever prepared).
   */
  #sqliteLookupSql(a: number, m: number): string {
    const key = a * 65536 + m
    let sql = this.#lookupSql.get(key)
    if (sql === undefined) {
      const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ')
      sql = this.#lookupText(`IN (${marks(a)})`, `IN (${marks(m)})`, '?')
      this.#lookupSql.set(key, sql)
    }
    return sql
  }

  /**
   * The `findSuppressions` statement on every database: rows of the addresses matched by
   * `addresses`, of the domains matched by `domains` (each `IN (...)` or `= ANY(...)`), not
   * expired at the parameter `now`.
   */
  #lookupText(addresses: string, domains: string, now: string): string {
    const d = this.#d
    return (
      `SELECT * FROM ${this.#sup} WHERE ((${d.id('scope')} = 'address' AND ${d.id('target')} ${addresses})` +
      ` OR (${d.id('scope')} = 'domain' AND ${d.id('target')} ${domains}))` +
      ` AND (${d.id('expires_at')} IS NULL OR ${d.id('expires_at')} > ${now})`
    )
  }

  #checkOpen(): void {
    if (this.#closed)
      throw new BounceGuardError('ESTORE_CLOSED', `@bounce-guard/typeorm (${this.#driver}): the store was used after close()`)
  }

  /** `#checkOpen`, then the DataSource must be initialised (checked before every statement `action` runs). */
  #checkUsable(action: string): void {
    this.#checkOpen()
    if (!this.dataSource.isInitialized) {
      throw new BounceGuardError(
        'ESTORE_UNAVAILABLE',
        `@bounce-guard/typeorm (${this.#driver}): ${action}: the DataSource is not initialised (call dataSource.initialize())`,
      )
    }
  }

  async findSuppressions(addresses: readonly string[], now: Date = new Date()): Promise<Map<string, Suppression>> {
    this.#checkOpen()
    assertDate(now, this.#driver, 'findSuppressions(): now')
    const unique = [...new Set(addresses)]
    if (unique.length === 0) return new Map()
    const domains = [...new Set(unique.map(domainOf))]
    const sqlite = this.#sqlite
    const rows = sqlite
      ? this.#sqliteRun('findSuppressions', sqlite, (db) => {
          const a = paddedSize(unique.length)
          const m = paddedSize(domains.length)
          const params: unknown[] = new Array(a + m + 1)
          for (let i = 0; i < a; i++) params[i] = unique[Math.min(i, unique.length - 1)]
          for (let i = 0; i < m; i++) params[a + i] = domains[Math.min(i, domains.length - 1)]
          params[a + m] = now.getTime()
          return sqlite.statement(db, this.#sqliteLookupSql(a, m)).all(params)
        })
      : await this.#findRows(unique, domains, now)
    const byAddress = new Map<string, Suppression>()
    const byDomain = new Map<string, Suppression>()
    for (const r of rows) {
      const s = rowToSuppression(r)
      ;(s.scope === 'address' ? byAddress : byDomain).set(s.key, s)
    }
    const out = new Map<string, Suppression>()
    for (const a of unique) {
      const hit = byAddress.get(a) ?? byDomain.get(domainOf(a))
      if (hit) out.set(a, { ...hit })
    }
    return out
  }

  /** PostgreSQL and MySQL/MariaDB: the suppression rows of these addresses and domains, in one query. */
  #findRows(unique: string[], domains: string[], now: Date): Promise<Row[]> {
    const d = this.#d
    const p = d.params()
    // PostgreSQL takes each list as one array parameter, so every batch size shares one
    // prepared statement; the others get one placeholder per key.
    const inList = (keys: string[]): string => (d.name === 'postgres' ? `= ANY(${p.add(keys, 'varchar[]')})` : `IN (${p.list(keys)})`)
    // Placeholders are numbered in the order they are added: addresses, domains, now.
    const addressList = inList(unique)
    const domainList = inList(domains)
    const sql = this.#lookupText(addressList, domainList, p.add(now.getTime()))
    return this.#run('findSuppressions', false, function* () {
      return (yield d.step(sql, p)).rows
    })
  }

  async suppress(entry: SuppressionInput): Promise<SuppressResult> {
    this.#checkOpen()
    assertDate(entry.at, this.#driver, 'suppress(): at')
    assertString(entry.key, this.#driver, 'suppress(): key')
    if (entry.scope !== 'address' && entry.scope !== 'domain') {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        `@bounce-guard/typeorm (${this.#driver}): suppress(): scope must be "address" or "domain"`,
      )
    }
    if (entry.expiresAt !== undefined) assertDate(entry.expiresAt, this.#driver, 'suppress(): expiresAt')
    const d = this.#d
    const at = entry.at.getTime()
    const domain = entry.scope === 'domain' ? entry.key : domainOf(entry.key)
    const sup = this.#sup
    const fields = {
      reason: entry.reason,
      source: entry.source,
      expires_at: entry.expiresAt?.getTime() ?? null,
      escalated: d.bool(entry.escalated),
      rule_id: entry.ruleId ?? null,
      detail: entry.detail ?? null,
    }
    const select = (): { sql: string; params: unknown[] } => {
      const p = d.params()
      return d.step(
        `SELECT * FROM ${sup} WHERE ${d.id('target')} = ${p.add(entry.key)} AND ${d.id('scope')} = ${p.add(entry.scope)}${d.forUpdate()}`,
        p,
      )
    }
    const insert = (): { sql: string; params: unknown[] } => {
      const p = d.params()
      const cols = ['target', 'scope', 'domain', 'created_at', 'updated_at', ...Object.keys(fields)]
      const vals = [entry.key, entry.scope, domain, at, at, ...Object.values(fields)]
      const conflict = d.name === 'mysql' ? '' : ` ON CONFLICT (${d.id('target')}, ${d.id('scope')}) DO NOTHING`
      return d.step(`INSERT INTO ${sup} (${cols.map((c) => d.id(c)).join(', ')}) VALUES (${p.list(vals)})${conflict}`, p)
    }
    const dialect = d.name
    return this.#run('suppress', true, function* (): Plan<SuppressResult> {
      let existing = (yield select()).rows[0]
      if (!existing) {
        let inserted = false
        try {
          inserted = (yield insert()).affected > 0
        } catch (err) {
          // MySQL/MariaDB: a concurrent caller inserted the key first; update its row below.
          if (!(dialect === 'mysql' && isDuplicateKey(err))) throw err
        }
        if (inserted) {
          const suppression = rowToSuppression({ target: entry.key, scope: entry.scope, created_at: at, updated_at: at, ...fields })
          return { created: true, suppression }
        }
        existing = (yield select()).rows[0]
        if (!existing) throw new Error('suppression row vanished during upsert')
      }
      const old = rowToSuppression(existing)
      const created = old.expiresAt !== undefined && old.expiresAt.getTime() <= at
      const createdAt = created ? at : old.createdAt.getTime()
      const p = d.params()
      const sets = Object.entries({ ...fields, created_at: createdAt, updated_at: at })
        .map(([c, v]) => `${d.id(c)} = ${p.add(v)}`)
        .join(', ')
      yield d.step(
        `UPDATE ${sup} SET ${sets} WHERE ${d.id('target')} = ${p.add(entry.key)} AND ${d.id('scope')} = ${p.add(entry.scope)}`,
        p,
      )
      const suppression = rowToSuppression({ target: entry.key, scope: entry.scope, ...fields, created_at: createdAt, updated_at: at })
      return { created, suppression }
    })
  }

  async unsuppress(key: string, scope?: SuppressionScope): Promise<boolean> {
    this.#checkOpen()
    const d = this.#d
    const p = d.params()
    let sql = `DELETE FROM ${this.#sup} WHERE ${d.id('target')} = ${p.add(key)}`
    if (scope !== undefined) sql += ` AND ${d.id('scope')} = ${p.add(scope)}`
    return this.#run('unsuppress', false, function* () {
      return (yield d.step(sql, p)).affected > 0
    })
  }

  async listSuppressions(filter: SuppressionFilter = {}, page: { cursor?: string; limit?: number } = {}): Promise<SuppressionPage> {
    this.#checkOpen()
    const pkg = `@bounce-guard/typeorm (${this.#driver})`
    const limit = page.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1)
      throw new BounceGuardError('EINVALID_OPTION', `${pkg}: listSuppressions(): limit must be a positive integer`)
    const after = page.cursor === undefined ? undefined : decodeSuppressionCursor(page.cursor, pkg)
    const now = filter.now ?? new Date()
    assertDate(now, this.#driver, 'listSuppressions(): filter.now')
    const d = this.#d
    const p = d.params()
    const where: string[] = []
    const [target, scope, created] = [d.id('target'), d.id('scope'), d.id('created_at')]
    if (filter.scope) where.push(`${scope} = ${p.add(filter.scope)}`)
    if (filter.reason) where.push(`${d.id('reason')} = ${p.add(filter.reason)}`)
    if (filter.domain) where.push(`${d.id('domain')} = ${p.add(filter.domain)}`)
    if (filter.since) where.push(`${created} >= ${p.add(filter.since.getTime())}`)
    if (filter.until) where.push(`${created} < ${p.add(filter.until.getTime())}`)
    if (!filter.includeExpired) where.push(`(${d.id('expires_at')} IS NULL OR ${d.id('expires_at')} > ${p.add(now.getTime())})`)
    if (after) {
      where.push(
        `(${created} > ${p.add(after.t)} OR (${created} = ${p.add(after.t)} AND (${target} > ${p.add(after.k)}` +
          ` OR (${target} = ${p.add(after.k)} AND ${scope} > ${p.add(after.s)}))))`,
      )
    }
    const sql =
      `SELECT * FROM ${this.#sup}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}` +
      ` ORDER BY ${created}, ${target}, ${scope} LIMIT ${p.add(limit + 1)}`
    const rows = await this.#run('listSuppressions', false, function* () {
      return (yield d.step(sql, p)).rows
    })
    const items = rows.slice(0, limit).map(rowToSuppression)
    const result: SuppressionPage = { items }
    const last = items[items.length - 1]
    if (rows.length > limit && last) result.nextCursor = encodeSuppressionCursor(last)
    return result
  }

  async recordEvent(event: BounceEvent): Promise<{ state: RecipientState; duplicate: boolean }> {
    this.#checkOpen()
    assertDate(event?.at, this.#driver, 'recordEvent(): event.at')
    assertString(event.recipient, this.#driver, 'recordEvent(): event.recipient')
    if (!this.#groupCommit) return this.#recordOne(event)
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject })
      if (!this.#draining) {
        this.#draining = true
        void this.#drain()
      }
    })
  }

  /** Write queued events: one alone as one statement, several together in one transaction. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // A batch of distinct recipients and eventIds is one statement; a repeat starts the next batch.
        const batch = this.#queue.splice(0, uniqueRun(this.#queue.slice(0, GROUP_COMMIT_MAX).map((b) => b.event)))
        if (batch.length > 1) {
          try {
            const results = await this.#recordUnique(batch.map((b) => b.event))
            for (const [i, b] of batch.entries()) b.resolve(results[i] as { state: RecipientState; duplicate: boolean })
            // Let the callers just answered queue their next events, so they join the next batch.
            await new Promise((r) => setImmediate(r))
            continue
          } catch (err) {
            if ((err as BounceGuardError).code === 'ESTORE_UNAVAILABLE' || (err as BounceGuardError).code === 'ESTORE_CLOSED') {
              for (const b of batch) b.reject(err)
              continue
            }
            // Otherwise fall through: each event alone, so only a bad one fails its own call.
          }
        }
        await Promise.all(
          batch.map(async (b) => {
            try {
              b.resolve(await this.#recordOne(b.event))
            } catch (err) {
              b.reject(err)
            }
          }),
        )
      }
    } finally {
      this.#draining = false
    }
  }

  async recordEvents(events: readonly BounceEvent[]): Promise<Array<{ state: RecipientState; duplicate: boolean }>> {
    this.#checkOpen()
    if (!Array.isArray(events)) {
      throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/typeorm (${this.#driver}): recordEvents() expects an array of events`)
    }
    for (let i = 0; i < events.length; i++) {
      const e = events[i]
      // The messages are built only for a bad event.
      if (!validEventShape(e)) {
        assertDate(e?.at, this.#driver, `recordEvents(): events[${i}].at`)
        assertString(e.recipient, this.#driver, `recordEvents(): events[${i}].recipient`)
      }
    }
    if (events.length === 0) return []
    const worker = this.#useWorker ? this.#workerFor('recordEvents', this.#sqlite as SqliteExecutor) : undefined
    if (worker) {
      try {
        return await this.#writeOnWorker(worker, events)
      } catch (err) {
        // No worker thread here (it could not start or open the file; nothing was written):
        // this handle writes on the calling thread from now on.
        if (!(err instanceof BounceGuardError && err.cause instanceof SqliteWorkerUnavailable)) throw err
        if (this.#worker?.worker === worker) this.#worker = { handle: this.#worker.handle, worker: null }
      }
    }
    if (events.length === 1) return [await this.#recordOne(events[0] as BounceEvent)]
    if (this.dialect === 'postgres' && uniqueRun(events) === events.length) return this.#recordUnique(events)
    return this.#recordBatch(events)
  }

  /**
   * Many events in one transaction (`recordEvents`, and PostgreSQL group commit): insert the
   * events (duplicates skipped), make sure every touched recipient has a row, lock those rows in
   * key order, apply the events in arrival order with the same rules as every store
   * (`applyEventToState`), write the changed rows back.
   * - PostgreSQL: three statements whatever the batch size (`unnest` arrays: one insert of all
   *   events that also creates missing state rows, one locking read, one `UPDATE ... FROM unnest`).
   * - SQLite: under `BEGIN IMMEDIATE` (no other writer), the two prepared statements of a single
   *   `recordEvent` per event (insert, upsert `RETURNING`), all synchronous: one commit per batch.
   * - MySQL/MariaDB: one insert per event (a duplicate `eventId` fails only its statement),
   *   `INSERT IGNORE` of missing state rows, `SELECT ... FOR UPDATE`, multi-row upserts.
   */
  async #recordBatch(events: readonly BounceEvent[]): Promise<Array<{ state: RecipientState; duplicate: boolean }>> {
    // SQLite: synchronous under BEGIN IMMEDIATE, the one-event statements, prepared once, event
    // after event in one transaction (no state arithmetic in JS, no statement per batch size).
    if (this.#sqlite) return this.#sqliteRecord('recordEvents', this.#sqlite, events)
    const d = this.#d
    const dialect = d.name
    const id = (col: string): string => d.id(col)
    const [ev, st] = [this.#ev, this.#st]
    // Within the batch the first event with an eventId wins; later copies are duplicates.
    const seen = new Set<string>()
    const fresh = events.map((e) => {
      if (e.eventId === undefined) return true
      if (seen.has(e.eventId)) return false
      seen.add(e.eventId)
      return true
    })
    const rowsOf = events.map((e, i) => (fresh[i] ? this.#eventRow(e) : undefined))
    const recipients = [...new Set(events.map((e) => e.recipient))].sort()
    const domainOfRecipient = new Map(events.map((e) => [e.recipient, e.domain]))
    const eventCols = EVENT_COLUMNS.map(id).join(', ')
    const CHUNK = 500

    // Steps that insert the events; each returns whether event i was inserted.
    function* insertEvents(): Generator<Step, boolean[], StepResult> {
      const inserted = events.map(() => false)
      if (dialect === 'postgres') {
        const idx = events.map((_, i) => i).filter((i) => fresh[i])
        const pi = d.params()
        const arrays = EVENT_COLUMNS.map((col) =>
          pi.add(
            idx.map((i) => (rowsOf[i] as Record<string, unknown>)[col]),
            `${EVENT_PG_TYPES[col]}[]` as never,
          ),
        )
        const sql =
          `WITH ins AS (INSERT INTO ${ev} (${eventCols}) SELECT * FROM unnest(${arrays.join(', ')})` +
          ` ON CONFLICT (${id('event_id')}) DO NOTHING RETURNING ${id('event_id')}, ${id('recipient')}, ${id('domain')}),` +
          ` z AS (INSERT INTO ${st} (${id('recipient')}, ${id('domain')}) SELECT DISTINCT ON (${id('recipient')}) ${id('recipient')}, ${id('domain')} FROM ins` +
          ` ORDER BY ${id('recipient')} ON CONFLICT (${id('recipient')}) DO NOTHING)` +
          ` SELECT ${id('event_id')} FROM ins WHERE ${id('event_id')} IS NOT NULL`
        const ids = new Set((yield d.step(sql, pi)).rows.map((r) => String(r.event_id)))
        for (const i of idx) inserted[i] = events[i]?.eventId === undefined || ids.has(events[i]?.eventId as string)
        return inserted
      }
      for (let i = 0; i < events.length; i++) {
        const row = rowsOf[i]
        if (!row) continue
        const p = d.params()
        const conflict = dialect === 'sqlite' ? ` ON CONFLICT (${id('event_id')}) DO NOTHING` : ''
        try {
          inserted[i] = (yield d.step(`INSERT INTO ${ev} (${eventCols}) VALUES (${p.list(Object.values(row))})${conflict}`, p)).affected > 0
        } catch (err) {
          if (!(dialect === 'mysql' && isDuplicateKey(err))) throw err
        }
      }
      return inserted
    }

    return this.#run('recordEvents', true, function* () {
      const inserted = yield* insertEvents()
      const states = new Map<string, RecipientState>()
      if (dialect === 'mysql') {
        // Create missing rows of recipients with a new event first (sorted, so concurrent batches
        // lock in the same order); recipients with only duplicates get no row.
        const withNew = new Set(events.filter((_, i) => inserted[i]).map((e) => e.recipient))
        const touched = recipients.filter((r) => withNew.has(r))
        for (let k = 0; k < touched.length; k += CHUNK) {
          const part = touched.slice(k, k + CHUNK)
          const p = d.params()
          yield d.step(
            `INSERT IGNORE INTO ${st} (${id('recipient')}, ${id('domain')}) VALUES ${part.map((r) => `(${p.add(r)}, ${p.add(domainOfRecipient.get(r))})`).join(', ')}`,
            p,
          )
        }
      }
      for (let k = 0; k < recipients.length; k += CHUNK) {
        const part = recipients.slice(k, k + CHUNK)
        const p = d.params()
        const list = dialect === 'postgres' ? `= ANY(${p.add(part, 'varchar[]')})` : `IN (${p.list(part)})`
        const sql = `SELECT * FROM ${st} WHERE ${id('recipient')} ${list} ORDER BY ${id('recipient')}${d.forUpdate()}`
        for (const r of (yield d.step(sql, p)).rows) states.set(String(r.recipient), rowToState(r))
      }
      const changed = new Set<string>()
      const results = events.map((e, i) => {
        const current = states.get(e.recipient)
        if (!inserted[i]) return { state: current ? { ...current } : emptyRecipientState(e.recipient, e.domain), duplicate: true }
        const next = applyEventToState(current ?? emptyRecipientState(e.recipient, e.domain), e)
        states.set(e.recipient, next)
        changed.add(e.recipient)
        return { state: { ...next }, duplicate: false }
      })
      const rows = [...changed].sort().map((r) => stateRow(states.get(r) as RecipientState))
      if (rows.length > 0 && dialect === 'postgres') {
        const stateCols = STATE_COLUMNS.filter((c) => c !== 'domain')
        const pu = d.params()
        const cols = stateCols.map((c) =>
          pu.add(
            rows.map((r) => r[c]),
            `${STATE_PG_TYPES[c]}[]` as never,
          ),
        )
        yield d.step(
          `UPDATE ${st} SET ${stateCols
            .filter((c) => c !== 'recipient')
            .map((c) => `${id(c)} = v.${id(c)}`)
            .join(', ')}` +
            ` FROM unnest(${cols.join(', ')}) AS v(${stateCols.map(id).join(', ')}) WHERE ${st}.${id('recipient')} = v.${id('recipient')}`,
          pu,
        )
      } else if (rows.length > 0) {
        const sets = STATE_COLUMNS.filter((c) => c !== 'recipient')
          .map((c) => `${id(c)} = ${d.proposed(c)}`)
          .join(', ')
        for (let k = 0; k < rows.length; k += CHUNK) {
          const part = rows.slice(k, k + CHUNK)
          const p = d.params()
          const values = part.map((r) => `(${p.list(STATE_COLUMNS.map((c) => r[c]))})`).join(', ')
          yield d.step(
            `INSERT INTO ${st} (${STATE_COLUMNS.map(id).join(', ')}) VALUES ${values} ${d.onConflictUpdate(['recipient'])} ${sets}`,
            p,
          )
        }
      }
      return results
    })
  }

  /** The column values of an event row. */
  #eventRow(event: BounceEvent): Record<(typeof EVENT_COLUMNS)[number], unknown> {
    const d = this.#d
    const c = event.classification
    return {
      event_id: event.eventId ?? null,
      recipient: event.recipient,
      domain: event.domain,
      type: event.type,
      at: event.at.getTime(),
      source: event.source,
      reason: c?.reason ?? null,
      hard: c ? d.bool(c.hard) : null,
      permanent: c ? d.bool(c.permanent) : null,
      scope: c?.scope ?? null,
      code: c?.code ?? null,
      enhanced_status: c?.enhancedStatus ?? null,
      provider: c?.provider ?? null,
      rule_id: c?.ruleId ?? null,
      retry_after: c?.retryAfter ?? null,
      blocklist: c?.blocklist ?? null,
      reply: event.reply ?? null,
      message_id: event.messageId ?? null,
      queue_id: event.queueId ?? null,
      sender: event.sender ?? null,
      tag: event.tag ?? null,
    }
  }

  /** The state row a first event creates; the upsert's update clause adds the same deltas to an existing row. */
  #freshStateRow(event: BounceEvent): Record<(typeof STATE_COLUMNS)[number], unknown> {
    // `applyEventToState(emptyRecipientState(...), event)` as columns, without building the
    // state (a test holds the two equal for every kind of event).
    const effect = eventEffect(event)
    const softRun = extendsSoftRun(event)
    const at = event.at.getTime()
    return {
      recipient: event.recipient,
      domain: event.domain,
      events: 1,
      deliveries: effect === 'delivery' ? 1 : 0,
      hard_bounces: effect === 'hard' ? 1 : 0,
      soft_bounces: effect === 'soft' ? 1 : 0,
      complaints: effect === 'complaint' ? 1 : 0,
      consecutive_soft_failures: softRun ? 1 : 0,
      first_soft_failure_at: softRun ? at : null,
      last_soft_failure_at: softRun ? at : null,
      last_delivered_at: effect === 'delivery' ? at : null,
      last_event_at: at,
      last_reason: lastReasonOf(event, effect) ?? null,
    }
  }

  #updatesSql: string | undefined
  /** The update clause of the one-event state upsert (built once). */
  #stateUpdates(): string {
    if (this.#updatesSql) return this.#updatesSql
    const d = this.#d
    const T = (col: string): string => `${this.#st}.${d.id(col)}`
    const N = (col: string): string => d.proposed(col)
    const id = (col: string): string => d.id(col)
    const later = (col: string): string =>
      `CASE WHEN ${N(col)} IS NULL THEN ${T(col)} WHEN ${T(col)} IS NULL OR ${T(col)} < ${N(col)} THEN ${N(col)} ELSE ${T(col)} END`
    // Every assignment reads only its own column's old value and the proposed row, so MySQL's
    // left-to-right evaluation of ON DUPLICATE KEY UPDATE gives the same result as the others.
    this.#updatesSql = [
      `${id('events')} = ${T('events')} + 1`,
      ...['deliveries', 'hard_bounces', 'soft_bounces', 'complaints'].map((col) => `${id(col)} = ${T(col)} + ${N(col)}`),
      `${id('first_soft_failure_at')} = CASE WHEN ${N('deliveries')} > 0 THEN NULL WHEN ${N('first_soft_failure_at')} IS NULL THEN ${T('first_soft_failure_at')}` +
        ` WHEN ${T('first_soft_failure_at')} IS NULL OR ${T('first_soft_failure_at')} > ${N('first_soft_failure_at')} THEN ${N('first_soft_failure_at')} ELSE ${T('first_soft_failure_at')} END`,
      `${id('consecutive_soft_failures')} = CASE WHEN ${N('deliveries')} > 0 THEN 0 ELSE ${T('consecutive_soft_failures')} + ${N('consecutive_soft_failures')} END`,
      `${id('last_soft_failure_at')} = ${later('last_soft_failure_at')}`,
      `${id('last_delivered_at')} = ${later('last_delivered_at')}`,
      `${id('last_event_at')} = ${later('last_event_at')}`,
      `${id('last_reason')} = COALESCE(${N('last_reason')}, ${T('last_reason')})`,
    ].join(', ')
    return this.#updatesSql
  }

  #uniqueSql: string | undefined
  /**
   * PostgreSQL, several events of *distinct* recipients with distinct eventIds: one statement
   * (so atomic without a transaction, one round trip, one commit, one prepared statement for
   * every batch size): all events inserted from `unnest` arrays, duplicates skipped, and one
   * upsert per recipient with the same arithmetic as a single `recordEvent`, for the recipients
   * whose event was inserted, in key order. Row locks of the upsert keep concurrent writers exact.
   */
  async #recordUnique(events: readonly BounceEvent[]): Promise<Array<{ state: RecipientState; duplicate: boolean }>> {
    const d = this.#d
    const id = (col: string): string => d.id(col)
    const ev = this.#ev
    const st = this.#st
    const p = d.params()
    const eventRows = events.map((e) => this.#eventRow(e))
    const stateRows = events.map((e) => this.#freshStateRow(e))
    const eArrays = EVENT_COLUMNS.map((col) =>
      p.add(
        eventRows.map((r) => r[col]),
        `${EVENT_PG_TYPES[col]}[]` as never,
      ),
    )
    const sCols = STATE_COLUMNS.filter((c) => c !== 'recipient' && c !== 'domain')
    const sArrays = sCols.map((col) =>
      p.add(
        stateRows.map((r) => r[col]),
        `${STATE_PG_TYPES[col]}[]` as never,
      ),
    )
    if (!this.#uniqueSql) {
      const names = [...EVENT_COLUMNS.map((c) => `e_${c}`), ...sCols.map((c) => `s_${c}`)]
      this.#uniqueSql =
        `WITH b AS (SELECT * FROM unnest(${[...eArrays, ...sArrays].join(', ')}) AS b(${names.map(id).join(', ')})),` +
        ` ins AS (INSERT INTO ${ev} (${EVENT_COLUMNS.map(id).join(', ')}) SELECT ${EVENT_COLUMNS.map((c) => `b.${id(`e_${c}`)}`).join(', ')} FROM b` +
        ` ON CONFLICT (${id('event_id')}) DO NOTHING RETURNING ${id('recipient')})` +
        ` INSERT INTO ${st} (${STATE_COLUMNS.map(id).join(', ')})` +
        ` SELECT b.${id('e_recipient')}, b.${id('e_domain')}, ${sCols.map((c) => `b.${id(`s_${c}`)}`).join(', ')} FROM b` +
        ` WHERE b.${id('e_recipient')} IN (SELECT ${id('recipient')} FROM ins) ORDER BY b.${id('e_recipient')}` +
        ` ${d.onConflictUpdate(['recipient'])} ${this.#stateUpdates()} RETURNING *`
    }
    const sql = this.#uniqueSql
    return this.#run('recordEvents', false, function* () {
      const byRecipient = new Map<string, Row>()
      for (const r of (yield d.step(sql, p)).rows) byRecipient.set(String(r.recipient), r)
      // A recipient without a row back had its event skipped as a duplicate: read its state.
      const missing = events.filter((e) => !byRecipient.has(e.recipient)).map((e) => e.recipient)
      const current = new Map<string, Row>()
      if (missing.length > 0) {
        const pm = d.params()
        for (const r of (yield d.step(`SELECT * FROM ${st} WHERE ${id('recipient')} = ANY(${pm.add(missing, 'varchar[]')})`, pm)).rows)
          current.set(String(r.recipient), r)
      }
      return events.map((e) => {
        const row = byRecipient.get(e.recipient)
        if (row) return { state: rowToState(row), duplicate: false }
        const cur = current.get(e.recipient)
        return { state: cur ? rowToState(cur) : emptyRecipientState(e.recipient, e.domain), duplicate: true }
      })
    })
  }

  /** One event: one statement on PostgreSQL, one transaction elsewhere. */
  async #recordOne(event: BounceEvent): Promise<{ state: RecipientState; duplicate: boolean }> {
    const d = this.#d
    const eventValues = this.#eventRow(event)
    const stateValues = this.#freshStateRow(event)
    const id = (col: string): string => d.id(col)
    const updates = this.#stateUpdates()
    const stateCols = STATE_COLUMNS.map(id).join(', ')
    const eventCols = EVENT_COLUMNS.map(id).join(', ')
    const ev = this.#ev
    const st = this.#st
    const selectState = (): { sql: string; params: unknown[] } => {
      const p = d.params()
      return d.step(`SELECT * FROM ${st} WHERE ${id('recipient')} = ${p.add(event.recipient)}`, p)
    }
    const duplicateResult = (rows: Row[]): { state: RecipientState; duplicate: boolean } => ({
      state: rows[0] ? rowToState(rows[0]) : emptyRecipientState(event.recipient, event.domain),
      duplicate: true,
    })

    if (d.name === 'postgres') {
      // One statement: the state upsert reads from the event insert, so a duplicate eventId
      // (nothing inserted) also skips the state update.
      const p = d.params()
      const evVals = p.list(Object.values(eventValues))
      const stVals = STATE_COLUMNS.map((col) => p.add(stateValues[col], STATE_PG_TYPES[col])).join(', ')
      const sql =
        `WITH ins AS (INSERT INTO ${ev} (${eventCols}) VALUES (${evVals}) ON CONFLICT (${id('event_id')}) DO NOTHING RETURNING 1)` +
        ` INSERT INTO ${st} (${stateCols}) SELECT ${stVals} FROM ins` +
        ` ${d.onConflictUpdate(['recipient'])} ${updates} RETURNING *`
      return this.#run('recordEvent', false, function* () {
        const r = yield d.step(sql, p)
        if (r.rows[0]) return { state: rowToState(r.rows[0]), duplicate: false }
        return duplicateResult((yield selectState()).rows)
      })
    }

    if (this.#sqlite) return this.#sqliteRecord('recordEvent', this.#sqlite, [event])[0] as { state: RecipientState; duplicate: boolean }
    return this.#run('recordEvent', true, () => this.#oneEventSteps(event))
  }

  /**
   * SQLite: `#oneEventSteps` for each event, in one `BEGIN IMMEDIATE` transaction, straight on
   * the handle: the three statements are prepared once and bound from arrays.
   */
  #sqliteRecord(
    action: string,
    sqlite: SqliteExecutor,
    events: readonly BounceEvent[],
  ): Array<{ state: RecipientState; duplicate: boolean }> {
    const sql = this.#oneEventSql()
    return this.#sqliteRun(action, sqlite, (db) => {
      const insert = sqlite.statement(db, sql.insert)
      const upsert = sqlite.statement(db, sql.upsert)
      const select = sqlite.statement(db, sql.select)
      return sqlite.immediate(db, () => {
        const results: Array<{ state: RecipientState; duplicate: boolean }> = []
        for (const e of events) {
          const row = this.#eventRow(e)
          const values: unknown[] = new Array(EVENT_COLUMNS.length)
          for (let i = 0; i < EVENT_COLUMNS.length; i++) values[i] = sqliteValue(row[EVENT_COLUMNS[i] as (typeof EVENT_COLUMNS)[number]])
          if (insert.run(values).changes === 0) {
            results.push(duplicateResult(e, select.get([e.recipient])))
            continue
          }
          const fresh = this.#freshStateRow(e)
          const stateValues: unknown[] = new Array(STATE_COLUMNS.length)
          for (let i = 0; i < STATE_COLUMNS.length; i++)
            stateValues[i] = sqliteValue(fresh[STATE_COLUMNS[i] as (typeof STATE_COLUMNS)[number]])
          results.push(recordedResult(upsert.get(stateValues) ?? select.get([e.recipient])))
        }
        return results
      })
    })
  }

  /**
   * The worker thread for the DataSource's open handle (a new one after the DataSource was
   * re-initialised), or undefined when this database cannot have one (see `sqliteWorkerConfig`).
   * @throws the `#sqliteRun` errors (store closed, DataSource not initialised or not open)
   */
  #workerFor(action: string, sqlite: SqliteExecutor): SqliteWorker | undefined {
    const handle = this.#sqliteRun(action, sqlite, (db) => db)
    const current = this.#worker
    if (current?.handle === handle) return current.worker ?? undefined
    if (current?.worker) void current.worker.close()
    const config = sqliteWorkerConfig(
      this.dataSource.options as unknown as Record<string, unknown>,
      handle as unknown as Parameters<typeof sqliteWorkerConfig>[1],
      { ...this.#oneEventSql(), shared: WORKER_SHARED, recipient: EVENT_COLUMNS.indexOf('recipient') },
    )
    const worker = config ? new SqliteWorker(config, `@bounce-guard/typeorm (${this.#driver})`) : null
    this.#worker = { handle, worker }
    return worker ?? undefined
  }

  /** `#sqliteRecord` on the worker thread: the same values bound to the same statements, in one transaction. */
  async #writeOnWorker(
    worker: SqliteWorker,
    events: readonly BounceEvent[],
  ): Promise<Array<{ state: RecipientState; duplicate: boolean }>> {
    // Packed arrays (push, map), not `new Array(n)`: the structured clone copies a packed array as
    // a dense list and a holey one property by property (several times slower).
    const rows: WorkerRow[] = []
    for (const e of events) rows.push([sqliteEventValues(e), sqliteFreshStateValues(e)])
    try {
      const answers = await worker.write(rows)
      return events.map((e, k) => {
        const [duplicate, row] = answers[k] ?? [0, undefined]
        return duplicate ? duplicateResult(e, row) : recordedResult(row)
      })
    } catch (err) {
      throw toStoreError(err, this.#driver, 'recordEvents')
    }
  }

  #oneSql: { insert: string; upsert: string; select: string } | undefined;
  /**
   * SQLite and MySQL/MariaDB, inside a transaction: insert the event (a duplicate eventId inserts
   * nothing), then upsert the recipient's row with counter arithmetic; the state after the event
   * comes back (`RETURNING` on SQLite, a read on MySQL). The SQL is built once per store.
   */
  *#oneEventSteps(event: BounceEvent): Generator<Step, { state: RecipientState; duplicate: boolean }, StepResult> {
    const sql = this.#oneEventSql()
    const eventValues = this.#eventRow(event)
    let inserted: boolean
    try {
      inserted = (yield { sql: sql.insert, params: EVENT_COLUMNS.map((c) => eventValues[c]) }).affected > 0
    } catch (err) {
      if (this.dialect === 'mysql' && isDuplicateKey(err)) inserted = false
      else throw err
    }
    if (!inserted) {
      return duplicateResult(event, (yield { sql: sql.select, params: [event.recipient] }).rows[0])
    }
    const stateValues = this.#freshStateRow(event)
    const r = yield { sql: sql.upsert, params: STATE_COLUMNS.map((c) => stateValues[c]) }
    return recordedResult(r.rows[0] ?? (yield { sql: sql.select, params: [event.recipient] }).rows[0])
  }

  /** The SQL of `#oneEventSteps` (built once per store). */
  #oneEventSql(): { insert: string; upsert: string; select: string } {
    const d = this.#d
    const dialect = d.name
    if (!this.#oneSql) {
      const id = (col: string): string => d.id(col)
      const conflict = dialect === 'sqlite' ? ` ON CONFLICT (${id('event_id')}) DO NOTHING` : ''
      const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ')
      this.#oneSql = {
        insert: `INSERT INTO ${this.#ev} (${EVENT_COLUMNS.map(id).join(', ')}) VALUES (${marks(EVENT_COLUMNS.length)})${conflict}`,
        upsert:
          `INSERT INTO ${this.#st} (${STATE_COLUMNS.map(id).join(', ')}) VALUES (${marks(STATE_COLUMNS.length)})` +
          ` ${d.onConflictUpdate(['recipient'])} ${this.#stateUpdates()}${dialect === 'sqlite' ? ' RETURNING *' : ''}`,
        select: `SELECT * FROM ${this.#st} WHERE ${id('recipient')} = ?`,
      }
    }
    return this.#oneSql
  }

  async getRecipientState(recipient: string): Promise<RecipientState | undefined> {
    this.#checkOpen()
    const d = this.#d
    const p = d.params()
    const sql = `SELECT * FROM ${this.#st} WHERE ${d.id('recipient')} = ${p.add(recipient)}`
    const rows = await this.#run('getRecipientState', false, function* () {
      return (yield d.step(sql, p)).rows
    })
    return rows[0] ? rowToState(rows[0]) : undefined
  }

  async listEvents(recipient: string, limit = 100): Promise<BounceEvent[]> {
    this.#checkOpen()
    const n = Math.max(0, Math.floor(Number(limit)))
    if (!Number.isFinite(n) || n === 0) return []
    const d = this.#d
    const p = d.params()
    const sql = `SELECT * FROM ${this.#ev} WHERE ${d.id('recipient')} = ${p.add(recipient)} ORDER BY ${d.id('at')} DESC, ${d.id('id')} DESC LIMIT ${p.add(n)}`
    const rows = await this.#run('listEvents', false, function* () {
      return (yield d.step(sql, p)).rows
    })
    return rows.map(rowToEvent)
  }

  async scheduleRetry(job: RetryJob): Promise<void> {
    this.#checkOpen()
    assertString(job.id, this.#driver, 'scheduleRetry(): id')
    assertDate(job.dueAt, this.#driver, 'scheduleRetry(): dueAt')
    assertDate(job.firstFailedAt, this.#driver, 'scheduleRetry(): firstFailedAt')
    const d = this.#d
    const p = d.params()
    const values = [
      job.id,
      JSON.stringify(job.recipients),
      job.dueAt.getTime(),
      job.attempts,
      job.payload,
      job.origin ?? null,
      job.firstFailedAt.getTime(),
      job.lastError ?? null,
      null,
    ]
    const sets = JOB_COLUMNS.filter((c) => c !== 'id')
      .map((c) => `${d.id(c)} = ${d.proposed(c)}`)
      .join(', ')
    const sql = `INSERT INTO ${this.#rj} (${JOB_COLUMNS.map((c) => d.id(c)).join(', ')}) VALUES (${p.list(values)}) ${d.onConflictUpdate(['id'])} ${sets}`
    await this.#run('scheduleRetry', false, function* () {
      yield d.step(sql, p)
    })
  }

  async claimDueRetries(now: Date, limit: number, leaseMs: number): Promise<RetryJob[]> {
    this.#checkOpen()
    assertDate(now, this.#driver, 'claimDueRetries(): now')
    const n = Math.floor(Number(limit))
    if (!Number.isFinite(n) || n <= 0) return []
    if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs)) {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        `@bounce-guard/typeorm (${this.#driver}): claimDueRetries(): leaseMs must be a finite number`,
      )
    }
    const d = this.#d
    const t = now.getTime()
    const until = t + leaseMs
    const [idc, due, lease] = [d.id('id'), d.id('due_at'), d.id('lease_until')]
    const rj = this.#rj
    const prefix = this.tables.prefix
    const sortJobs = (jobs: RetryJob[]): RetryJob[] =>
      jobs.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const candidates = (p: ReturnType<Dialect['params']>): string =>
      `SELECT ${idc} FROM ${rj} WHERE ${due} <= ${p.add(t)} AND (${lease} IS NULL OR ${lease} <= ${p.add(t)}) ORDER BY ${due}, ${idc} LIMIT ${p.add(n)}`

    if (d.name !== 'mysql') {
      // One statement: PostgreSQL locks the chosen rows and skips rows other workers hold;
      // SQLite runs it under BEGIN IMMEDIATE, which excludes every other writer.
      const p = d.params()
      const set = `UPDATE ${rj} SET ${lease} = ${p.add(until)}`
      const sql = `${set} WHERE ${idc} IN (${candidates(p)}${d.forUpdate(true)}) RETURNING *`
      const rows = await this.#run('claimDueRetries', d.name === 'sqlite', function* () {
        return (yield d.step(sql, p)).rows
      })
      return sortJobs(rows.map(rowToJob))
    }
    // READ COMMITTED: InnoDB then keeps locks only on the rows returned, not on every row scanned,
    // so concurrent claimers skip exactly the jobs another claimer holds.
    return this.#run('claimDueRetries', 'READ COMMITTED', function* () {
      // MariaDB rejects LIMIT inside IN (subquery): lock the chosen rows with a plain SELECT.
      const pl = d.params()
      const rows = (yield d.step(
        `SELECT * FROM ${rj} FORCE INDEX (${d.id(`${prefix}rj_due`)}) WHERE ${due} <= ${pl.add(t)} AND (${lease} IS NULL OR ${lease} <= ${pl.add(t)}) ORDER BY ${due}, ${idc} LIMIT ${pl.add(n)}${d.forUpdate(true)}`,
        pl,
      )).rows
      if (rows.length === 0) return []
      const pu = d.params()
      yield d.step(`UPDATE ${rj} SET ${lease} = ${pu.add(until)} WHERE ${idc} IN (${pu.list(rows.map((r) => r.id))})`, pu)
      return sortJobs(rows.map(rowToJob))
    })
  }

  async completeRetry(id: string): Promise<void> {
    this.#checkOpen()
    const d = this.#d
    const p = d.params()
    const sql = `DELETE FROM ${this.#rj} WHERE ${d.id('id')} = ${p.add(id)}`
    await this.#run('completeRetry', false, function* () {
      yield d.step(sql, p)
    })
  }

  async failRetry(id: string, update: { dueAt: Date; recipients?: string[]; error?: string }): Promise<void> {
    this.#checkOpen()
    assertDate(update?.dueAt, this.#driver, 'failRetry(): dueAt')
    const d = this.#d
    const p = d.params()
    const sets = [
      `${d.id('due_at')} = ${p.add(update.dueAt.getTime())}`,
      `${d.id('attempts')} = ${d.id('attempts')} + 1`,
      `${d.id('lease_until')} = NULL`,
    ]
    if (update.recipients) sets.push(`${d.id('recipients')} = ${p.add(JSON.stringify(update.recipients))}`)
    if (update.error !== undefined) sets.push(`${d.id('last_error')} = ${p.add(update.error)}`)
    const sql = `UPDATE ${this.#rj} SET ${sets.join(', ')} WHERE ${d.id('id')} = ${p.add(id)}`
    await this.#run('failRetry', false, function* () {
      yield d.step(sql, p)
    })
  }

  async stats(query: StatsQuery): Promise<StatsRow[]> {
    this.#checkOpen()
    assertDate(query?.since, this.#driver, 'stats(): since')
    if (query.until !== undefined) assertDate(query.until, this.#driver, 'stats(): until')
    if (!['domain', 'provider', 'reason'].includes(query.groupBy)) {
      throw new BounceGuardError(
        'EINVALID_OPTION',
        `@bounce-guard/typeorm (${this.#driver}): stats(): groupBy must be "domain", "provider" or "reason"`,
      )
    }
    const d = this.#d
    const p = d.params()
    const [type, hard, scope, reason] = [d.id('type'), d.id('hard'), d.id('scope'), d.id('reason')]
    const keyExpr =
      query.groupBy === 'domain'
        ? d.id('domain')
        : query.groupBy === 'provider'
          ? // Unclassified events (deliveries) go to the provider of a well-known mailbox domain, as in eventTimeSeries.
            `COALESCE(${d.id('provider')}, m.p, 'unknown')`
          : `COALESCE(${reason}, CASE WHEN ${type} = 'delivered' THEN 'delivered' ELSE 'undefined' END)`
    const isHard = d.name === 'postgres' ? `${hard} IS TRUE` : `${hard} = 1`
    const count = (cond: string): string => `SUM(CASE WHEN ${cond} THEN 1 ELSE 0 END)`
    const until = (query.until ?? new Date()).getTime()
    const sql =
      `SELECT ${keyExpr} AS k, COUNT(*) AS sent,` +
      ` ${count(`${type} = 'delivered'`)} AS delivered,` +
      ` ${count(`${type} = 'bounced' AND ${reason} IS NOT NULL AND ${isHard}`)} AS hard_bounces,` +
      ` ${count(`${type} = 'bounced' AND NOT (${reason} IS NOT NULL AND ${isHard})`)} AS soft_bounces,` +
      ` ${count(`${type} = 'deferred'`)} AS deferred,` +
      ` ${count(`${type} = 'complaint'`)} AS complaints,` +
      ` ${count(`${type} IN ('bounced', 'deferred') AND ${scope} = 'sender'`)} AS sender_rejections` +
      ` FROM ${this.#ev}${query.groupBy === 'provider' ? ` LEFT JOIN ${domainProviderTable()} m ON ${d.id('provider')} IS NULL AND m.d = ${d.id('domain')}` : ''}` +
      ` WHERE ${d.id('at')} >= ${p.add(query.since.getTime())} AND ${d.id('at')} < ${p.add(until)}` +
      ` AND ${type} <> 'suppressed' AND ${d.id('recipient')} NOT LIKE '@%' GROUP BY ${keyExpr}`
    const rows = await this.#run('stats', false, function* () {
      return (yield d.step(sql, p)).rows
    })
    return rows
      .map((r): StatsRow => {
        const row: StatsRow = {
          key: String(r.k),
          sent: num(r.sent),
          delivered: num(r.delivered),
          hardBounces: num(r.hard_bounces),
          softBounces: num(r.soft_bounces),
          deferred: num(r.deferred),
          complaints: num(r.complaints),
          senderRejections: num(r.sender_rejections),
          bounceRate: 0,
        }
        const denom = row.delivered + row.hardBounces + row.softBounces
        row.bounceRate = denom === 0 ? 0 : row.hardBounces / denom
        return row
      })
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async putShapingEntries(entries: readonly ShapingEntry[], now: Date = new Date()): Promise<void> {
    this.#checkOpen()
    assertDate(now, this.#driver, 'putShapingEntries(): now')
    const where = `@bounce-guard/typeorm (${this.#driver}): putShapingEntries()`
    if (!Array.isArray(entries)) throw new BounceGuardError('EINVALID_OPTION', `${where} expects an array`)
    for (const e of entries) assertShapingEntry(e, where)
    const t = now.getTime()
    const live = entries.filter((e) => e.until > t)
    if (live.length === 0) return
    const d = this.#d
    const cols = ['shaping_key', 'rule_id', 'action', 'per_minute', 'since_at', 'until_at', 'evidence', 'updated_at']
    const casts = ['varchar', 'varchar', 'varchar', 'integer', 'bigint', 'bigint', 'text', 'bigint'] as const
    const steps = live.map((e) => {
      const p = d.params()
      const values = [
        e.key,
        e.ruleId,
        e.action,
        e.action === 'cap' ? Math.max(1, Math.round(e.perMinute ?? 1)) : null,
        Math.round(e.since),
        Math.round(e.until),
        typeof e.reply === 'string' || (e.domains && e.domains.length > 0)
          ? JSON.stringify({
              ...(typeof e.reply === 'string' ? { reply: e.reply.slice(0, 300) } : {}),
              ...(e.domains && e.domains.length > 0 ? { domains: e.domains } : {}),
            })
          : null,
        t,
      ]
      const placeholders = values.map((v, i) => p.add(v, casts[i])).join(', ')
      // `until_at` last: MySQL evaluates the assignments left to right and the others compare against it.
      const changed = [...cols.slice(2).filter((c) => c !== 'until_at'), 'until_at']
      // Replace the row only when the new action lasts longer (a slower writer never shortens it).
      const set =
        d.name === 'mysql'
          ? changed
              .map((c) => `${d.id(c)} = IF(VALUES(${d.id('until_at')}) > ${d.id('until_at')}, VALUES(${d.id(c)}), ${d.id(c)})`)
              .join(', ')
          : `${changed.map((c) => `${d.id(c)} = ${d.proposed(c)}`).join(', ')} WHERE ${this.#sh}.${d.id('until_at')} < ${d.proposed('until_at')}`
      const sql = `INSERT INTO ${this.#sh} (${cols.map((c) => d.id(c)).join(', ')}) VALUES (${placeholders}) ${d.onConflictUpdate(['shaping_key', 'rule_id'])} ${set}`
      return d.step(sql, p)
    })
    await this.#run('putShapingEntries', steps.length > 1, function* () {
      for (const s of steps) yield s
    })
  }

  async listShapingEntries(now: Date = new Date()): Promise<ShapingEntry[]> {
    this.#checkOpen()
    assertDate(now, this.#driver, 'listShapingEntries(): now')
    const d = this.#d
    const p = d.params()
    const sql = `SELECT * FROM ${this.#sh} WHERE ${d.id('until_at')} > ${p.add(now.getTime(), 'bigint')} ORDER BY ${d.id('since_at')}, ${d.id('shaping_key')}, ${d.id('rule_id')}`
    const rows = await this.#run('listShapingEntries', false, function* () {
      return (yield d.step(sql, p)).rows
    })
    return rows.map((r) => {
      const e: ShapingEntry = {
        key: String(r.shaping_key),
        ruleId: String(r.rule_id),
        action: r.action === 'cap' ? 'cap' : 'pause',
        since: num(r.since_at),
        until: num(r.until_at),
      }
      const pm = optNum(r.per_minute)
      if (pm !== undefined) e.perMinute = pm
      const ev = optStr(r.evidence)
      if (ev !== undefined) {
        try {
          const j = JSON.parse(ev) as { reply?: unknown; domains?: unknown }
          if (typeof j?.reply === 'string') e.reply = j.reply
          if (Array.isArray(j?.domains)) e.domains = j.domains.filter((d): d is string => typeof d === 'string')
        } catch {
          // evidence written by something else: ignored
        }
      }
      return e
    })
  }

  async liftShapingEntries(key?: string): Promise<number> {
    this.#checkOpen()
    const d = this.#d
    const p = d.params()
    let sql = `DELETE FROM ${this.#sh}`
    if (key !== undefined) sql += ` WHERE ${d.id('shaping_key')} = ${p.add(key)}`
    return this.#run('liftShapingEntries', false, function* () {
      return (yield d.step(sql, p)).affected
    })
  }

  async takeShapingSlots(key: string, windowStart: Date, limit: number, n: number): Promise<number> {
    this.#checkOpen()
    assertShapingSlotRequest(key, windowStart, limit, n, `@bounce-guard/typeorm (${this.#driver}): takeShapingSlots()`)
    const d = this.#d
    const ws = windowStart.getTime()
    const first = Math.min(n, limit)
    // One upsert locks the row (or inserts it) and grants min(n, limit - used); the grant is read
    // back with RETURNING (PostgreSQL) or in the same transaction (SQLite, MySQL). No SELECT ... FOR
    // UPDATE first: on MySQL a shared lock upgraded to an exclusive one would deadlock concurrent takers.
    const up = d.params()
    const [k, w, l, m] = [up.add(key, 'varchar'), up.add(ws, 'bigint'), up.add(first, 'integer'), up.add(first, 'integer')]
    // Placeholders are added where they appear (SQLite and MySQL bind `?` by position).
    const grant = (u: string): string =>
      `CASE WHEN ${u} + ${up.add(n, 'integer')} <= ${up.add(limit, 'integer')} THEN ${up.add(n, 'integer')} WHEN ${u} < ${up.add(limit, 'integer')} THEN ${up.add(limit, 'integer')} - ${u} ELSE 0 END`
    const used = d.id('used')
    const lastGrant = d.id('last_grant')
    // Both assignments compute from the row's previous `used` (whether the database assigns left
    // to right, as MySQL does, or all at once), so `last_grant` is exactly what was added.
    const old = d.name === 'mysql' ? used : `${this.#ss}.${used}`
    const set = `${lastGrant} = ${grant(old)}, ${used} = ${old} + ${grant(old)}`
    const upsert = `INSERT INTO ${this.#ss} (${d.id('shaping_key')}, ${d.id('window_start')}, ${used}, ${lastGrant}) VALUES (${k}, ${w}, ${l}, ${m}) ${d.onConflictUpdate(['shaping_key', 'window_start'])} ${set}`
    let granted: number
    if (d.name === 'postgres') {
      // One atomic statement (a prepared statement on the pool, one round trip).
      const sql = `${upsert} RETURNING ${lastGrant} AS g`
      granted = await this.#run('takeShapingSlots', false, function* () {
        const r = (yield d.step(sql, up)).rows[0]
        return r ? Number(r.g) : 0
      })
    } else {
      const rd = d.params()
      const read = `SELECT ${lastGrant} AS g FROM ${this.#ss} WHERE ${d.id('shaping_key')} = ${rd.add(key, 'varchar')} AND ${d.id('window_start')} = ${rd.add(ws, 'bigint')}`
      granted = await this.#run('takeShapingSlots', true, function* () {
        yield d.step(upsert, up)
        const r = (yield d.step(read, rd)).rows[0]
        return r ? Number(r.g) : 0
      })
    }
    // Opportunistic pruning of old windows, at most once a minute per store; a failure here never
    // takes back the slots just granted.
    const horizon = ws - SHAPING_SLOT_RETENTION_MS
    if (horizon - this.#slotsPrunedAt >= 60_000) {
      this.#slotsPrunedAt = horizon
      const pp = d.params()
      const prune = `DELETE FROM ${this.#ss} WHERE ${d.id('window_start')} < ${pp.add(horizon, 'bigint')}`
      await this.#run('takeShapingSlots (prune)', false, function* () {
        yield d.step(prune, pp)
      }).catch(() => undefined)
    }
    return Number.isFinite(granted) ? Math.max(0, Math.min(n, granted)) : 0
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // Calls already handed to the worker thread are answered (batches written) before it ends.
    if (this.#worker?.worker) await this.#worker.worker.close()
    if (this.#destroyOnClose && this.dataSource.isInitialized) {
      try {
        await this.dataSource.destroy()
      } catch (err) {
        throw toStoreError(err, this.#driver, 'close')
      }
    }
  }
}

/**
 * Create a `BounceStore` on a DataSource you own. The tables must exist: add
 * `bounceGuardMigrations()` to the DataSource's migrations (or `bounceGuardEntities()` with
 * `synchronize` in tests). The DataSource may be initialised later; calls made before that throw
 * `ESTORE_UNAVAILABLE`.
 * @throws BounceGuardError `EINVALID_OPTION` for an unsupported database type or a bad prefix
 */
export function createTypeOrmBounceStore(dataSource: DataSource, options: TypeOrmBounceStoreOptions = {}): TypeOrmBounceStore {
  return new TypeOrmStore(dataSource, options)
}
