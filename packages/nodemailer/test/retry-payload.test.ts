/**
 * The retry payload capture: what the transport streamed (after DKIM signing) is what a retry job
 * carries and what the retry worker sends again; the capture passes the stream through untouched.
 */
import { generateKeyPairSync } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { MemoryBounceStore } from '@bounce-guard/core'
import type { BounceGuard } from '@bounce-guard/core'
import { createRetryWorker, decodeRetryPayload, withBounceGuard } from '@bounce-guard/nodemailer'
import { RawCapture } from '../src/retry-payload.js'
import { startMta } from './helpers/mta.js'
import type { Mta } from './helpers/mta.js'
import { makeGuard, testClock } from './helpers/guard.js'
import type { TestClock } from './helpers/guard.js'

const FROM = 'sender@example.org'
let mta: Mta
let store: MemoryBounceStore
let clock: TestClock
let guard: BounceGuard

beforeAll(async () => {
  mta = await startMta()
})
afterAll(async () => {
  await mta.close()
})
beforeEach(() => {
  mta.rcpts.clear()
  mta.messages.length = 0
  mta.dataReply = undefined
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
  for (const pool of [false, true]) {
    it(`a DATA-stage deferral keeps the DKIM-signed bytes and the worker re-sends them (${pool ? 'pool' : 'smtp'})`, async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
      const dkim = {
        domainName: 'example.org',
        keySelector: 'bg',
        privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      }
      const t = nodemailer.createTransport(
        withBounceGuard({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true, pool, dkim }, { guard }),
      )
      mta.dataReply = 'greylisted'
      const body = 'Line with 8-bit text: ü\n'.repeat(2000) // several stream chunks
      const err = (await t.sendMail({ from: FROM, to: 'grey-data@example.com', subject: 'capture', text: body }).catch((e) => e)) as any
      expect(err).toBeInstanceOf(Error)
      expect(err.bounceGuard.retry.recipients).toEqual(['grey-data@example.com'])
      const [job] = await store.claimDueRetries(new Date(clock.now().getTime() + 30 * 86400_000), 10, 1000)
      const raw = decodeRetryPayload(job?.payload ?? '').raw
      expect(raw.toString()).toMatch(/^DKIM-Signature: .*d=example\.org/m)
      expect(raw.toString()).toContain('Line with 8-bit text: =C3=BC') // quoted-printable body
      expect(raw.length).toBeGreaterThan(body.length)
      // Put the job back (claiming leased it) so the worker finds it.
      await store.failRetry(job!.id, { dueAt: clock.now(), error: 'test' })
      mta.dataReply = undefined
      clock.advance(3600_000)
      const run = await createRetryWorker({ guard, transport: t }).runOnce()
      expect(run.delivered).toEqual(['grey-data@example.com'])
      // The re-sent message ends with exactly the bytes streamed the first time (the SMTP
      // transport writes line ends as CRLF). The Mail's own DKIM option signs the re-send again,
      // adding a second header above them.
      const crlf = (x: string) => x.replace(/\r?\n/g, '\r\n')
      const got = mta.messages.at(-1)?.raw.toString('latin1') ?? ''
      expect(got.length).toBeGreaterThanOrEqual(raw.length)
      expect(got.endsWith(crlf(raw.toString('latin1')))).toBe(true)
      t.close()
    })
  }

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
