/**
 * `pnpm bench store`: the TypeORM store with 1,000,000 suppressed addresses.
 * - SQLite (file, WAL) and PostgreSQL: `findSuppressions` latency for batches of 10 addresses
 *   (3 suppressed, 7 not), median and p99 over 10,000 lookups. Targets: p99 < 1 ms on SQLite,
 *   < 3 ms on PostgreSQL.
 * - PostgreSQL: `recordEvent` throughput with 8 concurrent writers, with and without group commit
 *   (the default), and the client's CPU time per event. Target: >= 5,000 events/s.
 * Seeding uses multi-row inserts inside transactions (SQLite: prepared 500-row INSERTs; PostgreSQL:
 * 20,000-row `INSERT ... SELECT FROM unnest(...)`), and its duration is printed.
 * Tables use a dedicated prefix and are dropped at the end. PostgreSQL is skipped, with a message,
 * when it does not answer (BG_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BounceEvent } from '@bounce-guard/core'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations, tableNames } from '@bounce-guard/typeorm'

const ROWS = Number(process.env.BG_BENCH_ROWS ?? 1_000_000)
const LOOKUPS = 10_000
const PREFIX = `bg_bench${process.pid}_`
const PG_URL = process.env.BG_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const T0 = Date.UTC(2030, 0, 1)

type DataSourceLike = ReturnType<typeof createBounceGuardDataSource>

const address = (i: number): string => `user${i}@d${i % 5000}.example`

/** Deterministic pseudo-random numbers (xorshift32), so runs are comparable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x1_0000_0000
  }
}

function lookupBatches(count: number): string[][] {
  const r = rng(42)
  return Array.from({ length: count }, () =>
    Array.from({ length: 10 }, (_, j) =>
      j < 3 ? address(Math.floor(r() * ROWS)) : `nobody${Math.floor(r() * 1e9)}@d${Math.floor(r() * 5000)}.example`,
    ),
  )
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const fmt = (ms: number): string => `${ms.toFixed(3)} ms`

async function measureLookups(label: string, ds: DataSourceLike): Promise<void> {
  const store = createTypeOrmBounceStore(ds, { tablePrefix: PREFIX })
  const batches = lookupBatches(LOOKUPS + 500)
  const now = new Date(T0 + 1)
  let hits = 0
  for (const b of batches.slice(LOOKUPS)) await store.findSuppressions(b, now) // warm-up
  const times: number[] = []
  for (const b of batches.slice(0, LOOKUPS)) {
    const t = process.hrtime.bigint()
    const found = await store.findSuppressions(b, now)
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
    hits += found.size
  }
  times.sort((a, b) => a - b)
  console.log(
    `${label}: findSuppressions(10 addresses) over ${LOOKUPS} lookups: median ${fmt(percentile(times, 50))}, p99 ${fmt(percentile(times, 99))}, max ${fmt(times[times.length - 1] as number)} (${hits} hits, expected ${LOOKUPS * 3})`,
  )
}

async function benchSqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-bench-'))
  const ds = createBounceGuardDataSource(`sqlite:${join(dir, 'bench.db')}`, { tablePrefix: PREFIX })
  try {
    await ds.initialize()
    await runMigrations(ds, { tablePrefix: PREFIX })
    const db = (
      ds.driver as unknown as {
        databaseConnection: { prepare(sql: string): { run(...a: unknown[]): unknown }; transaction(fn: () => void): () => void }
      }
    ).databaseConnection
    const t = tableNames({ tablePrefix: PREFIX })
    const started = performance.now()
    const BATCH = 500
    const row = '(?, ?, ?, ?, ?, ?, ?)'
    const insert = db.prepare(
      `INSERT INTO "${t.suppressions}" (target, scope, domain, reason, source, created_at, updated_at) VALUES ${Array.from({ length: BATCH }, () => row).join(', ')}`,
    )
    const PER_TX = 50_000
    for (let start = 0; start < ROWS; start += PER_TX) {
      db.transaction(() => {
        for (let b = start; b < Math.min(ROWS, start + PER_TX); b += BATCH) {
          const params: unknown[] = []
          for (let i = b; i < b + BATCH; i++) params.push(address(i), 'address', `d${i % 5000}.example`, 'userunknown', 'smtp', T0, T0)
          insert.run(...params)
        }
      })()
    }
    console.log(`sqlite: seeded ${ROWS.toLocaleString('en')} suppressions in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    await measureLookups('sqlite', ds)
  } finally {
    if (ds.isInitialized) await ds.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function dropAll(ds: DataSourceLike): Promise<void> {
  const t = tableNames({ tablePrefix: PREFIX })
  for (const name of [t.suppressions, t.events, t.recipientState, t.retryJobs, t.shaping, 'bg_bench_migrations'])
    await ds.query(`DROP TABLE IF EXISTS "${name}"`)
}

async function benchPostgres(): Promise<void> {
  const ds = createBounceGuardDataSource(PG_URL, { tablePrefix: PREFIX, poolSize: 10, migrationsTableName: 'bg_bench_migrations' })
  try {
    await ds.initialize()
  } catch (err) {
    console.log(`postgres: SKIPPED, ${PG_URL} is unreachable (${(err as Error).message})`)
    return
  }
  try {
    await dropAll(ds)
    await runMigrations(ds, { tablePrefix: PREFIX })
    const t = tableNames({ tablePrefix: PREFIX })
    const started = performance.now()
    const BATCH = 20_000
    await ds.transaction(async (em) => {
      for (let start = 0; start < ROWS; start += BATCH) {
        const n = Math.min(BATCH, ROWS - start)
        const targets: string[] = []
        const domains: string[] = []
        for (let i = start; i < start + n; i++) {
          targets.push(address(i))
          domains.push(`d${i % 5000}.example`)
        }
        await em.query(
          `INSERT INTO "${t.suppressions}" (target, scope, domain, reason, source, created_at, updated_at)` +
            ` SELECT x.target, 'address', x.domain, 'userunknown', 'smtp', $3::bigint, $3::bigint FROM unnest($1::varchar[], $2::varchar[]) AS x(target, domain)`,
          [targets, domains, T0],
        )
      }
    })
    // Settle the bulk load before measuring: VACUUM (so autovacuum does not start on the new
    // table during the run) and a CHECKPOINT (so its WAL flush does not land in the timings).
    await ds.query(`VACUUM (ANALYZE) "${t.suppressions}"`)
    await ds.query('CHECKPOINT').catch(() => undefined) // needs superuser or pg_checkpoint; optional
    console.log(`postgres: seeded ${ROWS.toLocaleString('en')} suppressions in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    await measureLookups('postgres', ds)

    // recordEvent throughput: 8 writers, each its own loop, sharing a pool of 10 connections;
    // once with one statement per event (groupCommit: false), once with group commit (the default).
    const WRITERS = 8
    const PER_WRITER = Number(process.env.BG_BENCH_EVENTS_PER_WRITER ?? 2_500)
    const types: BounceEvent['type'][] = ['delivered', 'deferred', 'bounced', 'delivered']
    const event = (run: string, w: number, i: number): BounceEvent => {
      const type = types[i % types.length] as BounceEvent['type']
      const recipient = address((i * 131 + w * 7) % 20_000)
      const e: BounceEvent = {
        recipient,
        domain: recipient.slice(recipient.indexOf('@') + 1),
        type,
        at: new Date(T0 + i),
        source: 'smtp',
        eventId: `${run}${w}-${i}`,
      }
      if (type !== 'delivered')
        e.classification = { reason: 'mailboxfull', hard: false, permanent: type === 'bounced', scope: 'recipient', ruleId: 'bench' }
      return e
    }
    for (const groupCommit of [false, true]) {
      const store = createTypeOrmBounceStore(ds, { tablePrefix: PREFIX, groupCommit })
      const run = groupCommit ? 'g' : 's'
      for (let i = 0; i < 200; i++) await store.recordEvent(event(`${run}warm`, 0, i))
      const t0 = performance.now()
      const cpu0 = process.cpuUsage()
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = 0; i < PER_WRITER; i++) await store.recordEvent(event(run, w, i))
        }),
      )
      const secs = (performance.now() - t0) / 1000
      const cpu = process.cpuUsage(cpu0)
      const total = WRITERS * PER_WRITER
      console.log(
        `postgres: recordEvent with ${WRITERS} concurrent writers (groupCommit: ${groupCommit}${groupCommit ? ', the default' : ''}): ${total} events in ${secs.toFixed(2)} s = ${Math.round(total / secs)} events/s, client CPU ${((cpu.user + cpu.system) / total).toFixed(0)} us/event (target >= 5,000 events/s)`,
      )
    }
  } finally {
    await dropAll(ds).catch(() => undefined)
    await ds.destroy()
  }
}

/** Run the store benchmarks and print their figures. */
export async function run(): Promise<void> {
  // Latency percentiles mean little on a busy machine: print how busy it was.
  const load = (): string =>
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${cpus().length} CPUs`
  console.log(`store bench: ${ROWS.toLocaleString('en')} suppressions; ${load()}`)
  await benchSqlite()
  await benchPostgres()
  console.log(`store bench done; ${load()}`)
}
