/**
 * `pnpm bench aggregate`: the per-provider 24-hour rate query on a large PostgreSQL events table
 * (target: under 1 s). Seeds as many events as fit in about 60 s (BG_BENCH_AGG_SECONDS), at most
 * BG_BENCH_AGG_ROWS (default 10,000,000), spread over 48 hours and 50,000 recipient domains, with
 * server-side multi-row `INSERT ... SELECT FROM generate_series` statements of 500,000 rows each,
 * then times:
 * - `eventTimeSeries(groupBy: 'provider', bucketSeconds: 3600)` over the last 24 hours;
 * - `store.stats({ groupBy: 'provider' })` over the last 24 hours;
 * - `rollupEvents` of the 48 hours (hourly, per provider), then the same 24-hour query with
 *   `useRollup: true` (whole hours from the rollup table, the partial hour from events);
 * - `pruneEvents` of the oldest hour (retention), with the rows it deleted.
 * Tables use a dedicated prefix and are dropped at the end. Skipped, with a message, when
 * PostgreSQL does not answer (BG_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import {
  createBounceGuardDataSource,
  createTypeOrmBounceStore,
  eventTimeSeries,
  pruneEvents,
  rollupEvents,
  runMigrations,
  tableNames,
} from '@bounce-guard/typeorm'

const PG_URL = process.env.BG_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const PREFIX = `bg_agg${process.pid}_`
const MAX_ROWS = Number(process.env.BG_BENCH_AGG_ROWS ?? 10_000_000)
const SEED_SECONDS = Number(process.env.BG_BENCH_AGG_SECONDS ?? 60)
const CHUNK = 500_000
const HOUR = 3_600_000

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

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
    for (const name of [t.suppressions, t.events, t.recipientState, t.retryJobs, t.shaping, `${PREFIX}migrations`, `${PREFIX}event_rollup`])
      await ds.query(`DROP TABLE IF EXISTS "${name}"`)
  }
  try {
    await drop()
    await runMigrations(ds, { tablePrefix: PREFIX })
    const now = Date.UTC(2030, 0, 3)
    const span = 48 * HOUR
    // r = i % 100: 85 delivered, 3 hard, 3 soft, 3 blocked (sender), 5 deferred (sender rate), 1 complaint.
    // Half the traffic to 8 big mailbox domains, half to 50,000 hosted domains with an MX-derived provider on failures.
    const sql = `INSERT INTO "${t.events}" (recipient, domain, type, at, source, reason, hard, permanent, scope, provider, rule_id, blocklist, reply)
      SELECT 'u' || i || '@' || dom, dom, typ, $3::bigint - ((i * 7919) % ${span}), 'smtp',
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
    const started = performance.now()
    let rows = 0
    while (rows < MAX_ROWS && performance.now() - started < SEED_SECONDS * 1000) {
      const n = Math.min(CHUNK, MAX_ROWS - rows)
      await ds.query(sql, [rows, rows + n - 1, now])
      rows += n
    }
    const seedMs = performance.now() - started
    await ds.query(`ANALYZE "${t.events}"`)
    const size = (await ds.query(`SELECT pg_size_pretty(pg_total_relation_size($1)) AS s`, [t.events])) as Array<{ s: string }>
    console.log(
      `seeded ${rows.toLocaleString('en')} events over 48 h and 50,000+ domains in ${(seedMs / 1000).toFixed(1)} s (${Math.round(rows / (seedMs / 1000)).toLocaleString('en')} rows/s; table + indexes ${size[0]?.s})`,
    )

    const since = new Date(now - 24 * HOUR)
    const until = new Date(now)
    const times: number[] = []
    let buckets = 0
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now()
      const r = await eventTimeSeries(ds, { tablePrefix: PREFIX, since, until, bucketSeconds: 3600, groupBy: 'provider' })
      times.push(performance.now() - t0)
      buckets = r.length
    }
    console.log(
      `eventTimeSeries per provider, 24 h in hourly buckets: median ${median(times).toFixed(0)} ms (runs: ${times.map((x) => x.toFixed(0)).join(', ')} ms; ${buckets} rows; target < 1000 ms)`,
    )

    const store = createTypeOrmBounceStore(ds, { tablePrefix: PREFIX })
    const st: number[] = []
    let gmail = ''
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now()
      const r = await store.stats({ since, until, groupBy: 'provider' })
      st.push(performance.now() - t0)
      const g = r.find((x) => x.key === 'gmail')
      gmail = g
        ? `gmail: ${g.hardBounces.toLocaleString('en')} hard of ${(g.delivered + g.hardBounces + g.softBounces).toLocaleString('en')}`
        : ''
    }
    console.log(
      `store.stats({ groupBy: 'provider' }), 24 h: median ${median(st).toFixed(0)} ms (runs: ${st.map((x) => x.toFixed(0)).join(', ')} ms; ${gmail})`,
    )

    const r0 = performance.now()
    const rolled = await rollupEvents(ds, { tablePrefix: PREFIX, since: new Date(now - 48 * HOUR), until: new Date(now) })
    console.log(
      `rollupEvents, 48 h hourly per provider: ${rolled} rollup rows in ${(performance.now() - r0).toFixed(0)} ms (run it every few minutes over a trailing window)`,
    )
    const ru: number[] = []
    const mid = new Date(now - 20 * 60_000) // 40 minutes of the current hour come from raw events
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now()
      await eventTimeSeries(ds, {
        tablePrefix: PREFIX,
        since: new Date(mid.getTime() - 24 * HOUR),
        until: mid,
        bucketSeconds: 3600,
        groupBy: 'provider',
        useRollup: true,
      })
      ru.push(performance.now() - t0)
    }
    console.log(
      `eventTimeSeries per provider, 24 h, useRollup: median ${median(ru).toFixed(1)} ms (runs: ${ru.map((x) => x.toFixed(1)).join(', ')} ms; target < 1000 ms)`,
    )

    const p0 = performance.now()
    const deleted = await pruneEvents(ds, { tablePrefix: PREFIX, olderThan: new Date(now - 47 * HOUR), batchSize: 50_000 })
    console.log(`pruneEvents (oldest hour): ${deleted.toLocaleString('en')} rows deleted in ${(performance.now() - p0).toFixed(0)} ms`)
  } finally {
    await drop().catch(() => {})
    await ds.destroy()
  }
}
