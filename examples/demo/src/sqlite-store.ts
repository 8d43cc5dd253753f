/**
 * The demo's store: Bounce Guard's TypeORM store on an embedded SQLite file (better-sqlite3), with
 * its migrations run on open. This is all an application needs on one machine.
 */
import type { BounceStore } from '@bounce-guard/core'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations } from '@bounce-guard/typeorm'

/** Open (create and migrate) a SQLite file store. */
export async function openSqliteStore(path: string): Promise<{ store: BounceStore; close(): Promise<void> }> {
  const dataSource = createBounceGuardDataSource(`sqlite:${path}`)
  if (!dataSource.isInitialized) await dataSource.initialize()
  await runMigrations(dataSource)
  const store = createTypeOrmBounceStore(dataSource)
  return {
    store,
    async close() {
      await store.close().catch(() => {})
      if (dataSource.isInitialized) await dataSource.destroy()
    },
  }
}
