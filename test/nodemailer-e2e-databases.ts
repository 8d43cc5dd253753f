/**
 * The databases the Nodemailer end-to-end tests run on: SQLite in a temporary file (always) and
 * PostgreSQL at BG_TEST_POSTGRES_URL (in CI it must be reachable; outside CI its run is skipped
 * with a message when the server does not answer). Tables carry a per-process prefix.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { DataSource } from 'typeorm'
import type { DataSourceOptions } from 'typeorm'
import { bounceGuardMigrations, runMigrations, tableNames } from '@bounce-guard/typeorm'

export const PG_URL = process.env.BG_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface Target {
  name: 'SQLite' | 'PostgreSQL'
  options: DataSourceOptions
  /** False when the database does not answer (PostgreSQL outside CI only). */
  available: boolean
}

/**
 * Both targets; the SQLite one in a file (not :memory:, so the database survives a destroy and a
 * new initialize) in a temporary directory removed after the test file. `label` names the test
 * file in messages.
 */
export async function e2eTargets(label: string): Promise<Target[]> {
  const dir = mkdtempSync(join(tmpdir(), `bg-${label}-`))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const pg: DataSourceOptions = { type: 'postgres', url: PG_URL, poolSize: 4, extra: { connectionTimeoutMillis: 3000 } }
  return [
    { name: 'SQLite', options: { type: 'better-sqlite3', database: join(dir, 'e2e.sqlite'), enableWAL: true }, available: true },
    { name: 'PostgreSQL', options: pg, available: await reachable(pg, label) },
  ]
}

async function reachable(options: DataSourceOptions, label: string): Promise<boolean> {
  const ds = new DataSource(options)
  try {
    await ds.initialize()
    await ds.destroy()
    return true
  } catch (err) {
    const why = `PostgreSQL at ${PG_URL} is unreachable: ${(err as Error).message}`
    if (process.env.CI) throw new Error(`CI is set, so the ${label} test must run on PostgreSQL, but ${why}`)
    console.warn(`[${label}] SKIPPING the PostgreSQL run: ${why}`)
    return false
  }
}

/** A DataSource on `target` with every Bounce Guard migration run under `prefix`. */
export async function migratedDataSource(target: Target, prefix: string): Promise<DataSource> {
  const ds = new DataSource({
    ...target.options,
    migrations: bounceGuardMigrations({ tablePrefix: prefix }),
    migrationsTableName: `${prefix}migrations`,
  } as DataSourceOptions)
  await ds.initialize()
  await runMigrations(ds, { tablePrefix: prefix })
  return ds
}

/** Drop every table of `prefix`, whatever migrations exist now. */
export async function dropPrefixTables(ds: DataSource, target: Target, prefix: string): Promise<void> {
  const t = tableNames({ tablePrefix: prefix })
  const names = Object.entries(t).flatMap(([k, v]) => (k !== 'prefix' && typeof v === 'string' ? [v] : []))
  if (target.name === 'PostgreSQL') {
    const rows = (await ds.query('SELECT tablename FROM pg_tables WHERE starts_with(tablename, $1)', [prefix])) as Array<{
      tablename: string
    }>
    names.push(...rows.map((r) => r.tablename))
  }
  for (const name of new Set([...names, `${prefix}migrations`])) await ds.query(`DROP TABLE IF EXISTS "${name}"`)
}
