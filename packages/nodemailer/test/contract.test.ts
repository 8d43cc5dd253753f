/**
 * The wrapper obeys Nodemailer's transport contract: name, version, verify, close, isIdle, the
 * idle/error/log events, `mailer` and `getSocket` handed to the inner transport, abort signals,
 * options instead of a transport, and non-SMTP transports.
 */
import { generateKeyPairSync } from 'node:crypto'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import nodemailer from 'nodemailer'
import SMTPPool from 'nodemailer/lib/smtp-pool'
import SMTPTransport from 'nodemailer/lib/smtp-transport'
import { MemoryBounceStore } from '@bounce-guard/core'
import type { BounceGuard, BounceStore } from '@bounce-guard/core'
import { type GuardedTransport, withBounceGuard } from '@bounce-guard/nodemailer'
import { useMta } from './helpers/mta.js'
import { makeGuard, testClock } from './helpers/guard.js'

const FROM = 'sender@example.org'
const mta = useMta()
let store: MemoryBounceStore
let guard: BounceGuard

beforeEach(() => {
  store = new MemoryBounceStore()
  guard = makeGuard(store, testClock())
})

const smtpOptions = () => ({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true })

async function failure(p: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await p
  } catch (e) {
    return e as Error & Record<string, any>
  }
  throw new Error('expected a failure')
}

describe('transport contract', () => {
  it('keeps the inner name and version visible, and hands mailer to the inner transport', () => {
    const inner = new SMTPTransport(smtpOptions())
    const wrapped = withBounceGuard(inner, { guard })
    const t = nodemailer.createTransport(wrapped)
    expect(wrapped.name).toBe(`BounceGuard(${inner.name})`)
    expect(wrapped.version).toBe(inner.version)
    expect(t.transporter).toBe(wrapped)
    expect(inner.mailer).toBe(t)
    expect(wrapped.mailer).toBe(t)
    expect(wrapped.supportsAbortSignal).toBe(true)
    t.close()
  })

  it('forwards verify to the real server and close to the inner transport', async () => {
    const inner = new SMTPTransport(smtpOptions())
    const close = vi.spyOn(inner, 'close')
    const t = nodemailer.createTransport(withBounceGuard(inner, { guard }))
    await expect(t.verify()).resolves.toBe(true)
    t.close()
    expect(close).toHaveBeenCalledTimes(1)
    // A wrong port fails verify the way the inner transport does.
    const bad = nodemailer.createTransport(withBounceGuard({ host: '127.0.0.1', port: 1, connectionTimeout: 2000 }, { guard }))
    const err = await failure(bad.verify())
    expect(err.code).toBe('ESOCKET')
  })

  it('forwards isIdle and the idle event of the pool', async () => {
    const inner = new SMTPPool({ ...smtpOptions(), maxConnections: 1 })
    const t = nodemailer.createTransport(withBounceGuard(inner, { guard }))
    expect(t.isIdle()).toBe(true)
    let idles = 0
    t.on('idle', () => idles++)
    const p = t.sendMail({ from: FROM, to: 'a@example.com', subject: 'x', text: 'x' })
    expect(t.isIdle()).toBe(inner.isIdle())
    await p
    await new Promise((r) => setTimeout(r, 50))
    expect(idles).toBeGreaterThan(0)
    expect(t.isIdle()).toBe(true)
    t.close()
  })

  it('re-emits the inner log and error events through Mail', () => {
    const inner = new SMTPTransport(smtpOptions())
    const t = nodemailer.createTransport(withBounceGuard(inner, { guard }))
    const errors: Error[] = []
    t.on('error', (e) => errors.push(e))
    const boom = new Error('inner failure')
    inner.emit('error', boom)
    expect(errors).toEqual([boom])
    const wrapped = t.transporter as unknown as GuardedTransport
    const logs: unknown[] = []
    wrapped.on('log', (l) => logs.push(l))
    inner.emit('log', { type: 'x', message: 'y' })
    expect(logs).toEqual([{ type: 'x', message: 'y' }])
    t.close()
  })

  it('hands getSocket to the inner transport, which uses it to connect', async () => {
    const inner = new SMTPTransport(smtpOptions())
    const t = nodemailer.createTransport(withBounceGuard(inner, { guard }))
    let asked = 0
    const getSocket = (_o: unknown, cb: (err: Error | null, s?: false) => void) => {
      asked++
      cb(null, false) // false: connect directly
    }
    t.getSocket = getSocket as any
    await t.sendMail({ from: FROM, to: 'a@example.com', subject: 'x', text: 'x' })
    expect(inner.getSocket).toBe(getSocket)
    expect(asked).toBe(1)
    t.close()
  })

  it('builds the inner transport from options, keeping Mail-level options such as DKIM', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const dkim = {
      domainName: 'example.org',
      keySelector: 'bg',
      privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    }
    const before = mta.messages.length
    const t = nodemailer.createTransport(withBounceGuard({ ...smtpOptions(), dkim }, { guard }))
    expect((t.transporter as unknown as GuardedTransport).inner).toBeInstanceOf(SMTPTransport)
    await t.sendMail({ from: FROM, to: 'signed@example.com', subject: 'x', text: 'x' })
    expect(mta.messages.length).toBe(before + 1)
    expect(mta.messages.at(-1)?.raw.toString()).toMatch(/^DKIM-Signature: .*d=example\.org/m)
    t.close()
    const pooled = withBounceGuard({ ...smtpOptions(), pool: true }, { guard })
    expect(pooled.inner).toBeInstanceOf(SMTPPool)
  })

  it('creates a guard from a store', async () => {
    const t = nodemailer.createTransport(withBounceGuard({ jsonTransport: true }, { store }))
    const info = (await t.sendMail({ from: FROM, to: 'j@example.com', subject: 'x', text: 'x' })) as any
    expect(info.bounceGuard.outcomes).toEqual([
      expect.objectContaining({ recipient: 'j@example.com', type: 'delivered', recorded: 'queued' }),
    ])
    // written behind the send (writeBehind, the default): in the store once the queue is flushed
    await (t.transporter as any).flush()
    expect((await store.getRecipientState('j@example.com'))?.deliveries).toBe(1)
  })

  it('writeBehind: false writes deliveries before the send resolves', async () => {
    const t = nodemailer.createTransport(withBounceGuard({ jsonTransport: true }, { store, writeBehind: false }))
    const info = (await t.sendMail({ from: FROM, to: 'w@example.com', subject: 'x', text: 'x' })) as any
    expect(info.bounceGuard.outcomes[0]).toMatchObject({ recorded: 'written', decision: { action: 'none' } })
    expect((await store.getRecipientState('w@example.com'))?.deliveries).toBe(1)
    expect((t.transporter as any).bufferedOutcomes).toBe(0)
  })

  it('rejects bad options with typed errors', () => {
    expect(() => withBounceGuard({ jsonTransport: true }, {} as any)).toThrow(expect.objectContaining({ code: 'EINVALID_OPTION' }))
    expect(() => withBounceGuard({ jsonTransport: true }, { guard, onSuppressed: 'bounce' as any })).toThrow(
      expect.objectContaining({ code: 'EINVALID_OPTION' }),
    )
    expect(() => withBounceGuard({ jsonTransport: true }, { guard, onStoreError: 'maybe' as any })).toThrow(
      expect.objectContaining({ code: 'EINVALID_OPTION' }),
    )
    expect(() => withBounceGuard(42 as any, { guard })).toThrow(expect.objectContaining({ code: 'EINVALID_OPTION' }))
  })
})

describe('abort signals', () => {
  it('a signal aborted before sending fails with EABORT and never connects', async () => {
    const t = nodemailer.createTransport(withBounceGuard(smtpOptions(), { guard }))
    const before = mta.connections
    const ac = new AbortController()
    ac.abort()
    const err = await failure(t.sendMail({ from: FROM, to: 'a@example.com', subject: 'x', text: 'x', signal: ac.signal }))
    expect(err.code).toBe('EABORT')
    expect(mta.connections).toBe(before)
    t.close()
  })

  it('an abort while the store is being asked stops the send before any connection', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slow: BounceStore = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver)
        if (prop === 'findSuppressions') return async (...a: unknown[]) => (await gate, (v as any).apply(target, a))
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    const g = makeGuard(slow, testClock())
    const t = nodemailer.createTransport(withBounceGuard(smtpOptions(), { guard: g }))
    const before = mta.connections
    const ac = new AbortController()
    const p = failure(t.sendMail({ from: FROM, to: 'slow@example.com', subject: 'x', text: 'x', signal: ac.signal }))
    setTimeout(() => ac.abort(), 20)
    const err = await p
    expect(err.code).toBe('EABORT')
    release()
    await new Promise((r) => setTimeout(r, 50))
    expect(mta.rcptCount('slow@example.com')).toBe(0)
    expect(mta.connections).toBe(before)
    t.close()
  })

  it('an abort during the SMTP transaction is handled by the inner transport', async () => {
    mta.dataDelayMs = 2000
    const t = nodemailer.createTransport(withBounceGuard(smtpOptions(), { guard }))
    const ac = new AbortController()
    const started = Date.now()
    const p = failure(t.sendMail({ from: FROM, to: 'abort@example.com', subject: 'x', text: 'x', signal: ac.signal }))
    setTimeout(() => ac.abort(), 200)
    const err = await p
    expect(err.code).toBe('EABORT')
    expect(Date.now() - started).toBeLessThan(1500)
    expect(mta.rcptCount('abort@example.com')).toBe(1)
    // An abort says nothing about the recipient: nothing is recorded.
    expect(await store.getRecipientState('abort@example.com')).toBeUndefined()
    t.close()
  })
})

describe('non-SMTP transports', () => {
  it('wraps the JSON transport (no verify): every envelope recipient is delivered', async () => {
    await store.suppress({ key: 'no@example.com', scope: 'address', reason: 'manual', source: 'manual', at: new Date() })
    const wrapped = withBounceGuard({ jsonTransport: true }, { guard })
    expect(wrapped.verify).toBeUndefined()
    expect(wrapped.supportsAbortSignal).toBeUndefined()
    const t = nodemailer.createTransport(wrapped)
    const info = (await t.sendMail({ from: FROM, to: ['yes@example.com', 'no@example.com'], subject: 'x', text: 'x' })) as any
    expect(info.envelope.to).toEqual(['yes@example.com'])
    expect(info.bounceGuard.suppressed).toEqual(['no@example.com'])
    await wrapped.flush()
    expect((await store.getRecipientState('yes@example.com'))?.deliveries).toBe(1)
  })

  it('wraps the stream transport given as an object', async () => {
    const inner = nodemailer.createTransport({ streamTransport: true, buffer: true }).transporter
    const t = nodemailer.createTransport(withBounceGuard(inner as any, { guard }))
    const info = (await t.sendMail({ from: FROM, to: 's@example.com', subject: 'x', text: 'streamed' })) as any
    expect(info.message.toString()).toContain('streamed')
    expect(info.bounceGuard.outcomes[0].type).toBe('delivered')
  })
})
