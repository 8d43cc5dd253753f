import { describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, backoffDelayMs, decide, resolvePolicy } from '@bounce-guard/core'
import type { BounceClassification, BounceEvent, BounceReason, BounceScope, DecideEnv, EventType, RecipientState } from '@bounce-guard/core'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const T0 = new Date('2030-03-01T12:00:00.000Z')
const at = (ms: number) => new Date(T0.getTime() + ms)

function cls(
  reason: BounceReason,
  o: { hard?: boolean; permanent?: boolean; scope?: BounceScope; provider?: string; retryAfter?: number; blocklist?: string } = {},
): BounceClassification {
  const c: BounceClassification = {
    reason,
    hard: o.hard ?? false,
    permanent: o.permanent ?? false,
    scope: o.scope ?? 'recipient',
    ruleId: `test.${reason}`,
  }
  if (o.provider) c.provider = o.provider
  if (o.retryAfter !== undefined) c.retryAfter = o.retryAfter
  if (o.blocklist) c.blocklist = o.blocklist
  return c
}
function ev(type: EventType, c: BounceClassification | undefined, ms = 0, recipient = 'bob@example.com'): BounceEvent {
  const e: BounceEvent = {
    recipient,
    domain: recipient.slice(recipient.indexOf('@') + 1),
    type,
    at: at(ms),
    source: 'smtp',
    reply: 'the reply',
  }
  if (c) e.classification = c
  return e
}
function state(p: Partial<RecipientState> = {}): RecipientState {
  return {
    recipient: 'bob@example.com',
    domain: 'example.com',
    events: 1,
    deliveries: 0,
    hardBounces: 0,
    softBounces: 1,
    complaints: 0,
    consecutiveSoftFailures: 1,
    ...p,
  }
}
const env = (ms: number, extra: Partial<DecideEnv> = {}): DecideEnv => ({ now: at(ms), random: () => 0, ...extra })
const P = DEFAULT_POLICY

describe('backoff', () => {
  it('doubles from 5 minutes and caps at 4 hours before jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffDelayMs(n, P.backoff, () => 0) / MIN)
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 240, 240, 240])
  })
  it('jitter only shortens, by up to 25 % with the defaults', () => {
    expect(backoffDelayMs(1, P.backoff, () => 0.5)).toBe(5 * MIN * 0.875)
    expect(backoffDelayMs(1, P.backoff, () => 0.999)).toBe(Math.round(5 * MIN * (1 - 0.25 * 0.999)))
    expect(backoffDelayMs(10, P.backoff, () => 0.4)).toBe(4 * HOUR * 0.9)
  })
  it('survives nonsense from the random source and the attempt number', () => {
    expect(backoffDelayMs(NaN, P.backoff, () => NaN)).toBe(5 * MIN)
    expect(backoffDelayMs(0, P.backoff, () => 7)).toBe(5 * MIN * 0.75)
  })
})

describe('hard failures', () => {
  it('suppress the address at once, permanently', () => {
    const d = decide(ev('bounced', cls('userunknown', { hard: true, permanent: true })), state(), P, env(0))
    expect(d).toEqual({ action: 'suppress', scope: 'address', key: 'bob@example.com', reason: 'userunknown', escalated: false })
  })
  it('can be configured to expire', () => {
    const d = decide(
      ev('bounced', cls('hasmoved', { hard: true, permanent: true })),
      state(),
      resolvePolicy({ hard: { suppressionTtlMs: DAY } }),
      env(0),
    )
    expect(d).toMatchObject({ action: 'suppress', reason: 'hasmoved', expiresAt: at(DAY) })
  })
})

describe('recipient soft failures', () => {
  const full = cls('mailboxfull', { permanent: true })
  it('retry on the backoff schedule with the injected jitter', () => {
    expect(decide(ev('bounced', full), state(), P, env(0, { attempt: 1 }))).toEqual({ action: 'retry', at: at(5 * MIN), attempt: 2 })
    expect(decide(ev('bounced', full), state(), P, env(0, { attempt: 3, random: () => 0.5 }))).toEqual({
      action: 'retry',
      at: at(20 * MIN * 0.875),
      attempt: 4,
    })
    expect(decide(ev('deferred', cls('suspend')), state(), P, env(0, { attempt: 12 }))).toEqual({
      action: 'retry',
      at: at(4 * HOUR),
      attempt: 13,
    })
  })
  it('clamp the last retry to the end of the 72 h window, then give up', () => {
    const first = at(-71 * HOUR)
    const s = state({ consecutiveSoftFailures: 2, firstSoftFailureAt: first })
    expect(decide(ev('bounced', full), s, P, env(0, { attempt: 10, firstFailedAt: first }))).toEqual({
      action: 'retry',
      at: at(HOUR),
      attempt: 11,
    })
    const late = decide(ev('bounced', full), s, P, env(HOUR, { attempt: 11, firstFailedAt: first }))
    expect(late.action).toBe('giveUp')
  })
  it('escalate to a suppression after 72 h and 3 failures, not before', () => {
    const first = at(-72 * HOUR)
    // 72 h but only 2 failures: no
    expect(decide(ev('bounced', full), state({ consecutiveSoftFailures: 2, firstSoftFailureAt: first }), P, env(0)).action).not.toBe(
      'suppress',
    )
    // 3 failures but 1 ms short of 72 h: no
    expect(
      decide(ev('bounced', full), state({ consecutiveSoftFailures: 3, firstSoftFailureAt: at(-72 * HOUR + 1) }), P, env(0)).action,
    ).toBe('retry')
    // both: yes, escalated, expiring after 30 days
    const d = decide(ev('bounced', full), state({ consecutiveSoftFailures: 3, firstSoftFailureAt: first }), P, env(0))
    expect(d).toEqual({
      action: 'suppress',
      scope: 'address',
      key: 'bob@example.com',
      reason: 'mailboxfull',
      escalated: true,
      expiresAt: at(30 * DAY),
    })
  })
  it("treat filtered (the recipient's own filter) the same way", () => {
    const f = cls('filtered', { permanent: true })
    expect(decide(ev('bounced', f), state(), P, env(0)).action).toBe('retry')
    expect(decide(ev('bounced', f), state({ consecutiveSoftFailures: 5, firstSoftFailureAt: at(-4 * DAY) }), P, env(0))).toMatchObject({
      action: 'suppress',
      escalated: true,
      reason: 'filtered',
    })
  })
  it('exceedlimit is retried even when the classifier scopes it as message-side', () => {
    expect(decide(ev('bounced', cls('exceedlimit', { permanent: true, scope: 'message' })), state(), P, env(0)).action).toBe('retry')
    expect(decide(ev('bounced', cls('mesgtoobig', { permanent: true, scope: 'message' })), state(), P, env(0)).action).toBe('giveUp')
  })
  it('follow configured thresholds', () => {
    const p = resolvePolicy({ recipientSoft: { escalateAfterMs: HOUR, escalateMinFailures: 2, suppressionTtlMs: undefined } })
    const d = decide(ev('bounced', full), state({ consecutiveSoftFailures: 2, firstSoftFailureAt: at(-HOUR) }), p, env(0))
    expect(d).toEqual({ action: 'suppress', scope: 'address', key: 'bob@example.com', reason: 'mailboxfull', escalated: true })
  })
})

describe('hostunknown', () => {
  const hu = cls('hostunknown', { hard: true, permanent: true, scope: 'domain' })
  const domainSeen = (firstMs: number, lastMs = firstMs): RecipientState =>
    state({ recipient: '@example.com', consecutiveSoftFailures: 1, firstSoftFailureAt: at(firstMs), lastSoftFailureAt: at(lastMs) })
  it('first time on a domain: retry once after an hour, no suppression', () => {
    expect(decide(ev('bounced', hu), state(), P, env(0))).toEqual({ action: 'retry', at: at(HOUR), attempt: 2 })
  })
  it('seen again on the domain: suppress the whole domain for 30 days', () => {
    const d = decide(ev('bounced', hu, 0, 'carol@example.com'), state(), P, env(0, { domainState: domainSeen(-HOUR) }))
    expect(d).toEqual({
      action: 'suppress',
      scope: 'domain',
      key: 'example.com',
      reason: 'hostunknown',
      escalated: false,
      expiresAt: at(30 * DAY),
    })
  })
  it('a burst within 30 minutes is one observation; an observation older than 7 days is forgotten', () => {
    expect(decide(ev('bounced', hu), state(), P, env(0, { domainState: domainSeen(-10 * MIN) })).action).toBe('retry')
    expect(decide(ev('bounced', hu), state(), P, env(0, { domainState: domainSeen(-8 * DAY) })).action).toBe('retry')
  })
  it('a temporary "domain not found" (our resolver?) is only retried, never suppresses the domain', () => {
    const temp = cls('hostunknown', { hard: false, permanent: false, scope: 'domain' })
    const d = decide(
      ev('deferred', temp),
      state(),
      P,
      env(0, { attempt: 5, firstFailedAt: at(-10 * HOUR), domainState: domainSeen(-2 * HOUR) }),
    )
    expect(d.action).toBe('retry')
  })
  it('without domain memory, the failed retry of the same message confirms it', () => {
    const d = decide(ev('bounced', hu), state(), P, env(0, { attempt: 2, firstFailedAt: at(-HOUR) }))
    expect(d).toMatchObject({ action: 'suppress', scope: 'domain', key: 'example.com' })
  })
})

describe('sender-side refusals', () => {
  const senderReasons: BounceReason[] = [
    'blocked',
    'badreputation',
    'authfailure',
    'requireptr',
    'ratelimited',
    'speeding',
    'toomanyconn',
    'spamdetected',
    'policyviolation',
    'norelaying',
    'securityerror',
    'failedstarttls',
  ]
  it('never suppress, even when a (wrong) classification says hard and the history is long', () => {
    const longRun = state({ consecutiveSoftFailures: 50, firstSoftFailureAt: at(-30 * DAY), hardBounces: 9 })
    for (const reason of senderReasons) {
      for (const c of [
        cls(reason, { permanent: true, scope: 'sender' }),
        cls(reason, { permanent: true, hard: true, scope: 'recipient' }),
      ]) {
        const d = decide(ev('bounced', c), longRun, P, env(0))
        expect(d.action, reason).not.toBe('suppress')
        expect(d.alert, reason).toBeDefined()
      }
    }
  })
  it('alert the provider (else the domain) and give up on a 5xx without retry-after', () => {
    const d = decide(
      ev('bounced', cls('blocked', { permanent: true, scope: 'sender', provider: 'microsoft', blocklist: 'spamhaus' })),
      state(),
      P,
      env(0),
    )
    expect(d.action).toBe('giveUp')
    expect(d.alert).toEqual({
      destination: 'microsoft',
      provider: 'microsoft',
      reason: 'blocked',
      ruleId: 'test.blocked',
      blocklist: 'spamhaus',
      reply: 'the reply',
      at: at(0),
      retryAfter: 3600,
    })
    const noProvider = decide(ev('bounced', cls('authfailure', { permanent: true, scope: 'sender' })), state(), P, env(0))
    expect(noProvider.alert?.destination).toBe('example.com')
  })
  it("retry a 4xx on the backoff, and no sooner than the reply's retry-after", () => {
    expect(decide(ev('deferred', cls('ratelimited', { scope: 'sender' })), state(), P, env(0))).toMatchObject({
      action: 'retry',
      at: at(5 * MIN),
      attempt: 2,
    })
    const d = decide(ev('bounced', cls('badreputation', { permanent: true, scope: 'sender', retryAfter: 7200 })), state(), P, env(0))
    expect(d).toMatchObject({ action: 'retry', at: at(2 * HOUR), alert: { retryAfter: 7200 } })
  })
})

describe('message-side refusals, complaints, and the rest', () => {
  it('message-side: give up on the message, suppress nothing', () => {
    for (const reason of ['mesgtoobig', 'contenterror', 'virusdetected', 'notcompliantrfc'] as const) {
      const d = decide(ev('bounced', cls(reason, { permanent: true, scope: 'message' })), state(), P, env(0))
      expect(d.action, reason).toBe('giveUp')
    }
  })
  it('complaint: suppress the address with reason complaint', () => {
    const d = decide(ev('complaint', cls('feedback')), state(), P, env(0))
    expect(d).toEqual({ action: 'suppress', scope: 'address', key: 'bob@example.com', reason: 'complaint', escalated: false })
    expect(decide(ev('complaint', undefined), state(), P, env(0))).toMatchObject({ action: 'suppress', reason: 'complaint' })
  })
  it('a feedback reason on an event that is no complaint (ARF not-spam, auth-failure) suppresses nobody', () => {
    for (const type of ['bounced', 'deferred'] as const) {
      expect(decide(ev(type, cls('feedback', { permanent: true })), state(), P, env(0)).action, type).toBe('none')
    }
  })
  it('vacation, deliveries and call-time refusals: nothing', () => {
    expect(decide(ev('auto-reply', cls('vacation')), state(), P, env(0)).action).toBe('none')
    expect(decide(ev('delivered', undefined), state(), P, env(0)).action).toBe('none')
    expect(decide(ev('suppressed', undefined), state(), P, env(0)).action).toBe('none')
  })
  it('network trouble and remote errors: retry within the window, then give up', () => {
    const net = cls('networkerror', { scope: 'network' })
    expect(decide(ev('deferred', net), undefined, P, env(0))).toEqual({ action: 'retry', at: at(5 * MIN), attempt: 2 })
    expect(decide(ev('deferred', net), undefined, P, env(0, { firstFailedAt: at(-72 * HOUR) })).action).toBe('giveUp')
    expect(decide(ev('bounced', cls('expired', { permanent: true, scope: 'network' })), undefined, P, env(0)).action).toBe('giveUp')
    expect(decide(ev('deferred', cls('systemerror')), undefined, P, env(0)).action).toBe('retry')
  })
  it('an unrecognised reply never suppresses', () => {
    expect(
      decide(
        ev('bounced', cls('undefined', { permanent: true })),
        state({ consecutiveSoftFailures: 9, firstSoftFailureAt: at(-9 * DAY) }),
        P,
        env(0),
      ).action,
    ).toBe('giveUp')
    expect(decide(ev('bounced', undefined), undefined, P, env(0)).action).toBe('giveUp')
    expect(decide(ev('deferred', undefined), undefined, P, env(0)).action).toBe('retry')
  })
  it('is pure: same inputs, same output, inputs untouched', () => {
    const e = ev('bounced', cls('mailboxfull'))
    const s = state()
    const snapshot = JSON.stringify([e, s])
    const a = decide(e, s, P, env(0, { random: () => 0.3 }))
    const b = decide(e, s, P, env(0, { random: () => 0.3 }))
    expect(a).toEqual(b)
    expect(JSON.stringify([e, s])).toBe(snapshot)
  })
})

describe('provider suppression list', () => {
  const at = new Date('2026-01-01T00:00:00Z')
  const event = (reason: 'suppressed' | 'userunknown'): BounceEvent => ({
    recipient: 'a@example.com',
    domain: 'example.com',
    type: 'bounced',
    at,
    source: 'webhook',
    classification: { reason, hard: false, permanent: true, scope: 'recipient', ruleId: 'ses.suppression-list' },
  })
  it('mirrors a provider-side suppression locally for 14 days by default', () => {
    const d = decide(event('suppressed'), undefined, DEFAULT_POLICY, { now: at, random: () => 0.5 })
    expect(d).toMatchObject({ action: 'suppress', scope: 'address', key: 'a@example.com', reason: 'suppressed', escalated: false })
    expect(d.action === 'suppress' && d.expiresAt?.getTime()).toBe(at.getTime() + 14 * 24 * 3600_000)
  })
  it('can be turned off', () => {
    const d = decide(event('suppressed'), undefined, resolvePolicy({ providerSuppressed: { suppress: false } }), {
      now: at,
      random: () => 0.5,
    })
    expect(d.action).toBe('giveUp')
  })
})
