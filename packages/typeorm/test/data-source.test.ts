import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DataSource } from 'typeorm'
import { isBounceGuardError } from '@bounce-guard/core'
import {
  bounceGuardEntities,
  bounceGuardMigrations,
  createBounceGuardDataSource,
  createTypeOrmBounceStore,
  parseDatabaseUrl,
  runMigrations,
  tableNames,
} from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'bg-typeorm-ds-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    return isBounceGuardError(err) ? err.code : `not a BounceGuardError: ${String(err)}`
  }
  return undefined
}

describe('parseDatabaseUrl', () => {
  it('understands SQLite, PostgreSQL, MySQL and MariaDB URLs', () => {
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ type: 'better-sqlite3', database: ':memory:' })
    expect(parseDatabaseUrl('sqlite:data/bg.db')).toEqual({ type: 'better-sqlite3', database: 'data/bg.db' })
    expect(parseDatabaseUrl('sqlite:/var/lib/bg.db')).toEqual({ type: 'better-sqlite3', database: '/var/lib/bg.db' })
    expect(parseDatabaseUrl('sqlite:///var/lib/bg.db')).toEqual({ type: 'better-sqlite3', database: '/var/lib/bg.db' })
    expect(parseDatabaseUrl('postgresql://u:p@db:5432/mail')).toEqual({ type: 'postgres', url: 'postgresql://u:p@db:5432/mail' })
    expect(parseDatabaseUrl('mysql://root@127.0.0.1/test')).toEqual({ type: 'mysql', url: 'mysql://root@127.0.0.1/test' })
    expect(parseDatabaseUrl('mariadb://root@127.0.0.1:3306/test')).toEqual({ type: 'mariadb', url: 'mysql://root@127.0.0.1:3306/test' })
  })

  it('rejects bad URLs with EDATABASE_URL and never echoes the password', async () => {
    for (const bad of [
      '',
      '   ',
      'sqlite:',
      'redis://x/0',
      'postgres://',
      'postgres://host',
      'mysql://:pw@/db',
      'nonsense',
      'http://x/y',
    ]) {
      expect(await codeOf(() => parseDatabaseUrl(bad)), bad).toBe('EDATABASE_URL')
    }
    try {
      parseDatabaseUrl('oracle://scott:tiger@db/orcl')
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).not.toContain('tiger')
      expect((err as Error).message).toMatch(/^@bounce-guard\/typeorm: /)
    }
    expect(await codeOf(() => createBounceGuardDataSource('ftp://x/y'))).toBe('EDATABASE_URL')
  })
})

describe('createBounceGuardDataSource + runMigrations', () => {
  it('creates a working store on a SQLite file in WAL mode', async () => {
    const file = join(dir, 'cli.db')
    const ds = createBounceGuardDataSource(`sqlite:${file}`)
    await ds.initialize()
    try {
      expect(await runMigrations(ds)).toEqual([
        'BounceGuardInit1764403200000',
        'BounceGuardShaping1796515200000',
        'BounceGuardRollup1798761600000',
        'BounceGuardShapingSlots1801440000000',
      ])
      expect(await ds.showMigrations()).toBe(false)
      const mode = (await ds.query('PRAGMA journal_mode')) as Array<{ journal_mode: string }>
      expect(mode[0]?.journal_mode).toBe('wal')
      const store = createTypeOrmBounceStore(ds)
      await store.suppress({ key: 'Case@x.example', scope: 'address', reason: 'userunknown', source: 'manual', at: new Date(1_000) })
      // Keys compare byte for byte: another spelling is another key.
      expect([...(await store.findSuppressions(['Case@x.example', 'case@x.example'], new Date(2_000))).keys()]).toEqual(['Case@x.example'])
      const rows = (await ds.query('SELECT target, created_at FROM "bg_suppressions"')) as Array<{ target: string; created_at: number }>
      expect(rows).toEqual([{ target: 'Case@x.example', created_at: 1_000 }])
    } finally {
      await ds.destroy()
    }
  })

  it('refuses to run when Bounce Guard migrations are not registered', async () => {
    const ds = new DataSource({ type: 'better-sqlite3', database: ':memory:' })
    await ds.initialize()
    try {
      expect(await codeOf(runMigrations(ds))).toBe('EINVALID_OPTION')
    } finally {
      await ds.destroy()
    }
    expect(await codeOf(runMigrations(ds))).toBe('EINVALID_OPTION')
  })

  it('validates the table prefix', async () => {
    for (const tablePrefix of ['bg-', 'x; DROP TABLE y', 'a'.repeat(31)]) {
      expect(await codeOf(() => tableNames({ tablePrefix })), tablePrefix).toBe('EINVALID_OPTION')
      expect(await codeOf(() => bounceGuardMigrations({ tablePrefix }))).toBe('EINVALID_OPTION')
    }
    expect(tableNames({ tablePrefix: '' }).events).toBe('events')
  })

  it('the EntitySchemas alone (synchronize, tests only) give a working schema', async () => {
    const ds = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: bounceGuardEntities({ tablePrefix: 'e_' }),
      synchronize: true,
    })
    await ds.initialize()
    try {
      const store = createTypeOrmBounceStore(ds, { tablePrefix: 'e_' })
      const r = await store.recordEvent({
        recipient: 'a@x.example',
        domain: 'x.example',
        type: 'delivered',
        at: new Date(5),
        source: 'smtp',
      })
      expect(r.state).toMatchObject({ events: 1, deliveries: 1, lastReason: 'delivered' })
      const repo = ds.getRepository('e_recipient_state')
      expect(await repo.findOneBy({ recipient: 'a@x.example' })).toMatchObject({ events: 1, last_delivered_at: 5 })
    } finally {
      await ds.destroy()
    }
  })
})

describe('errors', () => {
  it('a failing statement arrives as ESTORE with the driver error as cause', async () => {
    const ds = createBounceGuardDataSource('sqlite::memory:', { tablePrefix: 'er_' })
    await ds.initialize()
    try {
      await runMigrations(ds, { tablePrefix: 'er_' })
      const store = createTypeOrmBounceStore(ds, { tablePrefix: 'er_' })
      await ds.query('DROP TABLE "er_suppressions"')
      try {
        await store.findSuppressions(['a@x.example'])
        expect.unreachable()
      } catch (err) {
        expect(isBounceGuardError(err) && err.code).toBe('ESTORE')
        expect((err as Error).message).toMatch(/^@bounce-guard\/typeorm \(better-sqlite3\): findSuppressions failed: .*no such table/)
        expect(((err as Error).cause as { code?: string }).code).toBe('SQLITE_ERROR')
      }
    } finally {
      await ds.destroy()
    }
  })

  it('a DataSource that is not (or no longer) initialised gives ESTORE_UNAVAILABLE; close() gives ESTORE_CLOSED', async () => {
    const ds = createBounceGuardDataSource('sqlite::memory:')
    const store = createTypeOrmBounceStore(ds)
    expect(await codeOf(store.getRecipientState('a@x.example'))).toBe('ESTORE_UNAVAILABLE')
    await ds.initialize()
    await runMigrations(ds)
    expect(await store.getRecipientState('a@x.example')).toBeUndefined()
    await ds.destroy()
    expect(await codeOf(store.findSuppressions(['a@x.example']))).toBe('ESTORE_UNAVAILABLE')
    await store.close()
    await store.close()
    expect(await codeOf(store.findSuppressions(['a@x.example']))).toBe('ESTORE_CLOSED')
  })

  it('a server connection that is gone gives ESTORE_UNAVAILABLE (PostgreSQL pool ended under the store)', async () => {
    const ds = new DataSource({
      type: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/test',
      extra: { connectionTimeoutMillis: 2000 },
    })
    try {
      await ds.initialize()
    } catch (err) {
      if (process.env.CI) throw err
      console.warn(`[@bounce-guard/typeorm tests] SKIPPING the PostgreSQL connection-loss check: ${(err as Error).message}`)
      return
    }
    const store = createTypeOrmBounceStore(ds)
    const pool = (ds.driver as unknown as { master: { end(): Promise<void> } }).master
    await pool.end()
    try {
      await store.findSuppressions(['a@x.example'])
      expect.unreachable()
    } catch (err) {
      expect(isBounceGuardError(err) && err.code).toBe('ESTORE_UNAVAILABLE')
      expect((err as Error).message).toMatch(/^@bounce-guard\/typeorm \(postgres\): /)
      expect((err as Error).cause).toBeInstanceOf(Error)
    }
    await ds.destroy().catch(() => undefined)
  })

  it('rejects invalid input with EINVALID_OPTION instead of writing it', async () => {
    const ds = createBounceGuardDataSource('sqlite::memory:')
    await ds.initialize()
    try {
      await runMigrations(ds)
      const store = createTypeOrmBounceStore(ds)
      expect(
        await codeOf(
          store.recordEvent({ recipient: 'a@x.example', domain: 'x.example', type: 'delivered', at: new Date(NaN), source: 'smtp' }),
        ),
      ).toBe('EINVALID_OPTION')
      expect(await codeOf(store.suppress({ key: '', scope: 'address', reason: 'manual', source: 'manual', at: new Date() }))).toBe(
        'EINVALID_OPTION',
      )
      expect(await codeOf(store.claimDueRetries(new Date('x'), 1, 1))).toBe('EINVALID_OPTION')
      expect(await codeOf(store.listSuppressions({}, { limit: 0 }))).toBe('EINVALID_OPTION')
      expect(await codeOf(() => createTypeOrmBounceStore({ options: { type: 'mongodb' }, isInitialized: true } as never))).toBe(
        'EINVALID_OPTION',
      )
    } finally {
      await ds.destroy()
    }
  })
})

describe('SQLite durability setting', () => {
  it('runs WAL with synchronous NORMAL by default, and FULL when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-sync-'))
    try {
      const read = async (options: Parameters<typeof createBounceGuardDataSource>[1]) => {
        const ds = createBounceGuardDataSource(`sqlite:${join(dir, `${Math.random().toString(36).slice(2)}.db`)}`, options)
        await ds.initialize()
        try {
          const [sync] = (await ds.query('PRAGMA synchronous')) as Array<{ synchronous: number }>
          const [mode] = (await ds.query('PRAGMA journal_mode')) as Array<{ journal_mode: string }>
          return { synchronous: sync?.synchronous, journal: mode?.journal_mode }
        } finally {
          await ds.destroy()
        }
      }
      expect(await read({})).toEqual({ synchronous: 1, journal: 'wal' }) // 1 = NORMAL
      expect(await read({ sqliteSynchronous: 'FULL' })).toEqual({ synchronous: 2, journal: 'wal' })
      expect(() => createBounceGuardDataSource('sqlite::memory:', { sqliteSynchronous: 'SOMETIMES' as 'FULL' })).toThrow(
        /sqliteSynchronous/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
