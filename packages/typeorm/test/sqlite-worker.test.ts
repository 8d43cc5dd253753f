/**
 * `recordEvents` on a SQLite file runs on a worker thread with its own connection
 * (`sqlite-worker.ts`): the same answers as on the DataSource's connection, a second connection
 * indeed (it waits for the file lock), a failing batch rolled back whole, nothing lost on `close()`
 * or when the process ends by itself.
 */
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DataSource } from 'typeorm'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyEventToState, emptyRecipientState, isBounceGuardError, type BounceEvent, type EventType } from '@bounce-guard/core'
import { createTypeOrmBounceStore, runMigrations, type TypeOrmBounceStore } from '../src/index.js'
import { SqliteWorker, SqliteWorkerUnavailable } from '../src/sqlite-worker.js'
import { deliveredEvent } from './event-fixture.js'
import { openDataSource, qi, uniquePrefix } from './db-fixture.js'

const require = createRequire(import.meta.url)
const PREFIX = uniquePrefix('wk')
const T0 = Date.UTC(2030, 0, 1)
const at = new Date(T0)
const dir = mkdtempSync(join(tmpdir(), 'bg-sqlite-worker-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
let ds: DataSource
let store: TypeOrmBounceStore

async function open(file: string, options: { sqliteWorker?: boolean } = {}): Promise<{ ds: DataSource; store: TypeOrmBounceStore }> {
  const d = openDataSource('sqlite', PREFIX, {}, file)
  await d.initialize()
  await runMigrations(d, { tablePrefix: PREFIX })
  return { ds: d, store: createTypeOrmBounceStore(d, { tablePrefix: PREFIX, ...options }) }
}

beforeEach(async () => {
  ;({ ds, store } = await open(join(dir, `t${++n}.db`)))
})

afterEach(async () => {
  await store.close()
  if (ds.isInitialized) await ds.destroy()
})

const event = (recipient: string, extra: Partial<BounceEvent> = {}): BounceEvent => deliveredEvent(recipient, at, extra)

async function countEvents(d: DataSource = ds): Promise<number> {
  const rows = (await d.query(`SELECT COUNT(*) AS n FROM ${qi(d, `${PREFIX}events`)}`)) as Array<{ n: number }>
  return Number(rows[0]?.n)
}

/** The DataSource's own better-sqlite3 connection. */
const handleOf = (d: DataSource) => (d.driver as unknown as { databaseConnection: { exec(sql: string): void } }).databaseConnection

describe('SQLite file: recordEvents on the worker thread', () => {
  it('writes on a second connection: it waits while the DataSource holds the write lock, then writes', async () => {
    const main = handleOf(ds)
    main.exec('BEGIN IMMEDIATE')
    let settled = false
    const pending = store.recordEvents?.([event('a@x.example'), event('b@x.example')]).finally(() => {
      settled = true
    })
    // On the DataSource's own connection the batch would have run (or failed) at once.
    await new Promise((r) => setTimeout(r, 100))
    expect(settled).toBe(false)
    main.exec('COMMIT')
    const results = await pending
    expect(results?.map((r) => r.state.deliveries)).toEqual([1, 1])
    // Committed when the call resolved: the DataSource's connection reads it.
    expect(await countEvents()).toBe(2)
    expect((await store.getRecipientState('a@x.example'))?.events).toBe(1)
  })

  it('answers as the in-thread path does, for every kind of event, repeats and duplicate eventIds', async () => {
    const inline = await open(join(dir, `inline${n}.db`), { sqliteWorker: false })
    try {
      const types: EventType[] = ['delivered', 'bounced', 'deferred', 'complaint', 'auto-reply', 'suppressed']
      const events: BounceEvent[] = []
      for (const type of types)
        for (const hard of [true, false])
          events.push(
            event(`r${events.length % 7}@x.example`, {
              type,
              at: new Date(T0 + events.length * 1000),
              classification: { reason: hard ? 'userunknown' : 'mailboxfull', hard, permanent: hard, scope: 'recipient', ruleId: 'test' },
            }),
          )
      // Every column of the event row set (the worker binds values built apart from the in-thread row).
      events.push(
        event('r2@x.example', {
          type: 'bounced',
          at: new Date(T0 + 98_000),
          source: 'dsn',
          eventId: 'full',
          reply: '550 5.1.1 <r2@x.example>: Recipient address rejected: User unknown',
          messageId: 'm1@sender.example',
          queueId: 'Q123',
          sender: 'app@sender.example',
          tag: 'newsletter',
          classification: {
            reason: 'userunknown',
            hard: true,
            permanent: true,
            scope: 'recipient',
            ruleId: 'test.full',
            code: 550,
            enhancedStatus: '5.1.1',
            provider: 'gmail',
            retryAfter: 60,
            blocklist: 'spamhaus',
          },
        }),
      )
      events.push(event('r1@x.example', { eventId: 'dup', at: new Date(T0 + 99_000) }))
      events.push(event('r1@x.example', { eventId: 'dup', at: new Date(T0 + 99_500) }))
      const onWorker = [
        ...((await store.recordEvents?.(events.slice(0, 9))) ?? []),
        ...((await store.recordEvents?.(events.slice(9))) ?? []),
      ]
      const onThread = [
        ...((await inline.store.recordEvents?.(events.slice(0, 9))) ?? []),
        ...((await inline.store.recordEvents?.(events.slice(9))) ?? []),
      ]
      expect(onWorker).toEqual(onThread)
      expect(onWorker.at(-1)?.duplicate).toBe(true)
      // And as the contract's reference rules give them.
      const r0 = onWorker[0]?.state
      const e0 = events[0] as BounceEvent
      expect(r0).toEqual(applyEventToState(emptyRecipientState(e0.recipient, e0.domain), e0))
      expect(await countEvents()).toBe(await countEvents(inline.ds))
      // The stored event rows too, column by column.
      const rowsOf = (d: DataSource) => d.query(`SELECT * FROM ${qi(d, `${PREFIX}events`)} ORDER BY ${qi(d, 'id')}`)
      const stored = (await rowsOf(ds)) as Array<Record<string, unknown>>
      expect(stored).toEqual(await rowsOf(inline.ds))
      expect(stored.find((r) => r.event_id === 'full')).toMatchObject({
        provider: 'gmail',
        retry_after: 60,
        blocklist: 'spamhaus',
        tag: 'newsletter',
        hard: 1,
      })
    } finally {
      await inline.store.close()
      await inline.ds.destroy()
    }
  })

  it('a batch with an event the driver cannot bind fails with ESTORE and writes nothing of it; the next batch is written', async () => {
    const bad = event('b@x.example', { tag: { not: 'bindable' } as unknown as string })
    const err = await store.recordEvents?.([event('a@x.example'), bad, event('c@x.example')]).catch((e: unknown) => e)
    expect(isBounceGuardError(err) && err.code).toBe('ESTORE')
    expect(await countEvents()).toBe(0)
    const fn = event('f@x.example', { tag: (() => 'x') as unknown as string })
    const err2 = await store.recordEvents?.([event('a@x.example'), fn]).catch((e: unknown) => e)
    expect(isBounceGuardError(err2) && err2.code).toBe('ESTORE')
    expect(await countEvents()).toBe(0)
    const [r] = (await store.recordEvents?.([event('a@x.example'), event('a@x.example')])) ?? []
    expect(r?.state.deliveries).toBe(1)
    expect(await countEvents()).toBe(2)
  })

  it('close() writes the batches already handed over, then refuses with ESTORE_CLOSED', async () => {
    const inFlight = store.recordEvents?.(Array.from({ length: 50 }, (_, i) => event(`c${i}@x.example`)))
    await store.close()
    expect(await inFlight).toHaveLength(50)
    expect(await countEvents()).toBe(50)
    const err = await store.recordEvents?.([event('late@x.example')]).catch((e: unknown) => e)
    expect(isBounceGuardError(err) && err.code).toBe('ESTORE_CLOSED')
  })

  it('after the DataSource is destroyed: ESTORE_UNAVAILABLE; re-initialised: written again', async () => {
    await store.recordEvents?.([event('a@x.example'), event('b@x.example')])
    await ds.destroy()
    const err = await store.recordEvents?.([event('c@x.example'), event('d@x.example')]).catch((e: unknown) => e)
    expect(isBounceGuardError(err) && err.code).toBe('ESTORE_UNAVAILABLE')
    await ds.initialize()
    const [r] = (await store.recordEvents?.([event('a@x.example'), event('e@x.example')])) ?? []
    expect(r?.state.events).toBe(2)
    expect(await countEvents()).toBe(4)
  })

  it('a worker that cannot load the driver or open the file rejects its calls with SqliteWorkerUnavailable', async () => {
    const sql = { insert: 'SELECT 1', upsert: 'SELECT 1', select: 'SELECT 1', shared: [], recipient: 1 }
    const noDriver = new SqliteWorker(
      { modulePath: join(dir, 'no-such-driver.js'), file: join(dir, 'x.db'), timeout: 100, synchronous: 1, foreignKeys: 0, sql },
      'test',
    )
    await expect(noDriver.write([[[], []]])).rejects.toBeInstanceOf(SqliteWorkerUnavailable)
    const noFile = new SqliteWorker(
      {
        modulePath: require.resolve('better-sqlite3'),
        file: join(dir, 'no-such-dir', 'x.db'),
        timeout: 100,
        synchronous: 1,
        foreignKeys: 0,
        sql,
      },
      'test',
    )
    await expect(noFile.write([[[], []]])).rejects.toBeInstanceOf(SqliteWorkerUnavailable)
  })

  it("a worker thread that dies mid-batch rejects its calls with ESTORE_UNAVAILABLE (nothing claimed written); the next call gets a new thread that the old one's end does not fail", async () => {
    // A stand-in driver: opens, then ends its thread inside the first statement of a batch, by
    // process.exit (in a worker it ends that thread only) or by an uncaught error.
    const driver = join(dir, `dying-driver${n}.cjs`)
    writeFileSync(
      driver,
      [
        'module.exports = class {',
        '  pragma() {}',
        '  close() {}',
        // 'throw': an error whose message cannot be read, so the worker's own error answer throws
        '  prepare() { const s = { run: (v) => { if (v[0] === "exit") process.exit(3); if (v[0] === "throw") throw { get message() { throw new Error("boom") } }; return { changes: 1 } }, get: () => [], raw: () => s, columns: () => [] }; return s }',
        '  transaction(fn) { const t = (rows) => fn(rows); t.immediate = t; return t }',
        '}',
      ].join('\n'),
    )
    const sql = { insert: 'i', upsert: 'u', select: 's', shared: [], recipient: 0 }
    const w = new SqliteWorker({ modulePath: driver, file: join(dir, 'y.db'), timeout: 100, synchronous: 1, foreignKeys: 0, sql }, 'test')
    try {
      const exited = w.write([[['exit'], []]])
      const queued = w.write([[['after'], []]]) // posted behind it: never run
      for (const call of [exited, queued]) {
        const err = await call.then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isBounceGuardError(err) && err.code).toBe('ESTORE_UNAVAILABLE')
        expect(String((err as Error).message)).toContain('exited (code 3)')
      }
      expect(w.inFlight).toBe(0)
      // A new thread, which answers, then dies of an uncaught error mid-batch ('error', then
      // 'exit'); the call after it goes to a third thread and must not be failed by that 'exit'.
      expect(await w.write([[['ok'], []]])).toEqual([[0, {}]])
      const err = await w.write([[['throw'], []]]).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isBounceGuardError(err) && err.code).toBe('ESTORE_UNAVAILABLE')
      expect(String((err as Error).message)).toContain('worker thread')
      expect(await w.write([[['ok'], []]])).toEqual([[0, {}]])
    } finally {
      await w.close()
    }
  })

  it("a call right after the worker reported it cannot open the file also rejects with SqliteWorkerUnavailable (not the ending thread's error)", async () => {
    const sql = { insert: 'SELECT 1', upsert: 'SELECT 1', select: 'SELECT 1', shared: [], recipient: 1 }
    const w = new SqliteWorker(
      { modulePath: join(dir, 'no-such-driver.js'), file: join(dir, 'x.db'), timeout: 100, synchronous: 1, foreignKeys: 0, sql },
      'test',
    )
    for (let k = 0; k < 3; k++) await expect(w.write([[[], []]])).rejects.toBeInstanceOf(SqliteWorkerUnavailable)
    await w.close()
  })

  it('a process that ends by itself ends after the batch it handed over is written', async () => {
    const file = join(dir, `child${n}.db`)
    const ready = await open(file)
    await ready.store.close()
    await ready.ds.destroy()
    const script = join(dir, `child${n}.mts`)
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url))
    const fixture = fileURLToPath(new URL('./db-fixture.ts', import.meta.url))
    writeFileSync(
      script,
      [
        `import { createTypeOrmBounceStore } from ${JSON.stringify(src)}`,
        `import { openDataSource } from ${JSON.stringify(fixture)}`,
        `const ds = openDataSource('sqlite', ${JSON.stringify(PREFIX)}, {}, ${JSON.stringify(file)})`,
        'await ds.initialize()',
        `const store = createTypeOrmBounceStore(ds, { tablePrefix: ${JSON.stringify(PREFIX)} })`,
        `const e = (r: string) => ({ recipient: r, domain: 'x.example', type: 'delivered' as const, at: new Date(${T0}), source: 'smtp' as const })`,
        // One batch awaited (the worker then idles), one handed over and not awaited: the script ends here.
        `await store.recordEvents!([e('a@x.example'), e('b@x.example')])`,
        `void store.recordEvents!([e('c@x.example'), e('d@x.example'), e('e@x.example')])`,
      ].join('\n'),
    )
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['--conditions=source', '--import', 'tsx', script], { timeout: 20_000 }, (err, _out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
      ),
    )
    // It ended by itself (no close(), no exit()), and the batch it did not await was written.
    const after = await open(file)
    try {
      expect(await countEvents(after.ds)).toBe(5)
    } finally {
      await after.store.close()
      await after.ds.destroy()
    }
  }, 30_000)
})
