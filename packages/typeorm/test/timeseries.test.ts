// eventTimeSeries / refusalEvidence / pruneEvents on SQLite, PostgreSQL and MariaDB. The server
// suites are skipped with a message outside CI when the server does not answer, and fail in CI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BounceClassification, BounceEvent, EventType } from '@bounce-guard/core'
import { BounceGuardError } from '@bounce-guard/core'
import {
  createTypeOrmBounceStore,
  eventTimeSeries,
  maintainEvents,
  pruneEvents,
  refusalEvidence,
  rollupEvents,
  runMigrations,
} from '../src/index.js'
import { createFixture, serverAvailable, type StoreFixture, type TargetName } from './db-fixture.js'

const HOUR = 3_600_000
const T0 = Date.UTC(2030, 2, 1, 0, 0, 0)

const HARD: BounceClassification = {
  reason: 'userunknown',
  hard: true,
  permanent: true,
  scope: 'recipient',
  ruleId: 'gmail.user-unknown',
  provider: 'gmail',
}
const FULL: BounceClassification = {
  reason: 'mailboxfull',
  hard: false,
  permanent: false,
  scope: 'recipient',
  ruleId: 'gmail.over-quota',
  provider: 'gmail',
}
const SPAMHAUS: BounceClassification = {
  reason: 'blocked',
  hard: false,
  permanent: true,
  scope: 'sender',
  ruleId: 'blocklist.spamhaus',
  provider: 'microsoft',
  blocklist: 'spamhaus',
}
const S3150: BounceClassification = {
  reason: 'blocked',
  hard: false,
  permanent: true,
  scope: 'sender',
  ruleId: 'microsoft.banned-ip',
  provider: 'microsoft',
  blocklist: 'microsoft',
}
const TSS04: BounceClassification = {
  reason: 'badreputation',
  hard: false,
  permanent: false,
  scope: 'sender',
  ruleId: 'yahoo.deferred-complaints',
  provider: 'yahoo',
}

/** A deterministic mix over 6 hours, recorded through the store. */
function makeEvents(): BounceEvent[] {
  const out: BounceEvent[] = []
  const mk = (i: number, type: EventType, domain: string, cls?: BounceClassification, reply?: string): BounceEvent => {
    const e: BounceEvent = {
      recipient: `u${i}@${domain}`,
      domain,
      type,
      at: new Date(T0 + ((i * 36_007) % (6 * HOUR))),
      source: 'smtp',
      eventId: `e${i}`,
    }
    if (cls) e.classification = cls
    if (reply) e.reply = reply
    if (i % 5 === 0) e.tag = 'spring'
    return e
  }
  for (let i = 0; i < 600; i++) {
    const r = i % 20
    if (r < 10) out.push(mk(i, 'delivered', i % 2 ? 'gmail.com' : 'outlook.com'))
    else if (r === 10) out.push(mk(i, 'bounced', 'gmail.com', HARD, '550 5.1.1 no such user'))
    else if (r === 11) out.push(mk(i, 'bounced', 'gmail.com', FULL, '552 5.2.2 over quota'))
    else if (r === 12 || r === 13) out.push(mk(i, 'bounced', 'outlook.com', SPAMHAUS, '550 5.7.1 blocked using Spamhaus'))
    else if (r === 14) out.push(mk(i, 'bounced', 'contoso.example', S3150, '550 5.7.1 ... block list (S3150)'))
    else if (r === 15) out.push(mk(i, 'deferred', 'yahoo.com', TSS04, '421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred'))
    else if (r === 16) out.push(mk(i, 'complaint', 'yahoo.com'))
    else if (r === 17) out.push(mk(i, 'suppressed', 'gmail.com'))
    else out.push(mk(i, 'delivered', 'yahoo.com'))
  }
  return out
}

function expected(events: BounceEvent[], bucketMs: number, keyOf: (e: BounceEvent) => string, since: number, until: number) {
  const m = new Map<string, Record<string, number>>()
  for (const e of events) {
    const t = e.at.getTime()
    if (t < since || t >= until) continue
    const b = t - (t % bucketMs)
    const id = `${b}|${keyOf(e)}`
    const r = m.get(id) ?? {
      sent: 0,
      delivered: 0,
      hardBounces: 0,
      softBounces: 0,
      deferred: 0,
      complaints: 0,
      senderRejections: 0,
      refusedBySuppression: 0,
    }
    m.set(id, r)
    if (e.type === 'delivered') {
      r.delivered!++
      r.sent!++
    }
    if (e.type === 'bounced') {
      if (e.classification?.hard) r.hardBounces!++
      else r.softBounces!++
      r.sent!++
    }
    if (e.type === 'deferred') r.deferred!++
    if (e.type === 'complaint') r.complaints!++
    if (e.type === 'suppressed') r.refusedBySuppression!++
    if ((e.type === 'bounced' || e.type === 'deferred') && e.classification?.scope === 'sender') r.senderRejections!++
  }
  return [...m]
    .map(([id, r]) => ({ bucket: Number(id.split('|')[0]), key: id.split('|')[1]!, ...r }))
    .sort((a, b) => a.bucket - b.bucket || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

for (const target of ['sqlite', 'postgres', 'mariadb'] as TargetName[]) {
  const available = await serverAvailable(target)
  describe.skipIf(!available)(`timeseries on ${target}`, () => {
    let fx: StoreFixture
    const events = makeEvents()
    beforeAll(async () => {
      fx = await createFixture(target, 'ts')
      const store = await fx.createStore()
      for (const e of events) await store.recordEvent(e)
      // a domain summary row (the guard's hostunknown memory) must not be counted
      await store.recordEvent({
        recipient: '@gmail.com',
        domain: 'gmail.com',
        type: 'deferred',
        at: new Date(T0),
        source: 'smtp',
        classification: HARD,
      })
    })
    afterAll(async () => {
      await fx?.cleanup()
    })

    it('per provider, hourly buckets computed in SQL match a count made in JS', async () => {
      const rows = await eventTimeSeries(fx.ds, {
        tablePrefix: fx.prefix,
        since: new Date(T0),
        until: new Date(T0 + 6 * HOUR),
        bucketSeconds: 3600,
        groupBy: 'provider',
      })
      // deliveries have no classification: well-known mailbox domains name their provider
      const known: Record<string, string> = { 'gmail.com': 'gmail', 'outlook.com': 'microsoft', 'yahoo.com': 'yahoo' }
      const want = expected(events, HOUR, (e) => e.classification?.provider ?? known[e.domain] ?? 'unknown', T0, T0 + 6 * HOUR)
      expect(want.some((r) => r.key === 'unknown')).toBe(false)
      expect(rows.map((r) => ({ ...r, bucket: r.bucket.getTime() }))).toEqual(want)
      expect(new Set(rows.map((r) => r.bucket.getTime())).size).toBe(6)
    })

    it('15-minute buckets, one series, a window cut in the middle', async () => {
      const since = T0 + HOUR + 7 * 60_000
      const until = T0 + 4 * HOUR
      const rows = await eventTimeSeries(fx.ds, {
        tablePrefix: fx.prefix,
        since: new Date(since),
        until: new Date(until),
        bucketSeconds: 900,
      })
      expect(rows.map((r) => ({ ...r, bucket: r.bucket.getTime() }))).toEqual(expected(events, 900_000, () => '*', since, until))
    })

    it('by reason and by tag', async () => {
      const opts = { tablePrefix: fx.prefix, since: new Date(T0), until: new Date(T0 + 6 * HOUR), bucketSeconds: 86400 }
      const byReason = await eventTimeSeries(fx.ds, { ...opts, groupBy: 'reason' })
      const reasonOf = (e: BounceEvent) => e.classification?.reason ?? (e.type === 'delivered' ? 'delivered' : 'undefined')
      expect(byReason.map((r) => ({ ...r, bucket: r.bucket.getTime() }))).toEqual(expected(events, 86_400_000, reasonOf, T0, T0 + 6 * HOUR))
      const byTag = await eventTimeSeries(fx.ds, { ...opts, groupBy: 'tag' })
      expect(byTag.map((r) => [r.key, r.sent + r.deferred + r.complaints + r.refusedBySuppression])).toEqual([
        ['(none)', 480],
        ['spring', 120],
      ])
    })

    it('the destinations refusing us, with evidence', async () => {
      const rows = await refusalEvidence(fx.ds, { tablePrefix: fx.prefix, since: new Date(T0), until: new Date(T0 + 6 * HOUR) })
      expect(rows.map((r) => [r.key, r.count])).toEqual([
        ['outlook.com', 60],
        ['contoso.example', 30],
        ['yahoo.com', 30],
      ])
      expect(rows[0]).toMatchObject({
        reasons: { blocked: 60 },
        blocklists: { spamhaus: 60 },
        ruleIds: { 'blocklist.spamhaus': 60 },
        sample: '550 5.7.1 blocked using Spamhaus',
      })
      const byProvider = await refusalEvidence(fx.ds, {
        tablePrefix: fx.prefix,
        since: new Date(T0),
        groupBy: 'provider',
        until: new Date(T0 + 6 * HOUR),
      })
      expect(byProvider[0]).toMatchObject({
        key: 'microsoft',
        count: 90,
        blocklists: { spamhaus: 60, microsoft: 30 },
        reasons: { blocked: 90 },
      })
    })

    it('rollup: incremental by event id, idempotent, and the rollup-backed query equals the events-only one', async () => {
      const base = { tablePrefix: fx.prefix, bucketSeconds: 3600, groupBy: 'provider' as const }
      const window = { since: new Date(T0 + 30 * 60_000), until: new Date(T0 + 5 * HOUR + 20 * 60_000) }
      const rawOnly = () => eventTimeSeries(fx.ds, { ...base, ...window, useRollup: false })
      const raw = await rawOnly()
      // nothing rolled up yet (no mark): the events table answers
      expect(await eventTimeSeries(fx.ds, { ...base, ...window })).toEqual(raw)
      const first = await rollupEvents(fx.ds, { tablePrefix: fx.prefix, settleMs: 0 })
      expect(first.previousEventId).toBe(0)
      expect(first.events).toBe(events.length + 1) // and the domain summary
      // the rollup table holds exactly the hourly per-provider counts of every event
      const t = target === 'mariadb' ? `\`${fx.prefix}event_rollup\`` : `"${fx.prefix}event_rollup"`
      const stored = (await fx.ds.query(`SELECT * FROM ${t} ORDER BY bucket, k`)) as Array<Record<string, unknown>>
      const known: Record<string, string> = { 'gmail.com': 'gmail', 'outlook.com': 'microsoft', 'yahoo.com': 'yahoo' }
      const keyOf = (e: BounceEvent) => e.classification?.provider ?? known[e.domain] ?? 'unknown'
      const want = expected(events, HOUR, keyOf, 0, Number.MAX_SAFE_INTEGER)
      expect(
        stored.map((r) => [
          Number(r.bucket),
          r.k,
          Number(r.delivered),
          Number(r.hard_bounces),
          Number(r.sender_rejections),
          Number(r.refused),
        ]),
      ).toEqual(
        want.map((r: Record<string, unknown>) => [r.bucket, r.key, r.delivered, r.hardBounces, r.senderRejections, r.refusedBySuppression]),
      )
      // idempotent: a second run finds nothing new
      expect(await rollupEvents(fx.ds, { tablePrefix: fx.prefix, settleMs: 0 })).toEqual({
        previousEventId: first.eventId,
        eventId: first.eventId,
        events: 0,
      })
      expect(await eventTimeSeries(fx.ds, { ...base, ...window })).toEqual(raw)
      // daily buckets and one series come from the hourly rollup too
      const daily = { ...window, tablePrefix: fx.prefix, bucketSeconds: 86400 }
      expect(await eventTimeSeries(fx.ds, daily)).toEqual(await eventTimeSeries(fx.ds, { ...daily, useRollup: false }))
      // the rollup really is read: change a rolled count and see it come back
      await fx.ds.query(`UPDATE ${t} SET delivered = delivered + 1000 WHERE bucket = ${T0 + HOUR} AND k = 'gmail'`)
      const g = (rows: typeof raw) => rows.find((r) => r.key === 'gmail' && r.bucket.getTime() === T0 + HOUR)!.delivered
      expect(g(await eventTimeSeries(fx.ds, { ...base, ...window }))).toBe(g(raw) + 1000)
      await fx.ds.query(`UPDATE ${t} SET delivered = delivered - 1000 WHERE bucket = ${T0 + HOUR} AND k = 'gmail'`)
      // late outcomes for an hour already rolled up, and new ones: exact before the next rollup, and after it
      const store = createTypeOrmBounceStore(fx.ds, { tablePrefix: fx.prefix })
      const late: BounceEvent[] = [
        {
          recipient: 'late1@gmail.com',
          domain: 'gmail.com',
          type: 'bounced',
          at: new Date(T0 + HOUR + 5),
          source: 'dsn',
          classification: HARD,
        },
        { recipient: 'late2@yahoo.com', domain: 'yahoo.com', type: 'delivered', at: new Date(T0 + 2 * HOUR + 9), source: 'smtp' },
        {
          recipient: 'late3@outlook.com',
          domain: 'outlook.com',
          type: 'bounced',
          at: new Date(T0 + 3 * HOUR),
          source: 'smtp',
          classification: SPAMHAUS,
        },
      ]
      for (const e of late) {
        await store.recordEvent(e)
        events.push(e)
      }
      const raw2 = await rawOnly()
      expect(raw2).not.toEqual(raw)
      expect(await eventTimeSeries(fx.ds, { ...base, ...window })).toEqual(raw2)
      const second = await rollupEvents(fx.ds, { tablePrefix: fx.prefix, settleMs: 0 })
      expect(second.previousEventId).toBe(first.eventId)
      expect(second.events).toBe(3)
      expect(await eventTimeSeries(fx.ds, { ...base, ...window })).toEqual(raw2)
    })

    it('rollup waits settleMs before counting up to an id it has seen (inserts still in flight are not skipped)', async () => {
      const store = createTypeOrmBounceStore(fx.ds, { tablePrefix: fx.prefix })
      const e: BounceEvent = {
        recipient: 'settle@gmail.com',
        domain: 'gmail.com',
        type: 'delivered',
        at: new Date(T0 + 4 * HOUR),
        source: 'smtp',
      }
      await store.recordEvent(e)
      events.push(e)
      const t = Date.UTC(2030, 5, 1)
      const opts = { tablePrefix: fx.prefix, settleMs: 60_000 }
      const seen = await rollupEvents(fx.ds, { ...opts, now: () => new Date(t) })
      expect(seen.eventId).toBe(seen.previousEventId)
      expect(seen.pendingEventId).toBeGreaterThan(seen.eventId)
      expect(await rollupEvents(fx.ds, { ...opts, now: () => new Date(t + 30_000) })).toMatchObject({ eventId: seen.eventId, events: 0 })
      const done = await rollupEvents(fx.ds, { ...opts, now: () => new Date(t + 61_000) })
      expect(done).toEqual({ previousEventId: seen.eventId, eventId: seen.pendingEventId, events: 1 })
      const base = { tablePrefix: fx.prefix, since: new Date(T0), until: new Date(T0 + 6 * HOUR), groupBy: 'provider' as const }
      expect(await eventTimeSeries(fx.ds, base)).toEqual(await eventTimeSeries(fx.ds, { ...base, useRollup: false }))
    })

    it('upgrade: a rollup table made by the former ensureRollupTable() is kept, its hours that still have events are recounted', async () => {
      const up = await createFixture(target, 'up')
      try {
        const qi = (n: string) => (target === 'mariadb' ? `\`${n}\`` : `"${n}"`)
        const store = await up.createStore()
        for (const e of events.slice(0, 40)) await store.recordEvent(e)
        await up.ds.undoLastMigration() // the shaping slots table
        await up.ds.undoLastMigration() // back to the schema before the rollup migration
        // the DDL the former ensureRollupTable() ran, with a row of pruned history and a row for an hour that has events
        const cols = ['delivered', 'hard_bounces', 'soft_bounces', 'deferred', 'complaints', 'sender_rejections', 'refused']
        await up.ds.query(
          `CREATE TABLE ${qi(`${up.prefix}event_rollup`)} (${qi('bucket_seconds')} INTEGER NOT NULL, ${qi('bucket')} BIGINT NOT NULL, ${qi('k')} VARCHAR(255) NOT NULL, ${cols.map((c) => `${qi(c)} BIGINT NOT NULL`).join(', ')}, PRIMARY KEY (${qi('bucket_seconds')}, ${qi('bucket')}, ${qi('k')}))`,
        )
        for (const [bucket, n] of [
          [T0 - 5 * HOUR, 7],
          [T0 + HOUR, 999],
        ])
          await up.ds.query(`INSERT INTO ${qi(`${up.prefix}event_rollup`)} VALUES (3600, ${bucket}, 'gmail', ${n}, 0, 0, 0, 0, 0, 0)`)
        expect(await runMigrations(up.ds, { tablePrefix: up.prefix })).toEqual([
          `BounceGuardRollup_${up.prefix}1798761600000`,
          `BounceGuardShapingSlots_${up.prefix}1801440000000`,
        ])
        const kept = (await up.ds.query(`SELECT bucket, delivered FROM ${qi(`${up.prefix}event_rollup`)}`)) as Array<
          Record<string, unknown>
        >
        expect(kept.map((r) => [Number(r.bucket), Number(r.delivered)])).toEqual([[T0 - 5 * HOUR, 7]])
        await rollupEvents(up.ds, { tablePrefix: up.prefix, settleMs: 0 })
        const opts = {
          tablePrefix: up.prefix,
          since: new Date(T0 - 6 * HOUR),
          until: new Date(T0 + 6 * HOUR),
          groupBy: 'provider' as const,
        }
        const rows = await eventTimeSeries(up.ds, opts)
        const raw = await eventTimeSeries(up.ds, { ...opts, useRollup: false })
        expect(rows[0]).toMatchObject({ bucket: new Date(T0 - 5 * HOUR), key: 'gmail', delivered: 7 })
        expect(rows.slice(1)).toEqual(raw)
      } finally {
        await up.cleanup()
      }
    })

    it('bad options are typed errors', async () => {
      await expect(eventTimeSeries(fx.ds, { tablePrefix: fx.prefix, since: new Date(Number.NaN) })).rejects.toThrow(BounceGuardError)
      await expect(eventTimeSeries(fx.ds, { tablePrefix: fx.prefix, since: new Date(T0), bucketSeconds: 1.5 })).rejects.toThrow(
        BounceGuardError,
      )
      await expect(eventTimeSeries(fx.ds, { tablePrefix: 'no such; prefix', since: new Date(T0) })).rejects.toThrow(BounceGuardError)
      await expect(eventTimeSeries(fx.ds, { tablePrefix: fx.prefix, since: new Date(T0), groupBy: 'x' as never })).rejects.toThrow(
        BounceGuardError,
      )
      await expect(eventTimeSeries(fx.ds, { tablePrefix: 'missing_', since: new Date(T0) })).rejects.toMatchObject({ code: 'ESTORE' })
    })

    it('pruneEvents deletes only older events, in batches, and leaves recipient state alone', async () => {
      const cut = T0 + 3 * HOUR
      const older = events.filter((e) => e.at.getTime() < cut).length + 1 // + the domain summary at T0
      const store = createTypeOrmStoreView()
      const stateBefore = await store.getRecipientState('u10@gmail.com')
      const deleted = await pruneEvents(fx.ds, { tablePrefix: fx.prefix, olderThan: new Date(cut), batchSize: 70 })
      expect(deleted).toBe(older)
      expect(await pruneEvents(fx.ds, { tablePrefix: fx.prefix, olderThan: new Date(cut) })).toBe(0)
      const rows = await eventTimeSeries(fx.ds, {
        tablePrefix: fx.prefix,
        since: new Date(T0),
        until: new Date(T0 + 6 * HOUR),
        bucketSeconds: 3600,
        useRollup: false,
      })
      expect(rows.map((r) => r.bucket.getTime())).toEqual([cut, cut + HOUR, cut + 2 * HOUR])
      expect(await store.getRecipientState('u10@gmail.com')).toEqual(stateBefore)
    })

    it('maintainEvents: rolls up, then prunes only rolled-up events past the retention; the hourly counts stay', async () => {
      const store = createTypeOrmBounceStore(fx.ds, { tablePrefix: fx.prefix })
      const e: BounceEvent = {
        recipient: 'old@gmail.com',
        domain: 'gmail.com',
        type: 'bounced',
        at: new Date(T0 + 3 * HOUR + 1),
        source: 'smtp',
        classification: HARD,
      }
      await store.recordEvent(e)
      events.push(e)
      // without a rollup run this event is past the mark: pruneEvents keeps it
      expect(await pruneEvents(fx.ds, { tablePrefix: fx.prefix, olderThan: new Date(T0 + 4 * HOUR) })).toBe(
        events.filter((x) => x.at.getTime() >= T0 + 3 * HOUR && x.at.getTime() < T0 + 4 * HOUR).length - 1,
      )
      const r = await maintainEvents(fx.ds, {
        tablePrefix: fx.prefix,
        settleMs: 0,
        retentionMs: 2 * HOUR,
        now: () => new Date(T0 + 6 * HOUR),
      })
      expect(r.rollup.events).toBe(1)
      expect(r.pruned).toBe(1) // the hour before was pruned above
      const left = await eventTimeSeries(fx.ds, {
        tablePrefix: fx.prefix,
        since: new Date(T0),
        until: new Date(T0 + 6 * HOUR),
        useRollup: false,
      })
      expect(left[0]!.bucket.getTime()).toBe(T0 + 4 * HOUR)
      // whole hours come from the rollup: the pruned hours still count every event
      const known: Record<string, string> = { 'gmail.com': 'gmail', 'outlook.com': 'microsoft', 'yahoo.com': 'yahoo' }
      const rows = await eventTimeSeries(fx.ds, {
        tablePrefix: fx.prefix,
        since: new Date(T0),
        until: new Date(T0 + 6 * HOUR),
        groupBy: 'provider',
      })
      expect(rows.map((x) => ({ ...x, bucket: x.bucket.getTime() }))).toEqual(
        expected(events, HOUR, (x) => x.classification?.provider ?? known[x.domain] ?? 'unknown', T0, T0 + 6 * HOUR),
      )
      await expect(maintainEvents(fx.ds, { tablePrefix: fx.prefix, retentionMs: -1 })).rejects.toMatchObject({ code: 'EINVALID_OPTION' })
    })

    function createTypeOrmStoreView() {
      // a second store over the same tables, without truncating them
      return {
        getRecipientState: async (r: string) =>
          (
            await fx.ds.query(
              `SELECT * FROM ${target === 'mariadb' ? '`' + fx.prefix + 'recipient_state`' : `"${fx.prefix}recipient_state"`} WHERE recipient = ${target === 'postgres' ? '$1' : '?'}`,
              [r],
            )
          )[0],
      }
    }
  })
}
