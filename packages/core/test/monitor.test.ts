import { describe, expect, it } from 'vitest'
import { BounceGuardError, MemoryBounceStore, classifyReply, createBounceGuard, createBounceMonitor } from '@bounce-guard/core'
import type { BounceEvent, EventType, MonitorAlert } from '@bounce-guard/core'

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

const SPAMHAUS_AT_MICROSOFT =
  '550 5.7.1 Service unavailable, Client host [203.0.113.9] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/203.0.113.9 AS(1450) [BN1NAM02FT041.eop-nam02.prod.protection.outlook.com]'
const GMAIL_NO_SUCH_USER =
  "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser"

function ev(
  type: EventType,
  domain: string,
  at: number,
  reply?: string,
  o: Partial<BounceEvent> & { remoteMta?: string } = {},
): BounceEvent {
  const e: BounceEvent & { remoteMta?: string } = {
    recipient: `u${Math.random().toString(36).slice(2, 8)}@${domain}`,
    domain,
    type,
    at: new Date(at),
    source: 'smtp',
    ...o,
  }
  if (reply) {
    e.reply = reply
    e.classification = classifyReply(reply, { recipientDomain: domain, ...(o.remoteMta ? { remoteMta: o.remoteMta } : {}) })
  }
  return e
}

function collect(m: ReturnType<typeof createBounceMonitor>) {
  const alerts: MonitorAlert[] = []
  const resolved: MonitorAlert[] = []
  m.on('alert', (a) => alerts.push(a))
  m.on('resolved', (a) => resolved.push(a))
  return { alerts, resolved }
}

describe('createBounceMonitor: counting', () => {
  it('counts per account, domain, provider, ip, pool and tag; sent excludes deferrals and refusals', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now })
    for (let i = 0; i < 8; i++)
      m.observe(ev('delivered', 'gmail.com', c.t, undefined, { tag: 'spring' }), { sendingIp: '203.0.113.9', pool: 'bulk' })
    m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER, { tag: 'spring' }), { sendingIp: '203.0.113.9', pool: 'bulk' })
    m.observe(ev('deferred', 'gmail.com', c.t, '452 4.2.2 The email account that you tried to reach is over quota.'))
    m.observe(ev('complaint', 'gmail.com', c.t))
    m.observeRefusal('gmail.com')
    m.observeRefusal('gmail.com')

    const [acct] = m.snapshot('account')
    expect(acct).toMatchObject({
      key: '*',
      sent: 9,
      delivered: 8,
      hardBounces: 1,
      softBounces: 0,
      deferred: 1,
      complaints: 1,
      refusedBySuppression: 2,
    })
    expect(acct!.bounceRate).toBeCloseTo(1 / 9)
    expect(acct!.complaintRate).toBeCloseTo(1 / 8)
    expect(m.snapshot('provider').map((r) => [r.key, r.sent])).toEqual([['gmail', 9]])
    expect(m.snapshot('ip')).toMatchObject([{ key: '203.0.113.9', sent: 9, hardBounces: 1 }])
    expect(m.snapshot('pool')).toMatchObject([{ key: 'bulk', sent: 9 }])
    expect(m.snapshot('tag')).toMatchObject([{ key: 'spring', sent: 9, delivered: 8 }])
    expect(m.snapshot('domain')).toMatchObject([{ key: 'gmail.com', sent: 9, refusedBySuppression: 2 }])
  })

  it('attributes a Google Workspace domain to gmail once its MX host is known, deliveries included', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now })
    expect(m.providerOf('acme-corp.example')).toBeUndefined()
    m.observe(ev('delivered', 'acme-corp.example', c.t), { remoteMta: 'aspmx.l.google.com' })
    m.observe(ev('delivered', 'acme-corp.example', c.t)) // no MX this time: learned
    m.observe(ev('delivered', 'contoso.example', c.t, undefined, { remoteMta: 'contoso-example.mail.protection.outlook.com' }))
    m.observe(ev('delivered', 'tiny.example', c.t))
    expect(m.providerOf('acme-corp.example')).toBe('gmail')
    expect(m.providerOf('contoso.example')).toBe('microsoft')
    const byProvider = Object.fromEntries(m.snapshot('provider').map((r) => [r.key, r.sent]))
    expect(byProvider).toEqual({ gmail: 2, microsoft: 1 })
  })

  it('a user-supplied provider map wins, and buckets roll out of the window', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now, windowMs: 10 * MIN, providers: { 'mx.hosting.example': 'hosting' } })
    m.observe(ev('delivered', 'shop.example', c.t), { remoteMta: 'MX.Hosting.Example.' })
    c.advance(3 * MIN)
    m.observe(
      ev('bounced', 'shop.example', c.t, '550 5.1.1 <x@shop.example>: Recipient address rejected: User unknown in virtual mailbox table'),
    )
    const ts = m.timeSeries('provider', 'hosting')
    expect(ts).toHaveLength(10)
    expect(ts.at(-1)).toMatchObject({ sent: 1, hardBounces: 1 })
    expect(ts.at(-4)).toMatchObject({ sent: 1, delivered: 1 })
    expect(ts.at(-4)!.start.getTime()).toBe(T0)
    c.advance(8 * MIN) // the first delivery left the 10-minute window, the bounce has not
    expect(m.snapshot('provider')).toMatchObject([{ key: 'hosting', sent: 1, delivered: 0, hardBounces: 1 }])
    c.advance(10 * MIN)
    expect(m.snapshot('provider')).toEqual([])
  })

  it('ignores duplicates, auto-replies, garbage and events older than the window', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now })
    const e = ev('delivered', 'a.example', c.t)
    m.observe({ event: e, state: {} as never, decision: { action: 'none' }, duplicate: true })
    m.observe(ev('auto-reply', 'a.example', c.t))
    m.observe(ev('delivered', 'a.example', c.t - 2 * 3_600_000))
    m.observe(null as never)
    m.observe({ nonsense: true } as never)
    m.observe({ ...e, at: new Date(Number.NaN) })
    expect(m.snapshot('account')).toEqual([])
    expect(() => m.snapshot('nope' as never)).toThrow(BounceGuardError)
  })

  it('rejects bad options with a typed error', () => {
    expect(() => createBounceMonitor({ windowMs: -1 })).toThrow(BounceGuardError)
    expect(() => createBounceMonitor({ thresholds: { bounceRateWarning: Number.NaN } })).toThrow(BounceGuardError)
    expect(() => createBounceMonitor({ windowMs: 5 * MIN })).toThrow(/burstWindowMs/)
    expect(() => createBounceMonitor({ now: 5 as never })).toThrow(BounceGuardError)
  })
})

describe('createBounceMonitor: alerts once per episode', () => {
  it('bounce rate: nothing below the minimum volume, then warning once, critical once, resolved, re-armed', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now, rateAlertDimensions: ['account'] })
    const { alerts, resolved } = collect(m)
    // 50 hard bounces of 50 sends: 100%, but below minSent (100)
    const small = createBounceMonitor({ now: c.now })
    const smallSeen = collect(small)
    for (let i = 0; i < 50; i++) small.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER))
    expect(smallSeen.alerts).toEqual([])

    for (let i = 0; i < 190; i++) m.observe(ev('delivered', 'd.example', c.t))
    for (let i = 0; i < 9; i++) m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER)) // 9/199 = 4.5%
    expect(alerts).toEqual([])
    m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER)) // 10/200 = 5%
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({
      kind: 'bounce-rate',
      level: 'warning',
      state: 'firing',
      dimension: 'account',
      threshold: 0.05,
      value: 0.05,
    })
    expect(alerts[0]!.evidence.counts).toMatchObject({ sent: 200, hardBounces: 10, delivered: 190 })
    for (let i = 0; i < 11; i++) m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER)) // 21/211 = 9.95%: still warning
    expect(alerts).toHaveLength(1)
    m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER)) // 22/212 = 10.4%
    expect(alerts.map((a) => a.level)).toEqual(['warning', 'critical'])
    expect(alerts[1]!.message).toBe('account: bounce rate 10.4% (22 hard bounces of 212 sent in 1 hour)')
    for (let i = 0; i < 5; i++) m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER))
    expect(alerts).toHaveLength(2)
    expect(m.activeAlerts()).toHaveLength(1)
    // window slides past every event: evaluate() resolves the episode, once
    c.advance(61 * MIN)
    expect(m.evaluate().map((a) => a.state)).toEqual(['resolved'])
    expect(m.evaluate()).toEqual([])
    expect(resolved).toHaveLength(1)
    expect(m.activeAlerts()).toEqual([])
    // re-armed: a new episode fires again
    for (let i = 0; i < 100; i++) m.observe(ev('delivered', 'd.example', c.t))
    for (let i = 0; i < 5; i++) m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER)) // 5/105
    expect(alerts).toHaveLength(2)
    m.observe(ev('bounced', 'gmail.com', c.t, GMAIL_NO_SUCH_USER)) // 6/106 = 5.7%
    expect(alerts).toHaveLength(3)
    expect(alerts[2]).toMatchObject({ kind: 'bounce-rate', level: 'warning', state: 'firing' })
  })

  it('call-time refusals by our own suppression list never raise the bounce rate', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now })
    const { alerts } = collect(m)
    for (let i = 0; i < 200; i++) m.observe(ev('delivered', 'd.example', c.t))
    for (let i = 0; i < 500; i++) m.observeRefusal('dead.example')
    for (let i = 0; i < 500; i++) m.observe(ev('suppressed', 'dead.example', c.t, undefined, { source: 'call-time' }))
    expect(alerts).toEqual([])
    expect(m.snapshot('account')[0]).toMatchObject({ sent: 200, refusedBySuppression: 1000, bounceRate: 0 })
  })

  it('complaint rate per provider: 0.1% warning, 0.3% critical, only above the minimum deliveries', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now, rateAlertDimensions: ['provider'] })
    const { alerts } = collect(m)
    for (let i = 0; i < 999; i++) m.observe(ev('delivered', 'yahoo.com', c.t))
    for (let i = 0; i < 3; i++) m.observe(ev('complaint', 'yahoo.com', c.t)) // 3/999 but < 1000 delivered
    expect(alerts).toEqual([])
    m.observe(ev('delivered', 'yahoo.com', c.t)) // 3 / 1000 = 0.3%
    expect(alerts).toMatchObject([{ kind: 'complaint-rate', level: 'critical', dimension: 'provider', key: 'yahoo', threshold: 0.003 }])
    expect(alerts[0]!.value).toBeCloseTo(0.003)
  })

  it('a burst of sender-side rejections from one provider alerts once, with counts, replies, rule ids and blocklists', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now })
    const { alerts, resolved } = collect(m)
    const mx = 'contoso-example.mail.protection.outlook.com'
    for (let i = 0; i < 19; i++) {
      m.observe(ev('bounced', `t${i % 4}.example`, c.t, SPAMHAUS_AT_MICROSOFT, { remoteMta: mx }))
      c.advance(20_000)
    }
    expect(alerts).toEqual([])
    for (let i = 0; i < 18; i++) {
      m.observe(ev('bounced', 'outlook.com', c.t, SPAMHAUS_AT_MICROSOFT))
      c.advance(5_000)
    }
    // 37 rejections in under 10 minutes
    expect(alerts).toHaveLength(1)
    const a = alerts[0]!
    expect(a).toMatchObject({
      kind: 'rejection-burst',
      level: 'warning',
      dimension: 'provider',
      key: 'microsoft',
      value: 20,
      windowMs: 10 * MIN,
    })
    expect(m.activeAlerts()[0]!.evidence.counts.senderRejections).toBe(20)
    const after = m.snapshot('provider').find((r) => r.key === 'microsoft')!
    expect(after.senderRejections).toBe(37)
    expect(after.reasons).toEqual({ blocked: 37 })
    expect(a.evidence.ruleIds).toEqual({ 'blocklist.spamhaus': 20 })
    expect(a.evidence.blocklists).toEqual({ spamhaus: 20 })
    expect(a.evidence.samples[0]).toContain('Spamhaus')
    expect(a.message).toBe('blocked at microsoft: 20 sender-side rejections in 10 minutes, spamhaus named in 20 replies')
    // quiet for 11 minutes: the burst window empties and the episode resolves
    c.advance(11 * MIN)
    m.evaluate()
    expect(resolved).toMatchObject([{ kind: 'rejection-burst', state: 'resolved', key: 'microsoft' }])
  })

  it('a gmail rate-limit burst counts deferrals too; deliveries in between do not reset it', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now, thresholds: { burstWarning: 5, burstCritical: 8 } })
    const { alerts } = collect(m)
    const limited =
      '421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.'
    for (let i = 0; i < 10; i++) {
      m.observe(ev('deferred', 'gmail.com', c.t, limited))
      m.observe(ev('delivered', 'gmail.com', c.t))
    }
    expect(alerts.map((a) => `${a.level}:${a.value}`)).toEqual(['warning:5', 'critical:8'])
    expect(alerts[1]!.evidence.reasons).toEqual({ speeding: 8 })
  })

  it('attach(): follows a real guard, including call-time refusals, and detaches', async () => {
    const c = clock()
    const store = new MemoryBounceStore()
    const guard = createBounceGuard({ store, now: c.now, random: () => 0 })
    const m = createBounceMonitor({ now: c.now })
    const detach = m.attach(guard)
    await guard.record({ recipient: 'a@gmail.com', type: 'delivered', source: 'smtp' })
    await guard.record({ recipient: 'dead@gmail.com', type: 'bounced', reply: GMAIL_NO_SUCH_USER, source: 'smtp' })
    await guard.record({
      recipient: 'b@contoso.example',
      type: 'bounced',
      reply: SPAMHAUS_AT_MICROSOFT,
      context: { remoteMta: 'contoso-example.mail.protection.outlook.com' },
      source: 'smtp',
    })
    const checked = await guard.check(['DEAD@gmail.com', 'a@gmail.com'])
    expect(checked.suppressed).toHaveLength(1)
    const acct = m.snapshot('account')[0]!
    expect(acct).toMatchObject({ sent: 3, delivered: 1, hardBounces: 1, softBounces: 1, senderRejections: 1, refusedBySuppression: 1 })
    expect(Object.fromEntries(m.snapshot('provider').map((r) => [r.key, r.sent]))).toEqual({ gmail: 2, microsoft: 1 })
    detach()
    await guard.record({ recipient: 'c@gmail.com', type: 'delivered', source: 'smtp' })
    expect(m.snapshot('account')[0]!.sent).toBe(3)
  })

  it('caps keys per dimension under (other)', () => {
    const c = clock()
    const m = createBounceMonitor({ now: c.now, maxKeysPerDimension: 3 })
    for (let i = 0; i < 10; i++) m.observe(ev('delivered', `d${i}.example`, c.t))
    const rows = m.snapshot('domain')
    expect(rows).toHaveLength(4)
    expect(rows.find((r) => r.key === '(other)')!.sent).toBe(7)
  })
})
