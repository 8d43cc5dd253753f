/**
 * End to end across packages: Nodemailer (SMTP pool) wrapped by @bounce-guard/nodemailer, the
 * core guard, and the TypeORM store on SQLite (always) and PostgreSQL (in CI it must be reachable;
 * outside CI the PostgreSQL run is skipped with a message when the server does not answer).
 * A real smtp-server plays the recipient MTAs. Rows are read back with plain SQL.
 */
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DataSource } from 'typeorm'
import nodemailer from 'nodemailer'
import { SMTPServer } from 'smtp-server'
import { createBounceGuard } from '@bounce-guard/core'
import type { BounceAlert, CoreBounceGuard } from '@bounce-guard/core'
import { createTypeOrmBounceStore, tableNames } from '@bounce-guard/typeorm'
import { createRetryWorker, withBounceGuard } from '@bounce-guard/nodemailer'
import { dropPrefixTables, e2eTargets, migratedDataSource } from './nodemailer-e2e-databases.js'

const FROM = 'sender@example.org'

const GMAIL_UNKNOWN = [
  '5.1.1 The email account that you tried to reach does not exist. Please try',
  "5.1.1 double-checking the recipient's email address for typos or",
  '5.1.1 unnecessary spaces. For more information, go to',
  '5.1.1  https://support.google.com/mail/?p=NoSuchUser',
]

interface Sink {
  port: number
  rcpts: Map<string, number>
  delivered: string[][]
  close(): Promise<void>
}

async function startSink(): Promise<Sink> {
  const rcpts = new Map<string, number>()
  const delivered: string[][] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    hideENHANCEDSTATUSCODES: true,
    logger: false,
    onRcptTo(address, _s, cb) {
      const a = address.address.toLowerCase()
      const n = (rcpts.get(a) ?? 0) + 1
      rcpts.set(a, n)
      const local = a.split('@')[0]
      const fail = (code: number, message: string | string[]) => cb(Object.assign(new Error('x'), { responseCode: code, message }) as Error)
      if (local === 'dead') return fail(550, GMAIL_UNKNOWN)
      if (local === 'grey' && n === 1) return fail(451, '4.7.1 Greylisted, please try again later')
      if (local === 'blocked') return fail(554, '5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org')
      cb()
    },
    onData(stream, session, cb) {
      stream.resume()
      stream.on('end', () => {
        delivered.push(session.envelope.rcptTo.map((r) => r.address.toLowerCase()))
        cb(null, 'Ok: queued')
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.server.address() as AddressInfo).port,
    rcpts,
    delivered,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

const targets = await e2eTargets('nodemailer-e2e')

for (const target of targets) {
  describe.skipIf(!target.available)(`nodemailer + guard + TypeORM store on ${target.name}`, () => {
    const prefix = `bg_e2e_nm${process.pid}_`
    const t = tableNames({ tablePrefix: prefix })
    let ds: DataSource
    let sink: Sink
    let guard: CoreBounceGuard
    let clockMs = Date.UTC(2025, 0, 6, 9, 0, 0)
    const alerts: BounceAlert[] = []
    const q = (name: string) => (target.name === 'SQLite' || target.name === 'PostgreSQL' ? `"${name}"` : name)
    const ph = (i: number) => (target.name === 'PostgreSQL' ? `$${i}` : '?')

    beforeAll(async () => {
      sink = await startSink()
      ds = await migratedDataSource(target, prefix)
      const store = createTypeOrmBounceStore(ds, { tablePrefix: prefix })
      guard = createBounceGuard({ store, now: () => new Date(clockMs), random: () => 0 })
      guard.on('alert', (a) => alerts.push(a))
    })
    afterAll(async () => {
      if (ds?.isInitialized) {
        await dropPrefixTables(ds, target, prefix)
        await ds.destroy()
      }
      await sink?.close()
    })

    it('suppresses, retries, alerts and loses no outcome across a store outage', async () => {
      const transporter = nodemailer.createTransport(
        withBounceGuard(
          { host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 },
          { guard, flushIntervalMs: 50 },
        ),
      )
      try {
        // 1. A mixed envelope: the good one is delivered, the dead one suppressed, grey deferred.
        const info = (await transporter.sendMail({
          from: FROM,
          to: ['ok@example.com', 'dead@gmail.com', 'grey@example.com'],
          subject: 'one',
          text: 'x',
        })) as any
        expect(info.accepted).toEqual(['ok@example.com'])
        const rows = (await ds.query(`SELECT ${q('target')} AS k FROM ${q(t.suppressions)} WHERE ${q('target')} = ${ph(1)}`, [
          'dead@gmail.com',
        ])) as Array<{ k: string }>
        expect(rows.map((r) => r.k)).toEqual(['dead@gmail.com'])
        expect(info.bounceGuard.retry.recipients).toEqual(['grey@example.com'])

        // 2. The dead one never reaches the server again.
        await transporter.sendMail({ from: FROM, to: ['Dead@gmail.com', 'ok2@example.com'], subject: 'two', text: 'x' })
        expect(sink.rcpts.get('dead@gmail.com')).toBe(1)
        expect(sink.delivered.at(-1)).toEqual(['ok2@example.com'])

        // 3. The blocked one is not suppressed; an alert names the blocklist.
        await expect(transporter.sendMail({ from: FROM, to: 'blocked@example.com', subject: 'three', text: 'x' })).rejects.toMatchObject({
          responseCode: 554,
        })
        const blockedRows = (await ds.query(`SELECT COUNT(*) AS n FROM ${q(t.suppressions)} WHERE ${q('target')} = ${ph(1)}`, [
          'blocked@example.com',
        ])) as Array<{ n: unknown }>
        expect(Number(blockedRows[0]?.n)).toBe(0)
        expect(alerts.some((a) => a.blocklist === 'spamhaus')).toBe(true)

        // 4. The greylisted one is retried by the worker once due, and delivered.
        const worker = createRetryWorker({ guard, transport: transporter, concurrency: 2, leaseMs: 60_000 })
        clockMs += 24 * 3600_000
        const run = await worker.runOnce()
        expect(run.delivered).toEqual(['grey@example.com'])
        expect(sink.delivered.at(-1)).toEqual(['grey@example.com'])
        const jobs = (await ds.query(`SELECT * FROM ${q(t.retryJobs)}`)) as Array<Record<string, unknown>>
        expect(jobs.map((j) => ({ ...j, payload: undefined }))).toEqual([])

        // 5. The database goes away mid-run: sends go on (fail-open), outcomes wait in memory...
        // (first write what earlier steps queued behind their sends, so only this step's count)
        await guard.flush()
        await ds.destroy()
        const during = (await transporter.sendMail({
          from: FROM,
          to: ['d1@example.com', 'd2@example.com'],
          subject: 'down',
          text: 'x',
        })) as any
        expect(during.accepted).toEqual(['d1@example.com', 'd2@example.com'])
        expect(during.bounceGuard.unchecked).toBe(true)
        // (deliveries wait in the guard's write-behind queue, which keeps them while writes fail)
        expect(during.bounceGuard.outcomes.map((o: any) => o.recorded)).toEqual(['queued', 'queued'])
        await expect(guard.flush()).rejects.toMatchObject({ code: 'ESTORE_UNAVAILABLE' })
        expect((transporter.transporter as any).bufferedOutcomes).toBe(2)
        // ...and land once it is back.
        await ds.initialize()
        await (transporter.transporter as any).flush()
        expect((transporter.transporter as any).bufferedOutcomes).toBe(0)
        const landed = (await ds.query(
          `SELECT ${q('recipient')} AS r, ${q('deliveries')} AS d FROM ${q(t.recipientState)} WHERE ${q('recipient')} IN (${ph(1)}, ${ph(2)}) ORDER BY ${q('recipient')}`,
          ['d1@example.com', 'd2@example.com'],
        )) as Array<{ r: string; d: unknown }>
        expect(landed.map((r) => [r.r, Number(r.d)])).toEqual([
          ['d1@example.com', 1],
          ['d2@example.com', 1],
        ])
        await worker.stop()
      } finally {
        transporter.close()
      }
    })
  })
}
