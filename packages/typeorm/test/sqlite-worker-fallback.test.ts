/**
 * When the SQLite worker thread cannot be started (here: `Worker` throws, as under a policy that
 * forbids threads) or cannot open the database, `recordEvents` writes on the calling thread
 * instead: nothing is lost and the answers are the same.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createTypeOrmBounceStore, runMigrations } from '../src/index.js'
import { SqliteWorker, SqliteWorkerUnavailable } from '../src/sqlite-worker.js'
import { openDataSource, qi, uniquePrefix } from './db-fixture.js'

const threads = vi.hoisted(() => ({ started: 0 }))
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>()
  class RefusedWorker {
    constructor() {
      threads.started++
      throw new Error('threads are not allowed here')
    }
  }
  return { ...real, Worker: RefusedWorker }
})

const PREFIX = uniquePrefix('wkf')
const dir = mkdtempSync(join(tmpdir(), 'bg-sqlite-worker-fallback-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const event = (recipient: string) => ({
  recipient,
  domain: 'x.example',
  type: 'delivered' as const,
  at: new Date(Date.UTC(2030, 0, 1)),
  source: 'smtp' as const,
})

describe('SQLite file without a worker thread', () => {
  it('SqliteWorker.write rejects with SqliteWorkerUnavailable when the thread cannot start', async () => {
    const w = new SqliteWorker(
      {
        modulePath: 'x',
        file: 'y',
        timeout: 1,
        synchronous: 1,
        foreignKeys: 0,
        sql: { insert: '', upsert: '', select: '', shared: [], recipient: 1 },
      },
      'test',
    )
    await expect(w.write([])).rejects.toBeInstanceOf(SqliteWorkerUnavailable)
  })

  it('recordEvents writes on the calling thread, once the worker could not start', async () => {
    const ds = openDataSource('sqlite', PREFIX, {}, join(dir, 'f.db'))
    await ds.initialize()
    await runMigrations(ds, { tablePrefix: PREFIX })
    const store = createTypeOrmBounceStore(ds, { tablePrefix: PREFIX })
    try {
      const before = threads.started
      const first = await store.recordEvents?.([event('a@x.example'), event('b@x.example')])
      expect(first?.map((r) => r.state.deliveries)).toEqual([1, 1])
      const second = await store.recordEvents?.([event('a@x.example'), event('c@x.example')])
      expect(second?.map((r) => r.state.events)).toEqual([2, 1])
      // One attempt to start the thread, then the handle writes in-thread.
      expect(threads.started - before).toBe(1)
      const rows = (await ds.query(`SELECT COUNT(*) AS n FROM ${qi(ds, `${PREFIX}events`)}`)) as Array<{ n: number }>
      expect(Number(rows[0]?.n)).toBe(4)
    } finally {
      await store.close()
      await ds.destroy()
    }
  })
})
