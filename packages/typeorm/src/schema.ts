/**
 * The table layout, written once as data. The `EntitySchema` definitions and the migrations are both
 * built from it, so they cannot drift apart.
 *
 * Times are stored as milliseconds since the Unix epoch (UTC) in BIGINT columns: the same value on
 * every database, independent of the server's and the client's time zone, with millisecond
 * precision everywhere (MySQL's DATETIME keeps whole seconds unless told otherwise), and compared
 * with plain integer arithmetic in the atomic statements.
 */
import { EntitySchema, type EntitySchemaColumnOptions, type ValueTransformer } from 'typeorm'
import { tableNames, type BounceGuardSchemaOptions, type BounceGuardTableNames } from './options.js'

/** The database families the store speaks. */
export type SqlDialect = 'sqlite' | 'postgres' | 'mysql'

/** How a column is stored. `key` columns compare byte for byte on every database. */
type ColumnKind = 'key' | 'ms' | 'int' | 'bool' | 'text' | 'longtext' | 'id'

interface ColumnSpec {
  name: string
  kind: ColumnKind
  length?: number
  nullable?: boolean
  primary?: boolean
  default?: number
}

interface IndexSpec {
  /** Appended to the prefix. */
  name: string
  columns: string[]
  unique?: boolean
}

export interface TableSpec {
  /** Key of `BounceGuardTableNames`. */
  table: Exclude<keyof BounceGuardTableNames, 'prefix'>
  columns: ColumnSpec[]
  indices: IndexSpec[]
}

/** The four tables of the first migration. Column names are snake_case on every database. */
export const TABLE_SPECS: readonly TableSpec[] = [
  {
    table: 'suppressions',
    columns: [
      { name: 'target', kind: 'key', length: 320, primary: true },
      { name: 'scope', kind: 'key', length: 16, primary: true },
      { name: 'domain', kind: 'key', length: 255 },
      { name: 'reason', kind: 'key', length: 32 },
      { name: 'source', kind: 'key', length: 32 },
      { name: 'created_at', kind: 'ms' },
      { name: 'updated_at', kind: 'ms' },
      { name: 'expires_at', kind: 'ms', nullable: true },
      { name: 'escalated', kind: 'bool', nullable: true },
      { name: 'rule_id', kind: 'text', nullable: true },
      { name: 'detail', kind: 'text', nullable: true },
    ],
    indices: [
      { name: 'sup_created', columns: ['created_at', 'target', 'scope'] },
      { name: 'sup_domain', columns: ['domain'] },
    ],
  },
  {
    table: 'events',
    columns: [
      { name: 'id', kind: 'id', primary: true },
      { name: 'event_id', kind: 'key', length: 255, nullable: true },
      { name: 'recipient', kind: 'key', length: 320 },
      { name: 'domain', kind: 'key', length: 255 },
      { name: 'type', kind: 'key', length: 16 },
      { name: 'at', kind: 'ms' },
      { name: 'source', kind: 'key', length: 32 },
      { name: 'reason', kind: 'key', length: 32, nullable: true },
      { name: 'hard', kind: 'bool', nullable: true },
      { name: 'permanent', kind: 'bool', nullable: true },
      { name: 'scope', kind: 'key', length: 16, nullable: true },
      { name: 'code', kind: 'int', nullable: true },
      { name: 'enhanced_status', kind: 'text', nullable: true },
      { name: 'provider', kind: 'key', length: 64, nullable: true },
      { name: 'rule_id', kind: 'text', nullable: true },
      { name: 'retry_after', kind: 'int', nullable: true },
      { name: 'blocklist', kind: 'text', nullable: true },
      { name: 'reply', kind: 'text', nullable: true },
      { name: 'message_id', kind: 'text', nullable: true },
      { name: 'queue_id', kind: 'text', nullable: true },
      { name: 'sender', kind: 'text', nullable: true },
      { name: 'tag', kind: 'text', nullable: true },
    ],
    indices: [
      { name: 'ev_event_id', columns: ['event_id'], unique: true },
      { name: 'ev_recipient_at', columns: ['recipient', 'at'] },
      { name: 'ev_domain_at', columns: ['domain', 'at'] },
      { name: 'ev_at', columns: ['at'] },
    ],
  },
  {
    table: 'recipientState',
    columns: [
      { name: 'recipient', kind: 'key', length: 320, primary: true },
      { name: 'domain', kind: 'key', length: 255 },
      { name: 'events', kind: 'int', default: 0 },
      { name: 'deliveries', kind: 'int', default: 0 },
      { name: 'hard_bounces', kind: 'int', default: 0 },
      { name: 'soft_bounces', kind: 'int', default: 0 },
      { name: 'complaints', kind: 'int', default: 0 },
      { name: 'consecutive_soft_failures', kind: 'int', default: 0 },
      { name: 'first_soft_failure_at', kind: 'ms', nullable: true },
      { name: 'last_soft_failure_at', kind: 'ms', nullable: true },
      { name: 'last_delivered_at', kind: 'ms', nullable: true },
      { name: 'last_event_at', kind: 'ms', nullable: true },
      { name: 'last_reason', kind: 'key', length: 32, nullable: true },
    ],
    indices: [{ name: 'rs_domain', columns: ['domain'] }],
  },
  {
    table: 'retryJobs',
    columns: [
      { name: 'id', kind: 'key', length: 255, primary: true },
      { name: 'recipients', kind: 'longtext' },
      { name: 'due_at', kind: 'ms' },
      { name: 'attempts', kind: 'int', default: 0 },
      { name: 'payload', kind: 'longtext' },
      { name: 'origin', kind: 'text', nullable: true },
      { name: 'first_failed_at', kind: 'ms' },
      { name: 'last_error', kind: 'text', nullable: true },
      { name: 'lease_until', kind: 'ms', nullable: true },
    ],
    indices: [{ name: 'rj_due', columns: ['due_at', 'id'] }],
  },
]

/**
 * The shared traffic-shaping table (`BounceStore.putShapingEntries`), added by the second migration
 * (`BounceGuardShaping`): one row per active action, keyed by destination key and rule id. Times in
 * epoch ms; `evidence` is JSON (`{ "reply": "..." }`, the reply that triggered the action).
 */
export const SHAPING_TABLE_SPEC: TableSpec = {
  table: 'shaping',
  columns: [
    { name: 'shaping_key', kind: 'key', length: 320, primary: true },
    { name: 'rule_id', kind: 'key', length: 128, primary: true },
    { name: 'action', kind: 'key', length: 8 },
    { name: 'per_minute', kind: 'int', nullable: true },
    { name: 'since_at', kind: 'ms' },
    { name: 'until_at', kind: 'ms' },
    { name: 'evidence', kind: 'text', nullable: true },
    { name: 'updated_at', kind: 'ms' },
  ],
  indices: [{ name: 'sh_until', columns: ['until_at'] }],
}

/**
 * Shared cap slots (`BounceStore.takeShapingSlots`), added by the fourth migration
 * (`BounceGuardShapingSlots`): one row per destination key and minute window; `used` = slots
 * granted in that window by every process, `last_grant` = what the latest call was granted (read
 * back in the same transaction). Rows of windows older than `SHAPING_SLOT_RETENTION_MS` are pruned.
 */
export const SHAPING_SLOTS_TABLE_SPEC: TableSpec = {
  table: 'shapingSlots',
  columns: [
    { name: 'shaping_key', kind: 'key', length: 320, primary: true },
    { name: 'window_start', kind: 'ms', primary: true },
    { name: 'used', kind: 'int' },
    { name: 'last_grant', kind: 'int' },
  ],
  indices: [{ name: 'ss_window', columns: ['window_start'] }],
}

/** The counters of a rollup row, in the order the queries write them. */
export const ROLLUP_COUNT_COLUMNS = [
  'delivered',
  'hard_bounces',
  'soft_bounces',
  'deferred',
  'complaints',
  'sender_rejections',
  'refused',
] as const

/**
 * Hourly per-provider counts of the events table (third migration, `BounceGuardRollup`). A row
 * holds the events of one hour and one provider key whose id is at most the rollup mark (see
 * `ROLLUP_MARKS_SPEC`), whatever their age: `rollupEvents` adds the events past the mark and moves
 * it, so the table is exact up to the mark and a query adds only the events after it. The primary
 * key serves the time-range read (`bucket_seconds = 3600 AND bucket >= ? AND bucket < ?`).
 * `bucket_seconds` is always 3600 today; it keeps the layout of tables created by the former
 * `ensureRollupTable`.
 */
export const ROLLUP_TABLE_SPEC: TableSpec = {
  table: 'eventRollup',
  columns: [
    { name: 'bucket_seconds', kind: 'int', primary: true },
    { name: 'bucket', kind: 'ms', primary: true },
    { name: 'k', kind: 'key', length: 255, primary: true },
    ...ROLLUP_COUNT_COLUMNS.map((name): ColumnSpec => ({ name, kind: 'ms' })),
  ],
  indices: [],
}

/**
 * One row per rollup (`name` = `provider_hourly`): `event_id` = every event with a smaller or
 * equal id is counted in the rollup table; `pending_id`/`pending_at` = the highest id seen by the
 * previous run and when (the next run rolls up to it once `settleMs` has passed, so an insert
 * still in flight when the id was read is never skipped).
 */
export const ROLLUP_MARKS_SPEC: TableSpec = {
  table: 'rollupMarks',
  columns: [
    { name: 'name', kind: 'key', length: 64, primary: true },
    { name: 'event_id', kind: 'ms' },
    { name: 'pending_id', kind: 'ms', nullable: true },
    { name: 'pending_at', kind: 'ms', nullable: true },
    { name: 'updated_at', kind: 'ms' },
  ],
  indices: [],
}

/** Column options for the Table API of a migration, for one dialect. */
export function columnForDialect(col: ColumnSpec, dialect: SqlDialect): Record<string, unknown> {
  const base: Record<string, unknown> = {
    name: col.name,
    isNullable: col.nullable === true,
    isPrimary: col.primary === true,
  }
  if (col.default !== undefined) base.default = col.default
  switch (col.kind) {
    case 'key':
      base.type = 'varchar'
      base.length = String(col.length ?? 255)
      if (dialect === 'postgres') base.collation = 'C'
      if (dialect === 'mysql') Object.assign(base, { charset: 'utf8mb4', collation: 'utf8mb4_bin' })
      break
    case 'ms':
      base.type = 'bigint'
      break
    case 'int':
      base.type = dialect === 'mysql' ? 'int' : 'integer'
      break
    case 'bool':
      base.type = 'boolean'
      break
    case 'text':
      base.type = 'text'
      if (dialect === 'mysql') Object.assign(base, { charset: 'utf8mb4', collation: 'utf8mb4_bin' })
      break
    case 'longtext':
      base.type = dialect === 'mysql' ? 'longtext' : 'text'
      if (dialect === 'mysql') Object.assign(base, { charset: 'utf8mb4', collation: 'utf8mb4_bin' })
      break
    case 'id':
      // SQLite allows AUTOINCREMENT only on a column typed exactly INTEGER (a 64-bit rowid).
      base.type = dialect === 'sqlite' ? 'integer' : 'bigint'
      base.isGenerated = true
      base.generationStrategy = 'increment'
      break
  }
  return base
}

/** Reads BIGINT values (strings on pg and mysql2) back as numbers. */
const bigintAsNumber: ValueTransformer = {
  to: (v: unknown) => v,
  from: (v: unknown) => (v === null || v === undefined ? v : Number(v)),
}

function entityColumn(col: ColumnSpec): EntitySchemaColumnOptions {
  const c = {
    name: col.name,
    nullable: col.nullable === true,
    primary: col.primary === true,
    ...(col.default !== undefined ? { default: col.default } : {}),
  }
  switch (col.kind) {
    case 'key':
      return { ...c, type: String, length: col.length ?? 255 }
    case 'ms':
      return { ...c, type: 'bigint', transformer: bigintAsNumber }
    case 'int':
      return { ...c, type: Number }
    case 'bool':
      return { ...c, type: Boolean }
    case 'text':
    case 'longtext':
      return { ...c, type: 'text' }
    case 'id':
      return { ...c, type: Number, generated: 'increment' }
  }
}

/**
 * The `EntitySchema` definitions of Bounce Guard's tables (the four of the first migration,
 * `shaping`, `event_rollup`, `rollup_marks` and `shaping_slots`) (no decorators), for the
 * `entities` option of your `DataSource`. The entity names equal the table names.
 * Use them with `synchronize` in tests only; in production create the tables with
 * `bounceGuardMigrations()`.
 */
export function bounceGuardEntities(options: BounceGuardSchemaOptions = {}): EntitySchema[] {
  const names = tableNames(options)
  return [...TABLE_SPECS, SHAPING_TABLE_SPEC, ROLLUP_TABLE_SPEC, ROLLUP_MARKS_SPEC, SHAPING_SLOTS_TABLE_SPEC].map((spec) => {
    const name = names[spec.table]
    const columns: Record<string, EntitySchemaColumnOptions> = {}
    for (const col of spec.columns) columns[col.name] = entityColumn(col)
    return new EntitySchema<Record<string, unknown>>({
      name,
      tableName: name,
      columns,
      indices: spec.indices.map((i) => ({ name: `${names.prefix}${i.name}`, columns: i.columns, unique: i.unique === true })),
    })
  })
}
