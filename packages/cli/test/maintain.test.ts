// `bounce-guard maintain` and serve's maintenance timer: events are rolled up into the hourly
// counts, raw events older than the retention are deleted, the counts of the pruned hours stay.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { BounceClassification, BounceEvent, BounceStore } from '@bounce-guard/core'
import { eventTimeSeries } from '@bounce-guard/typeorm'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseRetentionDays, startMaintenance } from '../src/lib/maintenance.js'
import { openStore } from '../src/lib/open-store.js'
import { sqlStoreOf } from '../src/lib/sql-store.js'
import { pgAvailable, runCli, tmpDir } from './cli-helpers.js'

const DAY = 86_400_000
const hard: BounceClassification = {
  reason: 'userunknown',
  hard: true,
  permanent: true,
  scope: 'recipient',
  code: 550,
  enhancedStatus: '5.1.1',
  provider: 'gmail',
  ruleId: 'test.user-unknown',
}
const ev = (recipient: string, type: BounceEvent['type'], at: number, classification?: BounceClassification): BounceEvent => ({
  recipient,
  domain: recipient.split('@')[1]!,
  type,
  at: new Date(at),
  source: 'smtp',
  ...(classification ? { classification } : {}),
})

/** 3 events 40 days old, 2 events 10 days old, 1 event 1 hour old. */
async function seed(store: BounceStore, now: number): Promise<{ old: number; total: number; oldAt: number }> {
  const oldAt = now - 40 * DAY
  const events = [
    ev('a@gmail.com', 'delivered', oldAt),
    ev('b@gmail.com', 'delivered', oldAt + 1000),
    ev('c@gmail.com', 'bounced', oldAt + 2000, hard),
    ev('d@gmail.com', 'delivered', now - 10 * DAY),
    ev('e@x.test', 'delivered', now - 10 * DAY),
    ev('f@x.test', 'delivered', now - 3_600_000),
  ]
  for (const e of events) await store.recordEvent(e)
  return { old: 3, total: events.length, oldAt }
}

interface MaintainJson {
  rolledUp: number
  rollupMark: number
  pruned: number
  retentionDays: number | null
  olderThan: string | null
  pendingEventId?: number
}

async function countEvents(ds: DataSource): Promise<number> {
  const rows = (await ds.query('SELECT COUNT(*) AS n FROM bg_events')) as Array<{ n: unknown }>
  return Number(rows[0]?.n)
}

describe('bounce-guard maintain (spawned, SQLite file)', { timeout: 120_000 }, () => {
  let dir: string
  let db: string
  let file: string
  let seeded: { old: number; total: number; oldAt: number }
  beforeAll(async () => {
    dir = tmpDir('bg-cli-maintain-')
    file = join(dir, 'm.sqlite')
    db = `sqlite:${file}`
    const opened = await openStore(db)
    seeded = await seed(opened.store, Date.now())
    await opened.close()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('rolls up every event, prunes those older than the retention, and keeps their hourly counts', async () => {
    const r = runCli(['maintain', '--db', db, '--json'])
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as MaintainJson
    expect(out).toMatchObject({ rolledUp: seeded.total, pruned: seeded.old, retentionDays: 30 })
    expect(out.pendingEventId).toBeUndefined()
    const sqlite = new DataSource({ type: 'better-sqlite3', database: file })
    await sqlite.initialize()
    try {
      expect(await countEvents(sqlite)).toBe(seeded.total - seeded.old)
      // the pruned events still count, through the rollup
      const hour = Math.floor(seeded.oldAt / 3_600_000) * 3_600_000
      const rows = await eventTimeSeries(sqlite, { since: new Date(hour), until: new Date(hour + 3_600_000), groupBy: 'provider' })
      expect(rows.map((x) => [x.key, x.delivered, x.hardBounces])).toEqual([['gmail', 2, 1]])
    } finally {
      await sqlite.destroy()
    }
    const again = JSON.parse(runCli(['maintain', '--db', db, '--json']).stdout) as MaintainJson
    expect(again).toMatchObject({ rolledUp: 0, pruned: 0, rollupMark: out.rollupMark })
  })

  it('takes --retention-days, prints what it did, and refuses a bad value with exit 2', () => {
    const r = runCli(['maintain', '--db', db, '--retention-days', '5'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/rolled up 0 events/)
    expect(r.stdout).toMatch(/pruned 2 events older than \S+ \(retention 5 days\)/)
    const never = JSON.parse(runCli(['maintain', '--db', db, '--retention-days', 'never', '--json']).stdout) as MaintainJson
    expect(never).toMatchObject({ pruned: 0, retentionDays: null, olderThan: null })
    for (const bad of ['0', '-3', '1.5', 'a week']) expect(runCli(['maintain', '--db', db, '--retention-days', bad]).status).toBe(2)
    expect(runCli(['maintain', '--db', db, '--settle', 'soon']).status).toBe(2)
    expect(runCli(['--help']).stdout).toMatch(/maintain/)
  })
})

describe('bounce-guard maintain (spawned, PostgreSQL)', { timeout: 120_000 }, async () => {
  const server = await pgAvailable()
  afterAll(() => server.drop())
  it.skipIf(!server.ok)(
    `waits --settle for writes in flight, then rolls up and prunes${server.ok ? '' : ` (skipped: ${server.why})`}`,
    async () => {
      const url = server.url!
      expect(runCli(['migrate', '--db', url]).status).toBe(0)
      const opened = await openStore(url)
      const seeded = await seed(opened.store, Date.now())
      await opened.close()
      // The first rollup on a server only notes the newest id; --settle 1s waits, then counts up to it.
      const r = runCli(['maintain', '--db', url, '--settle', '1s', '--json'])
      expect(r.status, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ rolledUp: seeded.total, pruned: seeded.old })
      const client = new DataSource({ type: 'postgres', url })
      await client.initialize()
      try {
        expect(await countEvents(client)).toBe(seeded.total - seeded.old)
      } finally {
        await client.destroy()
      }
    },
  )
})

describe("serve's maintenance timer (SQLite)", { timeout: 60_000 }, () => {
  it('rolls up on every tick and prunes at most once per period', async () => {
    const dir = tmpDir('bg-cli-upkeep-')
    const opened = await openStore(`sqlite:${join(dir, 'u.sqlite')}`)
    try {
      const start = Date.now()
      let clock = start
      await seed(opened.store, start)
      const sql = sqlStoreOf(opened.store)!
      const timer = startMaintenance(sql, { retentionMs: parseRetentionDays('30'), rollupEveryMs: 3_600_000, now: () => new Date(clock) })
      const first = await timer.tick()
      expect(first).toMatchObject({ rolledUp: 6, pruned: 3 })
      // an event that falls out of a 30-day retention 11 minutes from now
      await opened.store.recordEvent(ev('late@x.test', 'delivered', start - 30 * DAY + 660_000))
      clock = start + 30 * 60_000
      const second = await timer.tick()
      expect(second).toMatchObject({ rolledUp: 1, pruned: 0 })
      expect(second?.olderThan).toBeUndefined() // pruned 30 minutes ago: not due
      clock = start + 61 * 60_000
      expect(await timer.tick()).toMatchObject({ rolledUp: 0, pruned: 1 })
      await timer.stop()
      expect(await timer.tick()).toBeUndefined()
    } finally {
      await opened.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
