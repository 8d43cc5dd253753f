/**
 * The TypeORM store's SQL side: its `DataSource` and table prefix, for the queries and jobs of
 * `@bounce-guard/typeorm` that work on the tables directly (time series, rollup, retention).
 */
import type { BounceStore } from '@bounce-guard/core'
import type { DataSource } from 'typeorm'

/** A store with a TypeORM `DataSource` behind it. */
export interface SqlStore {
  dataSource: DataSource
  tables: { prefix: string }
}

/** The store's `DataSource` and prefix, or `undefined` when it is not a TypeORM store. */
export function sqlStoreOf(store: BounceStore | unknown): SqlStore | undefined {
  const s = store as Partial<SqlStore> | undefined
  return typeof s?.dataSource === 'object' && s.dataSource !== null && typeof s.tables?.prefix === 'string'
    ? { dataSource: s.dataSource, tables: { prefix: s.tables.prefix } }
    : undefined
}
