/**
 * The retry payload capture: what the transport streamed (after DKIM signing) is what a retry job
 * carries and what the retry worker sends again; the capture passes the stream through untouched.
 * A re-send through a Mail that signs again drops the signatures its first send got (one per key).
 */
import { generateKeyPairSync } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { beforeEach, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { MemoryBounceStore } from '@bounce-guard/core'
import type { BounceGuard } from '@bounce-guard/core'
import { createRetryWorker, decodeRetryPayload, encodeRetryPayload, withBounceGuard } from '@bounce-guard/nodemailer'
import { RawCapture, stripLeadingDkimSignatures } from '../src/retry-payload.js'
import { useMta } from './helpers/mta.js'
import { makeGuard, testClock } from './helpers/guard.js'
import type { TestClock } from './helpers/guard.js'

const FROM = 'sender@example.org'
const mta = useMta()
let store: MemoryBounceStore
let clock: TestClock
let guard: BounceGuard

beforeEach(() => {
  store = new MemoryBounceStore()
  clock = testClock()
  guard = makeGuard(store, clock)
})

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string))
  return Buffer.concat(chunks)
}

describe('retry payload capture', () => {
  function dkimOptions() {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    return { domainName: 'example.org', keySelector: 'bg', privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() }
  }
  const headerOf = (m: string) => m.slice(0, m.search(/\r?\n\r?\n/))
  const signatures = (m: string) => headerOf(m).match(/^DKIM-Signature:/gim) ?? []
  const bodyHash = (m: string) => /^DKIM-Signature:[\s\S]*?\bbh=([^;\s]+)/im.exec(headerOf(m))?.[1]
  const crlf = (x: string) => x.replace(/\r?\n/g, '\r\n')

  /** Defer one message at DATA, check its stored payload, and let the worker re-send it through `resend`. */
  async function deferAndRetry(t: any, resend: any): Promise<{ stored: string; got: string }> {
    mta.dataReply = 'greylisted'
    const body = 'Line with 8-bit text: ü\n'.repeat(2000) // several stream chunks
    const err = (await t
      .sendMail({ from: FROM, to: 'grey-data@example.com', subject: 'capture', text: body })
      .catch((e: unknown) => e)) as any
    expect(err).toBeInstanceOf(Error)
    expect(err.bounceGuard.retry.recipients).toEqual(['grey-data@example.com'])
    const [job] = await store.claimDueRetries(new Date(clock.now().getTime() + 30 * 86400_000), 10, 1000)
    const raw = decodeRetryPayload(job?.payload ?? '').raw
    expect(raw.toString()).toContain('Line with 8-bit text: =C3=BC') // quoted-printable body
    expect(raw.length).toBeGreaterThan(body.length)
    // Put the job back (claiming leased it) so the worker finds it.
    await store.failRetry(job!.id, { dueAt: clock.now(), error: 'test' })
    mta.dataReply = undefined
    clock.advance(3600_000)
    const run = await createRetryWorker({ guard, transport: resend }).runOnce()
    expect(run.delivered).toEqual(['grey-data@example.com'])
    return { stored: raw.toString('latin1'), got: mta.messages.at(-1)?.raw.toString('latin1') ?? '' }
  }

  for (const pool of [false, true]) {
    it(`a DATA-stage deferral keeps the DKIM-signed bytes; the re-send through the same Mail is signed once (${pool ? 'pool' : 'smtp'})`, async () => {
      const t = nodemailer.createTransport(
        withBounceGuard({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true, pool, dkim: dkimOptions() }, { guard }),
      )
      const { stored, got } = await deferAndRetry(t, t)
      expect(signatures(stored)).toHaveLength(1)
      // The Mail signed the re-send again: still exactly one signature, over the same body, and
      // below it exactly the bytes streamed the first time without their old signature (the
      // SMTP transport writes line ends as CRLF).
      expect(signatures(got)).toHaveLength(1)
      expect(got).toMatch(/^DKIM-Signature: .*d=example\.org/m)
      expect(bodyHash(got)).toBe(bodyHash(stored))
      const unsigned = stored.slice(stored.search(/^(?!DKIM-Signature:|[ \t])/m))
      expect(unsigned.startsWith('DKIM-Signature')).toBe(false)
      expect(got.endsWith(crlf(unsigned))).toBe(true)
      t.close()
    })
  }

  it('a re-send through a Mail without DKIM keeps the signature of the first send', async () => {
    const smtp = { host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true }
    const signed = nodemailer.createTransport(withBounceGuard({ ...smtp, dkim: dkimOptions() }, { guard }))
    const plain = nodemailer.createTransport(withBounceGuard(smtp, { guard }))
    const { stored, got } = await deferAndRetry(signed, plain)
    expect(signatures(got)).toHaveLength(1)
    expect(got.endsWith(crlf(stored))).toBe(true)
    signed.close()
    plain.close()
  })

  it('a message that brings its own dkim option is re-sent with its stored signature only', async () => {
    const t = nodemailer.createTransport(withBounceGuard({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true }, { guard }))
    const withOwnKey = { sendMail: (d: object) => t.sendMail({ ...d, dkim: dkimOptions() }) }
    const { stored, got } = await deferAndRetry(withOwnKey, t)
    expect(signatures(stored)).toHaveLength(1)
    expect(signatures(got)).toHaveLength(1)
    expect(got.endsWith(crlf(stored))).toBe(true)
    t.close()
  })

  describe('stripLeadingDkimSignatures', () => {
    const msg = [
      'DKIM-Signature: v=1; a=rsa-sha256; d=example.org;',
      '\tb=AAAA',
      ' BBBB',
      'dkim-signature: v=1; d=other.example; b=CCCC',
      'From: a@example.org',
      'DKIM-Signature: v=1; d=late.example; b=DDDD',
      '',
      'body',
      '',
    ].join('\r\n')
    it('removes up to max leading DKIM-Signature fields, folded lines included, and nothing below them', () => {
      expect(stripLeadingDkimSignatures(Buffer.from(msg), 1).toString()).toBe(msg.slice(msg.indexOf('dkim-signature:')))
      expect(stripLeadingDkimSignatures(Buffer.from(msg), 5).toString()).toBe(msg.slice(msg.indexOf('From:')))
      expect(stripLeadingDkimSignatures(Buffer.from(msg), 0).toString()).toBe(msg)
    })
    it('keeps a message that does not start with one, or whose header never ends', () => {
      const plain = Buffer.from('From: a@example.org\r\n\r\nbody')
      expect(stripLeadingDkimSignatures(plain, 2)).toBe(plain)
      const cut = Buffer.from('DKIM-Signature: v=1; b=AAAA')
      expect(stripLeadingDkimSignatures(cut, 1)).toBe(cut)
      expect(stripLeadingDkimSignatures(Buffer.alloc(0), 1).length).toBe(0)
    })
    it('round-trips the count in the payload and ignores a bad one', () => {
      const p = decodeRetryPayload(encodeRetryPayload({ from: FROM, raw: Buffer.from(msg), mailerDkimSignatures: 2 }))
      expect(p.mailerDkimSignatures).toBe(2)
      expect(decodeRetryPayload(encodeRetryPayload({ from: FROM, raw: Buffer.from(msg) })).mailerDkimSignatures).toBeUndefined()
      const bad = JSON.stringify({ v: 1, from: FROM, enc: 'text', raw: msg, dkim: -1 })
      expect(decodeRetryPayload(bad).mailerDkimSignatures).toBeUndefined()
    })
  })

  it('passes the stream through unchanged and records Buffer, Uint8Array and string chunks', async () => {
    const c = new RawCapture(1000)
    const src = new PassThrough()
    const out = c.processFunc(src)
    const read = readAll(out)
    src.write(Buffer.from('abc'))
    src.write(new Uint8Array([100, 101]))
    src.end('fg')
    expect((await read).toString()).toBe('abcdefg')
    expect(c.take()?.toString()).toBe('abcdefg')
    expect(c.size).toBe(7)
  })

  it('gives nothing when the stream did not end or outgrew the limit', async () => {
    const broken = new RawCapture(1000)
    const src = new PassThrough()
    const out = broken.processFunc(src)
    src.write('partial')
    src.destroy(new Error('boom'))
    await expect(readAll(out)).rejects.toThrow('boom')
    expect(broken.take()).toBeUndefined()

    const small = new RawCapture(4)
    const big = small.processFunc(Readable.from([Buffer.from('12345678')], { objectMode: false }))
    expect((await readAll(big)).toString()).toBe('12345678')
    expect(small.oversize).toBe(true)
    expect(small.size).toBe(8)
    expect(small.take()).toBeUndefined()
  })
})
