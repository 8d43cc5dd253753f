/**
 * `transport.close()` writes the deliveries still waiting in the guard's write-behind queue, on
 * the in-memory store and on the TypeORM store on a SQLite file (written by its worker thread),
 * and nothing of them is lost: each delivered recipient has its event and its state.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import nodemailer from 'nodemailer'
import { MemoryBounceStore, createBounceGuard } from '@bounce-guard/core'
import type { BounceStore } from '@bounce-guard/core'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations } from '@bounce-guard/typeorm'
import { withBounceGuard } from '@bounce-guard/nodemailer'
import { useMta } from './helpers/mta.js'

const dir = mkdtempSync(join(tmpdir(), 'bg-close-flush-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function sqliteStore(): Promise<{ store: BounceStore; done(): Promise<void> }> {
  const ds = createBounceGuardDataSource(`sqlite:${join(dir, 'close.sqlite')}`)
  await ds.initialize()
  await runMigrations(ds)
  const store = createTypeOrmBounceStore(ds)
  return {
    store,
    async done() {
      await store.close()
      await ds.destroy()
    },
  }
}

describe('transport.close() and the write-behind queue', () => {
  const mta = useMta()

  for (const kind of ['memory', 'sqlite-file'] as const) {
    it(`writes the queued deliveries (${kind})`, async () => {
      const s = kind === 'memory' ? { store: new MemoryBounceStore() as BounceStore, done: async () => undefined } : await sqliteStore()
      try {
        // A write delay far longer than the test: only close() can write the queue in time.
        const guard = createBounceGuard({ store: s.store, writeBehind: { delayMs: 600_000 } })
        const t = nodemailer.createTransport(
          withBounceGuard({ host: '127.0.0.1', port: mta.port, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 }, { guard }),
        )
        const to = Array.from({ length: 12 }, (_, i) => `user${i}@example.com`)
        const infos = await Promise.all(to.map((r) => t.sendMail({ from: 'sender@example.org', to: r, subject: 's', text: 'x' })))
        for (const info of infos) expect((info as any).bounceGuard.outcomes[0].recorded).toBe('queued')
        expect(guard.pendingWrites).toBe(12)
        expect(await s.store.getRecipientState('user0@example.com')).toBeUndefined()

        t.close()
        await vi.waitFor(() => expect(guard.pendingWrites).toBe(0), { timeout: 10_000, interval: 20 })
        for (const r of to) {
          expect((await s.store.getRecipientState(r))?.deliveries, r).toBe(1)
          expect(await s.store.listEvents(r), r).toHaveLength(1)
        }
      } finally {
        await s.done()
      }
    })
  }
})
