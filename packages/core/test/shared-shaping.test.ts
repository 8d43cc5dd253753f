import { afterEach, describe, expect, it } from 'vitest'
import { BounceGuardError, MemoryBounceStore, createShaper, createSharedShaper, supportsSharedShaping } from '@bounce-guard/core'
import type { BounceEvent, SharedShaper } from '@bounce-guard/core'

const T0 = Date.UTC(2030, 4, 1, 8, 0, 0)
const TSS04 =
  '421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes'
const RL = '421 Too many sessions opened RL000010 - https://postmaster.comcast.net/smtp-error-codes.php#RL000010'

function deferred(domain: string, at: number, reply: string): BounceEvent {
  return { recipient: `x@${domain}`, domain, type: 'deferred', at: new Date(at), source: 'smtp', reply }
}

const made: SharedShaper[] = []
afterEach(() => {
  for (const s of made.splice(0)) s.stop()
})

describe('createSharedShaper', () => {
  it('a pause decided by one process is seen by another through the store after a refresh', async () => {
    let t = T0
    const now = () => new Date(t)
    const store = new MemoryBounceStore()
    const a = createSharedShaper({ store, shaper: createShaper({ now }), now, refreshMs: 60_000 })
    const b = createSharedShaper({ store, shaper: createShaper({ now }), now, refreshMs: 60_000 })
    made.push(a, b)
    await Promise.all([a.ready, b.ready])
    for (let i = 0; i < 3; i++) a.observe(deferred('yahoo.com', t, TSS04))
    expect(a.check('u@yahoo.com').action).toBe('pause')
    expect(b.check('u@yahoo.com').action).toBe('send') // not refreshed yet
    await a.refresh()
    const rows = await store.listShapingEntries(now())
    expect(rows.map((r) => [r.key, r.ruleId, r.action])).toEqual([['provider:yahoo', 'yahoo.tss04', 'pause']])
    expect(rows[0]!.until).toBe(T0 + 2 * 3_600_000)
    await b.refresh()
    const d = b.check('someone@yahoo.com')
    expect(d).toMatchObject({ action: 'pause', ruleId: 'yahoo.tss04', key: 'provider:yahoo' })
    expect(d.action === 'pause' && d.until.getTime()).toBe(T0 + 2 * 3_600_000)
    expect(b.check('someone@example.org').action).toBe('send')
    // After the pause ends, both send again and the store lists nothing.
    t += 2 * 3_600_000 + 1
    await b.refresh()
    expect(b.check('someone@yahoo.com').action).toBe('send')
    expect(await store.listShapingEntries(now())).toEqual([])
  })

  it("the periodic refresh picks up another process's action within refreshMs", async () => {
    const store = new MemoryBounceStore()
    const a = createSharedShaper({ store, refreshMs: 30 })
    const b = createSharedShaper({ store, refreshMs: 30 })
    made.push(a, b)
    a.observe(deferred('comcast.net', Date.now(), RL))
    expect(a.check('comcast.net').action).toBe('pause')
    const deadline = Date.now() + 3000
    while (b.check('x@comcast.net').action === 'send' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(b.check('x@comcast.net')).toMatchObject({ action: 'pause', ruleId: 'comcast.rl000010' })
  })

  it('a slower writer never shortens a stored pause; liftShared removes it for everyone', async () => {
    const store = new MemoryBounceStore()
    const now = new Date(T0)
    const base = { key: 'domain:example.net', ruleId: 'r1', action: 'pause' as const, since: T0 }
    await store.putShapingEntries([{ ...base, until: T0 + 60_000 }], now)
    await store.putShapingEntries([{ ...base, until: T0 + 30_000 }], now)
    expect((await store.listShapingEntries(now))[0]!.until).toBe(T0 + 60_000)
    const a = createSharedShaper({ store, shaper: createShaper({ now: () => now }), now: () => now, refreshMs: 60_000 })
    made.push(a)
    await a.ready
    expect(a.check('example.net').action).toBe('pause')
    expect(await a.liftShared('domain:example.net')).toBe(1)
    expect(a.check('example.net').action).toBe('send')
    expect(await store.listShapingEntries(now)).toEqual([])
  })

  it('refuses a store without the shaping members, and bad options, with EINVALID_OPTION', () => {
    const bare = { findSuppressions: async () => new Map() }
    expect(supportsSharedShaping(bare)).toBe(false)
    expect(supportsSharedShaping(new MemoryBounceStore())).toBe(true)
    expect(() => createSharedShaper({ store: bare as never })).toThrow(BounceGuardError)
    expect(() => createSharedShaper({ store: new MemoryBounceStore(), refreshMs: -1 })).toThrow(/refreshMs/)
  })

  it('store errors in the background go to onError, never into check', async () => {
    const store = new MemoryBounceStore()
    const errors: unknown[] = []
    await store.close()
    const a = createSharedShaper({ store, refreshMs: 60_000, onError: (e) => errors.push(e) })
    made.push(a)
    await a.ready
    expect(errors[0]).toBeInstanceOf(BounceGuardError)
    expect((errors[0] as BounceGuardError).code).toBe('ESTORE_CLOSED')
    expect(a.check('x@yahoo.com').action).toBe('send')
  })

  describe('acquire: caps that hold across processes', () => {
    const CAP_RULE = {
      id: 'test.cap',
      match: { pattern: /\bCAPME\b/ },
      per: 'domain' as const,
      action: { type: 'cap' as const, perMinute: 6 },
      durationMs: 3_600_000,
    }
    /** `n` processes sharing one store, a cap of 6 per minute on domain:capped.example, one clock. */
    async function processes(n: number, store: MemoryBounceStore, now: () => Date, onError?: (e: unknown) => void) {
      const list = Array.from({ length: n }, () =>
        createSharedShaper({
          store,
          shaper: createShaper({ now, rules: [CAP_RULE] }),
          now,
          refreshMs: 60_000,
          ...(onError ? { onError } : {}),
        }),
      )
      made.push(...list)
      await Promise.all(list.map((p) => p.ready))
      list[0]!.observe({ ...deferred('capped.example', now().getTime(), '451 CAPME slow down'), recipient: 'a@capped.example' })
      for (const p of list) await p.refresh()
      for (const p of list) expect(p.caps('x@capped.example')).toEqual([{ key: 'domain:capped.example', perMinute: 6, ruleId: 'test.cap' }])
      return list
    }
    /** Every process asks once a second for `seconds`; returns the sends per process. */
    async function run(list: SharedShaper[], step: (ms: number) => void, seconds: number, how: 'acquire' | 'check') {
      const sent = list.map(() => 0)
      for (let s = 0; s < seconds; s++) {
        for (const [i, p] of list.entries()) {
          const d = how === 'acquire' ? await p.acquire('x@capped.example') : p.check('x@capped.example')
          if (d.action === 'send') sent[i]!++
        }
        step(1000)
      }
      return sent
    }

    it('four processes together send no more than the cap per minute window (check alone lets each send the cap)', async () => {
      let t = T0 // a whole minute
      const now = () => new Date(t)
      const step = (ms: number) => {
        t += ms
      }
      const shared = await processes(4, new MemoryBounceStore(), now)
      const perWindow: number[] = []
      for (let w = 0; w < 3; w++) perWindow.push((await run(shared, step, 60, 'acquire')).reduce((a, b) => a + b, 0))
      expect(perWindow).toEqual([6, 6, 6])
      // The same four processes with per-process pacing only (the gap this closes).
      t = T0 + 10 * 60_000
      const local = await processes(4, new MemoryBounceStore(), now)
      const sent = await run(local, step, 60, 'check')
      expect(sent.reduce((a, b) => a + b, 0)).toBeGreaterThan(6)
    })

    it('a used-up window answers pace until the next window starts', async () => {
      let t = T0 + 30_000
      const now = () => new Date(t)
      const store = new MemoryBounceStore()
      const [a] = await processes(1, store, now)
      const windowStart = new Date(T0)
      expect(await store.takeShapingSlots('domain:capped.example', windowStart, 6, 6)).toBe(6) // others used it up
      const d = await a!.acquire('x@capped.example')
      expect(d).toEqual({ action: 'pace', delayMs: 30_000, ruleId: 'test.cap', key: 'domain:capped.example' })
      expect((await a!.acquire('x@other.example')).action).toBe('send') // not capped
      t = T0 + 60_000
      expect((await a!.acquire('x@capped.example')).action).toBe('send')
    })

    it('falls back to per-process pacing when the store fails or lacks takeShapingSlots, reporting to onError', async () => {
      let t = T0
      const now = () => new Date(t)
      const errors: unknown[] = []
      const failing = new MemoryBounceStore()
      failing.takeShapingSlots = async () => {
        throw new Error('connection reset')
      }
      const [a] = await processes(1, failing, now, (e) => errors.push(e))
      expect((await a!.acquire('x@capped.example')).action).toBe('send')
      expect(errors).toHaveLength(1)
      expect((errors[0] as BounceGuardError).code).toBe('ESTORE')
      expect(((errors[0] as BounceGuardError).cause as Error).message).toBe('connection reset')
      // The local pacing still holds: the next slot is 10 s away.
      expect(await a!.acquire('x@capped.example')).toMatchObject({ action: 'pace', delayMs: 10_000 })
      t += 10_000
      expect((await a!.acquire('x@capped.example')).action).toBe('send')

      const bare = new MemoryBounceStore()
      ;(bare as { takeShapingSlots?: unknown }).takeShapingSlots = undefined
      const [b] = await processes(1, bare, now)
      expect((await b!.acquire('x@capped.example')).action).toBe('send')
      expect(await b!.acquire('x@capped.example')).toMatchObject({ action: 'pace', delayMs: 10_000 })
    })
  })
})
