// `report --by provider` on a TypeORM store reads its counts through the hourly rollup
// (eventTimeSeries): the same rows as the raw read (store.stats), on a real SQLite file and a real
// PostgreSQL database, including a late event for an hour already rolled up and events not rolled up yet.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { BounceClassification, BounceEvent, BounceStore } from '@bounce-guard/core'
import { pruneEvents, rollupEvents } from '@bounce-guard/typeorm'
import { afterAll, describe, expect, it } from 'vitest'
import { buildReport } from '../src/commands/report.js'
import { openStore } from '../src/lib/open-store.js'
import { sqlStoreOf } from '../src/lib/sql-store.js'
import { pgAvailable, tmpDir } from './cli-helpers.js'

const HOUR = 3_600_000
const cls = (reason: BounceClassification['reason'], extra: Partial<BounceClassification> = {}): BounceClassification => ({
  reason,
  hard: false,
  permanent: false,
  scope: 'recipient',
  ruleId: `test.${reason}`,
  ...extra,
})
const ev = (recipient: string, type: BounceEvent['type'], at: number, classification?: BounceClassification): BounceEvent => ({
  recipient,
  domain: recipient.slice(recipient.lastIndexOf('@') + 1),
  type,
  at: new Date(at),
  source: type === 'suppressed' ? 'call-time' : 'smtp',
  ...(classification ? { classification } : {}),
})

async function compare(store: BounceStore): Promise<void> {
  const sql = sqlStoreOf(store)!
  const h = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR // six whole hours ago
  const since = new Date(h - HOUR / 2) // a partial hour at the start
  const until = new Date(h + 5 * HOUR + 20 * 60_000) // and at the end
  const seeded = [
    ev('a@gmail.com', 'delivered', h + 1000),
    ev('b@gmail.com', 'delivered', h + 2000),
    ev('c@gmail.com', 'delivered', h + HOUR + 5),
    ev('d@gmail.com', 'bounced', h + HOUR + 10, cls('userunknown', { hard: true, permanent: true, provider: 'gmail' })),
    ev('a@gmail.com', 'complaint', h + 2 * HOUR, cls('feedback')),
    ev('e@outlook.com', 'bounced', h + 2 * HOUR + 1, cls('blocked', { permanent: true, scope: 'sender', provider: 'microsoft' })),
    ev('f@yahoo.com', 'deferred', h + 3 * HOUR, cls('mailboxfull', { provider: 'yahoo' })),
    ev('g@x.test', 'delivered', h + 3 * HOUR + 1),
    ev('h@gmail.com', 'suppressed', h + 3 * HOUR + 2), // call-time refusal: not in the report
    ev('i@auto.test', 'auto-reply', h + 3 * HOUR + 3), // no outcome counter: no row
    ev('@x.test', 'deferred', h + 3 * HOUR + 4, cls('hostunknown', { hard: true, scope: 'domain' })), // domain summary
    ev('j@gmail.com', 'delivered', until.getTime() + 1), // after the window
  ]
  for (const e of seeded) await store.recordEvent(e)
  await rollupEvents(sql.dataSource, { tablePrefix: sql.tables.prefix, settleMs: 0 })
  // Not rolled up yet: a late delivery for an hour already rolled up, and one in the last partial hour.
  await store.recordEvent(ev('k@gmail.com', 'delivered', h + HOUR + 20))
  await store.recordEvent(ev('l@x.test', 'delivered', h + 5 * HOUR + 60_000))

  const q = { since, until, groupBy: 'provider' as const }
  const raw = await buildReport(store, { ...q, useRollup: false })
  const viaRollup = await buildReport(store, q)
  expect(viaRollup.rows).toEqual(raw.rows)
  expect(viaRollup.totals).toEqual(raw.totals)
  // The counts themselves, from what was seeded: deliveries to gmail.com count under gmail.
  const row = (key: string) => raw.rows.find((r) => r.key === key)
  expect(raw.rows.map((r) => r.key).sort()).toEqual(['gmail', 'microsoft', 'unknown', 'yahoo'])
  expect(row('gmail')).toMatchObject({ sent: 5, delivered: 4, hardBounces: 1, complaints: 1, senderRejections: 0 })
  expect(row('gmail')!.bounceRate).toBeCloseTo(1 / 5, 9)
  expect(row('microsoft')).toMatchObject({ sent: 1, softBounces: 1, senderRejections: 1 })
  expect(row('yahoo')).toMatchObject({ sent: 0, deferred: 1 })
  expect(row('unknown')).toMatchObject({ sent: 2, delivered: 2 })

  // Once rolled up and pruned, the rollup path still has the whole hours; the raw read lost them.
  await rollupEvents(sql.dataSource, { tablePrefix: sql.tables.prefix, settleMs: 0 })
  await pruneEvents(sql.dataSource, { tablePrefix: sql.tables.prefix, olderThan: new Date(h + 5 * HOUR) })
  const afterPrune = await buildReport(store, q)
  expect(afterPrune.rows).toEqual(viaRollup.rows)
  expect((await buildReport(store, { ...q, useRollup: false })).totals.sent).toBe(1)
}

describe('report --by provider through the rollup equals the raw read (SQLite file)', { timeout: 60_000 }, () => {
  const dir = tmpDir('bg-cli-report-rollup-')
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  it('same rows, late and un-rolled-up events included', async () => {
    const db = await openStore(`sqlite:${join(dir, 'r.sqlite')}`)
    try {
      await compare(db.store)
    } finally {
      await db.close()
    }
  })
})

describe('report --by provider through the rollup equals the raw read (PostgreSQL)', { timeout: 60_000 }, async () => {
  const server = await pgAvailable()
  afterAll(() => server.drop())
  it.skipIf(!server.ok)(`same rows, late and un-rolled-up events included${server.ok ? '' : ` (skipped: ${server.why})`}`, async () => {
    const db = await openStore(server.url!, { migrate: true })
    try {
      await compare(db.store)
    } finally {
      await db.close()
    }
  })
})
