import { describe, expect, it } from 'vitest'
import {
  BounceGuardError,
  DEFAULT_SHAPING_RULES,
  MemoryBounceStore,
  classifyReply,
  createBounceGuard,
  createShaper,
} from '@bounce-guard/core'
import type { BounceEvent, EventType, ShapingEntry, ShapingRule } from '@bounce-guard/core'

const MIN = 60_000
const T0 = Date.UTC(2030, 4, 1, 8, 0, 0)

function clock(start = T0) {
  let t = start
  return {
    now: () => new Date(t),
    advance: (ms: number) => (t += ms),
    get t() {
      return t
    },
  }
}

function ev(type: EventType, domain: string, at: number, reply?: string, remoteMta?: string): BounceEvent & { remoteMta?: string } {
  const e: BounceEvent & { remoteMta?: string } = { recipient: `x@${domain}`, domain, type, at: new Date(at), source: 'smtp' }
  if (reply) {
    e.reply = reply
    e.classification = classifyReply(reply, { recipientDomain: domain, ...(remoteMta ? { remoteMta } : {}) })
  }
  if (remoteMta) e.remoteMta = remoteMta
  return e
}

const rule = (id: string) => DEFAULT_SHAPING_RULES.find((r) => r.id === id)!

describe('DEFAULT_SHAPING_RULES', () => {
  it('every example triggers its own rule (and no count rule fires on a plain delivery)', () => {
    for (const r of DEFAULT_SHAPING_RULES) {
      expect(r.examples?.length, r.id).toBeGreaterThan(0)
      for (const example of r.examples!) {
        const c = clock()
        const shaper = createShaper({ now: c.now, rules: [r] })
        const started: ShapingEntry[] = []
        const type: EventType = example.startsWith('4') ? 'deferred' : 'bounced'
        const n = r.rate ? r.rate.minEvents : (r.threshold ?? 1)
        for (let i = 0; i < n; i++) started.push(...shaper.observe(ev(type, 'example.net', c.t, example)))
        expect(
          started.map((s) => s.ruleId),
          `${r.id}: ${example.slice(0, 60)}`,
        ).toEqual([r.id])
        expect(shaper.observe(ev('delivered', 'example.net', c.t))).toEqual([])
      }
    }
  })
})

describe('createShaper', () => {
  const TSS04 = rule('yahoo.tss04').examples![0]!
  const S3150 = rule('microsoft.reputation').examples![0]!
  const GMAIL = rule('gmail.rate-limited').examples![0]!

  it('Yahoo TSS04: pauses the provider for two hours after three deferrals, for every Yahoo domain', () => {
    const c = clock()
    const shaper = createShaper({ now: c.now })
    shaper.observe(ev('deferred', 'yahoo.com', c.t, TSS04))
    shaper.observe(ev('deferred', 'aol.com', c.t, TSS04))
    expect(shaper.check('someone@yahoo.com')).toEqual({ action: 'send' })
    const started = shaper.observe(ev('deferred', 'ymail.com', c.t, TSS04))
    expect(started).toMatchObject([{ key: 'provider:yahoo', ruleId: 'yahoo.tss04', action: 'pause', until: T0 + 120 * MIN }])
    for (const to of ['someone@yahoo.com', 'x@AOL.com', 'rocketmail.com']) {
      expect(shaper.check(to)).toEqual({ action: 'pause', until: new Date(T0 + 120 * MIN), ruleId: 'yahoo.tss04', key: 'provider:yahoo' })
    }
    expect(shaper.check('someone@gmail.com')).toEqual({ action: 'send' })
    c.advance(120 * MIN)
    expect(shaper.check('someone@yahoo.com')).toEqual({ action: 'send' })
    expect(shaper.active()).toEqual([])
  })

  it('three TSS04 spread over more than the 10-minute window do not pause', () => {
    const c = clock()
    const shaper = createShaper({ now: c.now })
    for (let i = 0; i < 3; i++) {
      shaper.observe(ev('deferred', 'yahoo.com', c.t, TSS04))
      c.advance(6 * MIN)
    }
    expect(shaper.active()).toEqual([])
  })

  it('Microsoft S3150 on an Office 365 tenant caps Microsoft to one message a minute for 90 minutes', () => {
    const c = clock()
    const shaper = createShaper({ now: c.now })
    shaper.observe(ev('bounced', 'contoso.example', c.t, S3150, 'contoso-example.mail.protection.outlook.com'))
    expect(shaper.active()).toMatchObject([{ key: 'provider:microsoft', action: 'cap', perMinute: 1 }])
    // The tenant domain was learned as Microsoft; hotmail.com is Microsoft by name.
    expect(shaper.check('a@contoso.example')).toEqual({ action: 'send' })
    expect(shaper.check('b@hotmail.com')).toEqual({
      action: 'pace',
      delayMs: MIN,
      ruleId: 'microsoft.reputation',
      key: 'provider:microsoft',
    })
    c.advance(45_000)
    expect(shaper.check({ domain: 'fabrikam.example', remoteMta: 'fabrikam-example.mail.protection.outlook.com' })).toMatchObject({
      action: 'pace',
      delayMs: 15_000,
    })
    expect(shaper.check('c@unrelated.example')).toEqual({ action: 'send' })
    c.advance(15_000)
    expect(shaper.check('b@hotmail.com')).toEqual({ action: 'send' })
    c.advance(90 * MIN)
    expect(shaper.check('b@hotmail.com')).toEqual({ action: 'send' })
    expect(shaper.check('b@hotmail.com')).toEqual({ action: 'send' })
  })

  it('Gmail 4.7.28 caps at 20/min: pacing spaces sends 3 s apart', () => {
    const c = clock()
    const shaper = createShaper({ now: c.now })
    for (let i = 0; i < 3; i++) shaper.observe(ev('deferred', 'gmail.com', c.t, GMAIL))
    let sent = 0
    for (let ms = 0; ms < MIN; ms += 500) {
      if (shaper.check('a@gmail.com').action === 'send') sent++
      c.advance(500)
    }
    expect(sent).toBe(20)
  })

  it('a pause beats a cap on the same destination; per-domain rules shape only that domain', () => {
    const c = clock()
    const rules: ShapingRule[] = [
      { id: 'cap-all', match: { reasons: ['ratelimited', 'speeding'] }, action: { type: 'cap', perMinute: 10 }, durationMs: 30 * MIN },
      { id: 'pause-domain', per: 'domain', match: { pattern: 'greylisted' }, action: { type: 'pause' }, durationMs: 5 * MIN },
    ]
    const shaper = createShaper({ now: c.now, rules })
    shaper.observe(ev('deferred', 'gmail.com', c.t, GMAIL))
    shaper.observe(
      ev(
        'deferred',
        'small.example',
        c.t,
        '450 4.2.0 <x@small.example>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/small.example.html',
      ),
    )
    expect(shaper.check('x@small.example')).toMatchObject({ action: 'pause', key: 'domain:small.example' })
    expect(shaper.check('x@other.example')).toEqual({ action: 'send' })
    expect(shaper.check('x@gmail.com')).toEqual({ action: 'send' })
    expect(shaper.check('x@gmail.com')).toMatchObject({ action: 'pace', key: 'provider:gmail' })
  })

  it('rate rule: pauses a provider when half its outcomes in 10 minutes refuse us', () => {
    const c = clock()
    const shaper = createShaper({ now: c.now, rules: [rule('sender-refusal-rate')] })
    const blocked = rule('sender-refusal-rate').examples![0]!
    for (let i = 0; i < 12; i++) shaper.observe(ev('delivered', 'outlook.com', c.t))
    for (let i = 0; i < 11; i++) shaper.observe(ev('bounced', 'outlook.com', c.t, blocked)) // 11/23 < 50%
    expect(shaper.active()).toEqual([])
    const started = shaper.observe(ev('bounced', 'hotmail.com', c.t, blocked)) // 12/24 = 50%
    expect(started).toMatchObject([{ key: 'provider:microsoft', ruleId: 'sender-refusal-rate', action: 'pause' }])
  })

  it('state exports as plain JSON and merges into another shaper (later until wins)', () => {
    const c = clock()
    const a = createShaper({ now: c.now })
    const b = createShaper({ now: c.now })
    for (let i = 0; i < 3; i++) a.observe(ev('deferred', 'yahoo.com', c.t, TSS04))
    a.observe(ev('bounced', 'contoso.example', c.t, S3150, 'contoso-example.mail.protection.outlook.com'))
    const json = JSON.parse(JSON.stringify(a.exportState()))
    expect(json.entries).toHaveLength(2)
    b.importState(json)
    expect(b.check('someone@yahoo.com')).toMatchObject({ action: 'pause', until: new Date(T0 + 120 * MIN) })
    expect(b.check('x@contoso.example')).toEqual({ action: 'send' }) // learned provider travelled with the state
    expect(b.check('x@contoso.example')).toMatchObject({ action: 'pace', key: 'provider:microsoft' })
    // An older entry does not shorten a newer one; expired entries are skipped.
    b.importState({
      version: 1,
      at: T0,
      entries: [
        { key: 'provider:yahoo', ruleId: 'yahoo.tss04', action: 'pause', since: T0 - 200 * MIN, until: T0 + 5 * MIN },
        { key: 'domain:old.example', ruleId: 'x', action: 'pause', since: 0, until: T0 - 1 },
      ],
    })
    expect(b.check('someone@yahoo.com')).toMatchObject({ until: new Date(T0 + 120 * MIN) })
    expect(
      b
        .active()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['provider:microsoft', 'provider:yahoo'])
    expect(() => b.importState({ version: 2 } as never)).toThrow(BounceGuardError)
    expect(() => b.importState({ version: 1, at: 0, entries: [{ key: 'k' } as never] })).toThrow(BounceGuardError)
    expect(b.lift('provider:yahoo')).toBe(1)
    expect(b.check('someone@yahoo.com')).toEqual({ action: 'send' })
  })

  it('refuses unsafe or malformed rules with a typed error', () => {
    const base = { id: 'r', action: { type: 'pause' as const }, durationMs: MIN }
    expect(() => createShaper({ rules: [{ ...base, match: { pattern: '(a+)+$' } }] })).toThrow(/linear-time/)
    expect(() => createShaper({ rules: [{ ...base, match: { pattern: '(' } }] })).toThrow(BounceGuardError)
    expect(() => createShaper({ rules: [{ ...base, match: {}, action: { type: 'cap', perMinute: 0 } }] })).toThrow(BounceGuardError)
    expect(() =>
      createShaper({
        rules: [
          { ...base, match: {} },
          { ...base, match: {} },
        ],
      }),
    ).toThrow(/duplicate/)
    expect(() => createShaper({ rules: [{ ...base, match: {}, durationMs: -5 }] })).toThrow(BounceGuardError)
    expect(() => createShaper({ rules: 'x' as never })).toThrow(BounceGuardError)
  })

  it('garbage in: no crash, no action; a 1 MB reply is matched in bounded time', () => {
    const c = clock()
    const shaper = createShaper({ now: c.now })
    expect(shaper.observe(null as never)).toEqual([])
    expect(shaper.observe({ foo: 1 } as never)).toEqual([])
    expect(shaper.check('')).toEqual({ action: 'send' })
    expect(shaper.check(42 as never)).toEqual({ action: 'send' })
    const huge = '421 ' + 'a'.repeat(1_000_000) + ' TSS04'
    const t = performance.now()
    for (let i = 0; i < 5; i++) shaper.observe(ev('deferred', 'yahoo.com', c.t, huge))
    expect(performance.now() - t).toBeLessThan(2000)
    expect(shaper.active()).toEqual([]) // the code sits beyond the matched prefix
  })

  it('follows a real guard through its events', async () => {
    const c = clock()
    const guard = createBounceGuard({ store: new MemoryBounceStore(), now: c.now, random: () => 0 })
    const shaper = createShaper({ now: c.now })
    guard.on('deferred', (r) => shaper.observe(r))
    guard.on('bounce', (r) => shaper.observe(r))
    await guard.record({ recipient: 'a@comcast.net', type: 'deferred', reply: rule('comcast.rl000010').examples![0]!, source: 'smtp' })
    expect(shaper.check('b@comcast.net')).toMatchObject({ action: 'pause', ruleId: 'comcast.rl000010', until: new Date(T0 + 30 * MIN) })
  })
})
