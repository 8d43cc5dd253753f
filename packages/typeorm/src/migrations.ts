/**
 * Real TypeORM migrations for Bounce Guard's tables, dialect-neutral through the QueryRunner Table
 * API (column types chosen per database from one layout, see `schema.ts`).
 */
import { Table, TableIndex, type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm'
import { BounceGuardError } from '@bounce-guard/core'
import { tableNames, DEFAULT_TABLE_PREFIX, type BounceGuardSchemaOptions, type BounceGuardTableNames } from './options.js'
import {
  ROLLUP_MARKS_SPEC,
  ROLLUP_TABLE_SPEC,
  SHAPING_SLOTS_TABLE_SPEC,
  SHAPING_TABLE_SPEC,
  TABLE_SPECS,
  columnForDialect,
  type SqlDialect,
  type TableSpec,
} from './schema.js'

/** A migration class as TypeORM's `migrations` option takes it. */
export type BounceGuardMigrationClass = new () => MigrationInterface

/** The 13-digit timestamp of the first schema version. */
export const INITIAL_SCHEMA_TIMESTAMP = 1764403200000

/** The 13-digit timestamp of the migration that adds the shared traffic-shaping table. */
export const SHAPING_SCHEMA_TIMESTAMP = 1796515200000

/** The 13-digit timestamp of the migration that adds the event rollup tables. */
export const ROLLUP_SCHEMA_TIMESTAMP = 1798761600000

/** The 13-digit timestamp of the migration that adds the shared cap slots table. */
export const SHAPING_SLOTS_SCHEMA_TIMESTAMP = 1801440000000

/** Map a TypeORM driver type to the SQL family the store speaks, or `undefined` when unsupported. */
export function dialectOf(type: string): SqlDialect | undefined {
  if (type === 'better-sqlite3' || type === 'sqlite' || type === 'capacitor' || type === 'expo') return 'sqlite'
  if (type === 'postgres' || type === 'aurora-postgres') return 'postgres'
  if (type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql') return 'mysql'
  return undefined
}

function requireDialect(qr: QueryRunner): SqlDialect {
  const type = String(qr.dataSource.options.type)
  const dialect = dialectOf(type)
  if (!dialect) {
    throw new BounceGuardError(
      'EINVALID_OPTION',
      `@bounce-guard/typeorm (${type}): unsupported database type; use better-sqlite3, postgres, mysql or mariadb`,
    )
  }
  return dialect
}

/** The migration name for a prefix: the default prefix keeps a plain name. */
function migrationName(prefix: string, base: string, timestamp: number): string {
  const tag = prefix === DEFAULT_TABLE_PREFIX ? '' : `_${prefix}`
  return `${base}${tag}${timestamp}`
}

/**
 * Bounce Guard's migrations for the `migrations` option of your `DataSource`, in order. Each has
 * a name ending in a 13-digit timestamp (TypeORM's rule); a non-default prefix is part of the name,
 * so two prefixes can live in one database.
 */
export function bounceGuardMigrations(options: BounceGuardSchemaOptions = {}): BounceGuardMigrationClass[] {
  const names = tableNames(options)
  const name = migrationName(names.prefix, 'BounceGuardInit', INITIAL_SCHEMA_TIMESTAMP)

  class BounceGuardInit implements MigrationInterface {
    /** Stored in TypeORM's migrations table. */
    readonly name = name

    async up(qr: QueryRunner): Promise<void> {
      const dialect = requireDialect(qr)
      for (const spec of TABLE_SPECS) await createTableWithIndices(qr, dialect, names.prefix, names[spec.table], spec)
    }

    async down(qr: QueryRunner): Promise<void> {
      for (const spec of [...TABLE_SPECS].reverse()) await qr.dropTable(names[spec.table], true)
    }
  }
  Object.defineProperty(BounceGuardInit, 'name', { value: name })

  /** Adds `<prefix>shaping`, the shared traffic-shaping actions. */
  const BounceGuardShaping = oneTableMigration(names, 'BounceGuardShaping', SHAPING_SCHEMA_TIMESTAMP, SHAPING_TABLE_SPEC)

  const rollupName = migrationName(names.prefix, 'BounceGuardRollup', ROLLUP_SCHEMA_TIMESTAMP)
  /**
   * Adds `<prefix>event_rollup` (hourly per-provider counts) and `<prefix>rollup_marks` (how far
   * the rollup has read the events). A database where the former `ensureRollupTable()` already
   * created `<prefix>event_rollup` keeps it: its rows for hours that still have events are deleted
   * (the first `rollupEvents` recounts them from the events, starting at mark 0); older rows, whose
   * events were pruned, are kept as history.
   */
  class BounceGuardRollup implements MigrationInterface {
    /** Stored in TypeORM's migrations table. */
    readonly name = rollupName

    async up(qr: QueryRunner): Promise<void> {
      const dialect = requireDialect(qr)
      const rollup = names[ROLLUP_TABLE_SPEC.table]
      if (await qr.hasTable(rollup)) {
        const q = (n: string) => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`)
        const first = (await qr.query(
          `SELECT MIN(${q('at')}) AS m FROM ${q(names.events)} WHERE ${q('recipient')} NOT LIKE '@%'`,
        )) as Array<{ m: unknown }>
        const min = first[0]?.m
        if (min !== null && min !== undefined) {
          const hour = Math.floor(Number(min) / 3_600_000) * 3_600_000
          await qr.query(
            `DELETE FROM ${q(rollup)} WHERE ${q('bucket_seconds')} = 3600 AND ${q('bucket')} >= ${dialect === 'postgres' ? '$1' : '?'}`,
            [hour],
          )
        }
      } else {
        await createSpecTable(qr, dialect, names.prefix, rollup, ROLLUP_TABLE_SPEC)
      }
      await createSpecTable(qr, dialect, names.prefix, names[ROLLUP_MARKS_SPEC.table], ROLLUP_MARKS_SPEC)
    }

    async down(qr: QueryRunner): Promise<void> {
      await qr.dropTable(names.rollupMarks, true)
      await qr.dropTable(names.eventRollup, true)
    }
  }
  Object.defineProperty(BounceGuardRollup, 'name', { value: rollupName })

  /** Adds `<prefix>shaping_slots`, the slots of shared caps (`takeShapingSlots`). */
  const BounceGuardShapingSlots = oneTableMigration(
    names,
    'BounceGuardShapingSlots',
    SHAPING_SLOTS_SCHEMA_TIMESTAMP,
    SHAPING_SLOTS_TABLE_SPEC,
  )
  return [BounceGuardInit, BounceGuardShaping, BounceGuardRollup, BounceGuardShapingSlots]
}

/**
 * A migration that adds the one table of `spec` (kept when it exists) and drops it on `down`; its
 * class and migration name is `base` with the prefix tag and `timestamp`.
 */
function oneTableMigration(names: BounceGuardTableNames, base: string, timestamp: number, spec: TableSpec): BounceGuardMigrationClass {
  const name = migrationName(names.prefix, base, timestamp)
  const table = names[spec.table]
  const migration = class implements MigrationInterface {
    /** Stored in TypeORM's migrations table. */
    readonly name = name

    async up(qr: QueryRunner): Promise<void> {
      await createSpecTable(qr, requireDialect(qr), names.prefix, table, spec)
    }

    async down(qr: QueryRunner): Promise<void> {
      await qr.dropTable(table, true)
    }
  }
  Object.defineProperty(migration, 'name', { value: name })
  return migration
}

/** Create one table of the layout with its indices (no-op when it exists, e.g. left by a tool that dropped only the other tables). */
async function createSpecTable(qr: QueryRunner, dialect: SqlDialect, prefix: string, table: string, spec: TableSpec): Promise<void> {
  if (await qr.hasTable(table)) return
  await createTableWithIndices(qr, dialect, prefix, table, spec)
}

/** Create one table of the layout (`CREATE TABLE IF NOT EXISTS`), then its indices. */
async function createTableWithIndices(qr: QueryRunner, dialect: SqlDialect, prefix: string, table: string, spec: TableSpec): Promise<void> {
  await qr.createTable(
    new Table({
      name: table,
      columns: spec.columns.map((c) => columnForDialect(c, dialect)) as never,
      ...(dialect === 'mysql' ? { engine: 'InnoDB' } : {}),
    }),
    true,
  )
  for (const index of spec.indices) {
    await qr.createIndex(
      table,
      new TableIndex({ name: `${prefix}${index.name}`, columnNames: index.columns, isUnique: index.unique === true }),
    )
  }
}

/** Options of `runMigrations`. */
export interface RunMigrationsOptions extends BounceGuardSchemaOptions {
  /** How TypeORM wraps the migrations in transactions. @default "each" */
  transaction?: 'all' | 'each' | 'none'
}

/**
 * Run the pending migrations of an initialised `DataSource` whose `migrations` option includes
 * `bounceGuardMigrations()` (for the same prefix). Returns the names of the migrations that ran.
 * Throws `EINVALID_OPTION` when Bounce Guard's migrations are not registered, `ESTORE` when a
 * migration fails.
 */
export async function runMigrations(dataSource: DataSource, options: RunMigrationsOptions = {}): Promise<string[]> {
  const names = tableNames(options)
  const expected = migrationName(names.prefix, 'BounceGuardInit', INITIAL_SCHEMA_TIMESTAMP)
  const type = String(dataSource.options.type)
  if (!dataSource.isInitialized) {
    throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/typeorm (${type}): runMigrations() needs an initialised DataSource`)
  }
  if (!dataSource.migrations.some((m) => (m.name ?? m.constructor.name) === expected)) {
    throw new BounceGuardError(
      'EINVALID_OPTION',
      `@bounce-guard/typeorm (${type}): add bounceGuardMigrations(${names.prefix === DEFAULT_TABLE_PREFIX ? '' : `{ tablePrefix: '${names.prefix}' }`}) to the DataSource's migrations`,
    )
  }
  try {
    const ran = await dataSource.runMigrations({ transaction: options.transaction ?? 'each' })
    return ran.map((m) => m.name)
  } catch (err) {
    throw new BounceGuardError('ESTORE', `@bounce-guard/typeorm (${type}): migration failed: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    })
  }
}
