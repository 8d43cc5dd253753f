/**
 * Sends that arrive together share one suppression lookup (CheckBatcher), against a real
 * smtp-server: each send still gets its own answer, suppressed recipients never reach the server,
 * and a store that cannot be reached fails every send of the batch the way `onStoreError` says.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { MemoryBounceStore, isBounceGuardError } from '@bounce-guard/core'
import type { BounceStore } from '@bounce-guard/core'
import { withBounceGuard } from '@bounce-guard/nodemailer'
import { CheckBatcher } from '../src/check-batcher.js'
import { useMta } from './helpers/mta.js'
import { makeGuard, testClock } from './helpers/guard.js'
import { flaky } from './helpers/flaky-store.js'

const FROM = 'sender@example.org'

/** The store, counting `findSuppressions` calls and the addresses each one asked about. */
function counting(store: BounceStore): { store: BounceStore; calls: string[][] } {
  const calls: string[][] = []
  const find = store.findSuppressions.bind(store)
  store.findSuppressions = (addresses, now) => {
    calls.push([...addresses])
    return find(addresses, now)
  }
  return { store, calls }
}

describe('suppression lookups of concurrent sends', () => {
  const mta = useMta()

  for (const pool of [false, true]) {
    it(`gives each send its own answer from a shared lookup (${pool ? 'pool' : 'smtp'})`, async () => {
      const mem = new MemoryBounceStore()
      const at = new Date(Date.UTC(2025, 0, 1))
      await mem.suppress({ key: 'out1@example.com', scope: 'address', reason: 'userunknown', source: 'manual', at })
      await mem.suppress({ key: 'out2@example.com', scope: 'address', reason: 'userunknown', source: 'manual', at })
      await mem.suppress({ key: 'blocked.example', scope: 'domain', reason: 'hostunknown', source: 'manual', at })
      const { store, calls } = counting(mem)
      const guard = makeGuard(store, testClock())
      const t = nodemailer.createTransport(
        withBounceGuard({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true, pool, maxConnections: 2 }, { guard }),
      )
      const sends = [
        ['ok1@example.com'],
        ['OUT1@example.com'],
        ['ok2@example.com', 'out2@example.com'],
        ['someone@blocked.example', 'ok3@example.com'],
        ['out1@example.com', 'out2@example.com'],
        ['ok4@example.com'],
      ]
      const results = await Promise.allSettled(sends.map((to) => t.sendMail({ from: FROM, to, subject: 'batch', text: 'x' })))
      t.close()

      const val = (i: number) => (results[i] as PromiseFulfilledResult<any>).value
      const err = (i: number) => (results[i] as PromiseRejectedResult).reason
      expect(val(0).accepted).toEqual(['ok1@example.com'])
      expect(val(0).bounceGuard.suppressed).toEqual([])
      expect(isBounceGuardError(err(1)) && err(1).code).toBe('ESUPPRESSED')
      expect(err(1).bounceGuard.suppressed).toEqual(['OUT1@example.com'])
      expect(val(2).accepted).toEqual(['ok2@example.com'])
      expect(val(2).bounceGuard.suppressed).toEqual(['out2@example.com'])
      expect(val(3).accepted).toEqual(['ok3@example.com'])
      expect(val(3).bounceGuard.suppressed).toEqual(['someone@blocked.example'])
      expect(err(4).code).toBe('ESUPPRESSED')
      expect(err(4).bounceGuard.suppressed).toEqual(['out1@example.com', 'out2@example.com'])
      expect(val(5).accepted).toEqual(['ok4@example.com'])

      for (const a of ['out1@example.com', 'out2@example.com', 'someone@blocked.example']) expect(mta.rcptCount(a)).toBe(0)
      expect(mta.messages.flatMap((m) => m.to).sort()).toEqual(['ok1@example.com', 'ok2@example.com', 'ok3@example.com', 'ok4@example.com'])
      // Every send was looked up, in fewer round trips than sends.
      const asked = new Set(calls.flat())
      for (const a of ['ok1@example.com', 'out1@example.com', 'someone@blocked.example', 'ok4@example.com']) expect(asked.has(a)).toBe(true)
      expect(calls.length).toBeLessThan(sends.length)
    })
  }

  it('fails every send of a batch alike when the store is down (fail-open sends, fail-closed refuses)', async () => {
    const store = flaky(new MemoryBounceStore())
    const guard = makeGuard(store, testClock())
    const smtp = { host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true }
    const open = nodemailer.createTransport(withBounceGuard(smtp, { guard }))
    const closed = nodemailer.createTransport(withBounceGuard(smtp, { guard, onStoreError: 'fail-closed' }))
    store.down = true
    const a = await Promise.all(
      ['a1@example.com', 'a2@example.com'].map((to) => open.sendMail({ from: FROM, to, subject: 's', text: 'x' })),
    )
    const b = await Promise.allSettled(
      ['b1@example.com', 'b2@example.com'].map((to) => closed.sendMail({ from: FROM, to, subject: 's', text: 'x' })),
    )
    for (const info of a) expect((info as any).bounceGuard.unchecked).toBe(true)
    expect(a.flatMap((i) => i.accepted)).toEqual(['a1@example.com', 'a2@example.com'])
    for (const r of b) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason.code).toBe('ESTORE_UNAVAILABLE')
    }
    expect(mta.rcptCount('b1@example.com') + mta.rcptCount('b2@example.com')).toBe(0)
    store.down = false
    open.close()
    closed.close()
  })

  it('fails the sends, not the process, when a guard throws from check()', async () => {
    const guard = makeGuard(new MemoryBounceStore(), testClock())
    const throwing = Object.assign(Object.create(guard), {
      check() {
        throw new Error('check exploded')
      },
    })
    const batcher = new CheckBatcher(throwing)
    const results = await Promise.allSettled([batcher.suppressed(['a@example.com']), batcher.suppressed(['b@example.com'])])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('check exploded')
  })

  it('starts the lookup at once when many recipients are waiting', async () => {
    const { store, calls } = counting(new MemoryBounceStore())
    const batcher = new CheckBatcher(makeGuard(store, testClock()))
    const many = Array.from({ length: 600 }, (_, i) => `r${i}@example.com`)
    const p = batcher.suppressed(many)
    // Before the end of this turn of the event loop: the lookup has already been asked for.
    expect(calls.length).toBe(1)
    expect(await p).toEqual([])
  })
})
