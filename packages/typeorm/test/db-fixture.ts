/**
 * Test fixture shared by the per-database test files: connects to a real database, creates the
 * tables with the real migrations under a prefix unique to this run, gives fresh stores to the
 * conformance suite, and reads rows back with plain SQL through `dataSource.query`.
 */
import 'reflect-metadata'
import { DataSource, type DataSourceOptions } from 'typeorm'
import type { BounceStore, SuppressionScope } from '@bounce-guard/core'
import type { StoreInspector } from '@bounce-guard/store-conformance'
import { bounceGuardMigrations, createTypeOrmBounceStore, runMigrations, tableNames, type TypeOrmBounceStore } from '../src/index.js'

/** A database the tests can run on. */
export type TargetName = 'sqlite' | 'postgres' | 'mariadb'

export const PG_URL = process.env.BG_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MARIADB_URL = process.env.BG_TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** DataSource options for one target, without entities or migrations. */
export function baseOptions(target: TargetName, sqliteFile = ':memory:'): DataSourceOptions {
  if (target === 'sqlite') return { type: 'better-sqlite3', database: sqliteFile, enableWAL: sqliteFile !== ':memory:' }
  if (target === 'postgres') return { type: 'postgres', url: PG_URL, poolSize: 4, extra: { connectionTimeoutMillis: 3000 } }
  return { type: 'mariadb', url: MARIADB_URL, poolSize: 4, connectTimeout: 3000 }
}

/**
 * True when the server answers. In CI (env CI set) an unreachable server throws, so the suite
 * fails loudly; outside CI it prints why the suite is skipped and returns false.
 */
export async function serverAvailable(target: TargetName): Promise<boolean> {
  if (target === 'sqlite') return true
  const ds = new DataSource(baseOptions(target))
  try {
    await ds.initialize()
    await ds.destroy()
    return true
  } catch (err) {
    const why = `${target} at ${target === 'postgres' ? PG_URL : MARIADB_URL} is unreachable: ${(err as Error).message}`
    if (process.env.CI) throw new Error(`CI is set, so the ${target} tests must run, but ${why}`)
    console.warn(`[@bounce-guard/typeorm tests] SKIPPING the ${target} suite: ${why}`)
    return false
  }
}

/** A per-run, per-file unique table prefix. */
export function uniquePrefix(tag: string): string {
  return `bg_t${process.pid}_${tag}_`
}

/** The placeholder for parameter `i` (1-based) in plain SQL. */
export function ph(ds: DataSource, i: number): string {
  return ds.options.type === 'postgres' ? `$${i}` : '?'
}

/** Quote an identifier for plain SQL. */
export function qi(ds: DataSource, name: string): string {
  return ds.options.type === 'postgres' || ds.options.type === 'better-sqlite3' ? `"${name}"` : `\`${name}\``
}

/** Open a DataSource on the target with Bounce Guard's migrations for `prefix`. */
export function openDataSource(
  target: TargetName,
  prefix: string,
  extra: Partial<DataSourceOptions> = {},
  sqliteFile?: string,
): DataSource {
  return new DataSource({
    ...baseOptions(target, sqliteFile),
    migrations: bounceGuardMigrations({ tablePrefix: prefix }),
    migrationsTableName: `${prefix}migrations`,
    ...extra,
  } as DataSourceOptions)
}

/** Every Bounce Guard table of a prefix (all of `tableNames` but the prefix itself, so a new table is never missed). */
function storeTables(prefix: string): string[] {
  const { prefix: _, ...tables } = tableNames({ tablePrefix: prefix })
  return Object.values(tables)
}

/** Drop every table of a prefix, and its migrations table. */
export async function dropTables(ds: DataSource, prefix: string): Promise<void> {
  for (const name of [...storeTables(prefix), `${prefix}migrations`]) {
    await ds.query(`DROP TABLE IF EXISTS ${qi(ds, name)}`)
  }
}

/** Empty the tables (fresh store per conformance test without re-running migrations). */
export async function truncateTables(ds: DataSource, prefix: string): Promise<void> {
  for (const name of storeTables(prefix)) await ds.query(`DELETE FROM ${qi(ds, name)}`)
}

/** The conformance suite's second read path: plain SQL through `dataSource.query`. */
export function sqlInspector(ds: DataSource, prefix: string): StoreInspector {
  const t = tableNames({ tablePrefix: prefix })
  const ms = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
  return {
    async rawSuppression(key: string, scope: SuppressionScope) {
      const rows = (await ds.query(`SELECT * FROM ${qi(ds, t.suppressions)} WHERE target = ${ph(ds, 1)} AND scope = ${ph(ds, 2)}`, [
        key,
        scope,
      ])) as Record<string, unknown>[]
      const r = rows[0]
      if (!r) return undefined
      return {
        key: String(r.target),
        scope: String(r.scope),
        reason: String(r.reason),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
        expiresAt: ms(r.expires_at),
        escalated: r.escalated as boolean | number | null,
      }
    },
    async rawRecipientState(recipient: string) {
      const rows = (await ds.query(`SELECT * FROM ${qi(ds, t.recipientState)} WHERE recipient = ${ph(ds, 1)}`, [recipient])) as Record<
        string,
        unknown
      >[]
      const r = rows[0]
      if (!r) return undefined
      return {
        events: r.events as number,
        deliveries: r.deliveries as number,
        hardBounces: r.hard_bounces as number,
        softBounces: r.soft_bounces as number,
        complaints: r.complaints as number,
        consecutiveSoftFailures: r.consecutive_soft_failures as number,
        firstSoftFailureAt: ms(r.first_soft_failure_at),
        lastReason: (r.last_reason as string | null) ?? null,
      }
    },
    async rawEventCount(recipient: string) {
      const rows = (await ds.query(`SELECT COUNT(*) AS n FROM ${qi(ds, t.events)} WHERE recipient = ${ph(ds, 1)}`, [recipient])) as Array<{
        n: unknown
      }>
      return Number(rows[0]?.n ?? 0)
    },
    async rawRetryJob(id: string) {
      const rows = (await ds.query(`SELECT * FROM ${qi(ds, t.retryJobs)} WHERE id = ${ph(ds, 1)}`, [id])) as Record<string, unknown>[]
      const r = rows[0]
      if (!r) return undefined
      return {
        id: String(r.id),
        recipients: String(r.recipients),
        dueAt: Number(r.due_at),
        attempts: r.attempts as number,
        leasedUntil: ms(r.lease_until),
        lastError: (r.last_error as string | null) ?? null,
      }
    },
    async rawShapingEntries() {
      const rows = (await ds.query(`SELECT * FROM ${qi(ds, t.shaping)}`)) as Record<string, unknown>[]
      return rows.map((r) => ({
        key: String(r.shaping_key),
        ruleId: String(r.rule_id),
        action: String(r.action),
        until: Number(r.until_at),
        perMinute: r.per_minute as number | null,
      }))
    },
    async rawShapingSlots() {
      const rows = (await ds.query(`SELECT * FROM ${qi(ds, t.shapingSlots)}`)) as Record<string, unknown>[]
      return rows.map((r) => ({ key: String(r.shaping_key), windowStart: Number(r.window_start), used: Number(r.used) }))
    },
  }
}

/** A migrated database for one test file: fresh stores for the conformance suite, cleanup at the end. */
export interface StoreFixture {
  ds: DataSource
  prefix: string
  createStore(): Promise<TypeOrmBounceStore>
  inspect(store: BounceStore): StoreInspector
  cleanup(): Promise<void>
}

/** Connect, run the migrations for a unique prefix, and return the fixture. */
export async function createFixture(target: TargetName, tag: string): Promise<StoreFixture> {
  const prefix = uniquePrefix(tag)
  const ds = openDataSource(target, prefix)
  await ds.initialize()
  await dropTables(ds, prefix)
  await runMigrations(ds, { tablePrefix: prefix })
  return {
    ds,
    prefix,
    async createStore() {
      await truncateTables(ds, prefix)
      return createTypeOrmBounceStore(ds, { tablePrefix: prefix })
    },
    inspect: () => sqlInspector(ds, prefix),
    async cleanup() {
      if (!ds.isInitialized) return
      await dropTables(ds, prefix)
      await ds.destroy()
    },
  }
}
