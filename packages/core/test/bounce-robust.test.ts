import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseBounceMessage } from '../src/index.js'

const corpus = join(fileURLToPath(new URL('../../..', import.meta.url)), 'test/fixtures/sisimai/emails') // vendored copy of ../shared/corpus

describe('parseBounceMessage on bad input', () => {
  it('never throws on random bytes and finishes', async () => {
    let done = 0
    for (let i = 0; i < 50; i++) {
      const r = await parseBounceMessage(randomBytes(1 + i * 997))
      expect(r.kind).toBe('not-a-bounce')
      done++
    }
    expect(done).toBe(50)
  })

  it('handles a DSN truncated at every tenth of its length', async () => {
    const full = readFileSync(join(corpus, 'postfix-04.eml'))
    for (let k = 1; k < 10; k++) {
      const r = await parseBounceMessage(full.subarray(0, Math.floor((full.length * k) / 10)))
      expect(['bounce', 'not-a-bounce']).toContain(r.kind)
      for (const rc of r.recipients) expect(typeof rc.classification.reason).toBe('string')
    }
  })

  it('reports a multipart/report with no recipients as not-a-bounce', async () => {
    const msg = [
      'From: MAILER-DAEMON@example.com',
      'To: a@example.org',
      'Subject: Undelivered Mail Returned to Sender',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'Something went wrong.',
      '',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.com',
      '',
      '--b--',
      '',
    ].join('\n')
    const r = await parseBounceMessage(msg)
    expect(r.kind).toBe('not-a-bounce')
    expect(r.recipients).toEqual([])
  })

  it('parses a DSN carrying a 50 MB attachment, in bounded time', async () => {
    const head = readFileSync(join(corpus, 'postfix-04.eml'), 'latin1')
    const boundary = /boundary="([^"]+)"/.exec(head)![1]!
    const big = 'A'.repeat(76) + '\n'
    const attachment = `--${boundary}\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${big.repeat(Math.ceil((50 * 1024 * 1024) / big.length))}\n`
    const closing = `--${boundary}--`
    const at = head.lastIndexOf(closing)
    const raw = Buffer.from(head.slice(0, at) + attachment + head.slice(at), 'latin1')
    expect(raw.length).toBeGreaterThan(50 * 1024 * 1024)
    const t = performance.now()
    const r = await parseBounceMessage(raw, { maxBytes: 64 * 1024 * 1024 })
    expect(performance.now() - t).toBeLessThan(60_000)
    expect(r.kind).toBe('bounce')
    expect(r.recipients[0]!.recipient).toBe('kijitora@example.co.jp')
  }, 120_000)

  it('cuts input at maxBytes and still answers', async () => {
    const raw = readFileSync(join(corpus, 'postfix-04.eml'))
    const r = await parseBounceMessage(raw, { maxBytes: 200 })
    expect(r.kind).toBe('not-a-bounce')
  })

  it('returns not-a-bounce for non-message values', async () => {
    expect((await parseBounceMessage(undefined as unknown as string)).kind).toBe('not-a-bounce')
    expect((await parseBounceMessage('')).kind).toBe('not-a-bounce')
  })

  it('stays linear on pathological notice text', async () => {
    const body = `${'a@'.repeat(20000)}\n${'<'.repeat(50000)}\n${'x'.repeat(100000)}@\n`
    const msg = `From: MAILER-DAEMON@example.com\nSubject: Undelivered Mail\n\n${body}`
    const t = performance.now()
    await parseBounceMessage(msg)
    expect(performance.now() - t).toBeLessThan(5000)
  })
})
