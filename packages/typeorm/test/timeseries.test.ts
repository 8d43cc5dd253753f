// eventTimeSeries / refusalEvidence / pruneEvents on SQLite, PostgreSQL and MariaDB. The server
// suites are skipped with a message outside CI when the server does not answer, and fail in CI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BounceClassification, BounceEvent, EventType } from '@bounce-guard/core'
import { BounceGuardError } from '@bounce-guard/core'
import { eventTimeSeries, pruneEvents, refusalEvidence, rollupEvents } from '../src/index.js'
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
      if (fx?.ds.isInitialized)
        await fx.ds.query(`DROP TABLE IF EXISTS ${target === 'mariadb' ? `\`${fx.prefix}event_rollup\`` : `"${fx.prefix}event_rollup"`}`)
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

    it('rollup: whole buckets from the rollup table, partial ends from events, same numbers', async () => {
      const base = { tablePrefix: fx.prefix, bucketSeconds: 3600, groupBy: 'provider' as const }
      // nothing rolled yet: the raw path
      const window = { since: new Date(T0 + 30 * 60_000), until: new Date(T0 + 5 * HOUR + 20 * 60_000) }
      const raw = await eventTimeSeries(fx.ds, { ...base, ...window })
      expect(await eventTimeSeries(fx.ds, { ...base, ...window, useRollup: true })).toEqual(raw)
      // roll up hours 0-4 (the until is cut to a bucket boundary: hour 4 is not rolled)
      const written = await rollupEvents(fx.ds, {
        tablePrefix: fx.prefix,
        since: new Date(T0),
        until: new Date(T0 + 4 * HOUR + 59 * 60_000),
      })
      expect(written).toBe(raw.filter((r) => r.bucket.getTime() < T0 + 4 * HOUR).length)
      expect(await rollupEvents(fx.ds, { tablePrefix: fx.prefix, since: new Date(T0), until: new Date(T0 + 4 * HOUR) })).toBe(written) // idempotent
      expect(await eventTimeSeries(fx.ds, { ...base, ...window, useRollup: true })).toEqual(raw)
      // the rollup really is read: change a rolled count and see it come back
      const t = target === 'mariadb' ? `\`${fx.prefix}event_rollup\`` : `"${fx.prefix}event_rollup"`
      await fx.ds.query(`UPDATE ${t} SET delivered = delivered + 1000 WHERE bucket = ${T0 + HOUR} AND k = 'gmail'`)
      const patched = await eventTimeSeries(fx.ds, { ...base, ...window, useRollup: true })
      const g = (rows: typeof raw) => rows.find((r) => r.key === 'gmail' && r.bucket.getTime() === T0 + HOUR)!.delivered
      expect(g(patched)).toBe(g(raw) + 1000)
      await fx.ds.query(`UPDATE ${t} SET delivered = delivered - 1000 WHERE bucket = ${T0 + HOUR} AND k = 'gmail'`)
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
      })
      expect(rows.map((r) => r.bucket.getTime())).toEqual([cut, cut + HOUR, cut + 2 * HOUR])
      expect(await store.getRecipientState('u10@gmail.com')).toEqual(stateBefore)
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
