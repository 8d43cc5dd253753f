// Shared by the CLI tests: spawn the real CLI, temp folders, and a throw-away PostgreSQL database.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { DataSource } from 'typeorm'

const repo = fileURLToPath(new URL('../../..', import.meta.url))
const bin = join(repo, 'packages/cli/src/bin.ts')
// An absolute loader URL, so the CLI also runs from a folder outside the repository.
const tsx = pathToFileURL(createRequire(join(repo, 'package.json')).resolve('tsx')).href

/** The PostgreSQL server the machines and CI provide. */
export const PG_URL = process.env.BG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Run `bounce-guard <args>` as a real process, from `cwd` (default: the repository). */
export function runCli(
  args: string[],
  options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> & { status: number } {
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', tsx, bin, ...args], {
    cwd: options.cwd ?? repo,
    encoding: 'utf8',
    input: options.input,
    env: { ...process.env, ...options.env, BOUNCE_GUARD_DB: undefined, NODE_OPTIONS: '' },
    timeout: 60_000,
  })
  if (r.error) throw r.error
  return r as SpawnSyncReturns<string> & { status: number }
}

/** A fresh temp folder. */
export function tmpDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/**
 * A fresh database on the PostgreSQL server; call `drop()` in `afterAll`. Unreachable server:
 * throws when CI is set (the suite must fail loudly), else `{ ok: false, why }` so the test skips.
 */
export async function pgAvailable(): Promise<{ ok: boolean; url?: string; why?: string; drop: () => Promise<void> }> {
  const admin = new DataSource({ type: 'postgres', url: PG_URL, extra: { connectionTimeoutMillis: 3000 } })
  try {
    await admin.initialize()
  } catch (err) {
    const why = `PostgreSQL at ${PG_URL} is unreachable (${(err as Error).message})`
    if (process.env.CI) throw new Error(`${why}; CI is set, so this is a failure`)
    console.warn(`skipping PostgreSQL CLI tests: ${why}`)
    return { ok: false, why, drop: async () => {} }
  }
  const name = `bg_cli_${process.pid}_${Math.floor(Math.random() * 1e6)}`
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.destroy()
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  const drop = async () => {
    const c = new DataSource({ type: 'postgres', url: PG_URL })
    await c.initialize()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.destroy())
  }
  return { ok: true, url: u.toString(), drop }
}

/** The MariaDB/MySQL server the machines and CI provide. */
export const MYSQL_URL = process.env.BG_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** Like `pgAvailable`, for MySQL/MariaDB. */
export async function mysqlAvailable(): Promise<{ ok: boolean; url?: string; why?: string; drop: () => Promise<void> }> {
  const admin = new DataSource({ type: 'mysql', url: MYSQL_URL, connectTimeout: 3000 })
  try {
    await admin.initialize()
  } catch (err) {
    const why = `MySQL/MariaDB at ${MYSQL_URL} is unreachable (${(err as Error).message})`
    if (process.env.CI) throw new Error(`${why}; CI is set, so this is a failure`)
    console.warn(`skipping MySQL CLI tests: ${why}`)
    return { ok: false, why, drop: async () => {} }
  }
  const name = `bg_cli_${process.pid}_${Math.floor(Math.random() * 1e6)}`
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.destroy()
  const u = new URL(MYSQL_URL)
  u.pathname = `/${name}`
  const drop = async () => {
    const c = new DataSource({ type: 'mysql', url: MYSQL_URL })
    await c.initialize()
    await c.query(`DROP DATABASE IF EXISTS ${name}`).finally(() => c.destroy())
  }
  return { ok: true, url: u.toString(), drop }
}
