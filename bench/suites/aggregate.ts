/**
 * `pnpm bench aggregate`: the per-provider 24-hour rate query on a large PostgreSQL events table
 * (target: under 1 s). Loads BG_BENCH_AGG_ROWS events (default 10,000,000) spread over 48 hours and
 * 50,000 recipient domains into tables with a dedicated prefix (dropped at the end), with
 * server-side `INSERT ... SELECT FROM generate_series` statements of 1,000,000 rows on two
 * connections, the events table's secondary indexes dropped during the load and built after it.
 * Events are appended in time order, as a live store records them. Then it times:
 * - the events-only query, `eventTimeSeries(..., useRollup: false)` (what the product did before);
 * - the first `rollupEvents` (every event), then the product query, `eventTimeSeries(groupBy:
 *   'provider')` over the last 24 hours ending 20 minutes into an hour (whole hours from the
 *   rollup, the partial hours at both ends and the events past the mark from the events table);
 * - the same after 100,000 more events (a fifth of them late, for hours already rolled up) that
 *   the rollup has not seen yet, then the incremental `rollupEvents` of them;
 * - that the product query's rows equal the events-only rows (exactness);
 * - `store.stats({ groupBy: 'provider' })` over 24 hours (events only) and `maintainEvents`
 *   (retention 47 hours: prunes the oldest hour).
 * Skipped, with a message, when PostgreSQL does not answer (BG_BENCH_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/test). `BG_BENCH_AGG_KEEP=1` keeps the tables for inspection
 * (EXPLAIN ANALYZE) and prints their prefix; drop them afterwards with `BG_BENCH_AGG_DROP=<prefix>`.
 */
import {
  createBounceGuardDataSource,
  createTypeOrmBounceStore,
  eventTimeSeries,
  maintainEvents,
  rollupEvents,
  runMigrations,
  TABLE_SPECS,
  tableNames,
} from '@bounce-guard/typeorm'

const PG_URL = process.env.BG_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DROP_ONLY = process.env.BG_BENCH_AGG_DROP
const KEEP = process.env.BG_BENCH_AGG_KEEP === '1'
const PREFIX = DROP_ONLY && /^bg_agg\d+_$/.test(DROP_ONLY) ? DROP_ONLY : `bg_agg${process.pid}_`
const ROWS = Number(process.env.BG_BENCH_AGG_ROWS ?? 10_000_000)
const CHUNK = 1_000_000
const HOUR = 3_600_000

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timed<T>(runs: number, fn: () => Promise<T>): Promise<{ ms: number[]; last: T }> {
  const ms: number[] = []
  let last!: T
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now()
    last = await fn()
    ms.push(performance.now() - t0)
  }
  return { ms, last }
}

const fmt = (ms: number[]) => `median ${median(ms).toFixed(0)} ms (runs: ${ms.map((x) => x.toFixed(0)).join(', ')} ms)`

export async function run(): Promise<void> {
  const ds = createBounceGuardDataSource(PG_URL, { tablePrefix: PREFIX, poolSize: 2, migrationsTableName: `${PREFIX}migrations` })
  try {
    await ds.initialize()
  } catch (err) {
    console.log(`aggregate: SKIPPED, ${PG_URL} is unreachable (${(err as Error).message})`)
    return
  }
  const t = tableNames({ tablePrefix: PREFIX })
  const drop = async () => {
    // Every table of the prefix (all of `tableNames` but the prefix), then the migrations table.
    const { prefix: _, ...tables } = t
    for (const name of [...Object.values(tables), `${PREFIX}migrations`]) await ds.query(`DROP TABLE IF EXISTS "${name}"`)
  }
  if (DROP_ONLY) {
    await drop().finally(() => ds.destroy())
    console.log(`aggregate: dropped the tables with prefix ${PREFIX}`)
    return
  }
  try {
    await drop()
    await runMigrations(ds, { tablePrefix: PREFIX })
    const now = Date.UTC(2030, 0, 3)
    const span = 48 * HOUR
    const start = now - span
    // r = i % 100: 85 delivered, 3 hard, 3 soft, 3 blocked (sender), 5 deferred (sender rate), 1 complaint.
    // Half the traffic to 8 big mailbox domains, half to 50,000 hosted domains with an MX-derived provider on failures.
    // $3 = first `at`, $4 = ms per event (time order); $5 = `at` override for late events (NULL = in order).
    const sql = `INSERT INTO "${t.events}" (recipient, domain, type, at, source, reason, hard, permanent, scope, provider, rule_id, blocklist, reply)
      SELECT 'u' || i || '@' || dom, dom, typ, COALESCE($5::bigint - (i % ${HOUR}), $3::bigint + floor(i * $4::float8)::bigint), 'smtp',
        CASE WHEN typ = 'delivered' THEN NULL WHEN r < 88 THEN 'userunknown' WHEN r < 91 THEN 'mailboxfull' WHEN r < 94 THEN 'blocked' WHEN r < 99 THEN 'speeding' ELSE NULL END,
        CASE WHEN typ = 'bounced' AND r < 88 THEN TRUE WHEN typ = 'delivered' OR typ = 'complaint' THEN NULL ELSE FALSE END,
        CASE WHEN typ = 'bounced' AND r < 94 AND r <> 89 AND r <> 90 THEN TRUE WHEN typ IN ('bounced', 'deferred') THEN FALSE ELSE NULL END,
        CASE WHEN r >= 85 AND r < 91 THEN 'recipient' WHEN r >= 91 AND r < 99 THEN 'sender' ELSE NULL END,
        CASE WHEN r >= 85 AND r < 99 THEN prov ELSE NULL END,
        CASE WHEN r >= 85 AND r < 99 THEN prov || '.rule' || (r % 7) ELSE NULL END,
        CASE WHEN r >= 91 AND r < 94 THEN 'spamhaus' ELSE NULL END,
        CASE WHEN r >= 85 AND r < 99 THEN '550 5.7.1 sample reply ' || r ELSE NULL END
      FROM (SELECT i, i % 100 AS r,
              (ARRAY['gmail','microsoft','yahoo','apple','gmx','comcast','mailru','qq'])[1 + (i / 2) % 8] AS prov,
              CASE WHEN i % 2 = 0 THEN (ARRAY['gmail.com','outlook.com','yahoo.com','icloud.com','gmx.net','comcast.net','mail.ru','qq.com'])[1 + (i / 2) % 8]
                   ELSE 'd' || (i % 50000) || '.example' END AS dom,
              CASE WHEN i % 100 < 85 THEN 'delivered' WHEN i % 100 < 94 THEN 'bounced' WHEN i % 100 < 99 THEN 'deferred' ELSE 'complaint' END AS typ
            FROM generate_series($1::bigint, $2::bigint) AS i) s`
    const perEvent = span / ROWS
    // Bulk load: secondary indexes off, two connections, then the indexes built once.
    const events = TABLE_SPECS.find((s) => s.table === 'events')!
    for (const ix of events.indices) await ds.query(`DROP INDEX "${PREFIX}${ix.name}"`)
    const t0 = performance.now()
    const chunks: Array<[number, number]> = []
    for (let i = 0; i < ROWS; i += CHUNK) chunks.push([i, Math.min(ROWS, i + CHUNK) - 1])
    const worker = async () => {
      for (let c = chunks.shift(); c; c = chunks.shift()) await ds.query(sql, [c[0], c[1], start, perEvent, null])
    }
    await Promise.all([worker(), worker()])
    const loadMs = performance.now() - t0
    const t1 = performance.now()
    for (const ix of events.indices)
      await ds.query(
        `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX "${PREFIX}${ix.name}" ON "${t.events}" (${ix.columns.map((c) => `"${c}"`).join(', ')})`,
      )
    const indexMs = performance.now() - t1
    await ds.query(`VACUUM ANALYZE "${t.events}"`)
    const size = (await ds.query(`SELECT pg_size_pretty(pg_total_relation_size($1)) AS s`, [t.events])) as Array<{ s: string }>
    console.log(
      `loaded ${ROWS.toLocaleString('en')} events over 48 h and 50,000+ domains: rows ${(loadMs / 1000).toFixed(1)} s (${Math.round(ROWS / (loadMs / 1000)).toLocaleString('en')} rows/s), indexes ${(indexMs / 1000).toFixed(1)} s; table + indexes ${size[0]?.s}`,
    )

    const until = new Date(now - 40 * 60_000) // 20 minutes into an hour: partial hours at both ends
    const since = new Date(until.getTime() - 24 * HOUR)
    const q = { tablePrefix: PREFIX, since, until, bucketSeconds: 3600, groupBy: 'provider' as const }
    const raw = await timed(3, () => eventTimeSeries(ds, { ...q, useRollup: false }))
    console.log(`events only (useRollup: false), 24 h per provider in hourly buckets: ${fmt(raw.ms)}; ${raw.last.length} rows`)

    const r0 = performance.now()
    const first = await rollupEvents(ds, { tablePrefix: PREFIX, settleMs: 0 })
    console.log(`rollupEvents, first run: ${first.events.toLocaleString('en')} events in ${((performance.now() - r0) / 1000).toFixed(1)} s`)
    const product = await timed(5, () => eventTimeSeries(ds, q))
    console.log(`eventTimeSeries (product path, rollup + edges), 24 h per provider: ${fmt(product.ms)}; target < 1000 ms`)

    // 100,000 more events the rollup has not seen: 80,000 in the current hour, 20,000 late ones for an hour rolled up 10 hours ago.
    await ds.query(sql, [ROWS, ROWS + 79_999, now - HOUR, HOUR / 80_000, null])
    await ds.query(sql, [ROWS + 80_000, ROWS + 99_999, start, 0, now - 10 * HOUR])
    await ds.query(`ANALYZE "${t.events}"`)
    const stale = await timed(5, () => eventTimeSeries(ds, q))
    const rawAfter = await eventTimeSeries(ds, { ...q, useRollup: false })
    const same = JSON.stringify(stale.last) === JSON.stringify(rawAfter)
    console.log(
      `... with 100,000 events past the rollup mark (20,000 late): ${fmt(stale.ms)}; rows equal to events only: ${same ? 'yes' : 'NO'}`,
    )
    const r1 = performance.now()
    const inc = await rollupEvents(ds, { tablePrefix: PREFIX, settleMs: 0 })
    console.log(`rollupEvents, incremental: ${inc.events.toLocaleString('en')} events in ${(performance.now() - r1).toFixed(0)} ms`)
    const fresh = await timed(5, () => eventTimeSeries(ds, q))
    const same2 = JSON.stringify(fresh.last) === JSON.stringify(rawAfter)
    console.log(`eventTimeSeries after it: ${fmt(fresh.ms)}; rows equal to events only: ${same2 ? 'yes' : 'NO'}`)

    const store = createTypeOrmBounceStore(ds, { tablePrefix: PREFIX })
    const st = await timed(3, () => store.stats({ since, until, groupBy: 'provider' }))
    console.log(`store.stats({ groupBy: 'provider' }), 24 h (events only): ${fmt(st.ms)}`)

    const p0 = performance.now()
    const m = await maintainEvents(ds, {
      tablePrefix: PREFIX,
      settleMs: 0,
      retentionMs: 47 * HOUR,
      pruneBatchSize: 50_000,
      now: () => new Date(now),
    })
    console.log(
      `maintainEvents (retention 47 h): ${m.rollup.events} events rolled up, ${m.pruned.toLocaleString('en')} pruned in ${((performance.now() - p0) / 1000).toFixed(1)} s`,
    )
  } finally {
    if (KEEP) console.log(`tables kept (BG_BENCH_AGG_KEEP=1), prefix ${PREFIX}; drop them with BG_BENCH_AGG_DROP=${PREFIX}`)
    else await drop().catch(() => {})
    await ds.destroy()
  }
}
