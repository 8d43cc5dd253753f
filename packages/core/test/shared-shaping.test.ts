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
})
