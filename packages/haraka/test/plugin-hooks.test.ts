// The plugin's hooks called as Haraka calls them (haraka-test-fixtures), with a real guard over the
// real in-memory store from @bounce-guard/core, and, for the dead-database case, the real
// TypeORM store pointed at a port where nothing listens.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as core from '@bounce-guard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureCjsBuilds } from './helpers/build-deps.js'

const require = createRequire(import.meta.url)
const fixtures = require('haraka-test-fixtures')
const { Address } = require('@haraka/email-address')
const constants = require('haraka-constants')

const PLUGIN_DIR = fileURLToPath(new URL('..', import.meta.url))
const tmpDirs: string[] = []

/** A plugin instance; `ini` (text of bounce-guard.ini) overrides the shipped defaults. */
function makePlugin(ini?: string): any {
  const plugin = fixtures.makePlugin(PLUGIN_DIR, { register: false })
  plugin.name = 'bounce-guard'
  if (ini !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'bg-haraka-unit-'))
    tmpDirs.push(dir)
    mkdirSync(join(dir, 'config'))
    writeFileSync(join(dir, 'config/bounce-guard.ini'), ini)
    plugin.config = plugin.config.module_config(PLUGIN_DIR, dir)
  }
  const logs: string[] = []
  for (const level of ['logdebug', 'loginfo', 'lognotice', 'logwarn', 'logerror', 'logcrit']) {
    plugin[level] = (msg: unknown) => {
      logs.push(`${level}: ${String(msg)}`)
    }
  }
  plugin.logs = logs
  plugin.register()
  return plugin
}

function memoryGuard(now = () => new Date('2026-03-01T10:00:00Z')) {
  const store = new core.MemoryBounceStore()
  const guard = core.createBounceGuard({ store, now })
  return { store, guard }
}

/** Call a hook and record every `next()` call, to check it is called exactly once. */
function callCounting(plugin: any, method: string, ...args: unknown[]): Promise<{ calls: Array<[unknown, unknown]>; ms: number }> {
  const calls: Array<[unknown, unknown]> = []
  const t0 = performance.now()
  return new Promise((resolve) => {
    plugin[method](
      (rc: unknown, msg: unknown) => {
        calls.push([rc, msg])
        const ms = performance.now() - t0
        // wait a moment to catch a second call
        setTimeout(() => resolve({ calls, ms }), 30)
      },
      ...args,
    )
  })
}

const rcpt = (a: string, f: Record<string, unknown> = {}) => Object.assign(new Address(`<${a}>`), f)
const hmail = (rcpts: unknown[], uuid = 'C0FFEE00-0000-4000-8000-000000000001.1') => ({
  todo: {
    uuid,
    mail_from: new Address('<sender@example.org>'),
    rcpt_to: rcpts,
    domain: 'example.com',
    notes: { bounce_guard_message_id: '<m42@example.org>' },
  },
  num_failures: 0,
})
const dead = () =>
  rcpt('Dead@Example.com', {
    reason: '550 5.1.1 <Dead@Example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    dsn_action: 'failed',
    dsn_smtp_code: '550',
    dsn_smtp_extc: '5.1.1',
    dsn_status: '5.1.1',
    dsn_smtp_response: '<Dead@Example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    dsn_remote_mta: '127.0.0.1',
  })

afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true })
})

describe('outbound hooks', () => {
  it('bounce: answers CONT once, at once, and the outcome reaches the store with queue id and Message-ID', async () => {
    const plugin = makePlugin()
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    const d = dead()
    const err = Object.assign(new Error('Some recipients failed: <Dead@Example.com>'), { bounced_rcpt: [d] })
    const { calls } = await callCounting(plugin, 'hook_bounce', hmail([rcpt('Dead@Example.com')]), err)
    expect(calls).toEqual([[undefined, undefined]])
    expect(await plugin.bounce_guard_drain(5000)).toBe(true)
    const events = await store.listEvents('dead@example.com')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      recipient: 'dead@example.com',
      type: 'bounced',
      source: 'smtp',
      queueId: 'C0FFEE00-0000-4000-8000-000000000001.1',
      messageId: 'm42@example.org',
      sender: 'sender@example.org',
    })
    expect(events[0]!.reply).toMatch(/^550 5\.1\.1 <Dead@Example\.com>: Recipient address rejected/)
    expect(events[0]!.eventId).toMatch(/^haraka:/)
  })

  it('bounce of an unknown user suppresses the address', async () => {
    const plugin = makePlugin()
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    await callCounting(plugin, 'hook_bounce', hmail([rcpt('dead@example.com')]), Object.assign(new Error('x'), { bounced_rcpt: [dead()] }))
    await plugin.bounce_guard_drain(5000)
    const found = await store.findSuppressions(['dead@example.com'])
    expect(found.get('dead@example.com')).toMatchObject({ scope: 'address', reason: 'userunknown', source: 'smtp' })
  })

  it('delivered records only ok_recips; deferred reads fail_recips', async () => {
    const plugin = makePlugin()
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    const ok = rcpt('ok@example.com')
    const grey = rcpt('grey@example.com', {
      reason: '451 4.7.1 ...',
      dsn_action: 'delayed',
      dsn_smtp_code: '451',
      dsn_smtp_extc: '4.7.1',
      dsn_status: '4.7.1',
      dsn_smtp_response: '<grey@example.com>: Recipient address rejected: Greylisted, try again later',
    })
    const h = hmail([ok, grey, dead()])
    expect(
      (await callCounting(plugin, 'hook_delivered', h, ['127.0.0.1', '127.0.0.1', 'Ok: queued as 1', 0.1, 25, 'SMTP', [ok], false, false]))
        .calls,
    ).toHaveLength(1)
    expect(
      (
        await callCounting(plugin, 'hook_deferred', hmail([rcpt('grey@example.com')]), {
          delay: 5,
          err: 'Some recipients temp failed',
          fail_recips: [grey],
        })
      ).calls,
    ).toEqual([[undefined, undefined]])
    await plugin.bounce_guard_drain(5000)
    expect((await store.listEvents('ok@example.com')).map((e) => e.type)).toEqual(['delivered'])
    expect((await store.listEvents('grey@example.com')).map((e) => e.type)).toEqual(['deferred'])
    expect(await store.listEvents('dead@example.com')).toEqual([])
    expect(await store.getRecipientState('grey@example.com')).toMatchObject({ events: 1, deliveries: 0 })
    expect((await store.findSuppressions(['grey@example.com'])).size).toBe(0)
  })

  it('record_outbound=false records nothing and still answers once', async () => {
    const plugin = makePlugin('[features]\nrecord_outbound=false\n')
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    const { calls } = await callCounting(plugin, 'hook_bounce', hmail([dead()]), new Error('x'))
    expect(calls).toHaveLength(1)
    await plugin.bounce_guard_drain(1000)
    expect(await store.listEvents('dead@example.com')).toEqual([])
  })
})

describe('dead database', () => {
  beforeAll(() => {
    ensureCjsBuilds(['core', 'typeorm'])
  }, 120_000)

  it('hooks answer at once, outcomes wait in the queue, and are written after recovery', async () => {
    // Nothing listens on port 1: the real TypeORM store cannot connect.
    const plugin = makePlugin(
      '[database]\nurl=postgres://postgres@127.0.0.1:1/none\nconnect_timeout_ms=500\n[queue]\nwrite_timeout_ms=300\nretry_interval_ms=100\n',
    )
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      const { calls, ms } = await callCounting(plugin, 'hook_bounce', hmail([dead()], `DEAD${i}.1`), new Error('x'))
      expect(calls).toHaveLength(1)
      times.push(ms)
    }
    // Far below connect_timeout_ms (500): no hook waited for the database.
    expect(Math.max(...times)).toBeLessThan(250)
    await new Promise((r) => setTimeout(r, 700))
    const before = plugin.bounce_guard_stats()
    expect(before.written).toBe(0)
    expect(before.failedAttempts).toBeGreaterThanOrEqual(1)
    expect(before.queued + before.inFlight).toBe(20)
    expect(plugin.logs.some((l: string) => /cannot open the store/.test(l))).toBe(true)
    // RCPT of a relaying client fails open while the store is down.
    const conn = fixtures.makeConnection({ relaying: true, mailFrom: 'sender@example.org', silent: true })
    const r = await fixtures.callRcpt(plugin, conn, 'dead@example.com')
    expect(r.rc).toBeUndefined()
    // The database comes back (here: a working guard is handed in); nothing was lost.
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    expect(await plugin.bounce_guard_drain(5000)).toBe(true)
    expect(plugin.bounce_guard_stats()).toMatchObject({ written: 20, overflowed: 0 })
    expect((await store.listEvents('dead@example.com')).length).toBe(20)
  })

  it('beyond the queue limit outcomes are counted and logged, hooks still answer', async () => {
    const plugin = makePlugin(
      '[database]\nurl=postgres://postgres@127.0.0.1:1/none\nconnect_timeout_ms=500\n[queue]\nlimit=5\nretry_interval_ms=60000\n',
    )
    for (let i = 0; i < 8; i++) {
      const { calls } = await callCounting(plugin, 'hook_deferred', hmail([dead()], `FULL${i}.1`), { delay: 5, err: 'x' })
      expect(calls).toHaveLength(1)
    }
    expect(plugin.bounce_guard_stats()).toMatchObject({ overflowed: 3 })
    expect(plugin.logs.some((l: string) => /write queue full \(5\)/.test(l))).toBe(true)
    plugin.shutdown()
  })
})

describe('rcpt', () => {
  it('refuses a suppressed recipient of a relaying client with 550 and the reason; others pass', async () => {
    const plugin = makePlugin()
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    await store.suppress({
      key: 'dead@example.com',
      scope: 'address',
      reason: 'userunknown',
      source: 'smtp',
      at: new Date('2026-02-03T04:05:06Z'),
    })
    const relaying = fixtures.makeConnection({ relaying: true, mailFrom: 'sender@example.org', silent: true })
    const refused = await fixtures.callRcpt(plugin, relaying, 'Dead@EXAMPLE.com')
    expect(refused.rc).toBe(constants.deny)
    expect(refused.msg).toBe('5.1.1 <Dead@EXAMPLE.com>: suppressed by bounce-guard (userunknown since 2026-02-03T04:05:06.000Z)')
    expect((await fixtures.callRcpt(plugin, relaying, 'alive@example.com')).rc).toBeUndefined()
    // Not relaying: inbound mail is none of our business.
    const inbound = fixtures.makeConnection({ relaying: false, mailFrom: 'x@example.net', silent: true })
    expect((await fixtures.callRcpt(plugin, inbound, 'dead@example.com')).rc).toBeUndefined()
  })

  it('domain suppressions refuse only when refuse_domain_suppressions is on', async () => {
    for (const on of [true, false]) {
      const plugin = makePlugin(`[features]\nrefuse_domain_suppressions=${on}\n`)
      const { store, guard } = memoryGuard()
      plugin.bounce_guard_use(guard, { core })
      await store.suppress({
        key: 'gone.example',
        scope: 'domain',
        reason: 'hostunknown',
        source: 'smtp',
        at: new Date('2026-02-03T00:00:00Z'),
      })
      const conn = fixtures.makeConnection({ relaying: true, mailFrom: 'sender@example.org', silent: true })
      const r = await fixtures.callRcpt(plugin, conn, 'anyone@gone.example')
      if (on) {
        expect(r.rc).toBe(constants.deny)
        expect(r.msg).toMatch(
          /^5\.1\.2 <anyone@gone\.example>: domain gone\.example suppressed by bounce-guard \(hostunknown since 2026-02-03/,
        )
      } else {
        expect(r.rc).toBeUndefined()
      }
    }
  })

  it('accepts the bounce address (and its VERP forms) from non-relaying senders', async () => {
    const plugin = makePlugin('[bounce]\naddress=bounces@example.org\n')
    const conn = fixtures.makeConnection({ relaying: false, mailFrom: 'MAILER-DAEMON@mx.example.net', silent: true })
    expect((await fixtures.callRcpt(plugin, conn, 'bounces+alice=example.com@example.org')).rc).toBe(constants.ok)
    expect((await fixtures.callRcpt(plugin, conn, 'bounces@example.org')).rc).toBe(constants.ok)
    expect((await fixtures.callRcpt(plugin, conn, 'someone@example.org')).rc).toBeUndefined()
  })
})

describe('bad config', () => {
  it('is logged, disables the feature, and never throws from a hook', async () => {
    const plugin = makePlugin('[bounce]\naddress=not an address\nverp_separator=##\n[queue]\nlimit=banana\n')
    expect(plugin.logs.filter((l: string) => /^logerror: bounce-guard: bounce-guard\.ini/.test(l)).length).toBeGreaterThanOrEqual(2)
    const conn = fixtures.makeConnection({ relaying: false, mailFrom: 'x@example.net', silent: true })
    conn.transaction.rcpt_to = [new Address('<bounces@example.org>')]
    const { calls } = await callCounting(plugin, 'hook_queue', conn)
    expect(calls).toEqual([[undefined, undefined]])
  })
})

// An RFC 3464 DSN as Postfix writes it, sent back to a VERP bounce address.
const DSN = [
  'Return-Path: <>',
  'From: MAILER-DAEMON@mx.example.com (Mail Delivery System)',
  'To: bounces+dead=example.com@example.org',
  'Subject: Undelivered Mail Returned to Sender',
  'Message-ID: <20260301100000.AB12C3D4E5@mx.example.com>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY1"',
  '',
  '--BOUNDARY1',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'This is the mail system at host mx.example.com.',
  '',
  "I'm sorry to have to inform you that your message could not",
  'be delivered to one or more recipients.',
  '',
  '<dead@example.com>: host mx.example.com[192.0.2.10] said: 550 5.1.1',
  '    <dead@example.com>: Recipient address rejected: User unknown in virtual',
  '    mailbox table (in reply to RCPT TO command)',
  '',
  '--BOUNDARY1',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns; mx.example.com',
  'Arrival-Date: Sun,  1 Mar 2026 10:00:00 +0000 (UTC)',
  '',
  'Final-Recipient: rfc822; dead@example.com',
  'Original-Recipient: rfc822;dead@example.com',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; mx.example.com',
  'Diagnostic-Code: smtp; 550 5.1.1 <dead@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
  '',
  '--BOUNDARY1',
  'Content-Type: text/rfc822-headers',
  '',
  'From: sender@example.org',
  'To: dead@example.com',
  'Subject: hello',
  'Message-ID: <orig-1@example.org>',
  '',
  '--BOUNDARY1--',
  '',
]

function connectionWithMessage(rcpts: string[], lines: string[]): Promise<any> {
  const conn = fixtures.makeConnection({ relaying: false, mailFrom: '<>', silent: true })
  conn.transaction.rcpt_to = rcpts.map((r) => new Address(`<${r}>`))
  for (const l of lines) conn.transaction.add_data(Buffer.from(`${l}\r\n`))
  return new Promise((resolve) => conn.transaction.end_data(() => resolve(conn)))
}

describe('bounce mailbox', () => {
  const ini = '[bounce]\naddress=bounces@example.org\n'
  it('parses a DSN at the VERP bounce address, records it, and accepts and drops it', async () => {
    const plugin = makePlugin(ini)
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    const conn = await connectionWithMessage(['bounces+dead=example.com@example.org'], DSN)
    const { calls } = await callCounting(plugin, 'hook_queue', conn)
    expect(calls).toHaveLength(1)
    expect(calls[0]![0]).toBe(constants.ok)
    await plugin.bounce_guard_drain(5000)
    const events = await store.listEvents('dead@example.com')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ type: 'bounced', source: 'dsn', messageId: 'orig-1@example.org' })
    expect(events[0]!.classification?.reason).toBe('userunknown')
    expect((await store.findSuppressions(['dead@example.com'])).get('dead@example.com')).toMatchObject({
      reason: 'userunknown',
      source: 'dsn',
    })
  })

  it('with accept_and_drop_dsn=false records it and passes it on', async () => {
    const plugin = makePlugin(`${ini}accept_and_drop_dsn=false\n`)
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    const conn = await connectionWithMessage(['bounces@example.org'], DSN)
    const { calls } = await callCounting(plugin, 'hook_queue', conn)
    expect(calls).toEqual([[undefined, undefined]])
    await plugin.bounce_guard_drain(5000)
    expect((await store.listEvents('dead@example.com')).map((e) => e.type)).toEqual(['bounced'])
  })

  it('passes on mail that is not for the bounce address, and junk at it, without recording', async () => {
    const plugin = makePlugin(ini)
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    const other = await connectionWithMessage(['alice@example.org'], DSN)
    expect((await callCounting(plugin, 'hook_queue', other)).calls).toEqual([[undefined, undefined]])
    const junk = await connectionWithMessage(['bounces@example.org'], ['Subject: hi', '', 'just a note, no bounce here'])
    expect((await callCounting(plugin, 'hook_queue', junk)).calls).toEqual([[undefined, undefined]])
    await plugin.bounce_guard_drain(1000)
    expect(await store.listEvents('dead@example.com')).toEqual([])
  })

  // An ARF feedback report sent to the bounce address (a feedback loop's reporting address).
  const arf = (feedbackType: string): string[] => [
    'From: Feedback Loop <fbl@isp.example>',
    'To: bounces@example.org',
    'Subject: FW: hello',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"',
    '',
    '--ARF',
    'Content-Type: text/plain',
    '',
    'This is an email feedback report.',
    '',
    '--ARF',
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${feedbackType}`,
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    'Original-Rcpt-To: <reader@example.com>',
    ...(feedbackType === 'auth-failure' ? ['Auth-Failure: dmarc'] : []),
    '',
    '--ARF',
    'Content-Type: text/rfc822-headers',
    '',
    'From: sender@example.org',
    'To: reader@example.com',
    'Subject: hello',
    '',
    '--ARF--',
  ]

  it('records nothing for a not-spam or auth-failure feedback report, and a complaint for an abuse report', async () => {
    const plugin = makePlugin(ini)
    const { store, guard } = memoryGuard()
    plugin.bounce_guard_use(guard, { core })
    for (const type of ['not-spam', 'auth-failure']) {
      const conn = await connectionWithMessage(['bounces@example.org'], arf(type))
      // not a report the plugin acts on: passed on, not accepted and dropped
      expect((await callCounting(plugin, 'hook_queue', conn)).calls, type).toEqual([[undefined, undefined]])
    }
    await plugin.bounce_guard_drain(1000)
    expect(await store.listEvents('reader@example.com')).toEqual([])
    expect((await store.findSuppressions(['reader@example.com'])).size).toBe(0)
    const abuse = await connectionWithMessage(['bounces@example.org'], arf('abuse'))
    expect((await callCounting(plugin, 'hook_queue', abuse)).calls[0]![0]).toBe(constants.ok)
    await plugin.bounce_guard_drain(5000)
    expect((await store.listEvents('reader@example.com')).map((e) => [e.type, e.source])).toEqual([['complaint', 'feedback-loop']])
  })
})

describe('traffic shaping (send_email)', () => {
  const yahooDeferral = () =>
    rcpt('someone@yahoo.com', {
      reason:
        '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
      dsn_action: 'delayed',
      dsn_smtp_code: '421',
      dsn_smtp_extc: '4.7.0',
      dsn_status: '4.7.0',
      dsn_smtp_response:
        '[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
      dsn_remote_mta: 'mta7.am0.yahoodns.net',
    })
  const yahooMail = (uuid: string) => ({
    ...hmail([yahooDeferral()], uuid),
    todo: { ...hmail([], uuid).todo, rcpt_to: [yahooDeferral()], domain: 'yahoo.com' },
  })

  it('delays delivery to a destination paused by TSS04 deferrals, and only when shape_outbound is on', async () => {
    const on = makePlugin('[features]\nshape_outbound=true\n')
    const off = makePlugin()
    for (const plugin of [on, off]) {
      plugin.bounce_guard_use(memoryGuard(() => new Date()).guard, { core })
      for (let i = 0; i < 5; i++) {
        await callCounting(plugin, 'hook_deferred', yahooMail(`C0FFEE00-0000-4000-8000-00000000010${i}.1`), {
          delay: 60,
          err: new Error('deferred'),
        })
      }
      expect(await plugin.bounce_guard_drain(5000)).toBe(true)
    }
    const paused = await callCounting(on, 'hook_send_email', yahooMail('C0FFEE00-0000-4000-8000-000000000200.1'))
    expect(paused.calls).toHaveLength(1)
    expect(paused.calls[0]![0]).toBe(constants.delay)
    expect(paused.calls[0]![1]).toBeGreaterThan(60)
    const other = await callCounting(on, 'hook_send_email', { ...hmail([]), todo: { ...hmail([]).todo, domain: 'example.net' } })
    expect(other.calls[0]![0]).toBeUndefined()
    const notShaping = await callCounting(off, 'hook_send_email', yahooMail('C0FFEE00-0000-4000-8000-000000000201.1'))
    expect(notShaping.calls[0]![0]).toBeUndefined()
  })

  it('two nodes on one store see the same pause: node B delays Yahoo after node A was deferred (shared shaping)', async () => {
    const ini = '[features]\nshape_outbound=true\n[shaping]\nrefresh_ms=100\n'
    const store = new core.MemoryBounceStore()
    const a = makePlugin(ini)
    const b = makePlugin(ini)
    a.bounce_guard_use(core.createBounceGuard({ store }), { core })
    b.bounce_guard_use(core.createBounceGuard({ store }), { core })
    try {
      // B has seen nothing: Yahoo is open.
      const before = await callCounting(b, 'hook_send_email', yahooMail('C0FFEE00-0000-4000-8000-000000000300.1'))
      expect(before.calls).toHaveLength(1)
      expect(before.calls[0]![0]).toBeUndefined()
      for (let i = 0; i < 3; i++) {
        await callCounting(a, 'hook_deferred', yahooMail(`C0FFEE00-0000-4000-8000-00000000031${i}.1`), {
          delay: 60,
          err: new Error('deferred'),
        })
      }
      expect(await a.bounce_guard_drain(5000)).toBe(true)
      // A's pause is in the store (read through the store, not through either plugin).
      const deadline = Date.now() + 3000
      let rows = await store.listShapingEntries()
      while (rows.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20))
        rows = await store.listShapingEntries()
      }
      expect(rows.map((r) => [r.key, r.ruleId, r.action])).toEqual([['provider:yahoo', 'yahoo.tss04', 'pause']])
      // B never saw a Yahoo reply, yet answers DELAY once its next refresh merged A's action.
      let d = await callCounting(b, 'hook_send_email', yahooMail('C0FFEE00-0000-4000-8000-000000000320.1'))
      while (d.calls[0]![0] === undefined && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50))
        d = await callCounting(b, 'hook_send_email', yahooMail('C0FFEE00-0000-4000-8000-000000000320.1'))
      }
      expect(d.calls).toHaveLength(1)
      expect(d.calls[0]![0]).toBe(constants.delay)
      expect(d.calls[0]![1]).toBeGreaterThan(3600)
      expect(d.calls[0]![1]).toBeLessThanOrEqual(7200)
      expect(b.logs.some((l: string) => l.includes('traffic shaping shared through the store'))).toBe(true)
      const other = await callCounting(b, 'hook_send_email', { ...hmail([]), todo: { ...hmail([]).todo, domain: 'example.net' } })
      expect(other.calls[0]![0]).toBeUndefined()
    } finally {
      a.shutdown()
      b.shutdown()
    }
  })

  it('two nodes on one store share a cap: together they deliver no more than the cap per minute window', async () => {
    const ini = '[features]\nshape_outbound=true\n[shaping]\nrefresh_ms=100\n'
    const store = new core.MemoryBounceStore()
    const nodes = [makePlugin(ini), makePlugin(ini)]
    for (const n of nodes) n.bounce_guard_use(core.createBounceGuard({ store }), { core })
    const capped = (i: number) => ({ ...hmail([]), todo: { ...hmail([]).todo, domain: 'capped.example' }, uuid: `cap-${i}` })
    try {
      // A cap of 1 per minute on the domain, decided elsewhere and shared through the store.
      const t = Date.now()
      await store.putShapingEntries([
        { key: 'domain:capped.example', ruleId: 'test.cap', action: 'cap', perMinute: 1, since: t, until: t + 3_600_000 },
      ])
      // Start sharing on both nodes (the first send_email does) and merge the store's actions.
      for (const n of nodes) await callCounting(n, 'hook_send_email', { ...hmail([]), todo: { ...hmail([]).todo, domain: 'example.net' } })
      const deadline = Date.now() + 3000
      for (const n of nodes) {
        while (!(n._bg.sharing && n._bg.sharing.shared) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
        await n._bg.sharing.shared.refresh()
        expect(n._bg.sharing.shared.caps('capped.example')).toHaveLength(1)
      }
      // Stay inside one minute window for the sends below.
      if (Date.now() % 60_000 > 50_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50))
      const window = Math.floor(Date.now() / 60_000)
      const answers: unknown[] = []
      for (let i = 0; i < 6; i++) answers.push((await callCounting(nodes[i % 2], 'hook_send_email', capped(i))).calls[0]![0])
      expect(Math.floor(Date.now() / 60_000)).toBe(window)
      // Each node alone would allow one delivery (per-process pacing); together only one goes.
      expect(answers.filter((a) => a === undefined)).toHaveLength(1)
      expect(answers.filter((a) => a === constants.delay)).toHaveLength(5)
    } finally {
      for (const n of nodes) n.shutdown()
    }
  })
})
