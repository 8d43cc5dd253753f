/**
 * The tests every database runs: the conformance suite (second read path = plain SQL), migrations
 * up/down/up, and the multi-worker checks (separate DataSources = separate connection pools).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DataSource } from 'typeorm'
import type { BounceEvent, EventType, RetryJob } from '@bounce-guard/core'
import { runStoreConformance } from '@bounce-guard/store-conformance'
import { createTypeOrmBounceStore, runMigrations, tableNames, type TypeOrmBounceStore } from '../src/index.js'
import {
  createFixture,
  dropTables,
  openDataSource,
  ph,
  qi,
  serverAvailable,
  uniquePrefix,
  type StoreFixture,
  type TargetName,
} from './db-fixture.js'

const T0 = Date.UTC(2031, 0, 1, 12, 0, 0, 0)

/** Count the tables of a prefix with plain SQL. */
async function countTables(ds: DataSource, prefix: string): Promise<number> {
  const t = tableNames({ tablePrefix: prefix })
  const names = [t.suppressions, t.events, t.recipientState, t.retryJobs, t.shaping, t.eventRollup, t.rollupMarks, t.shapingSlots]
  const list = names.map((_, i) => ph(ds, i + 1)).join(', ')
  const type = ds.options.type
  const sql =
    type === 'better-sqlite3'
      ? `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (${list})`
      : type === 'postgres'
        ? `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN (${list})`
        : `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (${list})`
  const rows = (await ds.query(sql, names)) as Array<{ n: unknown }>
  return Number(rows[0]?.n)
}

export interface DatabaseSuiteOptions {
  /** Run the multi-worker tests. */
  concurrency: boolean
  /** For SQLite: a file path, so several DataSources share one database. */
  sqliteFile?: string
}

/** Register every test for one database. Call with top-level await in the test file. */
export async function defineDatabaseSuite(target: TargetName, options: DatabaseSuiteOptions): Promise<void> {
  const available = await serverAvailable(target)

  describe.skipIf(!available)(`@bounce-guard/typeorm on ${target}`, () => {
    let fx: StoreFixture
    beforeAll(async () => {
      fx = await createFixture(target, 'cf')
    })
    afterAll(async () => {
      await fx?.cleanup()
    })

    runStoreConformance({
      name: `typeorm (${target})`,
      createStore: () => fx.createStore(),
      inspect: (store) => fx.inspect(store),
      capabilities: { concurrentWriters: true, skipLocked: true, recordEvents: true, sharedShaping: true, shapingSlots: true },
    })

    it('migrations run up, down, and up again', async () => {
      const prefix = uniquePrefix('mg')
      const ds = openDataSource(target, prefix, {}, options.sqliteFile)
      await ds.initialize()
      try {
        await dropTables(ds, prefix)
        expect(await countTables(ds, prefix)).toBe(0)
        expect(await runMigrations(ds, { tablePrefix: prefix })).toEqual([
          `BounceGuardInit_${prefix}1764403200000`,
          `BounceGuardShaping_${prefix}1796515200000`,
          `BounceGuardRollup_${prefix}1798761600000`,
          `BounceGuardShapingSlots_${prefix}1801440000000`,
        ])
        expect(await countTables(ds, prefix)).toBe(8)
        expect(await runMigrations(ds, { tablePrefix: prefix })).toEqual([])
        await ds.undoLastMigration() // the shaping slots table only
        expect(await countTables(ds, prefix)).toBe(7)
        await ds.undoLastMigration() // the two rollup tables only
        expect(await countTables(ds, prefix)).toBe(5)
        await ds.undoLastMigration() // the shaping table only
        expect(await countTables(ds, prefix)).toBe(4)
        await ds.undoLastMigration()
        expect(await countTables(ds, prefix)).toBe(0)
        await runMigrations(ds, { tablePrefix: prefix })
        expect(await countTables(ds, prefix)).toBe(8)
        // The tables work after the second `up`.
        const store = createTypeOrmBounceStore(ds, { tablePrefix: prefix })
        await store.suppress({ key: 'm@x.example', scope: 'address', reason: 'userunknown', source: 'manual', at: new Date(T0) })
        expect((await store.findSuppressions(['m@x.example'], new Date(T0))).size).toBe(1)
        // A tool that drops only the first four tables and the migrations table (older scripts)
        // leaves <prefix>shaping and the rollup tables behind: the migrations still run.
        const t = tableNames({ tablePrefix: prefix })
        for (const name of [t.suppressions, t.events, t.recipientState, t.retryJobs, `${prefix}migrations`])
          await ds.query(`DROP TABLE ${qi(ds, name)}`)
        expect(await countTables(ds, prefix)).toBe(4)
        expect(await runMigrations(ds, { tablePrefix: prefix })).toHaveLength(4)
        expect(await countTables(ds, prefix)).toBe(8)
      } finally {
        await dropTables(ds, prefix)
        await ds.destroy()
      }
    })

    describe.skipIf(!options.concurrency)('several workers, each with its own DataSource', () => {
      const prefix = uniquePrefix('cc')
      const workers: Array<{ ds: DataSource; store: TypeOrmBounceStore }> = []
      let admin: DataSource

      beforeAll(async () => {
        admin = openDataSource(target, prefix, {}, options.sqliteFile)
        await admin.initialize()
        await dropTables(admin, prefix)
        await runMigrations(admin, { tablePrefix: prefix })
        for (let w = 0; w < 8; w++) {
          const ds = openDataSource(target, prefix, target === 'sqlite' ? {} : { poolSize: 2 }, options.sqliteFile)
          await ds.initialize()
          // Half the workers use PostgreSQL group commit (ignored elsewhere), so both write paths meet.
          workers.push({ ds, store: createTypeOrmBounceStore(ds, { tablePrefix: prefix, groupCommit: w % 2 === 0 }) })
        }
      })
      afterAll(async () => {
        for (const w of workers) if (w.ds.isInitialized) await w.ds.destroy()
        if (admin?.isInitialized) {
          await dropTables(admin, prefix)
          await admin.destroy()
        }
      })

      it('8 workers x 500 events on 50 shared addresses end with exact counts', async () => {
        const types: EventType[] = ['delivered', 'deferred', 'bounced', 'complaint', 'bounced']
        const expected = new Map<
          string,
          { events: number; deliveries: number; hard: number; soft: number; complaints: number; last: number }
        >()
        const plans = workers.map((_, w) =>
          Array.from({ length: 500 }, (_, i): BounceEvent => {
            const recipient = `user${(i * 7 + w) % 50}@shared.example`
            const type = types[(i + w) % types.length] as EventType
            const hard = type === 'bounced' && (i + w) % 2 === 0
            const atMs = T0 + w * 1000 + i
            const e = expected.get(recipient) ?? { events: 0, deliveries: 0, hard: 0, soft: 0, complaints: 0, last: 0 }
            e.events++
            if (type === 'delivered') e.deliveries++
            if (type === 'complaint') e.complaints++
            if (type === 'bounced' && hard) e.hard++
            if ((type === 'bounced' && !hard) || type === 'deferred') e.soft++
            e.last = Math.max(e.last, atMs)
            expected.set(recipient, e)
            const event: BounceEvent = {
              recipient,
              domain: 'shared.example',
              type,
              at: new Date(atMs),
              source: 'smtp',
              eventId: `w${w}-e${i}`,
            }
            if (type !== 'delivered') {
              event.classification = {
                reason: hard ? 'userunknown' : 'mailboxfull',
                hard,
                permanent: hard,
                scope: 'recipient',
                ruleId: 'test',
              }
            }
            return event
          }),
        )
        // Each worker keeps 4 calls in flight on its own pool.
        await Promise.all(
          workers.map(async ({ store }, w) => {
            const events = plans[w] as BounceEvent[]
            let next = 0
            await Promise.all(
              Array.from({ length: 4 }, async () => {
                while (next < events.length) await store.recordEvent(events[next++] as BounceEvent)
              }),
            )
          }),
        )
        // A replayed event id changes nothing.
        const again = await workers[3]!.store.recordEvent(plans[0]![0]!)
        expect(again.duplicate).toBe(true)

        const t = tableNames({ tablePrefix: prefix })
        const rows = (await admin.query(
          `SELECT recipient, events, deliveries, hard_bounces, soft_bounces, complaints, last_event_at FROM ${qi(admin, t.recipientState)}`,
        )) as Array<Record<string, unknown>>
        expect(rows).toHaveLength(50)
        for (const r of rows) {
          const e = expected.get(String(r.recipient))
          expect(e, String(r.recipient)).toBeDefined()
          expect({
            events: Number(r.events),
            deliveries: Number(r.deliveries),
            hard: Number(r.hard_bounces),
            soft: Number(r.soft_bounces),
            complaints: Number(r.complaints),
            last: Number(r.last_event_at),
          }).toEqual(e)
        }
        const total = (await admin.query(`SELECT COUNT(*) AS n FROM ${qi(admin, t.events)}`)) as Array<{ n: unknown }>
        expect(Number(total[0]?.n)).toBe(4000)
      }, 60_000)

      it('4 workers claiming at once never claim the same job, and together claim all due jobs', async () => {
        const now = new Date(T0 + 10 * 60_000)
        const jobs: RetryJob[] = Array.from({ length: 120 }, (_, i) => ({
          id: `job-${String(i).padStart(3, '0')}`,
          recipients: [`r${i}@x.example`],
          dueAt: new Date(T0 + i * 1000),
          attempts: 1,
          payload: `payload ${i}`,
          firstFailedAt: new Date(T0),
        }))
        const notDue: RetryJob = { ...jobs[0]!, id: 'job-later', dueAt: new Date(now.getTime() + 1) }
        for (const j of [...jobs, notDue]) await workers[0]!.store.scheduleRetry(j)
        const claimed = await Promise.all(
          workers.slice(0, 4).map(async ({ store }) => {
            const mine: string[] = []
            for (;;) {
              const batch = await store.claimDueRetries(now, 7, 60_000)
              if (batch.length === 0) return mine
              mine.push(...batch.map((j) => j.id))
            }
          }),
        )
        const all = claimed.flat()
        expect(new Set(all).size).toBe(all.length)
        expect([...all].sort()).toEqual(jobs.map((j) => j.id))
        expect(claimed.filter((c) => c.length > 0).length).toBeGreaterThan(1)
        const t = tableNames({ tablePrefix: prefix })
        const leased = (await admin.query(`SELECT COUNT(*) AS n FROM ${qi(admin, t.retryJobs)} WHERE lease_until = ${ph(admin, 1)}`, [
          now.getTime() + 60_000,
        ])) as Array<{ n: unknown }>
        expect(Number(leased[0]?.n)).toBe(120)
        for (const j of [...jobs, notDue]) await workers[0]!.store.completeRetry(j.id)
      }, 60_000)

      it('a worker that crashes mid-lease releases its jobs when the lease runs out', async () => {
        const base = T0 + 3_600_000
        for (let i = 0; i < 5; i++) {
          await workers[0]!.store.scheduleRetry({
            id: `crash-${i}`,
            recipients: ['c@x.example'],
            dueAt: new Date(base),
            attempts: 1,
            payload: 'p',
            firstFailedAt: new Date(base),
          })
        }
        const crashed = await workers[1]!.store.claimDueRetries(new Date(base), 10, 30_000)
        expect(crashed.map((j) => j.id).sort()).toEqual(['crash-0', 'crash-1', 'crash-2', 'crash-3', 'crash-4'])
        // The "crashed" worker never completes. Others see nothing while its lease runs...
        expect(await workers[2]!.store.claimDueRetries(new Date(base + 29_999), 10, 30_000)).toEqual([])
        // ...and everything once it has run out.
        const rescued = await workers[2]!.store.claimDueRetries(new Date(base + 30_000), 10, 30_000)
        expect(rescued.map((j) => j.id).sort()).toEqual(['crash-0', 'crash-1', 'crash-2', 'crash-3', 'crash-4'])
        for (const j of rescued) await workers[2]!.store.completeRetry(j.id)
      })
    })
  })
}
