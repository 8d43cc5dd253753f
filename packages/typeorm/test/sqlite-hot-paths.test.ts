/**
 * The SQLite hot paths (`findSuppressions`, `recordEvent(s)` straight on the better-sqlite3
 * handle, statements prepared once per handle, padded lookup lists): answers for every list size
 * around the padding steps, a failing batch rolled back whole, errors typed, a re-opened
 * DataSource served by fresh statements.
 */
import type { DataSource } from 'typeorm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyEventToState, emptyRecipientState, isBounceGuardError, type BounceEvent, type EventType } from '@bounce-guard/core'
import { createTypeOrmBounceStore, runMigrations, type TypeOrmBounceStore } from '../src/index.js'
import { deliveredEvent } from './event-fixture.js'
import { openDataSource, qi, uniquePrefix } from './db-fixture.js'

const PREFIX = uniquePrefix('hot')
const T0 = Date.UTC(2030, 0, 1)
let ds: DataSource
let store: TypeOrmBounceStore

beforeEach(async () => {
  ds = openDataSource('sqlite', PREFIX)
  await ds.initialize()
  await runMigrations(ds, { tablePrefix: PREFIX })
  store = createTypeOrmBounceStore(ds, { tablePrefix: PREFIX })
})

afterEach(async () => {
  await store.close()
  if (ds.isInitialized) await ds.destroy()
})

const at = new Date(T0)
const event = (recipient: string, extra: Partial<BounceEvent> = {}): BounceEvent => deliveredEvent(recipient, at, extra)

/** One call of each hot path (a lookup, a two-event batch). */
const hotCalls = (): Array<() => Promise<unknown>> => [
  () => store.findSuppressions(['a@x.example']),
  async () => store.recordEvents?.([event('a@x.example'), event('b@x.example')]),
]

/** Each hot call rejects with a BounceGuardError of `code` (a call that resolves fails the check). */
async function expectHotCallsFail(code: string): Promise<void> {
  for (const call of hotCalls()) {
    const err = await Promise.resolve()
      .then(call)
      .catch((e: unknown) => e)
    expect(isBounceGuardError(err) && err.code).toBe(code)
  }
}

async function countEvents(): Promise<number> {
  const rows = (await ds.query(`SELECT COUNT(*) AS n FROM ${qi(ds, `${PREFIX}events`)}`)) as Array<{ n: number }>
  return Number(rows[0]?.n)
}

describe('SQLite hot paths', () => {
  it('findSuppressions answers right for every list size across the padding steps', async () => {
    // Every third address is suppressed; domains d0..d4, d3 suppressed as a whole; one expired entry.
    for (let i = 0; i < 700; i += 3)
      await store.suppress({ key: `u${i}@d${i % 5}.example`, scope: 'address', reason: 'userunknown', source: 'manual', at })
    await store.suppress({ key: 'd3.example', scope: 'domain', reason: 'hostunknown', source: 'manual', at })
    await store.suppress({
      key: 'u1@d1.example',
      scope: 'address',
      reason: 'userunknown',
      source: 'manual',
      at,
      expiresAt: new Date(T0 + 10),
    })
    const now = new Date(T0 + 100)
    const expected = (a: string): string | undefined => {
      const i = Number(a.slice(1, a.indexOf('@')))
      if (i % 3 === 0) return 'address'
      if (i % 5 === 3) return 'domain'
      return undefined
    }
    for (const n of [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 300, 512, 513, 700]) {
      // Start at an offset so that lists of every size mix suppressed and clear addresses, plus one repeat.
      const list = Array.from({ length: n }, (_, k) => `u${(k + n) % 700}@d${((k + n) % 700) % 5}.example`)
      list.push(list[0] as string)
      const found = await store.findSuppressions(list, now)
      const want = [...new Set(list)].filter((a) => expected(a) !== undefined)
      expect([...found.keys()], `list of ${n}`).toEqual(want)
      for (const a of want) expect(found.get(a)?.scope, a).toBe(expected(a))
    }
    expect((await store.findSuppressions(['u1@d1.example'], now)).size).toBe(0) // expired
    expect((await store.findSuppressions(['u1@d1.example'], new Date(T0 + 5))).size).toBe(1)
  })

  it("a recipient's first event gives the state applyEventToState gives, for every kind of event", async () => {
    const types: EventType[] = ['delivered', 'bounced', 'deferred', 'complaint', 'auto-reply', 'suppressed']
    const classifications: Array<BounceEvent['classification']> = [undefined]
    for (const hard of [true, false])
      for (const scope of ['recipient', 'domain', 'sender', 'message', 'network'] as const)
        classifications.push({ reason: hard ? 'userunknown' : 'mailboxfull', hard, permanent: hard, scope, ruleId: 'test' })
    const events: BounceEvent[] = []
    for (const type of types)
      for (const c of classifications) events.push(event(`r${events.length}@x.example`, c ? { type, classification: c } : { type }))
    // Half alone (recordEvent), half in one batch (recordEvents).
    const half = Math.floor(events.length / 2)
    const results = [
      ...(await Promise.all(events.slice(0, half).map((e) => store.recordEvent(e)))),
      ...((await store.recordEvents?.(events.slice(half))) ?? []),
    ]
    expect(results).toHaveLength(events.length)
    results.forEach((r, i) => {
      const e = events[i] as BounceEvent
      expect(r.state, `${e.type} ${JSON.stringify(e.classification)}`).toEqual(
        applyEventToState(emptyRecipientState(e.recipient, e.domain), e),
      )
    })
  })

  it('a batch with an event the driver cannot bind fails with ESTORE and writes nothing of the batch', async () => {
    const bad = event('b@x.example', { tag: { not: 'bindable' } as unknown as string })
    const err = await store.recordEvents?.([event('a@x.example'), bad, event('c@x.example')]).catch((e: unknown) => e)
    expect(isBounceGuardError(err) && err.code).toBe('ESTORE')
    expect(await countEvents()).toBe(0)
    expect(await store.getRecipientState('a@x.example')).toBeUndefined()
    // The store still writes afterwards (the transaction was rolled back, not left open).
    const [r] = (await store.recordEvents?.([event('a@x.example'), event('a@x.example')])) ?? []
    expect(r?.state.deliveries).toBe(1)
    expect(await countEvents()).toBe(2)
  })

  it('keeps a repeated eventId a duplicate within one batch and across batches', async () => {
    const r = await store.recordEvents?.([
      event('a@x.example', { eventId: 'e1' }),
      event('a@x.example', { eventId: 'e1' }),
      event('a@x.example', { eventId: 'e2', type: 'deferred' }),
    ])
    expect(r?.map((x) => x.duplicate)).toEqual([false, true, false])
    expect(r?.[1]?.state.events).toBe(1)
    expect(r?.[2]?.state).toMatchObject({ events: 2, deliveries: 1, softBounces: 1 })
    const again = await store.recordEvent(event('a@x.example', { eventId: 'e2' }))
    expect(again).toMatchObject({ duplicate: true, state: { events: 2 } })
  })

  it('after the DataSource is destroyed: ESTORE_UNAVAILABLE; re-initialised: served again', async () => {
    await store.recordEvent(event('a@x.example'))
    await ds.destroy()
    await expectHotCallsFail('ESTORE_UNAVAILABLE')
    // In-memory database: a new connection is a new, empty database.
    await ds.initialize()
    await runMigrations(ds, { tablePrefix: PREFIX })
    await store.suppress({ key: 'a@x.example', scope: 'address', reason: 'userunknown', source: 'manual', at })
    expect([...(await store.findSuppressions(['a@x.example', 'b@x.example'])).keys()]).toEqual(['a@x.example'])
    const [r] = (await store.recordEvents?.([event('b@x.example'), event('c@x.example')])) ?? []
    expect(r?.state.events).toBe(1)
  })

  it('after close(): ESTORE_CLOSED from the hot paths', async () => {
    await store.close()
    await expectHotCallsFail('ESTORE_CLOSED')
  })
})
