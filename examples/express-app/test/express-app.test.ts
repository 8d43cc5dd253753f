// The HTTP endpoint end to end: real HTTP (fetch), real Nodemailer to a real smtp-server, SQLite
// file store. A hard bounce answers 422, and the next request for that address answers 422
// before any SMTP connection; a healthy address answers 202.
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start } from '../src/main.js'

describe('example: express-app (node:http)', () => {
  const rcpts: string[] = []
  let smtp: SMTPServer
  let app: Awaited<ReturnType<typeof start>>
  let base: string
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bg-example-http-'))
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideENHANCEDSTATUSCODES: true,
      logger: false,
      onRcptTo(address, _s, cb) {
        rcpts.push(address.address)
        if (address.address === 'nobody@example.com')
          return cb(
            Object.assign(new Error('5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table'), {
              responseCode: 550,
            }),
          )
        cb()
      },
      onData(stream, _s, cb) {
        stream.resume()
        stream.on('end', () => cb(null, '2.0.0 Ok: queued'))
      },
    })
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()))
    const port = (smtp as unknown as { server: { address(): AddressInfo } }).server.address().port
    app = await start({ smtp: { host: '127.0.0.1', port }, db: `sqlite:${join(dir, 'app.sqlite')}` })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await app.close()
    await new Promise<void>((resolve) => smtp.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  // node:http rather than fetch: the shared test setup routes fetch through nock's interceptors.
  const call = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; json: () => Promise<unknown> }>((resolve, reject) => {
      const req = request(`${base}${path}`, { method, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: async () => JSON.parse(text) as unknown }))
      })
      req.on('error', reject)
      req.end(body)
    })
  const post = (body: unknown) => call('POST', '/send', JSON.stringify(body))

  it('answers 202 for a deliverable address', async () => {
    const r = await post({ to: 'someone@example.com', subject: 'hi', text: 'hello' })
    expect(r.status).toBe(202)
    expect(await r.json()).toMatchObject({ status: 'delivered' })
  })

  it('answers 422 for a hard bounce, then 422 at call time without touching SMTP', async () => {
    const first = await post({ to: 'nobody@example.com', subject: 'hi', text: 'hello' })
    expect(first.status).toBe(422)
    expect(await first.json()).toMatchObject({ error: 'undeliverable', reason: 'userunknown' })
    const seen = rcpts.length
    const second = await post({ to: 'Nobody@EXAMPLE.com', subject: 'hi again', text: 'hello' })
    expect(second.status).toBe(422)
    expect(await second.json()).toMatchObject({ error: 'suppressed', recipient: 'nobody@example.com', reason: 'userunknown' })
    expect(rcpts.length).toBe(seen)
  })

  it('answers 400 for malformed requests and 404 elsewhere', async () => {
    expect((await post({ to: 42 })).status).toBe(400)
    expect((await post({ to: 'not an address', subject: 's', text: 't' })).status).toBe(400)
    expect((await call('POST', '/send', '{nope')).status).toBe(400)
    expect((await call('GET', '/other')).status).toBe(404)
  })
})
