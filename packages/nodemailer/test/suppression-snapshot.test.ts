/**
 * The opt-in suppression snapshot (`suppressionSnapshot`), against a real smtp-server: lookups of
 * recipients it does not list skip the store; listed ones are still decided by the store; the
 * guard's own suppressions count at once; another writer's count after a refresh; a snapshot that
 * cannot be refreshed stops being used.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { MemoryBounceStore, createBounceGuard } from '@bounce-guard/core'
import type { BounceStore } from '@bounce-guard/core'
import { withBounceGuard } from '@bounce-guard/nodemailer'
import type { GuardedTransport, WithBounceGuardOptions } from '@bounce-guard/nodemailer'
import { useMta } from './helpers/mta.js'
import { makeGuard, testClock } from './helpers/guard.js'
import { flaky } from './helpers/flaky-store.js'
import type { FlakyStore } from './helpers/flaky-store.js'

const FROM = 'sender@example.org'
const AT = new Date(Date.UTC(2025, 0, 1))

describe('suppressionSnapshot', () => {
  const mta = useMta()
  let mem: MemoryBounceStore
  let store: FlakyStore
  let finds: string[][]
  let open: Array<{ close(): void }>

  beforeEach(async () => {
    mem = new MemoryBounceStore()
    await mem.suppress({ key: 'gone-for-good@example.com', scope: 'address', reason: 'userunknown', source: 'manual', at: AT })
    await mem.suppress({ key: 'dead-domain.example', scope: 'domain', reason: 'hostunknown', source: 'manual', at: AT })
    store = flaky(mem)
    finds = []
    const find = mem.findSuppressions.bind(mem)
    mem.findSuppressions = (addresses, now) => {
      finds.push([...addresses])
      return find(addresses, now)
    }
    open = []
  })
  afterEach(() => {
    for (const t of open) t.close()
  })

  async function transport(extra: Partial<WithBounceGuardOptions> = {}, s: BounceStore = store) {
    const guard = makeGuard(s, testClock())
    const gt = withBounceGuard(
      { host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true },
      { guard, suppressionSnapshot: { maxStalenessMs: 60_000 }, ...extra },
    ) as GuardedTransport
    const t = nodemailer.createTransport(gt)
    open.push(t)
    await gt.snapshot?.refresh()
    return { gt, t, guard }
  }
  const send = (t: { sendMail(d: object): Promise<any> }, to: string | string[]) =>
    t.sendMail({ from: FROM, to, subject: 's', text: 'x' }).then(
      (info) => ({ info, err: undefined as any }),
      (err) => ({ info: undefined as any, err }),
    )

  it('sends to recipients it does not list without a store lookup, and still refuses the suppressed ones', async () => {
    const { t } = await transport()
    const ok = await send(t, ['Alice@example.com', 'bob@example.net'])
    expect(ok.info.accepted).toEqual(['Alice@example.com', 'bob@example.net'])
    expect(finds).toEqual([])

    const mixed = await send(t, ['carol@example.com', 'GONE-FOR-GOOD@example.com', 'x@dead-domain.example'])
    expect(mixed.info.accepted).toEqual(['carol@example.com'])
    expect(mixed.info.bounceGuard.suppressed).toEqual(['GONE-FOR-GOOD@example.com', 'x@dead-domain.example'])
    // Only the listed ones were asked to the store.
    expect(finds).toEqual([['gone-for-good@example.com', 'x@dead-domain.example']])
    expect(mta.rcptCount('gone-for-good@example.com') + mta.rcptCount('x@dead-domain.example')).toBe(0)
  })

  it("counts the guard's own new suppression on the very next send", async () => {
    const { t } = await transport()
    const first = await send(t, 'dead@example.com') // 550 5.1.1: suppressed by the policy
    expect(first.err).toBeInstanceOf(Error)
    const again = await send(t, 'dead@example.com')
    expect(again.err.code).toBe('ESUPPRESSED')
    expect(mta.rcptCount('dead@example.com')).toBe(1)
  })

  it("counts another writer's suppression after a refresh, not before (the documented staleness)", async () => {
    const { gt, t, guard } = await transport()
    // Written past this guard, as another app server or the CLI would, by a writer whose clock is
    // 30 s behind this guard's (within skewMarginMs).
    const at = new Date(guard.now().getTime() - 30_000)
    await mem.suppress({ key: 'elsewhere@example.com', scope: 'address', reason: 'userunknown', source: 'manual', at })
    const before = await send(t, 'elsewhere@example.com')
    expect(before.info.accepted).toEqual(['elsewhere@example.com'])
    await gt.snapshot?.refresh()
    const after = await send(t, 'elsewhere@example.com')
    expect(after.err.code).toBe('ESUPPRESSED')
    expect(mta.rcptCount('elsewhere@example.com')).toBe(1)
  })

  it('never refuses on its own word: a lifted suppression is sent to', async () => {
    const { t } = await transport()
    await mem.unsuppress('gone-for-good@example.com')
    const r = await send(t, 'gone-for-good@example.com')
    expect(r.info.accepted).toEqual(['gone-for-good@example.com'])
    expect(finds).toEqual([['gone-for-good@example.com']])
  })

  it('is not used once older than maxStalenessMs: lookups go to the store (fail-closed refuses)', async () => {
    const { t } = await transport({ onStoreError: 'fail-closed', suppressionSnapshot: { maxStalenessMs: 40 } })
    store.down = true // refreshes fail from now on
    await new Promise((r) => setTimeout(r, 120))
    const r = await send(t, 'someone@example.com')
    expect(r.err.code).toBe('ESTORE_UNAVAILABLE')
    expect(store.refused.get('findSuppressions')).toBeGreaterThan(0)
    expect(mta.rcptCount('someone@example.com')).toBe(0)
    store.down = false
  })

  it('turns itself off above maxEntries and asks the store for every send', async () => {
    const { gt, t } = await transport({ suppressionSnapshot: { maxEntries: 1 } })
    expect(gt.snapshot?.fresh).toBe(false)
    const r = await send(t, 'someone@example.com')
    expect(r.info.accepted).toEqual(['someone@example.com'])
    expect(finds).toEqual([['someone@example.com']])
  })

  it('finds a suppressed key whatever case the guard keeps in local parts, and clears others without a lookup', async () => {
    await mem.suppress({ key: 'Case.Kept@example.com', scope: 'address', reason: 'userunknown', source: 'manual', at: AT })
    const guard = createBounceGuard({ store, now: testClock().now, random: () => 0, normalize: { caseInsensitiveLocalPart: false } })
    const gt = withBounceGuard(
      { host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true },
      { guard, suppressionSnapshot: { maxStalenessMs: 60_000 } },
    ) as GuardedTransport
    const t = nodemailer.createTransport(gt)
    open.push(t)
    await gt.snapshot?.refresh()
    const r = await send(t, ['Case.Kept@example.com', 'other@example.com'])
    expect(r.info.accepted).toEqual(['other@example.com'])
    expect(r.info.bounceGuard.suppressed).toEqual(['Case.Kept@example.com'])
    // The listed one was asked to the store in the guard's own form; the other was not asked.
    expect(finds).toEqual([['Case.Kept@example.com']])
    // Another case of the local part is another address for this guard: the store says so.
    const other = await send(t, 'case.kept@example.com')
    expect(other.info.accepted).toEqual(['case.kept@example.com'])
    expect(finds).toEqual([['Case.Kept@example.com'], ['case.kept@example.com']])
  })

  it('rejects bad options', () => {
    const guard = makeGuard(store, testClock())
    for (const bad of [{ maxStalenessMs: -1 }, { maxEntries: 0 }, { skewMarginMs: Number.NaN }, 'yes'] as const) {
      expect(() => withBounceGuard({ host: '127.0.0.1', port: mta.port }, { guard, suppressionSnapshot: bad as never })).toThrow(
        /suppressionSnapshot/,
      )
    }
  })
})
