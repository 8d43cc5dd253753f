/**
 * `@bounce-guard/typeorm`: the Bounce Guard store on TypeORM, for SQLite (better-sqlite3),
 * PostgreSQL (pg) and MySQL/MariaDB (mysql2).
 */
export { createTypeOrmBounceStore, type TypeOrmBounceStore, type TypeOrmBounceStoreOptions } from './store.js'
export {
  bounceGuardEntities,
  TABLE_SPECS,
  SHAPING_TABLE_SPEC,
  ROLLUP_TABLE_SPEC,
  ROLLUP_MARKS_SPEC,
  SHAPING_SLOTS_TABLE_SPEC,
  type SqlDialect,
} from './schema.js'
export {
  bounceGuardMigrations,
  runMigrations,
  dialectOf,
  INITIAL_SCHEMA_TIMESTAMP,
  SHAPING_SCHEMA_TIMESTAMP,
  ROLLUP_SCHEMA_TIMESTAMP,
  SHAPING_SLOTS_SCHEMA_TIMESTAMP,
  type BounceGuardMigrationClass,
  type RunMigrationsOptions,
} from './migrations.js'
export {
  createBounceGuardDataSource,
  parseDatabaseUrl,
  type BounceGuardDataSourceOptions,
  type ParsedDatabaseUrl,
} from './data-source.js'
export { tableNames, DEFAULT_TABLE_PREFIX, type BounceGuardSchemaOptions, type BounceGuardTableNames } from './options.js'
export {
  eventTimeSeries,
  refusalEvidence,
  pruneEvents,
  rollupEvents,
  maintainEvents,
  DEFAULT_EVENT_RETENTION_MS,
  eventCountsAfter,
  type EventCountsAfterOptions,
  type EventCountsAfterResult,
  type RollupEventsOptions,
  type RollupEventsResult,
  type MaintainEventsOptions,
  type MaintainEventsResult,
  type EventTimeSeriesOptions,
  type EventTimeSeriesRow,
  type RefusalEvidenceOptions,
  type RefusalEvidenceRow,
  type PruneEventsOptions,
  type TimeSeriesGroupBy,
} from './timeseries.js'
