// Two app servers share one PostgreSQL store (a fresh database per run): a bounce seen by one is
// refused at call time by the other, and a deferred recipient is retried by exactly one worker.
// Without PostgreSQL the test skips with a message, except in CI (env CI) where it fails.
import type { AddressInfo } from 'node:net'
import { createBounceGuardDataSource, runMigrations } from '@bounce-guard/typeorm'
import pg from 'pg'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAppServer } from '../src/app-server.js'

const ADMIN_URL = process.env.BG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function freshDatabase(): Promise<{ ok: true; url: string; drop: () => Promise<void> } | { ok: false; why: string }> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 })
  try {
    await admin.connect()
  } catch (err) {
    const why = `PostgreSQL at ${ADMIN_URL} is unreachable (${(err as Error).message})`
    if (process.env.CI) throw new Error(`${why}; CI is set, so this is a failure`)
    console.warn(`skipping the nodemailer-postgres example test: ${why}`)
    return { ok: false, why }
  }
  const name = `bg_example_pg_${process.pid}_${Math.floor(Math.random() * 1e6)}`
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const u = new URL(ADMIN_URL)
  u.pathname = `/${name}`
  return {
    ok: true,
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

describe('example: nodemailer-postgres', async () => {
  const db = await freshDatabase()
  const rcpts: string[] = []
  let greyAttempts = 0
  let server: SMTPServer
  let port = 0

  beforeAll(async () => {
    if (!db.ok) return
    // Deploy step: the schema, once (what `bounce-guard migrate --db <url>` does).
    const ds = createBounceGuardDataSource(db.url)
    await ds.initialize()
    await runMigrations(ds)
    await ds.destroy()
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideENHANCEDSTATUSCODES: true,
      logger: false,
      onRcptTo(address, _s, cb) {
        rcpts.push(address.address)
        if (address.address === 'gone@example.com')
          return cb(
            Object.assign(new Error('5.1.1 <gone@example.com>: Recipient address rejected: User unknown in local recipient table'), {
              responseCode: 550,
            }),
          )
        if (address.address === 'grey@example.com' && greyAttempts++ === 0)
          return cb(
            Object.assign(
              new Error(
                '4.7.1 <grey@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html',
              ),
              { responseCode: 451 },
            ),
          )
        cb()
      },
      onData(stream, _s, cb) {
        stream.resume()
        stream.on('end', () => cb(null, '2.0.0 Ok: queued'))
      },
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port
  })
  afterAll(async () => {
    if (!db.ok) return
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await db.drop()
  })

  it.skipIf(!db.ok)(`shares suppressions and retries between app servers${db.ok ? '' : ` (skipped: ${db.why})`}`, async () => {
    if (!db.ok) return
    const a = await startAppServer({ databaseUrl: db.url, smtp: { host: '127.0.0.1', port }, retryWorker: false, poolSize: 2 })
    const b = await startAppServer({ databaseUrl: db.url, smtp: { host: '127.0.0.1', port }, retryWorker: false, poolSize: 2 })
    try {
      await a.transporter.sendMail({ from: 'app@example.org', to: 'gone@example.com', subject: 'x', text: 'x' }).catch(() => {})
      const seenBefore = rcpts.length
      await expect(
        b.transporter.sendMail({ from: 'app@example.org', to: 'gone@example.com', subject: 'y', text: 'y' }),
      ).rejects.toMatchObject({ code: 'ESUPPRESSED' })
      expect(rcpts.length).toBe(seenBefore)

      const first = await a.transporter
        .sendMail({ from: 'app@example.org', to: 'grey@example.com', subject: 'z', text: 'z' })
        .catch((e: { bounceGuard?: unknown }) => e)
      const retry = (first as { bounceGuard?: { retry?: { dueAt?: Date } } }).bounceGuard?.retry
      expect(retry?.dueAt).toBeInstanceOf(Date)
      // Both workers run once when the job is due: exactly one of them delivers it.
      const later = new Date(retry!.dueAt!.getTime() + 1000)
      const { createRetryWorker } = await import('@bounce-guard/nodemailer')
      const wa = createRetryWorker({ guard: a.guard, transport: a.transporter, now: () => later })
      const wb = createRetryWorker({ guard: b.guard, transport: b.transporter, now: () => later })
      const [ra, rb] = await Promise.all([wa.runOnce(), wb.runOnce()])
      expect([...ra.delivered, ...rb.delivered]).toEqual(['grey@example.com'])
      expect(rcpts.filter((r) => r === 'grey@example.com')).toHaveLength(2)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
