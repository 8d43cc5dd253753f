import { describe, expect, it } from 'vitest'
import { BounceGuardError, MemoryBounceStore, basicClassify, createBounceGuard } from '@bounce-guard/core'
import type {
  BounceAlert,
  BounceClassification,
  BounceEvent,
  BounceReason,
  BounceScope,
  RecordResult,
  Suppression,
} from '@bounce-guard/core'

const MIN = 60_000
const HOUR = 60 * MIN
const T0 = new Date('2030-05-01T08:00:00.000Z')

function clock(start = T0) {
  let t = start.getTime()
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) }
}

function cls(
  reason: BounceReason,
  o: { hard?: boolean; permanent?: boolean; scope?: BounceScope; provider?: string } = {},
): BounceClassification {
  const c: BounceClassification = {
    reason,
    hard: o.hard ?? false,
    permanent: o.permanent ?? o.hard ?? false,
    scope: o.scope ?? 'recipient',
    ruleId: `test.${reason}`,
  }
  if (o.provider) c.provider = o.provider
  return c
}

function setup() {
  const store = new MemoryBounceStore()
  const c = clock()
  const guard = createBounceGuard({ store, now: c.now, random: () => 0 })
  const seen: Record<string, unknown[]> = { suppressed: [], bounce: [], deferred: [], delivered: [], complaint: [], alert: [], error: [] }
  for (const k of Object.keys(seen)) guard.on(k as 'bounce', (x: unknown) => void seen[k]!.push(x))
  return { store, guard, clock: c, seen }
}

describe('check and normalisation', () => {
  it('one suppression covers every case and Unicode form of an address', async () => {
    const { guard } = setup()
    await guard.record({
      recipient: 'Alice@Example.COM',
      type: 'bounced',
      source: 'smtp',
      classification: cls('userunknown', { hard: true }),
    })
    const inputs = ['alice@example.com', 'ALICE@EXAMPLE.COM.', ' <Alice@example.com> ', 'mailto:alice@Example.com', 'alicia@example.com']
    const r = await guard.check(inputs)
    expect(r.suppressed.map((s) => s.recipient)).toEqual(inputs.slice(0, 4))
    expect(r.suppressed.every((s) => s.normalized === 'alice@example.com')).toBe(true)
    expect(r.allowed).toEqual(['alicia@example.com'])
  })

  it('an IDNA domain is one key in Unicode and punycode, any case or normal form', async () => {
    const { guard, store } = setup()
    await guard.record({ recipient: 'José@Bücher.example', type: 'complaint', source: 'feedback-loop' })
    // the store holds the single normalised key
    const page = await store.listSuppressions({ now: T0 })
    expect(page.items.map((s) => s.key)).toEqual(['josé@xn--bcher-kva.example'])
    const r = await guard.check(['jose\u0301@xn--bcher-kva.example', 'JOSÉ@BÜCHER.EXAMPLE', 'josé@bücher.example', 'jose@bücher.example'])
    expect(r.suppressed).toHaveLength(3)
    expect(r.allowed).toEqual(['jose@bücher.example'])
  })

  it('reports invalid inputs apart, keeps input order, and makes one store call', async () => {
    const { guard, store } = setup()
    await store.suppress({ key: 'b@x.example', scope: 'address', reason: 'manual', source: 'manual', at: T0 })
    let calls = 0
    const orig = store.findSuppressions.bind(store)
    store.findSuppressions = async (a: readonly string[], n?: Date) => {
      calls++
      return orig(a, n)
    }
    const r = await guard.check(['a@x.example', 'not-an-address', 'B@X.example', '', 'c@x.example', 'b@x.example'])
    expect(calls).toBe(1)
    expect(r.allowed).toEqual(['a@x.example', 'c@x.example'])
    expect(r.suppressed.map((s) => s.recipient)).toEqual(['B@X.example', 'b@x.example'])
    expect(r.invalid).toEqual(['not-an-address', ''])
    expect((await guard.check([])).allowed).toEqual([])
    expect(calls).toBe(1)
  })

  it('emits suppressed with atCallTime for each refused recipient', async () => {
    const { guard, store, seen } = setup()
    await store.suppress({ key: 'gone.example', scope: 'domain', reason: 'hostunknown', source: 'dsn', at: T0 })
    await guard.check(['a@gone.example', 'b@ok.example'])
    expect(seen.suppressed).toEqual([
      { recipient: 'a@gone.example', suppression: expect.objectContaining({ key: 'gone.example', scope: 'domain' }), atCallTime: true },
    ])
  })
})

describe('record', () => {
  it('records, decides, suppresses and emits bounce + suppressed once', async () => {
    const { guard, store, seen } = setup()
    const r = await guard.record({
      recipient: 'Dead@Example.com',
      type: 'bounced',
      source: 'smtp',
      reply: '550 5.1.1 no such user',
      classification: cls('userunknown', { hard: true }),
      messageId: '<m@x>',
    })
    expect(r.duplicate).toBe(false)
    expect(r.event).toMatchObject({
      recipient: 'dead@example.com',
      domain: 'example.com',
      type: 'bounced',
      reply: '550 5.1.1 no such user',
      messageId: 'm@x',
    }) // brackets dropped: one form whatever the source
    expect(r.event.at.getTime()).toBe(T0.getTime())
    expect(r.state).toMatchObject({ events: 1, hardBounces: 1 })
    expect(r.decision).toMatchObject({ action: 'suppress', scope: 'address', key: 'dead@example.com', reason: 'userunknown' })
    const s = (await store.findSuppressions(['dead@example.com'], T0)).get('dead@example.com')
    expect(s).toMatchObject({ reason: 'userunknown', source: 'smtp', ruleId: 'test.userunknown', detail: '550 5.1.1 no such user' })
    expect(seen.bounce).toHaveLength(1)
    expect(seen.suppressed).toEqual([
      { recipient: 'Dead@Example.com', suppression: expect.objectContaining({ key: 'dead@example.com' }), atCallTime: false },
    ])
    // a second hard bounce re-confirms but is not "newly suppressed"
    await guard.record({
      recipient: 'dead@example.com',
      type: 'bounced',
      source: 'dsn',
      classification: cls('userunknown', { hard: true }),
    })
    expect(seen.suppressed).toHaveLength(1)
    expect(seen.bounce).toHaveLength(2)
  })

  it('emits deferred, delivered and complaint, and nothing for a duplicate eventId', async () => {
    const { guard, seen } = setup()
    const d = await guard.record({
      recipient: 'x@e.example',
      type: 'deferred',
      source: 'smtp',
      classification: cls('mailboxfull'),
      attempt: 1,
    })
    expect(d.decision).toEqual({ action: 'retry', at: new Date(T0.getTime() + 5 * MIN), attempt: 2 })
    await guard.record({ recipient: 'x@e.example', type: 'delivered', source: 'smtp' })
    const c = await guard.record({ recipient: 'x@e.example', type: 'complaint', source: 'feedback-loop', eventId: 'fbl-1' })
    expect(c.decision).toMatchObject({ action: 'suppress', reason: 'complaint' })
    expect([seen.deferred, seen.delivered, seen.complaint].map((a) => a?.length)).toEqual([1, 1, 1])
    const again = await guard.record({ recipient: 'x@e.example', type: 'complaint', source: 'feedback-loop', eventId: 'fbl-1' })
    expect(again.duplicate).toBe(true)
    expect(again.decision.action).toBe('none')
    expect(again.state.complaints).toBe(1)
    expect(seen.complaint).toHaveLength(1)
    expect(seen.suppressed).toHaveLength(1)
  })

  it('sender-side refusals never suppress and raise an alert', async () => {
    const { guard, seen, clock: c } = setup()
    for (let i = 0; i < 5; i++) {
      c.advance(24 * HOUR)
      await guard.record({
        recipient: 'vip@big.example',
        type: 'bounced',
        source: 'smtp',
        reply: '550 5.7.1 blocked using spamhaus',
        classification: { ...cls('blocked', { permanent: true, scope: 'sender', provider: 'microsoft' }), blocklist: 'spamhaus' },
      })
    }
    expect((await guard.check(['vip@big.example'])).allowed).toEqual(['vip@big.example'])
    expect(seen.alert).toHaveLength(5)
    expect(seen.alert![0] as BounceAlert).toMatchObject({
      destination: 'microsoft',
      reason: 'blocked',
      blocklist: 'spamhaus',
      reply: '550 5.7.1 blocked using spamhaus',
    })
    expect(seen.suppressed).toHaveLength(0)
  })

  it('escalates a mailbox that stays full for 72 hours and 3 failures, not earlier', async () => {
    const { guard, clock: c } = setup()
    const full = {
      recipient: 'full@e.example',
      type: 'bounced' as const,
      source: 'dsn' as const,
      classification: cls('mailboxfull', { permanent: true }),
    }
    const r1 = await guard.record(full)
    c.advance(36 * HOUR)
    const r2 = await guard.record(full)
    c.advance(36 * HOUR - 1)
    const r3 = await guard.record(full)
    expect([r1, r2, r3].map((r) => r.decision.action)).toEqual(['retry', 'retry', 'retry'])
    c.advance(1)
    const r4 = await guard.record(full)
    expect(r4.decision).toMatchObject({ action: 'suppress', escalated: true, reason: 'mailboxfull' })
    const s = (await guard.check(['full@e.example'])).suppressed[0]?.suppression as Suppression
    expect(s.escalated).toBe(true)
    expect(s.expiresAt?.getTime()).toBe(c.now().getTime() + 30 * 24 * HOUR)
  })

  it('a later escalation does not weaken a permanent suppression', async () => {
    const { guard, store, clock: c } = setup()
    await guard.record({ recipient: 'p@e.example', type: 'bounced', source: 'smtp', classification: cls('userunknown', { hard: true }) })
    for (const h of [0, 40, 40]) {
      c.advance(h * HOUR)
      await guard.record({
        recipient: 'p@e.example',
        type: 'bounced',
        source: 'dsn',
        classification: cls('mailboxfull', { permanent: true }),
      })
    }
    const s = (await store.findSuppressions(['p@e.example'], new Date(c.now().getTime() + 365 * 24 * HOUR))).get('p@e.example')
    expect(s).toMatchObject({ reason: 'userunknown' })
    expect(s?.expiresAt).toBeUndefined()
  })

  it('remembers hostunknown per domain: retry first, suppress the domain when seen again', async () => {
    const { guard, store, clock: c } = setup()
    const hu = cls('hostunknown', { hard: true, scope: 'domain' })
    const first = await guard.record({ recipient: 'a@nxdomain.example', type: 'bounced', source: 'smtp', classification: hu })
    expect(first.decision).toEqual({ action: 'retry', at: new Date(T0.getTime() + HOUR), attempt: 2 })
    expect((await guard.check(['a@nxdomain.example'])).allowed).toHaveLength(1)
    c.advance(HOUR)
    const second = await guard.record({ recipient: 'b@nxdomain.example', type: 'bounced', source: 'smtp', classification: hu })
    expect(second.decision).toMatchObject({ action: 'suppress', scope: 'domain', key: 'nxdomain.example' })
    expect((await guard.check(['zed@NXDOMAIN.example'])).suppressed).toHaveLength(1)
    // the domain summary does not count in stats
    const rows = await store.stats({ since: T0, until: new Date(T0.getTime() + 2 * HOUR), groupBy: 'domain' })
    expect(rows).toEqual([expect.objectContaining({ key: 'nxdomain.example', sent: 2, hardBounces: 2 })])
  })

  it('a resolver outage (temporary hostunknown everywhere) suppresses no domain', async () => {
    const { guard, store, clock: c } = setup()
    const temp = cls('hostunknown', { hard: false, permanent: false, scope: 'domain' })
    for (let i = 0; i < 6; i++) {
      c.advance(HOUR)
      const r = await guard.record({
        recipient: `u${i}@d${i % 2}.example`,
        type: 'deferred',
        source: 'smtp',
        classification: temp,
        attempt: 1 + i,
      })
      expect(r.decision.action).toBe('retry')
    }
    expect((await store.listSuppressions({ now: c.now() })).items).toEqual([])
    expect(await store.getRecipientState('@d0.example')).toBeUndefined()
  })

  it("classifies raw replies with core's classifier by default: dead user suppressed, blocklist alerts only", async () => {
    const { guard, seen } = setup()
    const dead = await guard.record({
      recipient: 'nobody@example.org',
      type: 'bounced',
      source: 'smtp',
      reply: '550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
    })
    expect(dead.event.classification).toMatchObject({ reason: 'userunknown', hard: true })
    expect(dead.decision).toMatchObject({ action: 'suppress', key: 'nobody@example.org' })
    const blocked = await guard.record({
      recipient: 'vip@example.org',
      type: 'bounced',
      source: 'smtp',
      reply: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
    })
    expect(blocked.event.classification?.scope).toBe('sender')
    expect(blocked.decision.action).not.toBe('suppress')
    expect(seen.alert).toHaveLength(1)
    expect((await guard.check(['vip@example.org'])).allowed).toEqual(['vip@example.org'])
  })

  it('uses the injected classifier when no classification is given', async () => {
    const store = new MemoryBounceStore()
    const seenReplies: unknown[] = []
    const guard = createBounceGuard({
      store,
      now: () => T0,
      classify: (reply, ctx) => {
        seenReplies.push([reply, ctx?.recipientDomain])
        return cls('userunknown', { hard: true })
      },
    })
    const r = await guard.record({ recipient: 'u@Cls.example', type: 'bounced', source: 'smtp', reply: '550 5.1.1 unknown' })
    expect(seenReplies).toEqual([['550 5.1.1 unknown', 'cls.example']])
    expect(r.event.classification?.ruleId).toBe('test.userunknown')
    expect(r.decision.action).toBe('suppress')
    // a delivery is not classified
    await guard.record({ recipient: 'u@cls.example', type: 'delivered', source: 'smtp', reply: '250 ok' })
    expect(seenReplies).toHaveLength(1)
  })

  it('the fallback classifier reads codes, never a reason that suppresses', async () => {
    expect(basicClassify('550 5.1.1 <x@y>: user unknown')).toMatchObject({
      reason: 'undefined',
      permanent: true,
      hard: false,
      code: 550,
      enhancedStatus: '5.1.1',
    })
    expect(basicClassify('451 try later')).toMatchObject({ permanent: false, code: 451 })
    expect(basicClassify('garbage'.repeat(1000))).toMatchObject({ reason: 'undefined', permanent: false })
  })

  it('rejects a bad outcome with a typed error', async () => {
    const { guard } = setup()
    await expect(guard.record({ recipient: 'nope', type: 'bounced', source: 'smtp' })).rejects.toMatchObject({ code: 'EINVALID_ADDRESS' })
    await expect(guard.record({ recipient: 'a@b.example', type: 'exploded' as 'bounced', source: 'smtp' })).rejects.toMatchObject({
      code: 'EINVALID_OPTION',
    })
    await expect(guard.record({ recipient: 'a@b.example', type: 'bounced', source: 'smtp', at: new Date('x') })).rejects.toMatchObject({
      code: 'EINVALID_OPTION',
    })
    expect(() => createBounceGuard({ store: {} as MemoryBounceStore })).toThrow(BounceGuardError)
  })

  it('a listener that throws does not break recording', async () => {
    const { guard, store } = setup()
    guard.on('bounce', () => {
      throw new Error('listener bug')
    })
    const r = await guard.record({
      recipient: 'l@e.example',
      type: 'bounced',
      source: 'smtp',
      classification: cls('userunknown', { hard: true }),
    })
    expect(r.decision.action).toBe('suppress')
    expect((await store.getRecipientState('l@e.example'))?.events).toBe(1)
  })
})

describe('store failures', () => {
  class BrokenStore extends MemoryBounceStore {
    failOn = new Set<string>()
    override async recordEvent(e: BounceEvent) {
      if (this.failOn.has('recordEvent')) throw new Error('disk on fire')
      return super.recordEvent(e)
    }
    override async suppress(...a: Parameters<MemoryBounceStore['suppress']>) {
      if (this.failOn.has('suppress')) throw new Error('constraint violated')
      return super.suppress(...a)
    }
    override async findSuppressions(...a: Parameters<MemoryBounceStore['findSuppressions']>) {
      if (this.failOn.has('find')) throw new BounceGuardError('ESTORE_UNAVAILABLE', 'down')
      return super.findSuppressions(...a)
    }
  }

  it('record rejects with ESTORE carrying the driver error as cause, and emits error', async () => {
    const store = new BrokenStore()
    store.failOn.add('recordEvent')
    const guard = createBounceGuard({ store, now: () => T0 })
    const errors: Error[] = []
    guard.on('error', (e) => void errors.push(e))
    const err = await guard
      .record({ recipient: 'a@b.example', type: 'bounced', source: 'smtp', classification: cls('userunknown', { hard: true }) })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BounceGuardError)
    expect(err).toMatchObject({ code: 'ESTORE' })
    expect(((err as Error).cause as Error).message).toBe('disk on fire')
    expect(errors).toEqual([err])
  })

  it('a failing suppress is reported too, without an error listener crashing the process', async () => {
    const store = new BrokenStore()
    store.failOn.add('suppress')
    const guard = createBounceGuard({ store, now: () => T0 })
    await expect(
      guard.record({ recipient: 'a@b.example', type: 'bounced', source: 'smtp', classification: cls('userunknown', { hard: true }) }),
    ).rejects.toMatchObject({ code: 'ESTORE' })
  })

  it('check passes a store error code through', async () => {
    const store = new BrokenStore()
    store.failOn.add('find')
    const guard = createBounceGuard({ store })
    await expect(guard.check(['a@b.example'])).rejects.toMatchObject({ code: 'ESTORE_UNAVAILABLE' })
  })

  it('after close, calls fail with ESTORE_CLOSED', async () => {
    const { guard } = setup()
    await guard.close()
    await expect(guard.check(['a@b.example'])).rejects.toMatchObject({ code: 'ESTORE_CLOSED' })
  })
})

describe('scheduleRetry helper', () => {
  it('normalises recipients and stores a claimable job', async () => {
    const { guard, store } = setup()
    const r: RecordResult = await guard.record({
      recipient: 'Grey@E.example',
      type: 'deferred',
      source: 'smtp',
      classification: cls('mailboxfull'),
    })
    if (r.decision.action !== 'retry') throw new Error('expected a retry decision')
    const job = await guard.scheduleRetry({
      recipients: ['Grey@E.example', 'grey@e.example', 'bad'],
      dueAt: r.decision.at,
      payload: 'raw',
      origin: 'test',
    })
    expect(job.recipients).toEqual(['grey@e.example'])
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(await store.claimDueRetries(new Date(r.decision.at.getTime() - 1), 10, MIN)).toEqual([])
    const [claimed] = await store.claimDueRetries(r.decision.at, 10, MIN)
    expect(claimed).toMatchObject({ id: job.id, recipients: ['grey@e.example'], payload: 'raw', attempts: 1, origin: 'test' })
    await expect(guard.scheduleRetry({ recipients: ['bad'], dueAt: T0, payload: 'x' })).rejects.toMatchObject({ code: 'EINVALID_ADDRESS' })
  })
})
