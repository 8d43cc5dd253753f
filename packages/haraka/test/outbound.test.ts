// The mapping from Haraka's outbound hook arguments to Bounce Guard outcomes, with recipients built
// the way Haraka 3.3.4 builds them (@haraka/email-address Address objects carrying dsn_* fields).
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)
const { Address } = require('@haraka/email-address')
const outbound = require('../lib/outbound.js')

function rcpt(addr: string, fields: Record<string, unknown> = {}) {
  return Object.assign(new Address(`<${addr}>`), fields)
}
function hmail(rcpts: unknown[], extra: Record<string, unknown> = {}) {
  return {
    todo: {
      uuid: 'A1B2C3D4-0000-4000-8000-000000000001.1',
      mail_from: new Address('<sender@example.org>'),
      rcpt_to: rcpts,
      domain: 'example.com',
      notes: { bounce_guard_message_id: '<m1@example.org>' },
    },
    num_failures: 0,
    ...extra,
  }
}

// What Haraka's RCPT handler stores for a rejected recipient (outbound/hmail.js).
const rejected = (addr: string, code: string, extc: string | undefined, text: string) =>
  rcpt(addr, {
    reason: `${code} ${extc ? `${extc} ` : ''}${text}`,
    dsn_action: code[0] === '5' ? 'failed' : 'delayed',
    dsn_smtp_code: code,
    dsn_smtp_extc: extc,
    dsn_status: extc,
    dsn_smtp_response: text,
    dsn_remote_mta: 'mx1.example.com',
  })

describe('delivered', () => {
  it('records only ok_recips, not every recipient of todo.rcpt_to', () => {
    const ok = rcpt('ok@example.com')
    const dead = rejected('dead@example.com', '550', '5.1.1', '<dead@example.com>: Recipient address rejected: User unknown')
    const out = outbound.deliveredOutcomes(hmail([ok, dead]), [
      'mx1.example.com',
      '127.0.0.1',
      'Ok: queued as ABC',
      0.2,
      25,
      'SMTP',
      [ok],
      false,
      false,
    ])
    expect(out).toHaveLength(1)
    expect(out[0]).toMatchObject({
      recipient: 'ok@example.com',
      type: 'delivered',
      source: 'smtp',
      reply: '250 Ok: queued as ABC',
      queueId: 'A1B2C3D4-0000-4000-8000-000000000001.1',
      messageId: '<m1@example.org>',
      sender: 'sender@example.org',
      context: { recipientDomain: 'example.com', remoteMta: 'mx1.example.com' },
    })
  })
})

describe('deferred', () => {
  it('reads params.fail_recips when present (the split hmail has no dsn fields)', () => {
    const grey = rejected('grey@example.com', '451', '4.7.1', '<grey@example.com>: Recipient address rejected: Greylisted, try again later')
    const bare = rcpt('grey@example.com') // how the split queue file reads it back
    const out = outbound.deferredOutcomes(hmail([bare], { num_failures: 1 }), {
      delay: 5,
      err: 'Some recipients temp failed: <grey@example.com>',
      fail_recips: [grey],
    })
    expect(out).toHaveLength(1)
    expect(out[0]).toMatchObject({
      type: 'deferred',
      reply: '451 4.7.1 <grey@example.com>: Recipient address rejected: Greylisted, try again later',
      attempt: 1,
      context: { command: 'RCPT', remoteMta: 'mx1.example.com' },
    })
  })

  it('falls back to hmail.todo.rcpt_to (failure at MAIL or DATA applies to all)', () => {
    const a = rcpt('a@example.com', {
      dsn_action: 'delayed',
      dsn_smtp_code: '451',
      dsn_smtp_extc: '4.3.0',
      dsn_status: '4.3.0',
      dsn_smtp_response: 'Temporary server error',
    })
    const b = rcpt('b@example.com', {
      dsn_action: 'delayed',
      dsn_smtp_code: '451',
      dsn_smtp_extc: '4.3.0',
      dsn_status: '4.3.0',
      dsn_smtp_response: 'Temporary server error',
    })
    const out = outbound.deferredOutcomes(hmail([a, b]), { delay: 5, err: 'Upstream error: 451 4.3.0 Temporary server error' })
    expect(out.map((o: { recipient: string }) => o.recipient)).toEqual(['a@example.com', 'b@example.com'])
    expect(out[0].reply).toBe('451 4.3.0 Temporary server error')
  })

  it('re-classifies a refused connection ("Tried all MXs", made-up 550 5.1.2) as a network error', () => {
    const r = rcpt('x@example.com', { dsn_code: 550, dsn_msg: 'Tried all MXs example.com', dsn_status: '5.1.2', dsn_action: 'failed' })
    const [o] = outbound.deferredOutcomes(hmail([r]), { delay: 5, err: 'Tried all MXs' })
    expect(o.classification).toMatchObject({ reason: 'networkerror', hard: false, permanent: false, scope: 'network' })
    expect(o.reply).toBe('Tried all MXs example.com')
  })

  it('keeps a real unknown domain (DNS NXDOMAIN) for the classifier with its code', () => {
    const r = rcpt('x@nosuch.example', {
      dsn_code: 550,
      dsn_msg: 'No Such Domain: nosuch.example',
      dsn_status: '5.1.2',
      dsn_action: 'failed',
    })
    const [o] = outbound.bounceOutcomes(hmail([r]), new Error('No Such Domain: nosuch.example'))
    expect(o.classification).toBeUndefined()
    expect(o.reply).toBe('550 5.1.2 No Such Domain: nosuch.example')
  })
})

describe('bounce', () => {
  it('reads err.bounced_rcpt after a partial RCPT failure', () => {
    const dead = rejected(
      'dead@example.com',
      '550',
      '5.1.1',
      '<dead@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    )
    const err = Object.assign(new Error('Some recipients failed: <dead@example.com>'), { bounced_rcpt: [dead] })
    const out = outbound.bounceOutcomes(hmail([rcpt('dead@example.com')]), err)
    expect(out).toHaveLength(1)
    expect(out[0]).toMatchObject({
      recipient: 'dead@example.com',
      type: 'bounced',
      reply: '550 5.1.1 <dead@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    })
  })

  it("reads err.deferred_rcpt after too many temporary failures and keeps the server's 4.x.x code", () => {
    // convert_temp_failed_to_bounce rewrote dsn_status 4.2.2 -> 5.2.2
    const full = rejected('full@example.com', '452', '4.2.2', '<full@example.com>: Mailbox full')
    full.dsn_status = '5.2.2'
    full.dsn_action = 'failed'
    const err = Object.assign(new Error('Too many failures (Some recipients temp failed: <full@example.com>)'), { deferred_rcpt: [full] })
    const [o] = outbound.bounceOutcomes(hmail([rcpt('full@example.com')], { num_failures: 2 }), err)
    expect(o).toMatchObject({ type: 'bounced', reply: '452 4.2.2 <full@example.com>: Mailbox full', attempt: 3 })
  })

  it('splits off a two-digit enhanced code Haraka left in the text (5.7.26)', () => {
    // Haraka's smtp_regexp only splits d.d.d, so extc is undefined and the code stays in the text.
    const r = rejected(
      'u@gmail.com',
      '550',
      undefined,
      '5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users',
    )
    const [o] = outbound.bounceOutcomes(hmail([r]), Object.assign(new Error('Some recipients failed'), { bounced_rcpt: [r] }))
    expect(o.reply).toBe('550 5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users')
  })

  it('splits off a three-digit detail (4.7.650) and ignores a code of the wrong class', () => {
    const r = rejected(
      'u@outlook.com',
      '451',
      undefined,
      '4.7.650 The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation.',
    )
    expect(outbound.replyOf(r).reply).toBe(
      '451 4.7.650 The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation.',
    )
    const wrong = rcpt('v@example.com', { dsn_smtp_code: '451', dsn_smtp_extc: '5.2.2', dsn_smtp_response: 'try later' })
    expect(outbound.replyOf(wrong).reply).toBe('451 try later')
  })

  it('uses todo.rcpt_to for a 5xx after DATA (no bounced_rcpt)', () => {
    const a = rcpt('a@example.com', {
      dsn_action: 'failed',
      dsn_smtp_code: '552',
      dsn_smtp_extc: '5.3.4',
      dsn_status: '5.3.4',
      dsn_smtp_response: 'Message size exceeds fixed limit',
    })
    const out = outbound.bounceOutcomes(hmail([a]), new Error('552 5.3.4 Message size exceeds fixed limit'))
    expect(out[0].reply).toBe('552 5.3.4 Message size exceeds fixed limit')
  })

  it('never throws on junk hook arguments', () => {
    expect(outbound.bounceOutcomes(undefined, undefined)).toEqual([])
    expect(outbound.deferredOutcomes({}, null)).toEqual([])
    expect(outbound.deliveredOutcomes({ todo: {} }, 'nonsense')).toEqual([])
    expect(outbound.bounceOutcomes(hmail([null, 42, {}]), {})).toEqual([])
  })
})
