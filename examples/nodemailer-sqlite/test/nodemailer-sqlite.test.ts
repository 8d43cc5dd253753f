// Runs the example's mailer against a real local smtp-server (Postfix-style replies) and a SQLite
// file: an unknown user is suppressed after one bounce and refused at call time afterwards.
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailer } from '../src/mailer.js'

describe('example: nodemailer-sqlite', () => {
  const seen: string[] = []
  let server: SMTPServer
  let port: number
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bg-example-sqlite-'))
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideENHANCEDSTATUSCODES: true,
      logger: false,
      onRcptTo(address, _session, cb) {
        seen.push(address.address)
        if (address.address === 'gone@example.com') {
          return cb(
            Object.assign(new Error('5.1.1 <gone@example.com>: Recipient address rejected: User unknown in virtual mailbox table'), {
              responseCode: 550,
            }),
          )
        }
        cb()
      },
      onData(stream, _session, cb) {
        stream.resume()
        stream.on('end', () => cb(null, '2.0.0 Ok: queued as 4XYZ123'))
      },
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('delivers, suppresses an unknown user, then refuses it without connecting', async () => {
    const db = `sqlite:${join(dir, 'app.sqlite')}`
    const mailer = await createMailer({ host: '127.0.0.1', port }, db)
    try {
      const ok = await mailer.transporter.sendMail({ from: 'app@example.org', to: 'ok@example.com', subject: 'a', text: 'a' })
      expect(ok.accepted).toEqual(['ok@example.com'])

      const bounced = await mailer.transporter.sendMail({ from: 'app@example.org', to: 'gone@example.com', subject: 'b', text: 'b' }).then(
        () => undefined,
        (err: {
          bounceGuard?: { outcomes: Array<{ recipient: string; type: string; classification?: { reason: string; hard: boolean } }> }
        }) => err,
      )
      expect(bounced?.bounceGuard?.outcomes[0]).toMatchObject({
        recipient: 'gone@example.com',
        type: 'bounced',
        classification: { reason: 'userunknown', hard: true },
      })
      expect((await mailer.guard.check(['Gone@Example.com'])).suppressed.map((s) => s.normalized)).toEqual(['gone@example.com'])

      const before = seen.length
      await expect(
        mailer.transporter.sendMail({ from: 'app@example.org', to: 'gone@example.com', subject: 'c', text: 'c' }),
      ).rejects.toMatchObject({ code: 'ESUPPRESSED' })
      expect(seen.length).toBe(before)
    } finally {
      await mailer.close()
    }
    // The state is in the file: a new process (here: a new mailer) still refuses the address.
    const again = await createMailer({ host: '127.0.0.1', port }, db)
    try {
      expect((await again.guard.check(['gone@example.com'])).allowed).toEqual([])
    } finally {
      await again.close()
    }
  })
})
