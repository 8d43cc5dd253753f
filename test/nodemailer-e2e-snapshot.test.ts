/**
 * End to end: two app servers (two DataSources, stores, guards and wrapped SMTP pools) share one
 * TypeORM store, on SQLite (always) and PostgreSQL (must be reachable in CI), both with the opt-in
 * `suppressionSnapshot`. A hard bounce seen by server B suppresses the address in the shared
 * store; server A honours it after its snapshot refreshes (the bounded staleness the option
 * documents) and at once on B itself. A real smtp-server plays the recipient MTA.
 */
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DataSource } from 'typeorm'
import nodemailer from 'nodemailer'
import { SMTPServer } from 'smtp-server'
import { createBounceGuard } from '@bounce-guard/core'
import { createTypeOrmBounceStore } from '@bounce-guard/typeorm'
import { withBounceGuard } from '@bounce-guard/nodemailer'
import type { GuardedTransport } from '@bounce-guard/nodemailer'
import { dropPrefixTables, e2eTargets, migratedDataSource } from './nodemailer-e2e-databases.js'

const FROM = 'sender@example.org'

async function startSink(): Promise<{ port: number; rcpts: Map<string, number>; close(): Promise<void> }> {
  const rcpts = new Map<string, number>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _s, cb) {
      const a = address.address.toLowerCase()
      rcpts.set(a, (rcpts.get(a) ?? 0) + 1)
      if (a.startsWith('dead@')) {
        return cb(
          Object.assign(new Error('x'), {
            responseCode: 550,
            message: ['5.1.1 The email account that you tried to reach does not exist. Please try', '5.1.1 double-checking'],
          }) as Error,
        )
      }
      cb()
    },
    onData(stream, _s, cb) {
      stream.resume()
      stream.on('end', () => cb())
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.server.address() as AddressInfo).port,
    rcpts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

const targets = await e2eTargets('nodemailer-e2e-snapshot')

for (const target of targets) {
  describe.skipIf(!target.available)(`suppressionSnapshot across two app servers on ${target.name}`, () => {
    const prefix = `bg_e2e_snap${process.pid}_`
    const sources: DataSource[] = []
    let sink: Awaited<ReturnType<typeof startSink>>

    async function server(): Promise<{ gt: GuardedTransport; send(to: string): Promise<any>; close(): void }> {
      const ds = await migratedDataSource(target, prefix)
      sources.push(ds)
      const guard = createBounceGuard({ store: createTypeOrmBounceStore(ds, { tablePrefix: prefix }) })
      // A long bound, so no background refresh runs between the steps of the test.
      const gt = withBounceGuard(
        { host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 },
        { guard, suppressionSnapshot: { maxStalenessMs: 60_000 } },
      ) as GuardedTransport
      const tr = nodemailer.createTransport(gt)
      await gt.snapshot?.refresh()
      return {
        gt,
        send: (to) =>
          tr.sendMail({ from: FROM, to, subject: 's', text: 'x' }).then(
            (info) => ({ info }),
            (err) => ({ err }),
          ),
        close: () => tr.close(),
      }
    }

    beforeAll(async () => {
      sink = await startSink()
    })
    afterAll(async () => {
      const ds = sources[0]
      if (ds?.isInitialized) await dropPrefixTables(ds, target, prefix)
      for (const s of sources) if (s.isInitialized) await s.destroy()
      await sink?.close()
    })

    it("honours another server's suppression after a refresh, and its own at once", async () => {
      const a = await server()
      const b = await server()
      try {
        // B sees the hard bounce and suppresses the address in the shared store.
        const first = await b.send('dead@example.com')
        expect(first.err?.responseCode).toBe(550)
        const again = await b.send('dead@example.com')
        expect(again.err?.code).toBe('ESUPPRESSED')
        expect(sink.rcpts.get('dead@example.com')).toBe(1)

        // A's snapshot predates it (the documented staleness) ...
        expect((await a.send('dead@example.com')).err?.responseCode).toBe(550)
        expect(sink.rcpts.get('dead@example.com')).toBe(2)
        // ... and honours it once refreshed: refused before any connection.
        await a.gt.snapshot?.refresh()
        expect((await a.send('dead@example.com')).err?.code).toBe('ESUPPRESSED')
        expect(sink.rcpts.get('dead@example.com')).toBe(2)
        // Others still go out.
        expect((await a.send('alive@example.com')).info?.accepted).toEqual(['alive@example.com'])
      } finally {
        a.close()
        b.close()
      }
    })
  })
}
