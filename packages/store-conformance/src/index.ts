/**
 * `@bounce-guard/store-conformance`: the test suite every `BounceStore` runs from its own tests.
 *
 * ```ts
 * import { runStoreConformance } from '@bounce-guard/store-conformance'
 * runStoreConformance({ name: 'my store', createStore: async () => new MyStore(), inspect: myInspector })
 * ```
 *
 * The suite reads what it wrote through two paths: the store's own members, and `inspect`, which
 * reads raw stored rows (plain SQL, a raw client, the internal maps), so a store that only
 * round-trips through a cache is caught. Typed capability flags say which optional checks apply.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest'
import type {
  BounceClassification,
  BounceEvent,
  BounceReason,
  BounceScope,
  BounceStore,
  EventType,
  RetryJob,
  SuppressionInput,
  SuppressionScope,
} from '@bounce-guard/core'

/** A date as a raw row may hold it: a `Date`, epoch milliseconds, or an ISO-8601 string (no zone = UTC). */
export type RawDate = Date | number | string

/** A count as a raw row may hold it (Postgres and MySQL return `bigint` as a string). */
export type RawCount = number | string | bigint

/** A suppression row read without going through the store. */
export interface RawSuppression {
  key: string
  scope: string
  reason: string
  createdAt: RawDate
  updatedAt: RawDate
  expiresAt?: RawDate | null
  /** Boolean, or 0/1 as MySQL returns it. */
  escalated?: boolean | number | null
}

/** A recipient-state row read without going through the store. */
export interface RawRecipientState {
  events: RawCount
  deliveries: RawCount
  hardBounces: RawCount
  softBounces: RawCount
  complaints: RawCount
  consecutiveSoftFailures: RawCount
  firstSoftFailureAt?: RawDate | null
  lastReason?: string | null
}

/** A retry-job row read without going through the store. */
export interface RawRetryJob {
  id: string
  /** An array, or the JSON text of one. */
  recipients: string[] | string
  dueAt: RawDate
  attempts: RawCount
  /** The lease end while claimed; null/absent when free. */
  leasedUntil?: RawDate | null
  lastError?: string | null
}

/** A shared traffic-shaping row read without going through the store. */
export interface RawShapingEntry {
  key: string
  ruleId: string
  action: string
  /** When the action ends. */
  until: RawDate
  perMinute?: RawCount | null
}

/** A shared cap slot row (`takeShapingSlots`) read without going through the store. */
export interface RawShapingSlot {
  key: string
  /** Start of the window (epoch ms or a date). */
  windowStart: RawDate
  /** Slots granted in that window. */
  used: RawCount
}

/**
 * The second read path: each function reads stored data directly (plain SQL for a database store),
 * never through the store's own read members or caches. Return `undefined` when there is no row.
 */
export interface StoreInspector {
  rawSuppression(key: string, scope: SuppressionScope): Promise<RawSuppression | undefined>
  rawRecipientState(recipient: string): Promise<RawRecipientState | undefined>
  /** Number of stored event rows for this recipient. */
  rawEventCount(recipient: string): Promise<number>
  rawRetryJob(id: string): Promise<RawRetryJob | undefined>
  /** Every stored shaping row, expired ones included (needed by the `sharedShaping` checks when given). */
  rawShapingEntries?(): Promise<RawShapingEntry[]>
  /** Every stored cap slot row (needed by the `shapingSlots` checks when given). */
  rawShapingSlots?(): Promise<RawShapingSlot[]>
}

/** What the store under test can do; each flag turns on checks that need it. */
export interface StoreCapabilities {
  /**
   * Concurrent `recordEvent` calls on one store never lose an update (row locks, atomic upserts or
   * a single-threaded store). Enables the concurrent-writer checks.
   * @default true
   */
  concurrentWriters?: boolean
  /**
   * Concurrent `claimDueRetries` calls skip rows another caller holds (SKIP LOCKED or
   * single-threaded), so several workers together claim every due job. Enables the check that
   * the union of concurrent claims covers all due jobs. Without it only "never twice" is checked.
   * @default false
   */
  skipLocked?: boolean
  /**
   * The store implements the optional batched `recordEvents` (one transaction per batch, all or
   * nothing). Enables the batch checks: same results as event-by-event recording, duplicates
   * inside and across batches, validation before any write, concurrent batches.
   * @default false
   */
  recordEvents?: boolean
  /**
   * The store implements the optional shared traffic-shaping members (`putShapingEntries`,
   * `listShapingEntries`, `liftShapingEntries`). Enables their checks: round trip, the later
   * `until` wins (also under concurrent writers), expiry, lift, validation, close.
   * @default false
   */
  sharedShaping?: boolean
  /**
   * The store implements the optional `takeShapingSlots` (shared caps). Enables its checks: grants
   * up to the limit per key and window, partial grants, concurrent takers never exceed the limit,
   * pruning of old windows, validation, close.
   * @default false
   */
  shapingSlots?: boolean
}

/** Options of `runStoreConformance`. */
export interface StoreConformanceOptions {
  /** Name shown in the `describe` block, e.g. `typeorm (postgres)`. */
  name: string
  /** A new, empty, open store. Called before every test. */
  createStore: () => Promise<BounceStore>
  /** Clean up after a test (drop tables, close connections). Called even when the test closed the store. @default store.close() */
  destroyStore?: (store: BounceStore) => Promise<void>
  /**
   * Build the raw reader for a store made by `createStore`. Strongly recommended; without it the
   * suite checks through the store's own reads only.
   */
  inspect?: (store: BounceStore) => StoreInspector
  /** @default { concurrentWriters: true, skipLocked: false, recordEvents: false, sharedShaping: false } */
  capabilities?: StoreCapabilities
  /** Per-test timeout in ms. @default 30000 */
  timeoutMs?: number
}

/** A fixed, millisecond-precise base time so stores that drop milliseconds fail. */
const T0 = new Date('2030-01-15T10:00:00.123Z')
const at = (ms: number): Date => new Date(T0.getTime() + ms)
const MIN = 60_000
const HOUR = 60 * MIN

/** Coerce a raw date to epoch ms. */
export function rawDateToMs(v: RawDate | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined
  if (v instanceof Date) return v.getTime()
  if (typeof v === 'number') return v
  const s = /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`
  return new Date(s).getTime()
}

const num = (v: RawCount | null | undefined): number => (v === null || v === undefined ? 0 : Number(v))

function cls(
  reason: BounceReason,
  opts: { hard?: boolean; scope?: BounceScope; provider?: string; permanent?: boolean } = {},
): BounceClassification {
  const c: BounceClassification = {
    reason,
    hard: opts.hard ?? false,
    permanent: opts.permanent ?? opts.hard ?? false,
    scope: opts.scope ?? 'recipient',
    ruleId: `conformance.${reason}`,
  }
  if (opts.provider) c.provider = opts.provider
  return c
}

function ev(recipient: string, type: EventType, ms: number, extra: Partial<BounceEvent> = {}): BounceEvent {
  return { recipient, domain: recipient.slice(recipient.lastIndexOf('@') + 1), type, at: at(ms), source: 'smtp', ...extra }
}

const sup = (key: string, ms: number, extra: Partial<SuppressionInput> = {}): SuppressionInput => ({
  key,
  scope: key.includes('@') ? 'address' : 'domain',
  reason: 'userunknown',
  source: 'smtp',
  at: at(ms),
  ...extra,
})

function job(id: string, dueMs: number, extra: Partial<RetryJob> = {}): RetryJob {
  return {
    id,
    recipients: [`${id}@retry.example`],
    dueAt: at(dueMs),
    attempts: 1,
    payload: `payload-${id}`,
    firstFailedAt: at(-HOUR),
    ...extra,
  }
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  expect(caught, `expected a BounceGuardError ${code}`).toBeInstanceOf(Error)
  expect((caught as { name?: string }).name).toBe('BounceGuardError')
  expect((caught as { code?: string }).code).toBe(code)
}

/**
 * Register the conformance tests for one store with vitest (call at the top level of a test file,
 * or inside a `describe`). Every test gets a fresh store from `createStore`.
 */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const caps = {
    concurrentWriters: true,
    skipLocked: false,
    recordEvents: false,
    sharedShaping: false,
    shapingSlots: false,
    ...options.capabilities,
  }
  const timeout = options.timeoutMs ?? 30_000

  describe(`BounceStore conformance: ${options.name}`, () => {
    let store: BounceStore
    let raw: StoreInspector | undefined

    beforeEach(async () => {
      store = await options.createStore()
      raw = options.inspect?.(store)
    })
    afterEach(async () => {
      if (options.destroyStore) await options.destroyStore(store)
      else await store.close()
    })

    /**
     * After concurrent writes: the stored events and deliveries summed over `recipients`, each
     * recipient's event count checked against the raw counter and the raw event rows.
     */
    const storedTotals = async (recipients: readonly string[]): Promise<{ events: number; deliveries: number }> => {
      const totals = { events: 0, deliveries: 0 }
      for (const r of recipients) {
        const s = await store.getRecipientState(r)
        totals.events += s?.events ?? 0
        totals.deliveries += s?.deliveries ?? 0
        if (raw) expect(num((await raw.rawRecipientState(r))?.events)).toBe(s?.events)
        if (raw) expect(await raw.rawEventCount(r)).toBe(s?.events)
      }
      return totals
    }

    describe('findSuppressions', () => {
      it(
        'returns an empty map for no input and for unknown addresses',
        async () => {
          expect((await store.findSuppressions([], at(0))).size).toBe(0)
          expect((await store.findSuppressions(['nobody@nowhere.example'], at(0))).size).toBe(0)
        },
        timeout,
      )

      it(
        'finds address entries and domain entries in one call, and only the suppressed inputs',
        async () => {
          await store.suppress(sup('dead@a.example', 0))
          await store.suppress(sup('gone.example', 0, { reason: 'hostunknown' }))
          const found = await store.findSuppressions(
            ['dead@a.example', 'alive@a.example', 'x@gone.example', 'y@gone.example', 'dead@a.example'],
            at(MIN),
          )
          expect([...found.keys()].sort()).toEqual(['dead@a.example', 'x@gone.example', 'y@gone.example'])
          expect(found.get('dead@a.example')).toMatchObject({ key: 'dead@a.example', scope: 'address', reason: 'userunknown' })
          expect(found.get('x@gone.example')).toMatchObject({ key: 'gone.example', scope: 'domain', reason: 'hostunknown' })
          // a domain entry does not cover a sub-domain or a parent domain
          expect((await store.findSuppressions(['a@sub.gone.example', 'a@example'], at(MIN))).size).toBe(0)
        },
        timeout,
      )

      it(
        'prefers the address entry over the domain entry',
        async () => {
          await store.suppress(sup('both.example', 0, { reason: 'hostunknown' }))
          await store.suppress(sup('me@both.example', 0, { reason: 'complaint' }))
          const found = await store.findSuppressions(['me@both.example'], at(MIN))
          expect(found.get('me@both.example')).toMatchObject({ scope: 'address', reason: 'complaint' })
        },
        timeout,
      )

      it(
        'ignores expired entries, at address and at domain level',
        async () => {
          await store.suppress(sup('temp@a.example', 0, { reason: 'mailboxfull', expiresAt: at(HOUR) }))
          await store.suppress(sup('temp.example', 0, { reason: 'hostunknown', expiresAt: at(HOUR) }))
          const before = await store.findSuppressions(['temp@a.example', 'u@temp.example'], at(HOUR - 1))
          expect(before.size).toBe(2)
          expect(before.get('temp@a.example')?.expiresAt?.getTime()).toBe(at(HOUR).getTime())
          const after = await store.findSuppressions(['temp@a.example', 'u@temp.example'], at(HOUR))
          expect(after.size).toBe(0)
        },
        timeout,
      )

      it(
        'handles a large batch in one call',
        async () => {
          for (let i = 0; i < 20; i++) await store.suppress(sup(`u${i * 5}@big.example`, i))
          const input = Array.from({ length: 100 }, (_, i) => `u${i}@big.example`)
          const found = await store.findSuppressions(input, at(HOUR))
          expect(found.size).toBe(20)
          for (let i = 0; i < 100; i++) expect(found.has(`u${i}@big.example`)).toBe(i % 5 === 0)
        },
        timeout,
      )
    })

    describe('suppress / unsuppress', () => {
      it(
        'creates, then upserts keeping createdAt',
        async () => {
          const first = await store.suppress(
            sup('up@a.example', 0, { reason: 'mailboxfull', escalated: true, ruleId: 'r1', detail: 'd1', expiresAt: at(10 * HOUR) }),
          )
          expect(first.created).toBe(true)
          expect(first.suppression.createdAt.getTime()).toBe(at(0).getTime())
          const second = await store.suppress(sup('up@a.example', HOUR, { reason: 'userunknown', source: 'dsn', ruleId: 'r2' }))
          expect(second.created).toBe(false)
          expect(second.suppression).toMatchObject({
            key: 'up@a.example',
            scope: 'address',
            reason: 'userunknown',
            source: 'dsn',
            ruleId: 'r2',
          })
          expect(second.suppression.createdAt.getTime()).toBe(at(0).getTime())
          expect(second.suppression.updatedAt.getTime()).toBe(at(HOUR).getTime())
          expect(second.suppression.expiresAt).toBeUndefined()
          const found = (await store.findSuppressions(['up@a.example'], at(20 * HOUR))).get('up@a.example')
          expect(found).toMatchObject({ reason: 'userunknown', source: 'dsn' })
          expect(found?.createdAt.getTime()).toBe(at(0).getTime())
          if (raw) {
            const r = await raw.rawSuppression('up@a.example', 'address')
            expect(r).toBeDefined()
            expect(r!.reason).toBe('userunknown')
            expect(rawDateToMs(r!.createdAt)).toBe(at(0).getTime())
            expect(rawDateToMs(r!.updatedAt)).toBe(at(HOUR).getTime())
            expect(rawDateToMs(r!.expiresAt)).toBeUndefined()
          }
        },
        timeout,
      )

      it(
        'stores every field, readable through the raw path',
        async () => {
          await store.suppress(
            sup('full@a.example', 0, {
              reason: 'mailboxfull',
              escalated: true,
              ruleId: 'rule.x',
              detail: '552 5.2.2 full',
              expiresAt: at(5 * HOUR),
              source: 'webhook',
            }),
          )
          const page = await store.listSuppressions({ now: at(0) })
          expect(page.items).toHaveLength(1)
          expect(page.items[0]).toMatchObject({
            key: 'full@a.example',
            scope: 'address',
            reason: 'mailboxfull',
            source: 'webhook',
            escalated: true,
            ruleId: 'rule.x',
            detail: '552 5.2.2 full',
          })
          expect(page.items[0]!.expiresAt?.getTime()).toBe(at(5 * HOUR).getTime())
          if (raw) {
            const r = await raw.rawSuppression('full@a.example', 'address')
            expect(r).toMatchObject({ key: 'full@a.example', scope: 'address', reason: 'mailboxfull' })
            expect(Boolean(r!.escalated)).toBe(true)
            expect(rawDateToMs(r!.expiresAt)).toBe(at(5 * HOUR).getTime())
            expect(await raw.rawSuppression('full@a.example', 'domain')).toBeUndefined()
          }
        },
        timeout,
      )

      it(
        'replaces an expired entry as a new one',
        async () => {
          await store.suppress(sup('exp@a.example', 0, { reason: 'mailboxfull', expiresAt: at(HOUR) }))
          const again = await store.suppress(sup('exp@a.example', 2 * HOUR, { reason: 'userunknown' }))
          expect(again.created).toBe(true)
          expect(again.suppression.createdAt.getTime()).toBe(at(2 * HOUR).getTime())
          expect((await store.findSuppressions(['exp@a.example'], at(100 * HOUR))).get('exp@a.example')?.reason).toBe('userunknown')
        },
        timeout,
      )

      it(
        'keeps address and domain entries apart',
        async () => {
          await store.suppress(sup('apart.example', 0, { reason: 'hostunknown' }))
          await store.suppress(sup('x@apart.example', 0))
          expect(await store.unsuppress('apart.example', 'domain')).toBe(true)
          const found = await store.findSuppressions(['x@apart.example', 'y@apart.example'], at(MIN))
          expect([...found.keys()]).toEqual(['x@apart.example'])
        },
        timeout,
      )

      it(
        'unsuppress is idempotent and returns whether an entry existed',
        async () => {
          expect(await store.unsuppress('never@a.example')).toBe(false)
          await store.suppress(sup('bye@a.example', 0))
          expect(await store.unsuppress('bye@a.example')).toBe(true)
          expect(await store.unsuppress('bye@a.example')).toBe(false)
          expect((await store.findSuppressions(['bye@a.example'], at(MIN))).size).toBe(0)
          if (raw) expect(await raw.rawSuppression('bye@a.example', 'address')).toBeUndefined()
          await store.suppress(sup('bye.example', 0))
          expect(await store.unsuppress('bye.example')).toBe(true)
          expect((await store.findSuppressions(['a@bye.example'], at(MIN))).size).toBe(0)
        },
        timeout,
      )
    })

    describe('listSuppressions', () => {
      it(
        'returns an empty page for an empty store',
        async () => {
          const page = await store.listSuppressions({}, { limit: 10 })
          expect(page.items).toEqual([])
          expect(page.nextCursor).toBeUndefined()
        },
        timeout,
      )

      it(
        'orders by createdAt then key and pages without duplicates or gaps',
        async () => {
          const keys: string[] = []
          for (let i = 0; i < 23; i++) {
            const key = `p${String(22 - i).padStart(2, '0')}@page.example`
            keys.push(key)
            // three entries share each timestamp, so the key breaks ties
            await store.suppress(sup(key, Math.floor(i / 3) * 1000))
          }
          const expected = keys
            .map((k, i) => ({ k, t: Math.floor(i / 3) }))
            .sort((a, b) => a.t - b.t || (a.k < b.k ? -1 : 1))
            .map((x) => x.k)
          const seen: string[] = []
          let cursor: string | undefined
          let pages = 0
          do {
            const page = await store.listSuppressions({ now: at(0) }, cursor === undefined ? { limit: 5 } : { cursor, limit: 5 })
            expect(page.items.length).toBeLessThanOrEqual(5)
            seen.push(...page.items.map((s) => s.key))
            cursor = page.nextCursor
            pages++
          } while (cursor && pages < 20)
          expect(pages).toBe(5)
          expect(seen).toEqual(expected)
        },
        timeout,
      )

      it(
        'stays stable while entries are inserted during paging',
        async () => {
          for (let i = 0; i < 10; i++) await store.suppress(sup(`s${i}@stable.example`, i * 1000))
          const first = await store.listSuppressions({ now: at(0) }, { limit: 4 })
          expect(first.items.map((s) => s.key)).toEqual([
            's0@stable.example',
            's1@stable.example',
            's2@stable.example',
            's3@stable.example',
          ])
          // an entry created later than everything appears on a later page; one removed is skipped
          await store.suppress(sup('late@stable.example', 60_000))
          await store.unsuppress('s5@stable.example')
          const seen = first.items.map((s) => s.key)
          let cursor = first.nextCursor
          while (cursor) {
            const page = await store.listSuppressions({ now: at(0) }, { cursor, limit: 4 })
            seen.push(...page.items.map((s) => s.key))
            cursor = page.nextCursor
          }
          expect(seen).toEqual(['s0', 's1', 's2', 's3', 's4', 's6', 's7', 's8', 's9', 'late'].map((k) => `${k}@stable.example`))
        },
        timeout,
      )

      it(
        'filters by scope, reason, domain, time, and hides expired entries unless asked',
        async () => {
          await store.suppress(sup('a@f.example', 0, { reason: 'userunknown' }))
          await store.suppress(sup('b@f.example', 1000, { reason: 'complaint', source: 'feedback-loop' }))
          await store.suppress(sup('f.example', 2000, { reason: 'hostunknown' }))
          await store.suppress(sup('c@other.example', 3000, { reason: 'userunknown' }))
          await store.suppress(sup('d@other.example', 4000, { reason: 'mailboxfull', expiresAt: at(5000) }))
          const keys = async (f: Parameters<BounceStore['listSuppressions']>[0]) =>
            (await store.listSuppressions(f)).items.map((s) => s.key)
          expect(await keys({ now: at(6000) })).toEqual(['a@f.example', 'b@f.example', 'f.example', 'c@other.example'])
          expect(await keys({ now: at(6000), includeExpired: true })).toEqual([
            'a@f.example',
            'b@f.example',
            'f.example',
            'c@other.example',
            'd@other.example',
          ])
          expect(await keys({ now: at(4500) })).toEqual(['a@f.example', 'b@f.example', 'f.example', 'c@other.example', 'd@other.example'])
          expect(await keys({ now: at(0), scope: 'domain' })).toEqual(['f.example'])
          expect(await keys({ now: at(0), reason: 'userunknown' })).toEqual(['a@f.example', 'c@other.example'])
          expect(await keys({ now: at(0), domain: 'f.example' })).toEqual(['a@f.example', 'b@f.example', 'f.example'])
          expect(await keys({ now: at(0), since: at(1000), until: at(3000) })).toEqual(['b@f.example', 'f.example'])
        },
        timeout,
      )

      it(
        'rejects a malformed cursor with EINVALID_OPTION',
        async () => {
          await store.suppress(sup('c@cursor.example', 0))
          await expectCode(store.listSuppressions({}, { cursor: 'not a cursor!!' }), 'EINVALID_OPTION')
          await expectCode(store.listSuppressions({}, { cursor: 'e30' }), 'EINVALID_OPTION') // base64url of "{}"
        },
        timeout,
      )
    })

    describe('recordEvent / getRecipientState / listEvents', () => {
      it(
        'returns undefined and an empty list for an unknown recipient',
        async () => {
          expect(await store.getRecipientState('nobody@a.example')).toBeUndefined()
          expect(await store.listEvents('nobody@a.example')).toEqual([])
          if (raw) {
            expect(await raw.rawRecipientState('nobody@a.example')).toBeUndefined()
            expect(await raw.rawEventCount('nobody@a.example')).toBe(0)
          }
        },
        timeout,
      )

      it(
        'counts every kind of event and keeps first/last soft failure',
        async () => {
          const r = 'count@a.example'
          await store.recordEvent(ev(r, 'deferred', 0, { classification: cls('mailboxfull') }))
          await store.recordEvent(ev(r, 'bounced', HOUR, { classification: cls('mailboxfull', { permanent: true }) }))
          const mid = await store.recordEvent(ev(r, 'deferred', 2 * HOUR, { classification: cls('suspend') }))
          expect(mid.duplicate).toBe(false)
          expect(mid.state).toMatchObject({
            recipient: r,
            domain: 'a.example',
            events: 3,
            softBounces: 3,
            consecutiveSoftFailures: 3,
            lastReason: 'suspend',
          })
          expect(mid.state.firstSoftFailureAt?.getTime()).toBe(at(0).getTime())
          expect(mid.state.lastSoftFailureAt?.getTime()).toBe(at(2 * HOUR).getTime())
          await store.recordEvent(ev(r, 'complaint', 3 * HOUR, { source: 'feedback-loop', classification: cls('feedback') }))
          await store.recordEvent(ev(r, 'auto-reply', 4 * HOUR, { classification: cls('vacation') }))
          await store.recordEvent(ev(r, 'bounced', 5 * HOUR, { classification: cls('userunknown', { hard: true }) }))
          const s = await store.getRecipientState(r)
          expect(s).toMatchObject({
            events: 6,
            deliveries: 0,
            hardBounces: 1,
            softBounces: 3,
            complaints: 1,
            consecutiveSoftFailures: 3,
            lastReason: 'userunknown',
          })
          expect(s?.lastEventAt?.getTime()).toBe(at(5 * HOUR).getTime())
          if (raw) {
            const rs = await raw.rawRecipientState(r)
            expect(rs).toBeDefined()
            expect([
              num(rs!.events),
              num(rs!.hardBounces),
              num(rs!.softBounces),
              num(rs!.complaints),
              num(rs!.consecutiveSoftFailures),
            ]).toEqual([6, 1, 3, 1, 3])
            expect(rawDateToMs(rs!.firstSoftFailureAt)).toBe(at(0).getTime())
            expect(await raw.rawEventCount(r)).toBe(6)
          }
        },
        timeout,
      )

      it(
        'a delivery resets the run of consecutive soft failures',
        async () => {
          const r = 'reset@a.example'
          await store.recordEvent(ev(r, 'deferred', 0, { classification: cls('mailboxfull') }))
          await store.recordEvent(ev(r, 'deferred', HOUR, { classification: cls('mailboxfull') }))
          const d = await store.recordEvent(ev(r, 'delivered', 2 * HOUR))
          expect(d.state).toMatchObject({ deliveries: 1, consecutiveSoftFailures: 0, softBounces: 2, lastReason: 'delivered' })
          expect(d.state.firstSoftFailureAt).toBeUndefined()
          expect(d.state.lastDeliveredAt?.getTime()).toBe(at(2 * HOUR).getTime())
          const again = await store.recordEvent(ev(r, 'deferred', 3 * HOUR, { classification: cls('mailboxfull') }))
          expect(again.state.consecutiveSoftFailures).toBe(1)
          expect(again.state.firstSoftFailureAt?.getTime()).toBe(at(3 * HOUR).getTime())
          if (raw) {
            const rs = await raw.rawRecipientState(r)
            expect(num(rs!.consecutiveSoftFailures)).toBe(1)
            expect(num(rs!.deliveries)).toBe(1)
            expect(rawDateToMs(rs!.firstSoftFailureAt)).toBe(at(3 * HOUR).getTime())
          }
        },
        timeout,
      )

      it(
        'sender-, message- and network-side failures neither extend nor reset the run',
        async () => {
          const r = 'scope@a.example'
          await store.recordEvent(ev(r, 'deferred', 0, { classification: cls('mailboxfull') }))
          await store.recordEvent(ev(r, 'bounced', HOUR, { classification: cls('blocked', { scope: 'sender', permanent: true }) }))
          await store.recordEvent(ev(r, 'bounced', 2 * HOUR, { classification: cls('mesgtoobig', { scope: 'message', permanent: true }) }))
          const s = await store.recordEvent(ev(r, 'deferred', 3 * HOUR, { classification: cls('networkerror', { scope: 'network' }) }))
          expect(s.state).toMatchObject({ events: 4, softBounces: 4, consecutiveSoftFailures: 1, lastReason: 'networkerror' })
          expect(s.state.firstSoftFailureAt?.getTime()).toBe(at(0).getTime())
          expect(s.state.lastSoftFailureAt?.getTime()).toBe(at(0).getTime())
        },
        timeout,
      )

      it(
        'ignores a duplicate eventId and reports it',
        async () => {
          const r = 'dup@a.example'
          const e = ev(r, 'bounced', 0, { eventId: 'evt-dup-1', classification: cls('userunknown', { hard: true }) })
          const first = await store.recordEvent(e)
          expect(first.duplicate).toBe(false)
          const second = await store.recordEvent({ ...e, at: at(MIN) })
          expect(second.duplicate).toBe(true)
          expect(second.state).toMatchObject({ events: 1, hardBounces: 1 })
          // the same id for another recipient is a duplicate too, and changes nothing
          const other = await store.recordEvent({ ...e, recipient: 'other@a.example' })
          expect(other.duplicate).toBe(true)
          expect(other.state.events).toBe(0)
          expect(await store.getRecipientState('other@a.example')).toBeUndefined()
          // events without an id are never duplicates
          await store.recordEvent(ev(r, 'delivered', 2 * MIN))
          expect((await store.recordEvent(ev(r, 'delivered', 2 * MIN))).duplicate).toBe(false)
          expect((await store.getRecipientState(r))?.events).toBe(3)
          if (raw) expect(await raw.rawEventCount(r)).toBe(3)
        },
        timeout,
      )

      it(
        'lists events newest first, with every field, honouring the limit',
        async () => {
          const r = 'list@a.example'
          await store.recordEvent(
            ev(r, 'deferred', HOUR, {
              classification: cls('mailboxfull', { provider: 'gmail' }),
              reply: '452 4.2.2 full',
              messageId: '<m1@x>',
              queueId: 'q1',
              sender: 'from@us.example',
              tag: 'news',
              eventId: 'list-1',
            }),
          )
          await store.recordEvent(ev(r, 'delivered', 3 * HOUR))
          await store.recordEvent(ev(r, 'bounced', 2 * HOUR, { classification: cls('userunknown', { hard: true }) }))
          const list = await store.listEvents(r)
          expect(list.map((e) => e.at.getTime())).toEqual([at(3 * HOUR), at(2 * HOUR), at(HOUR)].map((d) => d.getTime()))
          expect(list[2]).toMatchObject({
            recipient: r,
            domain: 'a.example',
            type: 'deferred',
            source: 'smtp',
            reply: '452 4.2.2 full',
            messageId: '<m1@x>',
            queueId: 'q1',
            sender: 'from@us.example',
            tag: 'news',
            eventId: 'list-1',
          })
          expect(list[2]!.classification).toMatchObject({
            reason: 'mailboxfull',
            hard: false,
            scope: 'recipient',
            provider: 'gmail',
            ruleId: 'conformance.mailboxfull',
          })
          expect((await store.listEvents(r, 2)).map((e) => e.type)).toEqual(['delivered', 'bounced'])
          expect(await store.listEvents('list@b.example')).toEqual([])
        },
        timeout,
      )

      it(
        'returns copies: mutating a result changes nothing stored',
        async () => {
          const r = 'copy@a.example'
          const res = await store.recordEvent(ev(r, 'delivered', 0))
          res.state.events = 99
          const s = await store.getRecipientState(r)
          expect(s?.events).toBe(1)
          s!.deliveries = 42
          expect((await store.getRecipientState(r))?.deliveries).toBe(1)
        },
        timeout,
      )

      it.runIf(caps.concurrentWriters)(
        'loses no update under concurrent writers',
        async () => {
          const recipients = Array.from({ length: 5 }, (_, i) => `conc${i}@a.example`)
          const writes: Promise<unknown>[] = []
          for (let w = 0; w < 4; w++) {
            for (let i = 0; i < 25; i++) {
              const r = recipients[(w + i) % recipients.length]!
              const type: EventType = i % 5 === 0 ? 'delivered' : 'deferred'
              writes.push(store.recordEvent(ev(r, type, w * 1000 + i, type === 'deferred' ? { classification: cls('mailboxfull') } : {})))
            }
          }
          // the same eventId from many writers at once is recorded exactly once
          for (let w = 0; w < 6; w++) writes.push(store.recordEvent(ev('once@a.example', 'delivered', 0, { eventId: 'conc-once' })))
          await Promise.all(writes)
          const { events: total, deliveries } = await storedTotals(recipients)
          expect(total).toBe(100)
          expect(deliveries).toBe(20)
          expect((await store.getRecipientState('once@a.example'))?.events).toBe(1)
          if (raw) expect(await raw.rawEventCount('once@a.example')).toBe(1)
        },
        timeout,
      )
    })

    describe.runIf(caps.recordEvents)('recordEvents (batched)', () => {
      const batch = (events: BounceEvent[]) => {
        expect(typeof store.recordEvents, 'capabilities.recordEvents is set but the store has no recordEvents()').toBe('function')
        return store.recordEvents!(events)
      }

      it(
        'resolves [] for an empty batch',
        async () => {
          expect(await batch([])).toEqual([])
        },
        timeout,
      )

      it(
        'applies the events in order, as event-by-event recording would',
        async () => {
          const a = 'batch-a@b.example'
          const b = 'batch-b@b.example'
          const results = await batch([
            ev(a, 'deferred', 0, { classification: cls('mailboxfull') }),
            ev(b, 'delivered', 0),
            ev(a, 'deferred', HOUR, { classification: cls('mailboxfull') }),
            ev(a, 'delivered', 2 * HOUR),
            ev(a, 'deferred', 3 * HOUR, { classification: cls('suspend') }),
            ev(b, 'bounced', -HOUR, { classification: cls('userunknown', { hard: true }) }),
          ])
          expect(results.map((r) => r.duplicate)).toEqual([false, false, false, false, false, false])
          expect(results.map((r) => r.state.recipient)).toEqual([a, b, a, a, a, b])
          expect(results.map((r) => r.state.events)).toEqual([1, 1, 2, 3, 4, 2])
          expect(results[2]?.state.consecutiveSoftFailures).toBe(2)
          expect(results[2]?.state.firstSoftFailureAt?.getTime()).toBe(at(0).getTime())
          expect(results[3]?.state.consecutiveSoftFailures).toBe(0)
          expect(results[3]?.state.firstSoftFailureAt).toBeUndefined()
          const last = results[4]!.state
          expect([last.deliveries, last.softBounces, last.consecutiveSoftFailures, last.lastReason]).toEqual([1, 3, 1, 'suspend'])
          expect(last.firstSoftFailureAt?.getTime()).toBe(at(3 * HOUR).getTime())
          expect(last.lastDeliveredAt?.getTime()).toBe(at(2 * HOUR).getTime())
          // an older event arriving late moves counters, not the latest times
          const sb = results[5]!.state
          expect([sb.deliveries, sb.hardBounces, sb.lastReason]).toEqual([1, 1, 'userunknown'])
          expect(sb.lastEventAt?.getTime()).toBe(at(0).getTime())
          // stored, not only returned: the store's own read and the raw path agree
          expect(await store.getRecipientState(a)).toEqual(last)
          expect((await store.listEvents(a)).map((e) => e.type)).toEqual(['deferred', 'delivered', 'deferred', 'deferred'])
          if (raw) {
            const ra = await raw.rawRecipientState(a)
            expect([num(ra?.events), num(ra?.deliveries), num(ra?.softBounces), num(ra?.consecutiveSoftFailures)]).toEqual([4, 1, 3, 1])
            expect(rawDateToMs(ra?.firstSoftFailureAt)).toBe(at(3 * HOUR).getTime())
            expect(await raw.rawEventCount(a)).toBe(4)
            expect(num((await raw.rawRecipientState(b))?.hardBounces)).toBe(1)
            expect(await raw.rawEventCount(b)).toBe(2)
          }
        },
        timeout,
      )

      it(
        'continues a state recorded before, and later single writes continue the batch',
        async () => {
          const r = 'batch-c@b.example'
          await store.recordEvent(ev(r, 'deferred', 0, { classification: cls('mailboxfull') }))
          const res = await batch([
            ev(r, 'deferred', MIN, { classification: cls('mailboxfull') }),
            ev(r, 'deferred', 2 * MIN, { classification: cls('mailboxfull') }),
          ])
          expect(res.map((x) => x.state.consecutiveSoftFailures)).toEqual([2, 3])
          const after = await store.recordEvent(ev(r, 'delivered', 3 * MIN))
          expect([after.state.events, after.state.softBounces, after.state.consecutiveSoftFailures]).toEqual([4, 3, 0])
          if (raw) expect(await raw.rawEventCount(r)).toBe(4)
        },
        timeout,
      )

      it(
        'records an eventId once: duplicates inside the batch and of stored events are reported',
        async () => {
          const r = 'batch-dup@b.example'
          await store.recordEvent(ev(r, 'delivered', 0, { eventId: 'bdup-stored' }))
          const res = await batch([
            ev(r, 'delivered', MIN, { eventId: 'bdup-1' }),
            ev(r, 'delivered', 2 * MIN, { eventId: 'bdup-1' }),
            ev(r, 'delivered', 3 * MIN, { eventId: 'bdup-stored' }),
            ev('batch-dup2@b.example', 'delivered', 4 * MIN, { eventId: 'bdup-stored' }),
            ev(r, 'delivered', 5 * MIN),
          ])
          expect(res.map((x) => x.duplicate)).toEqual([false, true, true, true, false])
          expect(res.map((x) => x.state.events)).toEqual([2, 2, 2, 0, 3])
          expect((await store.getRecipientState(r))?.events).toBe(3)
          expect(await store.getRecipientState('batch-dup2@b.example')).toBeUndefined()
          if (raw) {
            expect(await raw.rawEventCount(r)).toBe(3)
            expect(await raw.rawEventCount('batch-dup2@b.example')).toBe(0)
          }
          // the whole batch again: every event is now a duplicate, nothing changes
          const again = await batch([
            ev(r, 'delivered', MIN, { eventId: 'bdup-1' }),
            ev(r, 'delivered', 3 * MIN, { eventId: 'bdup-stored' }),
          ])
          expect(again.map((x) => x.duplicate)).toEqual([true, true])
          if (raw) expect(await raw.rawEventCount(r)).toBe(3)
        },
        timeout,
      )

      it(
        'a batch of distinct recipients (the common shape) continues stored states and skips stored eventIds',
        async () => {
          const rs = Array.from({ length: 12 }, (_, i) => `bdist${i}@b.example`)
          await store.recordEvent(ev(rs[0]!, 'deferred', 0, { classification: cls('mailboxfull') }))
          await store.recordEvent(ev(rs[1]!, 'delivered', 0, { eventId: 'bdist-stored' }))
          const res = await batch(
            rs.map((r, i) =>
              i === 1
                ? ev(r, 'delivered', MIN, { eventId: 'bdist-stored' })
                : ev(
                    r,
                    i % 2 === 0 ? 'deferred' : 'delivered',
                    MIN,
                    i % 2 === 0 ? { classification: cls('mailboxfull'), eventId: `bdist-${i}` } : {},
                  ),
            ),
          )
          expect(res.map((x) => x.duplicate)).toEqual(rs.map((_, i) => i === 1))
          expect(res[0]?.state).toMatchObject({ events: 2, softBounces: 2, consecutiveSoftFailures: 2, lastReason: 'mailboxfull' })
          expect(res[0]?.state.firstSoftFailureAt?.getTime()).toBe(at(0).getTime())
          expect(res[1]?.state).toMatchObject({ events: 1, deliveries: 1 })
          expect(res[3]?.state).toMatchObject({ events: 1, deliveries: 1, lastReason: 'delivered' })
          expect(res[3]?.state.lastDeliveredAt?.getTime()).toBe(at(MIN).getTime())
          if (raw) {
            expect(await raw.rawEventCount(rs[1]!)).toBe(1)
            expect(num((await raw.rawRecipientState(rs[0]!))?.consecutiveSoftFailures)).toBe(2)
            for (const r of rs.slice(2)) expect(await raw.rawEventCount(r)).toBe(1)
          }
        },
        timeout,
      )

      it(
        'validates every event before writing any (EINVALID_OPTION, nothing recorded)',
        async () => {
          const good = ev('batch-valid@b.example', 'delivered', 0)
          await expectCode(batch([good, { ...ev('batch-bad@b.example', 'delivered', 0), at: new Date(Number.NaN) }]), 'EINVALID_OPTION')
          expect(await store.getRecipientState('batch-valid@b.example')).toBeUndefined()
          if (raw) expect(await raw.rawEventCount('batch-valid@b.example')).toBe(0)
        },
        timeout,
      )

      it.runIf(caps.concurrentWriters)(
        'loses no update when batches and single writes run at once',
        async () => {
          const recipients = Array.from({ length: 6 }, (_, i) => `bconc${i}@b.example`)
          const writes: Promise<unknown>[] = []
          for (let w = 0; w < 4; w++) {
            const events = Array.from({ length: 30 }, (_, i) =>
              ev(
                recipients[(w * 5 + i) % recipients.length]!,
                i % 3 === 0 ? 'delivered' : 'deferred',
                w * 1000 + i,
                i % 3 === 0 ? {} : { classification: cls('mailboxfull') },
              ),
            )
            writes.push(batch(events))
            writes.push(store.recordEvent(ev(recipients[w]!, 'delivered', 9000 + w)))
          }
          await Promise.all(writes)
          expect((await storedTotals(recipients)).events).toBe(4 * 30 + 4)
        },
        timeout,
      )

      it(
        'fails with ESTORE_CLOSED after close()',
        async () => {
          await store.close()
          await expectCode(batch([ev('c@close.example', 'delivered', 0)]), 'ESTORE_CLOSED')
        },
        timeout,
      )
    })

    describe('retry queue', () => {
      it(
        'claims nothing from an empty queue; complete/fail of unknown ids are no-ops',
        async () => {
          expect(await store.claimDueRetries(at(0), 10, MIN)).toEqual([])
          await store.completeRetry('no-such-job')
          await store.failRetry('no-such-job', { dueAt: at(HOUR) })
          if (raw) expect(await raw.rawRetryJob('no-such-job')).toBeUndefined()
        },
        timeout,
      )

      it(
        'schedules, claims only due jobs oldest first, and returns every field',
        async () => {
          await store.scheduleRetry(job('j3', 3 * MIN))
          await store.scheduleRetry(
            job('j1', 1 * MIN, { recipients: ['a@r.example', 'b@r.example'], origin: 'nodemailer', lastError: 'prev', attempts: 2 }),
          )
          await store.scheduleRetry(job('j2', 2 * MIN))
          await store.scheduleRetry(job('later', HOUR))
          if (raw) {
            const rj = await raw.rawRetryJob('j1')
            expect(rj).toBeDefined()
            const recips = typeof rj!.recipients === 'string' ? JSON.parse(rj!.recipients) : rj!.recipients
            expect(recips).toEqual(['a@r.example', 'b@r.example'])
            expect(rawDateToMs(rj!.dueAt)).toBe(at(MIN).getTime())
            expect(num(rj!.attempts)).toBe(2)
            expect(rawDateToMs(rj!.leasedUntil)).toBeUndefined()
          }
          const claimed = await store.claimDueRetries(at(2 * MIN), 10, 5 * MIN)
          expect(claimed.map((j) => j.id)).toEqual(['j1', 'j2'])
          expect(claimed[0]).toMatchObject({
            id: 'j1',
            recipients: ['a@r.example', 'b@r.example'],
            attempts: 2,
            payload: 'payload-j1',
            origin: 'nodemailer',
            lastError: 'prev',
          })
          expect(claimed[0]!.dueAt.getTime()).toBe(at(MIN).getTime())
          expect(claimed[0]!.firstFailedAt.getTime()).toBe(at(-HOUR).getTime())
          if (raw) expect(rawDateToMs((await raw.rawRetryJob('j1'))!.leasedUntil)).toBe(at(7 * MIN).getTime())
          // leased jobs are not claimed again while the lease runs; the limit applies
          const next = await store.claimDueRetries(at(4 * MIN), 1, 5 * MIN)
          expect(next.map((j) => j.id)).toEqual(['j3'])
          expect(await store.claimDueRetries(at(4 * MIN), 10, 5 * MIN)).toEqual([])
        },
        timeout,
      )

      it(
        'a job whose lease ran out (crashed worker) is claimable again',
        async () => {
          await store.scheduleRetry(job('crash', 0))
          expect((await store.claimDueRetries(at(0), 10, 5 * MIN)).map((j) => j.id)).toEqual(['crash'])
          expect(await store.claimDueRetries(at(5 * MIN - 1), 10, 5 * MIN)).toEqual([])
          expect((await store.claimDueRetries(at(5 * MIN), 10, 5 * MIN)).map((j) => j.id)).toEqual(['crash'])
        },
        timeout,
      )

      it(
        'completeRetry removes a job, idempotently',
        async () => {
          await store.scheduleRetry(job('done', 0))
          await store.claimDueRetries(at(0), 10, MIN)
          await store.completeRetry('done')
          await store.completeRetry('done')
          expect(await store.claimDueRetries(at(HOUR), 10, MIN)).toEqual([])
          if (raw) expect(await raw.rawRetryJob('done')).toBeUndefined()
        },
        timeout,
      )

      it(
        'failRetry reschedules, counts the attempt, narrows recipients and clears the lease',
        async () => {
          await store.scheduleRetry(job('f1', 0, { recipients: ['a@r.example', 'b@r.example'], attempts: 1 }))
          await store.claimDueRetries(at(0), 10, HOUR)
          await store.failRetry('f1', { dueAt: at(10 * MIN), recipients: ['b@r.example'], error: '452 4.2.2 full' })
          if (raw) {
            const rj = await raw.rawRetryJob('f1')
            expect(num(rj!.attempts)).toBe(2)
            expect(rawDateToMs(rj!.dueAt)).toBe(at(10 * MIN).getTime())
            expect(rawDateToMs(rj!.leasedUntil)).toBeUndefined()
            expect(rj!.lastError).toBe('452 4.2.2 full')
          }
          expect(await store.claimDueRetries(at(10 * MIN - 1), 10, HOUR)).toEqual([])
          const [j] = await store.claimDueRetries(at(10 * MIN), 10, HOUR)
          expect(j).toMatchObject({
            id: 'f1',
            attempts: 2,
            recipients: ['b@r.example'],
            lastError: '452 4.2.2 full',
            payload: 'payload-f1',
          })
          // without recipients, the list is kept
          await store.failRetry('f1', { dueAt: at(20 * MIN) })
          const [k] = await store.claimDueRetries(at(20 * MIN), 10, HOUR)
          expect(k).toMatchObject({ attempts: 3, recipients: ['b@r.example'] })
        },
        timeout,
      )

      it(
        'scheduleRetry with an existing id replaces the job',
        async () => {
          await store.scheduleRetry(job('same', 0, { payload: 'one' }))
          await store.scheduleRetry(job('same', MIN, { payload: 'two' }))
          expect(await store.claimDueRetries(at(0), 10, MIN)).toEqual([])
          const claimed = await store.claimDueRetries(at(MIN), 10, MIN)
          expect(claimed.map((j) => j.payload)).toEqual(['two'])
        },
        timeout,
      )

      it(
        'concurrent claimers never get the same job',
        async () => {
          for (let i = 0; i < 30; i++) await store.scheduleRetry(job(`c${String(i).padStart(2, '0')}`, i))
          const batches = await Promise.all(Array.from({ length: 4 }, () => store.claimDueRetries(at(MIN), 10, 10 * MIN)))
          const ids = batches.flat().map((j) => j.id)
          expect(new Set(ids).size).toBe(ids.length)
          for (const b of batches) expect(b.length).toBeLessThanOrEqual(10)
          if (caps.skipLocked) expect(ids.length).toBe(30)
          // whatever was not claimed is still claimable, and nothing claimed comes back
          const rest = await store.claimDueRetries(at(MIN), 100, 10 * MIN)
          const all = [...ids, ...rest.map((j) => j.id)]
          expect(new Set(all).size).toBe(30)
          expect(all.length).toBe(30)
        },
        timeout,
      )
    })

    describe('stats', () => {
      it(
        'returns no rows when nothing happened',
        async () => {
          expect(await store.stats({ since: at(0), until: at(HOUR), groupBy: 'domain' })).toEqual([])
        },
        timeout,
      )

      it(
        'groups by domain, provider and reason within [since, until)',
        async () => {
          await store.recordEvent(ev('a@g.example', 'delivered', 0))
          await store.recordEvent(ev('b@g.example', 'delivered', MIN))
          await store.recordEvent(
            ev('c@g.example', 'bounced', 2 * MIN, { classification: cls('userunknown', { hard: true, provider: 'gmail' }) }),
          )
          await store.recordEvent(
            ev('d@g.example', 'bounced', 3 * MIN, {
              classification: cls('blocked', { scope: 'sender', permanent: true, provider: 'gmail' }),
            }),
          )
          await store.recordEvent(ev('e@h.example', 'deferred', 4 * MIN, { classification: cls('mailboxfull') }))
          await store.recordEvent(ev('e@h.example', 'complaint', 5 * MIN, { classification: cls('feedback') }))
          await store.recordEvent(ev('f@h.example', 'suppressed', 6 * MIN, { source: 'call-time' }))
          await store.recordEvent(
            ev('@h.example', 'deferred', 6 * MIN, { classification: cls('hostunknown', { hard: true, scope: 'domain' }) }),
          )
          await store.recordEvent(ev('old@g.example', 'delivered', -MIN))
          await store.recordEvent(ev('new@g.example', 'delivered', HOUR))
          const byDomain = await store.stats({ since: at(0), until: at(HOUR), groupBy: 'domain' })
          expect(byDomain).toEqual([
            {
              key: 'g.example',
              sent: 4,
              delivered: 2,
              hardBounces: 1,
              softBounces: 1,
              deferred: 0,
              complaints: 0,
              senderRejections: 1,
              bounceRate: 0.25,
            },
            {
              key: 'h.example',
              sent: 2,
              delivered: 0,
              hardBounces: 0,
              softBounces: 0,
              deferred: 1,
              complaints: 1,
              senderRejections: 0,
              bounceRate: 0,
            },
          ])
          const byProvider = await store.stats({ since: at(0), until: at(HOUR), groupBy: 'provider' })
          expect(byProvider.map((r) => [r.key, r.sent])).toEqual([
            ['gmail', 2],
            ['unknown', 4],
          ])
          const byReason = await store.stats({ since: at(0), until: at(HOUR), groupBy: 'reason' })
          expect(byReason.map((r) => [r.key, r.sent])).toEqual([
            ['blocked', 1],
            ['delivered', 2],
            ['feedback', 1],
            ['mailboxfull', 1],
            ['userunknown', 1],
          ])
        },
        timeout,
      )

      it(
        'counts an unclassified delivery to a well-known mailbox domain under its provider',
        async () => {
          await store.recordEvent(ev('a@gmail.com', 'delivered', 0))
          await store.recordEvent(
            ev('b@gmail.com', 'bounced', MIN, { classification: cls('userunknown', { hard: true, provider: 'gmail' }) }),
          )
          await store.recordEvent(ev('c@outlook.com', 'delivered', 2 * MIN))
          await store.recordEvent(ev('d@mail.gmail.com', 'delivered', 3 * MIN)) // exact domains only
          const byProvider = await store.stats({ since: at(0), until: at(HOUR), groupBy: 'provider' })
          expect(byProvider.map((r) => [r.key, r.delivered, r.hardBounces])).toEqual([
            ['gmail', 1, 1],
            ['microsoft', 1, 0],
            ['unknown', 1, 0],
          ])
        },
        timeout,
      )
    })

    describe.runIf(caps.sharedShaping)('shared shaping (putShapingEntries / listShapingEntries / liftShapingEntries)', () => {
      type Entry = NonNullable<Parameters<NonNullable<BounceStore['putShapingEntries']>>[0]>[number]
      const t0 = T0.getTime()
      const entry = (key: string, ruleId: string, sinceMs: number, untilMs: number, extra: Partial<Entry> = {}): Entry => ({
        key,
        ruleId,
        action: 'pause',
        since: t0 + sinceMs,
        until: t0 + untilMs,
        ...extra,
      })
      const members = (s: BounceStore) => {
        expect(typeof s.putShapingEntries, 'capabilities.sharedShaping is set but the store has no putShapingEntries()').toBe('function')
        expect(typeof s.listShapingEntries).toBe('function')
        expect(typeof s.liftShapingEntries).toBe('function')
        return s as Required<Pick<BounceStore, 'putShapingEntries' | 'listShapingEntries' | 'liftShapingEntries'>>
      }

      it(
        'stores actions and lists the active ones in order with every field, millisecond-exact',
        async () => {
          const s = members(store)
          const reply = '421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected volume or user complaints'
          await s.putShapingEntries(
            [
              entry('provider:yahoo', 'yahoo.tss04', 5, 2 * HOUR, { reply, domains: ['yahoo.test', 'ymail.example'] }),
              entry('provider:microsoft', 'microsoft.reputation', 1, 90 * MIN, { action: 'cap', perMinute: 1 }),
              entry('domain:example.net', 'custom', 1, 30 * MIN),
            ],
            at(10),
          )
          expect(await s.listShapingEntries(at(10))).toEqual([
            { key: 'domain:example.net', ruleId: 'custom', action: 'pause', since: t0 + 1, until: t0 + 30 * MIN },
            { key: 'provider:microsoft', ruleId: 'microsoft.reputation', action: 'cap', perMinute: 1, since: t0 + 1, until: t0 + 90 * MIN },
            {
              key: 'provider:yahoo',
              ruleId: 'yahoo.tss04',
              action: 'pause',
              since: t0 + 5,
              until: t0 + 2 * HOUR,
              reply,
              domains: ['yahoo.test', 'ymail.example'],
            },
          ])
          // Expired at the asked time = not listed; an action that already ended is not written.
          expect((await s.listShapingEntries(at(31 * MIN))).map((e) => e.key)).toEqual(['provider:microsoft', 'provider:yahoo'])
          await s.putShapingEntries([entry('domain:old.example', 'custom', -HOUR, -MIN)], at(10))
          expect((await s.listShapingEntries(at(-2 * HOUR))).map((e) => e.key)).not.toContain('domain:old.example')
          await s.putShapingEntries([], at(10))
          if (raw?.rawShapingEntries) {
            const rows = await raw.rawShapingEntries()
            expect(rows.map((r) => [r.key, r.ruleId, r.action, rawDateToMs(r.until)]).sort()).toEqual(
              [
                ['domain:example.net', 'custom', 'pause', t0 + 30 * MIN],
                ['provider:microsoft', 'microsoft.reputation', 'cap', t0 + 90 * MIN],
                ['provider:yahoo', 'yahoo.tss04', 'pause', t0 + 2 * HOUR],
              ].sort(),
            )
          }
        },
        timeout,
      )

      it(
        'the later until wins: a shorter write never shortens a stored action; a longer one replaces it',
        async () => {
          const s = members(store)
          await s.putShapingEntries([entry('provider:yahoo', 'yahoo.tss04', 0, HOUR, { reply: 'first' })], at(0))
          await s.putShapingEntries([entry('provider:yahoo', 'yahoo.tss04', 10, 30 * MIN, { reply: 'shorter' })], at(10))
          expect(await s.listShapingEntries(at(20))).toEqual([
            { key: 'provider:yahoo', ruleId: 'yahoo.tss04', action: 'pause', since: t0, until: t0 + HOUR, reply: 'first' },
          ])
          await s.putShapingEntries(
            [entry('provider:yahoo', 'yahoo.tss04', 20, 3 * HOUR, { action: 'cap', perMinute: 5, reply: 'longer' })],
            at(20),
          )
          expect(await s.listShapingEntries(at(30))).toEqual([
            {
              key: 'provider:yahoo',
              ruleId: 'yahoo.tss04',
              action: 'cap',
              perMinute: 5,
              since: t0 + 20,
              until: t0 + 3 * HOUR,
              reply: 'longer',
            },
          ])
          // Same key, other rule: a separate row.
          await s.putShapingEntries([entry('provider:yahoo', 'other', 40, MIN)], at(40))
          expect((await s.listShapingEntries(at(50))).map((e) => e.ruleId).sort()).toEqual(['other', 'yahoo.tss04'])
          if (raw?.rawShapingEntries) {
            const row = (await raw.rawShapingEntries()).find((r) => r.ruleId === 'yahoo.tss04')
            expect(rawDateToMs(row?.until)).toBe(t0 + 3 * HOUR)
          }
        },
        timeout,
      )

      it(
        'concurrent writers of one key end with the latest until',
        async () => {
          const s = members(store)
          const untils = Array.from({ length: 12 }, (_, i) => ((i * 7) % 12) + 1)
          await Promise.all(untils.map((u) => s.putShapingEntries([entry('domain:race.example', 'r', 0, u * MIN)], at(0))))
          const got = await s.listShapingEntries(at(0))
          expect(got.map((e) => [e.key, e.until])).toEqual([['domain:race.example', t0 + 12 * MIN]])
        },
        timeout,
      )

      it(
        'liftShapingEntries removes one key or all, returns the count, and is idempotent',
        async () => {
          const s = members(store)
          await s.putShapingEntries(
            [entry('provider:yahoo', 'a', 0, HOUR), entry('provider:yahoo', 'b', 0, HOUR), entry('provider:gmail', 'a', 0, HOUR)],
            at(0),
          )
          expect(await s.liftShapingEntries('provider:yahoo')).toBe(2)
          expect(await s.liftShapingEntries('provider:yahoo')).toBe(0)
          expect((await s.listShapingEntries(at(0))).map((e) => e.key)).toEqual(['provider:gmail'])
          expect(await s.liftShapingEntries()).toBe(1)
          expect(await s.listShapingEntries(at(0))).toEqual([])
          if (raw?.rawShapingEntries) expect(await raw.rawShapingEntries()).toEqual([])
        },
        timeout,
      )

      it(
        'rejects a malformed entry with EINVALID_OPTION before writing any of the batch',
        async () => {
          const s = members(store)
          const good = entry('provider:yahoo', 'ok', 0, HOUR)
          await expectCode(s.putShapingEntries([good, { ...good, ruleId: 'bad', action: 'stop' as never }], at(0)), 'EINVALID_OPTION')
          await expectCode(s.putShapingEntries([good, { ...good, ruleId: 'bad2', until: Number.NaN }], at(0)), 'EINVALID_OPTION')
          await expectCode(s.putShapingEntries([good, { ...good, ruleId: 'bad3', action: 'cap' }], at(0)), 'EINVALID_OPTION')
          await expectCode(s.putShapingEntries([{ ...good, key: '' }], at(0)), 'EINVALID_OPTION')
          expect(await s.listShapingEntries(at(0))).toEqual([])
          await store.close()
          await expectCode(s.putShapingEntries([good], at(0)), 'ESTORE_CLOSED')
          await expectCode(s.listShapingEntries(at(0)), 'ESTORE_CLOSED')
          await expectCode(s.liftShapingEntries(), 'ESTORE_CLOSED')
        },
        timeout,
      )
    })

    describe.runIf(caps.shapingSlots)('shared cap slots (takeShapingSlots)', () => {
      const take = (s: BounceStore) => {
        expect(typeof s.takeShapingSlots, 'capabilities.shapingSlots is set but the store has no takeShapingSlots()').toBe('function')
        return (key: string, windowStart: Date, limit: number, n: number) =>
          (s.takeShapingSlots as NonNullable<BounceStore['takeShapingSlots']>).call(s, key, windowStart, limit, n)
      }

      it(
        'grants up to the limit per key and window, partially when fewer are left, and counts each window apart',
        async () => {
          const t = take(store)
          expect(await t('provider:yahoo', at(0), 5, 2)).toBe(2)
          expect(await t('provider:yahoo', at(0), 5, 2)).toBe(2)
          expect(await t('provider:yahoo', at(0), 5, 2)).toBe(1)
          expect(await t('provider:yahoo', at(0), 5, 1)).toBe(0)
          // Other keys and other windows have their own budget; keys compare exactly.
          expect(await t('provider:Yahoo', at(0), 5, 3)).toBe(3)
          expect(await t('provider:yahoo', at(MIN), 5, 4)).toBe(4)
          expect(await t('domain:x.example', at(0), 0, 1)).toBe(0)
          // A smaller limit than what was granted grants nothing (never a negative count).
          expect(await t('provider:yahoo', at(0), 3, 1)).toBe(0)
          if (raw?.rawShapingSlots) {
            const rows = (await raw.rawShapingSlots())
              .map((r) => [r.key, rawDateToMs(r.windowStart), Number(r.used)] as const)
              .filter(([k]) => k === 'provider:yahoo')
              .sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0))
            expect(rows).toEqual([
              ['provider:yahoo', T0.getTime(), 5],
              ['provider:yahoo', T0.getTime() + MIN, 4],
            ])
          }
        },
        timeout,
      )

      it(
        'concurrent takers never exceed the limit together, and use it up',
        async () => {
          const t = take(store)
          const grants = await Promise.all(Array.from({ length: 40 }, (_, i) => t('provider:microsoft', at(2 * MIN), 7, 1 + (i % 3))))
          expect(grants.every((g) => Number.isInteger(g) && g >= 0 && g <= 3)).toBe(true)
          expect(grants.reduce((a, b) => a + b, 0)).toBe(7)
          expect(await t('provider:microsoft', at(2 * MIN), 7, 1)).toBe(0)
          if (raw?.rawShapingSlots) {
            const row = (await raw.rawShapingSlots()).find((r) => r.key === 'provider:microsoft')
            expect(Number(row?.used)).toBe(7)
          }
        },
        timeout,
      )

      it(
        'prunes windows older than the retention while taking a later one',
        async () => {
          const t = take(store)
          expect(await t('provider:gmail', at(0), 2, 1)).toBe(1)
          expect(await t('provider:comcast', at(MIN), 2, 1)).toBe(1)
          // A call an hour later, for any key, may drop both old windows; the new one is kept.
          expect(await t('domain:later.example', at(HOUR), 2, 2)).toBe(2)
          if (raw?.rawShapingSlots) {
            const rows = await raw.rawShapingSlots()
            expect(rows.map((r) => r.key)).toEqual(['domain:later.example'])
          }
          // Whether pruned or not, an old window never grants beyond its limit.
          expect(await t('provider:gmail', at(0), 2, 5)).toBeLessThanOrEqual(2)
        },
        timeout,
      )

      it(
        'rejects malformed arguments with EINVALID_OPTION and fails with ESTORE_CLOSED after close()',
        async () => {
          const t = take(store)
          await expectCode(t('', at(0), 1, 1), 'EINVALID_OPTION')
          await expectCode(t('x'.repeat(321), at(0), 1, 1), 'EINVALID_OPTION')
          await expectCode(t('provider:yahoo', new Date(Number.NaN), 1, 1), 'EINVALID_OPTION')
          await expectCode(t('provider:yahoo', at(0), -1, 1), 'EINVALID_OPTION')
          await expectCode(t('provider:yahoo', at(0), 1.5, 1), 'EINVALID_OPTION')
          await expectCode(t('provider:yahoo', at(0), 1, 0), 'EINVALID_OPTION')
          await expectCode(t(42 as never, at(0), 1, 1), 'EINVALID_OPTION')
          expect(await t('provider:yahoo', at(0), 1, 1)).toBe(1)
          await store.close()
          await expectCode(t('provider:yahoo', at(0), 1, 1), 'ESTORE_CLOSED')
        },
        timeout,
      )
    })

    describe('close', () => {
      it(
        'is idempotent and makes every later call fail with ESTORE_CLOSED',
        async () => {
          await store.suppress(sup('c@close.example', 0))
          await store.close()
          await store.close()
          await expectCode(store.findSuppressions(['c@close.example'], at(0)), 'ESTORE_CLOSED')
          await expectCode(store.suppress(sup('d@close.example', 0)), 'ESTORE_CLOSED')
          await expectCode(store.unsuppress('c@close.example'), 'ESTORE_CLOSED')
          await expectCode(store.listSuppressions(), 'ESTORE_CLOSED')
          await expectCode(store.recordEvent(ev('c@close.example', 'delivered', 0)), 'ESTORE_CLOSED')
          await expectCode(store.getRecipientState('c@close.example'), 'ESTORE_CLOSED')
          await expectCode(store.listEvents('c@close.example'), 'ESTORE_CLOSED')
          await expectCode(store.scheduleRetry(job('x', 0)), 'ESTORE_CLOSED')
          await expectCode(store.claimDueRetries(at(0), 1, MIN), 'ESTORE_CLOSED')
          await expectCode(store.completeRetry('x'), 'ESTORE_CLOSED')
          await expectCode(store.failRetry('x', { dueAt: at(0) }), 'ESTORE_CLOSED')
          await expectCode(store.stats({ since: at(0), groupBy: 'domain' }), 'ESTORE_CLOSED')
        },
        timeout,
      )
    })
  })
}
